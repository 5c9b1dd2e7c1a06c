"""Generator scale benchmark: wall time and peak memory of `mdm generate` at given sizes.

Each size runs as its own process under /usr/bin/time -v (peak RSS of the whole process),
into a git-ignored folder that is removed afterwards unless --keep. Prints a Markdown table
row per size for benchmarks/RESULTS.md.

    python benchmarks/generate.py                     # 1,000,000 and 5,000,000 entities
    python benchmarks/generate.py --entities 100000 --format parquet
"""

from __future__ import annotations

import argparse
import platform
import shutil
import sys
from datetime import date
from pathlib import Path

from timed import timed

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "benchmarks" / ".cache"


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def run(entities: int, seed: int, fmt: str, keep: bool) -> dict[str, float]:
    out = CACHE / f"generate-{entities}-{fmt}"
    shutil.rmtree(out, ignore_errors=True)
    mdm = Path(sys.executable).parent / "mdm"
    run_ = timed([str(mdm), "generate", "--entities", str(entities), "--seed", str(seed),
                  "--out", str(out), "--format", fmt, "--quiet"])  # fmt: skip
    wall, rss_kb, cpu = run_.wall_s, run_.peak_rss_kb, run_.cpu_s
    records = (
        sum(1 for _ in (out / "truth" / f"truth_customer.{fmt}").open("rb")) - 1
        if fmt == "csv"
        else None
    )
    result = {
        "entities": entities,
        "wall_s": wall,
        "cpu_s": cpu,
        "peak_rss_gb": rss_kb / 1e6,
        "output_gb": _size(out) / 1e9,
        "customer_records": records,
    }
    if not keep:
        shutil.rmtree(out, ignore_errors=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, action="append")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--format", choices=("csv", "parquet"), default="csv")
    parser.add_argument("--keep", action="store_true", help="keep the generated folders")
    args = parser.parse_args()
    CACHE.mkdir(parents=True, exist_ok=True)
    print(
        f"{date.today()} · {platform.node()} · {platform.processor() or platform.machine()} · "
        f"Python {platform.python_version()} · format {args.format}"
    )
    print("| entities | customer records | wall s | CPU s | peak RSS GB | output GB |")
    print("|---|---|---|---|---|---|")
    for n in args.entities or [1_000_000, 5_000_000]:
        r = run(n, args.seed, args.format, args.keep)
        recs = f"{r['customer_records']:,}" if r["customer_records"] else "-"
        print(
            f"| {n:,} | {recs} | {r['wall_s']:.1f} | {r['cpu_s']:.1f} | "
            f"{r['peak_rss_gb']:.2f} | {r['output_gb']:.2f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
