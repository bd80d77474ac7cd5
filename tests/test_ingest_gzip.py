"""A cut or damaged .gz keeps every line decoded before the damage, and says so.

The oracle is zlib itself: the lines a streaming inflate yields from the same prefix.
"""

from __future__ import annotations

import gzip
import json
import zlib
from pathlib import Path

import pytest

from probes.ingest import IngestConfig, InputFile, LogReader

LINES = [json.dumps({"level": 30, "time": 1_700_000_000_000 + i, "pid": 1, "hostname": "h",
                     "msg": f"line {i}"}) for i in range(15_000)]
DATA = gzip.compress(("\n".join(LINES) + "\n").encode())


def _read(path: Path) -> tuple[int, dict[str, int]]:
    reader = LogReader(InputFile(path.name, path), IngestConfig())
    n = sum(1 for _ in reader.events())
    return n, dict(reader.report().skipped)


@pytest.mark.parametrize("cut", [3_000, len(DATA) // 2, len(DATA) - 10])
def test_truncated_gzip_keeps_every_decoded_line(tmp_path: Path, cut: int) -> None:
    path = tmp_path / "app.log.gz"
    path.write_bytes(DATA[:cut])
    decoded = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(DATA[:cut])
    expected = decoded.count(b"\n") + (0 if decoded.endswith(b"\n") else 1)
    events, skipped = _read(path)
    assert events == expected
    assert skipped == {"gzip stream truncated": 1}


def test_concatenated_members_are_one_stream(tmp_path: Path) -> None:
    path = tmp_path / "rotated.log.gz"
    path.write_bytes(gzip.compress(LINES[0].encode() + b"\n") + gzip.compress(LINES[1].encode()))
    assert _read(path) == (2, {})


def test_corrupt_gzip_is_reported(tmp_path: Path) -> None:
    damaged = bytearray(DATA)
    damaged[len(DATA) // 2] ^= 0xFF
    path = tmp_path / "bad.log.gz"
    path.write_bytes(bytes(damaged))
    events, skipped = _read(path)
    assert skipped == {"gzip data corrupt": 1}
    assert 0 < events <= len(LINES)
