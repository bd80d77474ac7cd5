"""Widgets and renderables of the TUI; everything untrusted goes through ``tui.render.plain``."""
