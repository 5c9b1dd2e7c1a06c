"""The whole pipeline at scale, beside Splink 5 on the same customer records (issue #7).

For each size (entities), the generator's project is made once and cached under
``benchmarks/.cache/gen-<entities>`` (git-ignored; `mdm generate --seed 5`). Then, each as its
own process under ``/usr/bin/time -v`` from an empty warehouse and Dagster instance:

1. the whole default job, ``mdm run --project ...`` (customers, accounts and contracts,
   ingest to publish): wall time (process start included), CPU seconds, peak RSS, and per
   stage the wall seconds Dagster recorded for each step; before it, the seconds a fixed piece
   of work takes in its own process ("machine check": this machine's speed moves by up to half
   between runs, and a wall time is read with the machine's speed at that moment);
2. Splink 5 (DuckDB) on that run's staged customer records, with the fields and blocking keys
   ``benchmarks/quality.py`` gives it (up to 1,000,000 entities; beyond, the pipeline alone).

Both are scored against the generator's truth with `matching.evaluate`. Prints a markdown
table per size and one of stage times; commit them to benchmarks/RESULTS.md with the date::

    .venv/bin/python benchmarks/scale.py 10000 100000 1000000 [5000000] [--no-splink]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import polars as pl
from timed import timed

from pipelines.generator.project import write_project

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "benchmarks" / ".cache"
PYTHON = sys.executable
SEED = 5
SPLINK_UP_TO = 1_000_000
# The stages the issue compares with Splink's whole run: block to cluster, customers.
MATCHING = ("candidates__customer", "scored__customer", "clusters__customer")


# The default pair budget (50M per kind) refuses a run whose blocking would make more pairs:
# the guard against a misconfigured key. At 5M entities the person records' keys make ~75M
# before de-duplication (~15 per record, as at 1M), so that project declares a budget that
# scales with it, as a deployment of that size would (matching.yaml, no code change).
PAIRS_PER_ENTITY = 50


def project(entities: int) -> Path:
    """The generated project folder for `entities`, made once."""
    folder = CACHE / f"gen-{entities}"
    done = folder / ".complete"
    if not done.exists():
        shutil.rmtree(folder, ignore_errors=True)
        subprocess.run([PYTHON, "-m", "pipelines.cli", "generate", "--entities", str(entities),
                        "--seed", str(SEED), "--out", str(folder)],
                       check=True, cwd=ROOT, stdout=subprocess.DEVNULL)  # fmt: skip
        done.write_text("")
    # the data is reused; the contracts are rendered again from the repository's, so that a
    # contract change is measured
    write_project(folder)
    budget = PAIRS_PER_ENTITY * entities
    if budget > 50_000_000:
        (folder / "matching.yaml").write_text(
            "".join(f"{e}:\n  pair_budget: {budget}\n" for e in ("customer", "account", "contract"))
        )
    return folder


def _timed(command: list[str]) -> tuple[float, float, str]:
    """(wall seconds, peak RSS in GB, stdout) of `command` under /usr/bin/time -v."""
    run = timed(command, cwd=ROOT)
    return run.wall_s, run.peak_rss_kb / 1024**2, run.stdout


# A fixed piece of work, timed in its own process before each size: this machine's speed moves
# by up to half between runs (2026-11-28: the same run 148 and 210 s), and a wall time means
# little without the machine's speed at that moment. Sorting 20M floats (NumPy, one core), a
# Python loop (the interpreter), and normalising and sorting 2M strings (Polars, both cores).
CALIBRATION = """
import time, numpy as np, polars as pl
values = np.random.default_rng(0).random(20_000_000)
names = pl.Series([f"name {i % 100_000}-{i}" for i in range(2_000_000)])
started = time.perf_counter()
np.sort(values)
total = 0
for i in range(5_000_000):
    total += i
names.str.to_uppercase().str.replace_all(r"[^A-Z0-9]", "").arg_sort()
print(time.perf_counter() - started)
"""


def calibration_seconds() -> float:
    """Seconds of `CALIBRATION` now (the smallest of three: a momentary hiccup is not the
    machine's speed)."""
    runs = [subprocess.run([PYTHON, "-c", CALIBRATION], check=True, capture_output=True,
                           text=True).stdout for _ in range(3)]  # fmt: skip
    return min(float(out.strip()) for out in runs)


def stage_seconds(warehouse: Path) -> dict[str, float]:
    """Wall seconds per step of the warehouse's one run, from its Dagster instance."""
    code = (
        "import json, dagster as dg\n"
        "i = dg.DagsterInstance.get(); r = i.get_runs(limit=1)[0]\n"
        "print(json.dumps({s.step_key: s.end_time - s.start_time\n"
        "                  for s in i.get_run_step_stats(r.run_id) if s.end_time}))\n"
    )
    env = {**os.environ, "DAGSTER_HOME": str(warehouse / ".dagster")}
    out = subprocess.run([PYTHON, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         env=env, check=True)  # fmt: skip
    return json.loads(out.stdout)


def pipeline_f1(warehouse: Path, truth: Path) -> dict[str, float]:
    out = subprocess.run([PYTHON, "-m", "pipelines.cli", "evaluate", "--warehouse",
                          str(warehouse), "--truth-dir", str(truth), "--json"],
                         cwd=ROOT, capture_output=True, text=True, check=True)  # fmt: skip
    return {e: r["pairwise_f1"] for e, r in json.loads(out.stdout).items()}


def splink(staged: Path, truth: Path) -> dict:
    """Splink in its own process: wall (process start included), peak RSS, F1, pairs."""
    code = (
        "import json, sys, time; sys.path.insert(0, 'benchmarks')\n"
        "import polars as pl; from pathlib import Path\n"
        "from quality import splink_customers\n"
        f"ev, wall = splink_customers(pl.read_parquet({str(staged)!r}), Path({str(truth)!r}))\n"
        "print(json.dumps({'f1': ev.pairwise_f1, 'largest': ev.largest_cluster,"
        " 'matching_s': wall}))\n"
    )
    wall, peak, out = _timed([PYTHON, "-c", code])
    return {"wall": wall, "peak_gb": peak, **json.loads(out.strip().splitlines()[-1])}


def measure(entities: int, with_splink: bool) -> dict:
    folder = project(entities)
    warehouse = Path(tempfile.mkdtemp(prefix=f"scale-{entities}-"))
    calibration = calibration_seconds()
    try:
        run = timed([PYTHON, "-m", "pipelines.cli", "run", "--project", str(folder),
                     "--warehouse", str(warehouse)], cwd=ROOT)  # fmt: skip
        wall, peak, out = run.wall_s, run.peak_rss_kb / 1024**2, run.stdout
        records = int(re.search(r"\(([\d,]+)\); quarantined", out).group(1).replace(",", ""))
        stages = stage_seconds(warehouse)
        pairs = pl.scan_parquet(warehouse / "intermediate" / "scored" / "customer.parquet")
        customer_pairs = pairs.select(pl.len()).collect().item()
        result = {
            "entities": entities, "records": records, "wall": wall, "peak_gb": peak,
            "cpu_s": run.cpu_s, "calibration_s": calibration,
            "us_per_record": wall / records * 1e6, "stages": stages,
            "matching_s": sum(stages.get(k, 0.0) for k in MATCHING),
            "customer_pairs": customer_pairs,
            "pairs_per_s": customer_pairs / stages["scored__customer"],
            "f1": pipeline_f1(warehouse, folder / "truth"),
        }  # fmt: skip
        if with_splink and entities <= SPLINK_UP_TO:
            result["splink"] = splink(warehouse / "intermediate" / "staged" / "customer.parquet",
                                      folder / "truth" / "truth_customer.csv")  # fmt: skip
        return result
    finally:
        shutil.rmtree(warehouse, ignore_errors=True)


def table(results: list[dict]) -> str:
    head = ("| entities | source records | pipeline wall s | CPU s | machine check s | "
            "us/record | peak GB | customer matching s | customer pairs | "
            "pairs/s (scoring) | F1 customer / account / contract | Splink wall s | Splink "
            "peak GB | Splink F1 | matching / Splink wall |")  # fmt: skip
    lines = [head, "|" + "---|" * 15]
    for r in results:
        f1 = " / ".join(f"{r['f1'].get(e, float('nan')):.4f}"
                        for e in ("customer", "account", "contract"))  # fmt: skip
        s = r.get("splink")
        theirs = (f"{s['wall']:.1f} | {s['peak_gb']:.2f} | {s['f1']:.4f} | "
                  f"{r['matching_s'] / s['wall']:.2f}") if s else "- | - | - | -"  # fmt: skip
        lines.append(f"| {r['entities']:,} | {r['records']:,} | {r['wall']:.1f} | "
                     f"{r['cpu_s']:.1f} | {r['calibration_s']:.2f} | "
                     f"{r['us_per_record']:.1f} | {r['peak_gb']:.2f} | "
                     f"{r['matching_s']:.1f} | {r['customer_pairs']:,} | {r['pairs_per_s']:,.0f}"
                     f" | {f1} | {theirs} |")  # fmt: skip
    return "\n".join(lines)


def stage_table(results: list[dict], top: int = 12) -> str:
    """The slowest steps at the largest size, with their seconds at every size."""
    largest = max(results, key=lambda r: r["entities"])
    keys = sorted(largest["stages"], key=largest["stages"].get, reverse=True)[:top]
    lines = ["| step | " + " | ".join(f"{r['entities']:,}" for r in results) + " |",
             "|" + "---|" * (len(results) + 1)]  # fmt: skip
    for k in keys:
        lines.append(f"| {k} | " + " | ".join(f"{r['stages'].get(k, 0.0):.1f}" for r in results)
                     + " |")  # fmt: skip
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="+", type=int, help="entities per run")
    parser.add_argument("--no-splink", action="store_true", help="the pipeline alone")
    args = parser.parse_args(argv)
    results = []
    for entities in args.sizes:
        results.append(measure(entities, not args.no_splink))
        print(json.dumps(results[-1]), file=sys.stderr, flush=True)
    print(table(results))
    print()
    print(stage_table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
