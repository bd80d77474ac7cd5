"""The command-line front end: ``scaledoc`` and ``kubectl scaledoc`` (``cli.main``).

Kept empty on purpose: importing a command module must not import Textual, httpx or the
kubernetes client (``tests/test_startup.py``); each command loads what it uses when it runs.
"""
