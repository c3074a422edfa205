"""The app's widgets: agent panes, the token meter, the round chart and their parts."""
