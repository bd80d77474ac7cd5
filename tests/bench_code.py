"""How fast the code probe reads a real-world-sized tree (printed, not asserted).

Run with ``python3 -m pytest -q -m benchmark -s tests/bench_code.py``. The tree is
generated in a temp dir: thousands of Python and TypeScript modules of ~150 lines each
(services, routes, helpers; a few risky places), plus a node_modules folder that must
be skipped, and a package.json/package-lock.json pair.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from probes.code import scan

FILES_PER_KIND = 1500

TS_MODULE = """import {{ AssistantAgent }} from "@autogen/core";
import {{ z }} from "zod";

const Schema{i} = z.object({{ id: z.string(), amount: z.number() }});

interface Row{i} {{
  id: string;
  amount: number;
  tags: string[];
}}

export function total{i}(rows: Row{i}[]): number {{
  let sum = 0;
  for (const row of rows) {{
    if (row.tags.includes("skip")) continue;
    sum += row.amount;
  }}
  return sum;
}}

export class Service{i} {{
  private readonly base: string;
  constructor(base: string) {{
    this.base = base;
  }}
  async fetchRows(id: string): Promise<Row{i}[]> {{
    const res = await fetch(`${{this.base}}/rows/${{id}}`);
    const data = await res.json();
    return data.map((d: unknown) => Schema{i}.parse(d)).map((r) => ({{ ...r, tags: [] }}));
  }}
}}

export async function POST(req: Request) {{
  const body = await req.json();
  const service = new Service{i}(process.env.BASE_URL ?? "http://127.0.0.1");
  const rows = await service.fetchRows(body.id);
  const agent = new AssistantAgent({{ name: "a{i}" }});
  const summary = await agent.run(`Summarize ${{total{i}(rows)}}`);
  return Response.json({{ summary, count: rows.length }});
}}
"""

PY_MODULE = '''"""Module {i}."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass

from fastapi import APIRouter

router = APIRouter()


@dataclass
class Row{i}:
    id: str
    amount: float
    tags: list[str]


def total{i}(rows: list[Row{i}]) -> float:
    total = 0.0
    for row in rows:
        if "skip" in row.tags:
            continue
        total += row.amount
    return total


class Repo{i}:
    def __init__(self, dsn: str) -> None:
        self.dsn = dsn

    async def rows(self, key: str) -> list[Row{i}]:
        await asyncio.sleep(0)
        return [Row{i}(key, float(n), []) for n in range(3)]


@router.post("/rows/{i}")
async def rows_{i}(body: dict) -> dict:
    repo = Repo{i}("postgres://localhost/db")
    rows = await repo.rows(body["id"])
    return {{"total": total{i}(rows), "n": len(rows)}}
'''

RISKY_TS = """import {{ AssistantAgent }} from "@autogen/core";
const agent = new AssistantAgent({{ name: "shared{i}" }});
const history: string[] = [];
export async function POST(req: Request) {{
  history.push(await req.text());
  return Response.json(await agent.run(history.join("\\n")));
}}
"""


def build_tree(root: Path) -> tuple[int, int]:
    files = lines = 0
    for i in range(FILES_PER_KIND):
        pkg = root / "services" / f"svc{i % 40}"
        pkg.mkdir(parents=True, exist_ok=True)
        ts = TS_MODULE.format(i=i) if i % 100 else RISKY_TS.format(i=i)
        (pkg / f"route{i}.ts").write_text(ts)
        py = PY_MODULE.format(i=i)
        (pkg / f"rows{i}.py").write_text(py)
        files += 2
        lines += ts.count("\n") + py.count("\n")
    vendored = root / "node_modules" / "big"
    vendored.mkdir(parents=True)
    for i in range(500):
        (vendored / f"m{i}.js").write_text(RISKY_TS.format(i=i))
    (root / "package.json").write_text(json.dumps(
        {"dependencies": {"@autogen/core": "^0.4.0", "@autogen/openai": "^0.4.0"}}, indent=2))
    (root / "package-lock.json").write_text(json.dumps({"lockfileVersion": 3, "packages": {
        "node_modules/@autogen/core": {"version": "0.4.2"},
        "node_modules/@autogen/openai": {"version": "0.4.2"}}}, indent=2))
    return files, lines


@pytest.mark.benchmark
def test_scan_thousands_of_files(tmp_path: Path) -> None:
    files, lines = build_tree(tmp_path)
    started = time.perf_counter()
    ev = scan([tmp_path])
    took = time.perf_counter() - started
    findings = ev.data["findings"]
    [report] = ev.inputs
    print(f"\ncode scan: {files} source files, {lines} lines, "
          f"{report.bytes_read / 1e6:.1f} MB in {took:.2f} s "
          f"({files / took:.0f} files/s, {lines / took:.0f} lines/s); "
          f"{len(findings)} findings; skipped {dict(report.skipped)}")
    assert ev.data["files"]["source"] == files
    risky = FILES_PER_KIND // 100
    assert len([f for f in findings if f["signal"] == "code.shared_instance"]) == risky
    assert len([f for f in findings if f["signal"] == "code.shared_history"]) == risky
