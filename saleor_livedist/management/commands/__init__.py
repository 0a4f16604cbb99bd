"""The plugin's management commands."""
