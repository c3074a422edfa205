"""The app's screens: the race, the prompt editor, history, run settings and help."""
