"""`mdm`: the command line of the MDM pipeline."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def _generate(args: argparse.Namespace) -> int:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from pipelines.generator import RateError, Rates, generate, with_overrides

    try:
        rates = with_overrides(Rates(), args.rate or [])
    except RateError as exc:
        print(f"mdm generate: {exc}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    with Progress(
        TextColumn("generating"),
        BarColumn(),
        TextColumn("{task.completed:,}/{task.total:,} entities"),
        TimeElapsedColumn(),
        transient=True,
        disable=args.quiet,
    ) as bar:
        task = bar.add_task("generate", total=args.entities)
        counts = generate(
            args.entities,
            args.seed,
            args.out,
            args.format,
            rates,
            progress=lambda done, total: bar.update(task, completed=done),
        )
    if not args.quiet:
        elapsed = time.perf_counter() - started
        print(f"wrote {args.out} in {elapsed:.1f} s")
        for name, rows in counts.items():
            print(f"  {name:<28} {rows:>12,} rows")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mdm",
        description="Master-data management: golden records with stable IDs, lineage, "
        "contracts and ownership.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    gen = commands.add_parser(
        "generate",
        help="write synthetic CRM, billing and ERP extracts with ground truth",
        description="Write three source systems' extracts of one synthetic customer base "
        "(customers, accounts, contracts) with ground truth. Same seed, same bytes.",
    )
    gen.add_argument("--entities", type=int, required=True, help="number of real customers")
    gen.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    gen.add_argument("--out", type=Path, required=True, help="output folder")
    gen.add_argument("--format", choices=("csv", "parquet"), default="csv")
    gen.add_argument(
        "--rate",
        action="append",
        metavar="NAME=VALUE",
        help="override a corruption rate, e.g. --rate given_typo=0.1 (repeatable; see README)",
    )
    gen.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    gen.set_defaults(func=_generate)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
