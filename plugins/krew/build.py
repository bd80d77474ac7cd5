"""Build the krew archive of kubectl-scaledoc, byte for byte the same on every run.

    python3 plugins/krew/build.py [OUT.tar.gz]     # prints the archive's sha256

The archive holds the launcher ``kubectl-scaledoc`` (it runs the installed scaledoc
package) and the licence. Its sha256 is the one in ``plugins/krew/scaledoc.yaml``;
``tests/test_plugin_manifests.py`` rebuilds it and checks that they agree. Install from the
repo without a release: ``kubectl krew install --manifest=plugins/krew/scaledoc.yaml
--archive=dist/kubectl-scaledoc.tar.gz``.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import sys
import tarfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
FILES = (("kubectl-scaledoc", HERE / "kubectl-scaledoc", 0o755),
         ("LICENSE", HERE / "LICENSE", 0o644))


def build() -> bytes:
    """The archive's bytes: fixed order, times, owners and modes; gzip without a time."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, path, mode in FILES:
            data = path.read_bytes()
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), mode, 0
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0, filename="") as gz:
        gz.write(raw.getvalue())
    return out.getvalue()


def main(argv: list[str]) -> int:
    data = build()
    target = Path(argv[0]) if argv else Path("dist") / "kubectl-scaledoc.tar.gz"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    print(hashlib.sha256(data).hexdigest())
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
