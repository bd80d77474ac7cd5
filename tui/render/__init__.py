"""Rich renderers and document formats: reports, SARIF, trace export, the cause catalogue.

Shared by the commands (printed into pipes, CI logs, tickets) and the app; Rich only, never
Textual (an import-linter contract in ``pyproject.toml``).

The documents built here (the ``--json`` report, SARIF, a Chrome trace, the catalogue) are
JSON values, typed ``dict[str, Any]``: their shape is set by a schema or a format
(``schemas/report.schema.json``, SARIF 2.1.0, Chrome's trace event format), not by a
Python type.
"""
