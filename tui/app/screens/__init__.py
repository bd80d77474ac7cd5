"""The TUI's views (one module per view) and dialogs; see ``tui.app.main`` for navigation."""
