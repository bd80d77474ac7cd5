"""``scaledoc code``: exit codes, the JSON document, and untrusted text kept plain.

The sub-command is driven through its own ``register`` on a fresh argparse parser (the
same hook ``tui.commands.cli`` calls), in-process, with stdout/stderr captured by pytest.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from tui.commands import code as code_cli
from tui.exit_codes import ExitCode

CASES = Path(__file__).parent / "code_cases"


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rich folds long paths at 80 columns; a wide console keeps file:line on one line."""
    monkeypatch.setenv("COLUMNS", "400")


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="scaledoc")
    code_cli.register(parser.add_subparsers())
    args = parser.parse_args(["code", *argv])
    return int(args.func(args))


def test_table_lists_findings_with_file_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(str(CASES / "reentrant_run" / "broken")) == ExitCode.OK
    out = capsys.readouterr().out
    assert "callback_seed004.ts:4" in out and "reentrant-run" in out
    assert "crew_callback.py:8" in out and "crew_callback.py:13" in out


def test_quiet_tree_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(str(CASES / "reentrant_run" / "fixed")) == ExitCode.OK
    assert "No risky patterns found." in capsys.readouterr().out


def test_json_is_the_evidence_document(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(str(CASES / "non_atomic_update" / "broken"), "--json") == ExitCode.OK
    doc = json.loads(capsys.readouterr().out)
    assert doc["probe"] == "code"
    lines = sorted((Path(f["path"]).name, f["line"]) for f in doc["data"]["findings"])
    assert lines == [("counter.py", 7), ("counter.py", 12), ("step_seed003.ts", 5),
                     ("step_seed003.ts", 16)]
    sig = next(s for s in doc["signals"] if s["key"] == "code.non_atomic_update")
    assert sig["answer"] == "yes" and sig["strength"] == 0.4


def test_bad_input_exits_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(str(tmp_path / "missing")) == ExitCode.INPUT_ERROR
    assert "no such file or folder" in capsys.readouterr().err
    (tmp_path / "notes.md").write_text("hello")
    assert run(str(tmp_path / "notes.md")) == ExitCode.INPUT_ERROR
    assert run(str(tmp_path)) == ExitCode.INPUT_ERROR
    assert "no Python/TypeScript/JavaScript source" in capsys.readouterr().err


def test_one_good_path_is_enough(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = CASES / "overlapping_timer" / "broken"
    assert run(str(tmp_path / "missing"), str(good)) == ExitCode.OK
    captured = capsys.readouterr()
    assert "missing" in captured.err and "poll_seed004.ts:2" in captured.out


def test_escapes_and_markup_in_source_stay_visible_text(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "route.ts").write_text(
        'const history: string[] = [];\n'
        'export async function POST(req: Request) {\n'
        '  history.push("[bold red]boom[/] \x1b]52;c;aGk=\x07 \x1b[2J");\n'
        '}\n')
    assert run(str(tmp_path)) == ExitCode.OK
    out = capsys.readouterr().out
    assert "\x1b]52" not in out and "\x1b[2J" not in out and "\x07" not in out
    assert "[bold red]boom[/]" in out and "\\e]52;c;aGk=\\a" in out and "\\e[2J" in out
