"""The Textual front end: ``main.ScaledocApp``, its messages, the Logs view's index, screens
and widgets.

Kept empty on purpose: ``tui.app.logview`` is Textual-free and a re-export here would load
Textual with it.
"""
