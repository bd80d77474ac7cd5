"""The krew manifest and the k9s plugin snippet in ``plugins/``: their structure, that the
archive krew would install is the one the manifest's sha256 names, and that the commands
they run exist and accept the arguments given (the real launcher, the real parser)."""

from __future__ import annotations

import hashlib
import importlib.util
import io
import os
import subprocess
import sys
import tarfile
import tomllib
from pathlib import Path

import yaml

from tui.commands.kubectl import plugin_parser

ROOT = Path(__file__).resolve().parent.parent
KREW = ROOT / "plugins" / "krew"
K9S = ROOT / "plugins" / "k9s" / "plugins.yaml"


def _build_module() -> object:
    spec = importlib.util.spec_from_file_location("krew_build", KREW / "build.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_krew_manifest_structure() -> None:
    doc = yaml.safe_load((KREW / "scaledoc.yaml").read_text())
    assert doc["apiVersion"] == "krew.googlecontainertools.github.com/v1alpha2"
    assert doc["kind"] == "Plugin" and doc["metadata"]["name"] == "scaledoc"
    spec = doc["spec"]
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert spec["version"] == f"v{version}"
    assert spec["shortDescription"] and spec["description"] and "pip install" in spec["caveats"]
    for platform in spec["platforms"]:
        assert platform["bin"] == "kubectl-scaledoc"
        assert platform["uri"].startswith("https://")
        assert {f["from"] for f in platform["files"]} == {"kubectl-scaledoc", "LICENSE"}


def test_krew_archive_is_reproducible_and_matches_the_sha256() -> None:
    build = _build_module()
    data = build.build()  # type: ignore[attr-defined]
    assert data == build.build()  # type: ignore[attr-defined]
    sha = yaml.safe_load((KREW / "scaledoc.yaml").read_text())["spec"]["platforms"][0]["sha256"]
    assert hashlib.sha256(data).hexdigest() == sha, "rebuild: python3 plugins/krew/build.py"
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        names = tar.getnames()
        assert names == ["kubectl-scaledoc", "LICENSE"]
        assert tar.getmember("kubectl-scaledoc").mode & 0o111


def test_krew_launcher_runs_the_plugin(tmp_path: Path) -> None:
    """What krew puts on PATH runs the installed package as the kubectl plugin."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    launcher = KREW / "kubectl-scaledoc"
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "python3").symlink_to(sys.executable)
    env["PATH"] = f"{bindir}{os.pathsep}{env['PATH']}"
    proc = subprocess.run([str(launcher), "--version"], capture_output=True, text=True,
                          env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("kubectl-scaledoc ")
    usage = subprocess.run([str(launcher), "--help"], capture_output=True, text=True,
                           env=env, timeout=60)
    assert usage.stdout.startswith("usage: kubectl scaledoc")


def test_k9s_plugins_run_existing_commands_with_valid_arguments() -> None:
    doc = yaml.safe_load(K9S.read_text())
    plugins = doc["plugins"]
    assert plugins
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert "kubectl-scaledoc" in scripts  # what 'kubectl scaledoc' finds on PATH
    seen: set[tuple[str, str]] = set()
    k9s_vars = {"$CONTEXT": "kind-dev", "$NAMESPACE": "prod", "$NAME": "agent-7d9f"}
    for name, p in plugins.items():
        assert {"shortCut", "description", "scopes", "command", "args"} <= set(p), name
        for scope in p["scopes"]:
            assert (p["shortCut"], scope) not in seen, f"{name}: shortcut used twice"
            seen.add((p["shortCut"], scope))
        assert p["command"] == "kubectl" and p["args"][0] == "scaledoc"
        args = [a for a in p["args"][1:]]
        for var, value in k9s_vars.items():
            args = [a.replace(var, value) for a in args]
        parsed, extra = plugin_parser().parse_known_args(args)
        assert extra == [], name
        assert parsed.namespace == "prod" and parsed.context == "kind-dev"
        kind = parsed.targets[0].split("/")[0]
        assert kind in {"pod", "deploy", "sts"}
