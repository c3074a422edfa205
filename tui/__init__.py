"""The Textual app: screens, widgets and styles. Depends on the engine, never the reverse."""
