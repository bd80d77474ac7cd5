"""``kubectl_complete-scaledoc``: the executable kubectl 1.26+ runs to complete
``kubectl scaledoc <TAB>`` (kubernetes/kubernetes#105867, plugin_completion.go).

The protocol: the words after the plugin name are the arguments, the last one partial ("" for
a new word); the answer is one choice per line and a last line ``:<cobra directive>``. These
tests run the installed script as kubectl would (a real process, its stdout parsed as
kubectl parses it); no kubectl binary exists on this machine, so kubectl's side is the
parsing rule quoted from plugin_completion.go, not kubectl itself.
"""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from tui.commands.kubectl import capture_parser, plugin_parser


def _complete(*words: str) -> tuple[list[str], int]:
    """Run the completion executable; parse its output as kubectl does."""
    exe = shutil.which("kubectl_complete-scaledoc")
    cmd = [exe] if exe else [sys.executable, "-c",
                             "import sys; from tui.commands.kubectl_complete import main; "
                             "sys.exit(main())"]
    done = subprocess.run([*cmd, *words], capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    lines = [line for line in done.stdout.split("\n") if line]
    assert lines and lines[-1].startswith(":"), done.stdout
    return lines[:-1], int(lines[-1][1:])


def test_the_script_is_installed_under_the_name_kubectl_looks_for() -> None:
    if shutil.which("kubectl-scaledoc") is None:
        pytest.skip("the package is not installed (pip install -e .): no scripts on PATH")
    assert shutil.which("kubectl_complete-scaledoc") is not None


def test_first_word_offers_every_flag_and_the_plugin_words_but_no_files() -> None:
    choices, directive = _complete("")
    flags = {o for a in plugin_parser()._actions for o in a.option_strings}
    assert {"--namespace", "--selector", "--follow", "--since", "-o"} <= set(choices)
    assert {"capture", "version"} <= set(choices)
    # every choice is a flag the plugin accepts or one of its words: nothing invented
    assert set(choices) - flags <= {"capture", "version"}
    assert "README.md" not in choices and "tests/" not in choices  # workloads, not files
    assert directive == 4  # ShellCompDirectiveNoFileComp


def test_a_partial_flag_completes_to_the_matching_flags() -> None:
    choices, directive = _complete("-n", "prod", "--na")
    assert choices == ["--namespace"] and directive == 4
    choices, _ = _complete("--fo")
    assert choices == ["--follow"]


def test_output_formats_include_yaml_which_the_plugin_lifts_off() -> None:
    choices, directive = _complete("-o", "")
    assert set(choices) == {"text", "markdown", "json", "yaml"} and directive == 4
    assert _complete("-o", "ya")[0] == ["yaml"]


def test_capture_completes_its_own_flags() -> None:
    choices, _ = _complete("capture", "--no")
    assert choices == ["--no-logs"]
    flags = {o for a in capture_parser("c")._actions for o in a.option_strings}
    assert set(_complete("capture", "--")[0]) <= flags


def test_a_value_we_cannot_name_is_left_to_the_shell() -> None:
    # --kubeconfig PATH and capture's -o FILE: no choices, the default directive (files)
    assert _complete("--kubeconfig", "") == ([], 0)
    assert _complete("capture", "-o", "") == ([], 0)
