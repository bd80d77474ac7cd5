"""scaledoc's headless core: probes, evidence, signals and the decision tree.

Never imports Textual or ``tui`` (``tests/test_headless_imports.py`` proves it), so the
kubectl plugin's report mode and offline analysis start fast and run anywhere.
"""

__version__ = "0.1.0"
