"""Model providers behind one streaming interface: mistral, scripted, replay."""
