"""Regenerate ``probes/vendor/detect_secrets/shapes.json`` from a detect-secrets wheel.

Why vendor a table and not the tool: redaction needs the *shapes* that detect-secrets'
maintainers keep (provider key formats change; they track them), not its scanner, its
baseline files or its dependencies. This script imports each plugin of an unpacked
wheel, reads its ``denylist`` (the compiled regexes) and writes them as data with the
wheel's name and sha256. Usage (the wheel comes from PyPI, the ordinary way):

    pip download detect-secrets==1.5.0 --no-deps -d /tmp/ds
    python3 -m zipfile -e /tmp/ds/detect_secrets-1.5.0-py3-none-any.whl /tmp/ds/x
    python3 tests/secrets/vendor_detect_secrets.py \
        /tmp/ds/detect_secrets-1.5.0-py3-none-any.whl /tmp/ds/x

``secret_group`` says which group holds the secret: 1 where the plugin's regex captures
the secret after a keyword or inside a URL, 0 (the whole match) elsewhere; it is set
here by hand, from reading each plugin, because some plugins capture the *prefix* in
group 1 (``(ghp|gho|...)_``), which must not be taken for the secret.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import pkgutil
import re
import shutil
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[2] / "probes" / "vendor" / "detect_secrets"

# (plugin module, index in its denylist) -> group holding the secret; absent means 0.
SECRET_GROUP = {("aws", 1): 1, ("basic_auth", 0): 1, ("cloudant", 0): 1, ("cloudant", 1): 1,
                ("cloudant", 2): 1, ("cloudant", 3): 1, ("ibm_cloud_iam", 0): 1,
                ("ibm_cos_hmac", 0): 1, ("softlayer", 0): 1, ("softlayer", 1): 1,
                ("npm", 0): 1}


def main(wheel: str, unpacked: str) -> None:
    sys.path.insert(0, unpacked)
    plugins = importlib.import_module("detect_secrets.plugins")
    version = importlib.import_module("detect_secrets.__version__").VERSION
    rules = []
    for info in sorted(pkgutil.iter_modules(plugins.__path__), key=lambda m: m.name):
        mod = importlib.import_module(f"detect_secrets.plugins.{info.name}")
        for name, obj in sorted(vars(mod).items()):
            if not (isinstance(obj, type) and obj.__module__ == mod.__name__):
                continue
            denylist = obj.__dict__.get("denylist")
            if denylist is None or not isinstance(denylist, list | tuple):
                continue
            for i, pattern in enumerate(denylist):
                rules.append({
                    "plugin": info.name, "class": name, "secret_type": obj.secret_type,
                    "pattern": pattern.pattern,
                    "ignorecase": bool(pattern.flags & re.IGNORECASE),
                    "verbose": bool(pattern.flags & re.VERBOSE),
                    "secret_group": SECRET_GROUP.get((info.name, i), 0),
                })
    digest = hashlib.sha256(Path(wheel).read_bytes()).hexdigest()
    doc = {"source": f"detect-secrets {version} (PyPI wheel {Path(wheel).name}, "
                     f"sha256 {digest}; github.com/Yelp/detect-secrets tag v{version})",
           "licence": "Apache-2.0, see LICENSE beside this file",
           "rules": rules}
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "shapes.json").write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    lic = next(Path(unpacked).glob("detect_secrets-*.dist-info/LICENSE"))
    shutil.copyfile(lic, OUT / "LICENSE")
    print(f"{len(rules)} rules from detect-secrets {version} -> {OUT}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
