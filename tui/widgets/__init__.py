"""Widgets and renderables of the TUI; everything untrusted goes through ``plain``."""
