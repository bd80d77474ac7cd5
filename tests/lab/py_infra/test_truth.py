"""The py_infra lab folders hold what their rebuild wrote: truth follows from measured.

These check the committed captures only (no service is started): every scenario the
rebuild script knows has its folder, its inputs, a twin, a size well under 1 MB, and an
`expected` that the scenario's rule gives from its `measured` numbers.
"""

import json
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import build  # noqa: E402

NAMES = sorted(build.BUILDERS)


@pytest.mark.parametrize("name", NAMES)
def test_expected_follows_from_measured(name: str) -> None:
    folder = build.SCENARIOS / name
    truth = json.loads((folder / "truth.json").read_text())
    assert truth["expected"] == build.decide_for(name)(truth["measured"])
    assert (truth["expected"] == "healthy") == name.endswith("-fixed")
    for f in truth["inputs"]:
        assert (folder / f).is_file(), f
    assert (build.SCENARIOS / truth["twin"] / "truth.json").is_file()
    assert sum(p.stat().st_size for p in folder.iterdir()) < 800_000


def test_captures_are_as_the_servers_wrote_them() -> None:
    # py-non-idempotent-postgres/postgresql.log is PostgreSQL 15's own server log
    pg = (build.SCENARIOS / "py-non-idempotent-postgres" / "postgresql.log").read_text()
    assert 'ERROR:  duplicate key value violates unique constraint "orders_pkey"' in pg
    # py-oom/gunicorn.log: gunicorn's master after the kernel OOM-killed a worker
    oom = (build.SCENARIOS / "py-oom" / "gunicorn.log").read_text()
    assert "was sent SIGKILL! Perhaps out of memory?" in oom
    # py-platform-timeout-nginx/nginx-error.log: nginx's own error log
    ngx = (build.SCENARIOS / "py-platform-timeout-nginx" / "nginx-error.log").read_text()
    assert "upstream timed out (110: Connection timed out)" in ngx
