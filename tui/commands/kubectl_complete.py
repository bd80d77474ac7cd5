"""``kubectl_complete-scaledoc``: shell completion for ``kubectl scaledoc``.

kubectl (1.26 and later) completes a plugin's own flags by running an executable named
``kubectl_complete-<plugin>`` found on ``PATH`` with the words typed after the plugin name,
the last being the partial word ("" when a new word starts). It prints one choice per
line and, optionally, a last line ``:<directive>`` (cobra's ShellCompDirective). See
kubernetes/kubernetes#105867 (``plugin_completion.go``).

The choices come from argcomplete driven over the plugin's own argparse parser, the same
library and parser that complete ``scaledoc`` itself, so flags, their choices (``-o``) and
the ``capture`` word cannot drift from what the plugin accepts.
"""

from __future__ import annotations

import argparse
import io
import os
import shlex
import sys
from collections.abc import Sequence

from tui.exit_codes import ExitCode

NO_FILE_COMPLETION = 4
"""cobra.ShellCompDirectiveNoFileComp: our choices are the whole answer."""
DEFAULT_DIRECTIVE = 0
"""cobra.ShellCompDirectiveDefault: nothing of ours fits; let the shell complete files."""
PLUGIN_WORDS = ("capture", "version")
"""First words the plugin takes besides flags and a workload (``tui.commands.cli``)."""


class _Done(Exception):
    """argcomplete calls an exit function when it has written its answer."""


def completions(words: Sequence[str]) -> list[str]:
    """The choices for the last of ``words`` (the words after ``kubectl scaledoc``)."""
    import argcomplete
    from argcomplete.completers import SuppressCompleter

    from tui.commands.kubectl import capture_parser, plugin_parser

    words = list(words) or [""]
    parser: argparse.ArgumentParser
    capture = words[0] == "capture" and len(words) > 1
    if capture:
        parser, typed = capture_parser("kubectl scaledoc capture"), words[1:]
    else:
        parser, typed = plugin_parser(), words
    line = " ".join(["kubectl-scaledoc", *(shlex.quote(w) for w in typed[:-1]), typed[-1]])
    out = io.StringIO()
    saved = {k: os.environ.get(k) for k in _ENV}
    os.environ.update({"_ARGCOMPLETE": "1", "COMP_LINE": line, "COMP_POINT": str(len(line)),
                       "_ARGCOMPLETE_IFS": "\n"})
    os.environ.pop("_ARGCOMPLETE_SHELL", None)  # zsh's "value:description" pairs: not ours
    try:
        # Positionals are workloads (deploy/agent), not files: no file names offered.
        argcomplete.autocomplete(parser, exit_method=_exit, output_stream=out,
                                 append_space=False, default_completer=SuppressCompleter())
    except _Done:
        pass
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    found = [c for c in out.getvalue().split("\n") if c]
    if not capture and len(typed) > 1 and typed[-2] in ("-o", "--output"):
        # -o yaml is lifted off before the plugin's parser sees it (cli._take_output_format)
        found += ["yaml"] if "yaml".startswith(typed[-1]) and "yaml" not in found else []
    if len(words) == 1:
        found += [w for w in PLUGIN_WORDS if w.startswith(words[0]) and w not in found]
    return found


_ENV = ("_ARGCOMPLETE", "COMP_LINE", "COMP_POINT", "_ARGCOMPLETE_IFS", "_ARGCOMPLETE_SHELL")


def _exit(code: int = 0) -> None:
    raise _Done


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    try:
        found = completions(words)
    except Exception as exc:  # completion must never print a traceback into a shell
        sys.stderr.write(f"kubectl_complete-scaledoc: {type(exc).__name__}: {exc}\n")
        return ExitCode.INPUT_ERROR
    for choice in found:
        sys.stdout.write(f"{choice}\n")
    # No choice of ours (a --kubeconfig path, capture's -o FILE): the shell completes files.
    sys.stdout.write(f":{NO_FILE_COMPLETION if found else DEFAULT_DIRECTIVE}\n")
    return ExitCode.OK
