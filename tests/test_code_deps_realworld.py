"""Dependency manifests from public repositories and issues whose framework packages do
(or do not) work together; lockfiles and installed package.json files as npm produced them
from the registry. Origins: tests/code_cases_real/SOURCES.md."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from probes.code import scan
from probes.code.dependencies import (
    family_conflict,
    mismatches,
    range_allows,
    read_requirements,
    read_toml_lock,
)
from probes.evidence import Answer

REAL = Path(__file__).parent / "code_cases_real"


def _findings(folder: Path) -> list[dict[str, object]]:
    ev = scan([folder])
    assert ev.error is None
    return list(ev.data["findings"])


def _signal(folder: Path) -> Answer:
    ev = scan([folder])
    return next(s for s in ev.signals if s.key == "code.version_mismatch").answer


def test_partner_peer_ranges_checked_against_installed_core() -> None:
    # langchainjs#9760's root project: langchain@* and @langchain/community@* beside core 0.3.80
    case = REAL / "langchainjs-9760-langchain-1-beside-core-0.3"
    got = _findings(case)
    peers = [f for f in got if "peer range" in str(f["why"])]
    partners = {str(f["why"]).split(" ", 1)[0] for f in peers}
    assert {"@langchain/openai", "@langchain/textsplitters", "@langchain/langgraph"} <= partners
    lock = (case / "package-lock.json").read_text().splitlines()
    # langchain 1.5 itself is flagged too (one finding per line: here the family rule's)
    assert any(lock[int(str(f["line"])) - 1].strip() == '"node_modules/langchain": {'
               for f in got)
    for f in peers:
        assert str(f["path"]).endswith("package-lock.json")
        # file:line of the conflicting entry: the line is the package's key in the lock
        assert '"node_modules/' in lock[int(str(f["line"])) - 1]
    assert any("@langchain/core 0.3.80 is installed" in str(f["why"]) for f in peers)
    assert _signal(case) is Answer.YES


def test_installed_node_modules_without_a_lock(tmp_path: Path) -> None:
    # the same tree as npm installed it, read from node_modules/*/package.json
    case = REAL / "langchainjs-9760-node-modules-no-lock"
    shutil.copy(case / "package.json", tmp_path / "package.json")
    shutil.copytree(case / "installed", tmp_path / "node_modules")
    got = _findings(tmp_path)
    why = " ".join(str(f["why"]) for f in got)
    assert "@langchain/openai 1.6.0 declares the peer range @langchain/core@\"^1.2.13\"" in why
    where = {str(f["path"]).split(tmp_path.as_posix() + "/")[-1] for f in got}
    assert "node_modules/@langchain/openai/package.json" in where
    assert "node_modules/@langchain/core/package.json" in where


def test_pnpm_lock_peer_links() -> None:
    # the same manifest resolved by pnpm: the linked core version is in each key
    case = REAL / "langchainjs-9760-pnpm"
    got = _findings(case)
    lock = (case / "pnpm-lock.yaml").read_text().splitlines()
    linked = [f for f in got if "pnpm linked" in str(f["why"]) or "peer range" in str(f["why"])]
    names = {lock[int(str(f["line"])) - 1].strip().strip("'").split("@1.")[0] for f in linked}
    assert {"@langchain/openai", "@langchain/langgraph", "langchain"} <= names
    assert all("@langchain/core 0.3.80" in str(f["why"]) or "openai" in str(f["why"])
               for f in linked)


def test_partners_on_their_own_train_are_not_a_mismatch() -> None:
    # vectorSearchDemo: core 0.3 with partners at 0.1 whose peer range holds core 0.3
    assert _findings(REAL / "vectorsearchdemo-core-0.3-partners-0.1") == []
    assert _signal(REAL / "vectorsearchdemo-core-0.3-partners-0.1") is Answer.NO


def test_nested_private_copies_of_core() -> None:
    # Flowise components (2024): core pinned 0.2.18, partners needing ~0.1 or >=0.2.21
    got = _findings(REAL / "flowise-components-langchain-2024")
    lock = (REAL / "flowise-components-langchain-2024" / "package-lock.json").read_text()
    lines = lock.splitlines()
    flagged = {lines[int(str(f["line"])) - 1].strip() for f in got}
    assert '"node_modules/@langchain/cohere/node_modules/@langchain/core": {' in flagged
    assert '"node_modules/@langchain/core": {' in flagged
    # the manifest alone is consistent: the conflict is in what npm had to install
    assert not any(str(f["path"]).endswith("/package.json") for f in got)


@pytest.mark.parametrize(("text", "lines"), [
    # AdarsHH30/ConvoRoom backend/install_packages.sh pins (as pip lines): community 0.0.38
    # is the 0.1 line, langchain and core the 0.3 line
    ("langchain==0.3.21\nlangchain-community==0.0.38\nlangchain-core==0.3.48\n", [1, 2, 3]),
    # Nagavenkatasai7/context-aware-research-chatbot requirements: the 0.1 line numbered
    # community 0.0.x (langchain 0.1 required langchain-community<0.1): not a mismatch
    ("langchain==0.1.0\nlangchain-community==0.0.10\nlangchain-openai==0.0.5\n", []),
    # sparktalestrainings-sketch/stjoseph0226 Unit3/Ragchatbot/temp.bat pins, same line
    ("langchain==0.1.16\nlangchain-community==0.0.34\nlangchain-core==0.1.53\n", []),
    # ranges that share the 0.3 line
    ("langchain>=0.3.21,<1.0.0\nlangchain-community>=0.3.20\n", []),
    # 0.x minor series are breaking lines: agentchat 0.4 with core 0.5
    ("autogen-agentchat==0.4.7\nautogen-core==0.5.1\n", [1, 2]),
    # overlapping ranges are satisfiable on one line
    ("autogen-agentchat>=0.4.0\nautogen-core>=0.4.0\nautogen-ext>=0.4.0\n", []),
])
def test_requirement_pins_of_one_family(text: str, lines: list[int]) -> None:
    got = mismatches(read_requirements("requirements.txt", text))
    assert sorted({f.line for f in got}) == lines
    for f in got:
        assert f.where == f"requirements.txt:{f.line}"


def test_or_ranges_and_prereleases_use_npm_rules() -> None:
    assert range_allows("0.3.5", "^0.1.0 || ^0.3.0", "npm") is True
    assert range_allows("0.2.5", "^0.1.0 || ^0.3.0", "npm") is False
    assert range_allows("0.3.80", ">=0.2.21 <0.4.0", "npm") is True
    assert range_allows("1.0.0", ">=0.2.21 <0.4.0", "npm") is False
    assert range_allows("1.2.0", "workspace:*", "npm") is None
    assert range_allows("0.4.7", "^0.4.2", "pypi") is True  # poetry caret
    assert range_allows("0.2.10", ">=0.1.52,<0.2.0", "pypi") is False


def test_npm_prerelease_rule_with_the_library() -> None:
    pytest.importorskip("semantic_version")
    assert range_allows("1.0.0-rc.1", ">=0.3.0", "npm") is False  # npm excludes prereleases


def test_poetry_lock_requirements_against_locked_versions() -> None:
    # the pins pip reported as incompatible in crewAI#837 (tests/corpus), as poetry writes
    # them in a lock: langchain 0.1.20 requires langchain-core<0.2.0,>=0.1.52
    lock = ('[[package]]\nname = "langchain"\nversion = "0.1.20"\n\n'
            '[package.dependencies]\nlangchain-core = ">=0.1.52,<0.2.0"\n\n'
            '[[package]]\nname = "langchain-core"\nversion = "0.2.10"\n')
    got = mismatches(read_toml_lock("poetry.lock", lock))
    assert {f.line for f in got} >= {2, 9}
    assert any("langchain-core 0.2.10 is installed" in f.why for f in got)


def test_family_conflict_ignores_the_pre_lockstep_line() -> None:
    from probes.code.dependencies import FAMILIES
    fam = next(f for f in FAMILIES if f.name == "LangChain")
    deps = read_requirements("r.txt", "langchain==0.0.350\nlangchain-core==0.1.3\n")
    assert family_conflict(deps, fam) == []


def test_malformed_peer_fields_are_skipped_not_raised() -> None:
    # bad input, not real material: wrong types where npm writes strings and objects
    import json

    from probes.code.dependencies import read_package_lock, read_pnpm_lock
    weird = {"lockfileVersion": 3, "packages": {
        "node_modules/@langchain/openai": {
            "version": "1.0.0", "peerDependencies": {"@langchain/core": 5, "langchain": "^1"},
            "peerDependenciesMeta": {"langchain": "yes"}},
        "node_modules/@langchain/core": {"version": None},
        "node_modules/x": [],
        "node_modules/@langchain/community": {"version": "1.0.0", "peerDependencies": []}}}
    deps = read_package_lock("package-lock.json", json.dumps(weird, indent=2))
    assert [d.peers for d in deps if d.name == "@langchain/openai"] == [(("langchain", "^1",
                                                                         False),)]
    assert mismatches(deps)  # the required peer langchain is not installed
    assert read_pnpm_lock("pnpm-lock.yaml", "packages:\n  '@a/b@1.0.0((((':\n"
                                            "    peerDependencies:\n      x\n") == []
