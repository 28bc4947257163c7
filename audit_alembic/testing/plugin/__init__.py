"""Runner plugins for nose2 and pytest around one shared core."""
