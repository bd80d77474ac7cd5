"""Rich renderers and document formats: reports, SARIF, trace export, the cause catalogue.

Shared by the commands (printed into pipes, CI logs, tickets) and the app; Rich only, never
Textual (an import-linter contract in ``pyproject.toml``).
"""
