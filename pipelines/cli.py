"""`mdm`: the command line of the MDM pipeline."""

from __future__ import annotations

import argparse
import contextlib
import os
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
    if not args.data_only:
        from pipelines.generator.project import write_project

        write_project(args.out)
    if not args.quiet:
        elapsed = time.perf_counter() - started
        print(
            f"wrote {args.out} (a project folder: mdm run --project {args.out}) in {elapsed:.1f} s"
        )
        for name, rows in counts.items():
            print(f"  {name:<28} {rows:>12,} rows")
    return 0


ROOT = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def _step_bar(steps: int):
    """A rich bar over `steps` Dagster steps on stderr when it is a terminal, fed by the
    handler yielded (`pipelines.progress.StepBar`); None (no bar) otherwise."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from pipelines.progress import StepBar

    # Dagster captures each step's stdout and stderr (the file descriptors themselves), so the
    # bar writes to its own copy of the terminal's descriptor
    with (
        os.fdopen(os.dup(sys.stderr.fileno()), "w") as terminal,
        Progress(TextColumn("{task.description:<60.60}"), BarColumn(),
                 TextColumn("{task.completed}/{task.total} steps"), TimeElapsedColumn(),
                 console=Console(file=terminal), transient=True) as bar,
    ):  # fmt: skip
        task = bar.add_task("starting", total=steps)
        yield StepBar(lambda: bar.advance(task), lambda text: bar.update(task, description=text))


def _execute(defs, warehouse: Path, args: argparse.Namespace, started_at):
    """Run the job and record it in the ledger: (the Dagster result, its outcome)."""
    from pipelines import recording, usage
    from pipelines.executor import run_in_process
    from pipelines.graph import JOB, instance_for
    from pipelines.progress import bar_logger

    usage.start()
    job = defs.resolve_job_def(JOB)
    with _step_bar(len(job.graph.node_dict)) as handler:
        # in a terminal, a bar over the job's steps; the console log goes on as before
        loggers = {"console": {"config": {"log_level": args.log_level}}}
        if handler is not None:
            job = job.with_logger_defs({**job.loggers, "progress": bar_logger(handler)})
            loggers["progress"] = {}
        instance = instance_for(warehouse)
        # tagged as recorded here: the sensors leave the run to this process
        result = run_in_process(
            job, instance, {"loggers": loggers}, tags={recording.RECORDED_BY: "mdm run"}
        )
    outcome, recorded, problem = recording.record(instance, result.run_id, Path(args.project),
                                                  warehouse, started_at)  # fmt: skip
    if not recorded:
        print(f"mdm run: {warehouse / 'ledger.duckdb'} is open in another session: this run's "
              f"record waits in {warehouse / 'ledger.pending'} and is written by the next run "
              "(query audit.runs in mdm.duckdb, which never blocks a run)",
              file=sys.stderr)  # fmt: skip
    if problem:
        print(f"mdm run: the run report could not be written ({problem}); write it with "
              f"`mdm report --run {result.run_id} --warehouse {warehouse}`",
              file=sys.stderr)  # fmt: skip
    return result, outcome


def _run(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from pipelines import versions
    from pipelines.contracts import ContractError
    from pipelines.graph import build_definitions

    started = time.perf_counter()
    started_at = datetime.now(UTC)
    warehouse = args.warehouse.resolve()
    try:
        defs = build_definitions(args.project, str(warehouse), args.keep_versions)
    except (ContractError, ValueError, FileNotFoundError) as exc:
        print(f"mdm run: the project cannot load:\n{exc}", file=sys.stderr)
        return 2
    try:
        with versions.exclusive(warehouse, "mdm run"):
            result, outcome = _execute(defs, warehouse, args, started_at)
    except versions.WarehouseBusy as exc:
        print(f"mdm run: {exc}", file=sys.stderr)
        return 2
    elapsed = time.perf_counter() - started
    if outcome.status != "published":
        print(f"mdm run: {outcome.status}, nothing published (run {result.run_id}):",
              file=sys.stderr)  # fmt: skip
        for line in outcome.problems:
            print(f"  {line}", file=sys.stderr)
        print(f"  the previous version, if any, is still published; details in "
              f"{warehouse / 'ledger.duckdb'} and {_report_path(warehouse, result.run_id)}",
              file=sys.stderr)  # fmt: skip
        return 1
    database = warehouse / "mdm.duckdb"
    print(f"mdm run: {args.project} -> {database} in {elapsed:.1f} s (run {result.run_id}, "
          f"version {outcome.version})")  # fmt: skip
    print("  records in: " + ", ".join(f"{s} {n:,}" for s, n in outcome.per_source.items())
          + f" ({outcome.records_in:,}); quarantined: {outcome.quarantined:,}"
          + (f"; past retention, not landed: {outcome.past_retention:,}"
             if outcome.past_retention else "")
          + (f"; erased earlier, suppressed: {outcome.suppressed:,}"
             if outcome.suppressed else ""))  # fmt: skip
    print("  candidate pairs scored: " + ", ".join(f"{e} {n:,}" for e, n in outcome.pairs.items()))
    print("  golden records: " + ", ".join(f"{e} {n:,}" for e, n in outcome.golden.items()))
    if outcome.quarantine is not None and outcome.quarantined:
        rules = outcome.quarantine["rule"].value_counts().sort("rule")
        print("  quarantined by rule: "
              + ", ".join(f"{r} {n:,}" for r, n in rules.iter_rows()))  # fmt: skip
    failed = [c for c in outcome.checks if not c["passed"]]
    if failed:
        print(f"  warnings: {len(failed)} check(s) failed without blocking: "
              + ", ".join(f"{c['asset']}:{c['check_name']}" for c in failed))  # fmt: skip
    print(f'  query: duckdb {database} "SELECT * FROM golden.customer LIMIT 10"')
    print(f"  masked for broad access: {warehouse / 'analytics.duckdb'} (analytics.customer, ...)")
    print(f"  report: {_report_path(warehouse, result.run_id)}")
    return 0


def _report_path(warehouse: Path, run_id: str) -> Path:
    from pipelines import report

    return report.path_for(warehouse, run_id)


def _report(args: argparse.Namespace) -> int:
    from pipelines import report

    try:
        path = report.write(args.warehouse, args.run, args.out)
    except report.NoSuchRun as exc:
        print(f"mdm report: {exc}", file=sys.stderr)
        return 2
    print(f"mdm report: {path}")
    return 0


def _published(warehouse: Path, command: str) -> Path | None:
    """The warehouse's published database, or None (said on stderr) when there is none yet."""
    database = warehouse / "mdm.duckdb"
    if not database.exists():
        print(f"mdm {command}: no published database at {database}; run `mdm run` first",
              file=sys.stderr)  # fmt: skip
        return None
    return database


def _evaluate(args: argparse.Namespace) -> int:
    import json

    import duckdb
    import polars as pl

    from matching.evaluate import evaluate, true_pairs

    database = _published(args.warehouse, "evaluate")
    if database is None:
        return 2
    truth = {"customer": args.truth} if args.truth else _truth_files(args.truth_dir)
    if not truth:
        print(f"mdm evaluate: no truth_<entity>.csv in {args.truth_dir}", file=sys.stderr)
        return 2
    if args.entity:
        truth = {args.entity: args.truth or args.truth_dir / f"truth_{args.entity}.csv"}
    results, review = {}, {}
    with duckdb.connect(str(database), read_only=True) as con:
        for entity, path in truth.items():
            if not Path(path).exists():
                print(f"mdm evaluate: no truth file {path}", file=sys.stderr)
                return 2
            xref = con.sql(
                "SELECT source_system, source_key, golden_id FROM golden.xref "
                "WHERE entity = ? AND valid_to IS NULL",
                params=[entity],
            ).pl()
            truth_frame = pl.read_csv(path, infer_schema=False)
            results[entity] = evaluate(xref, truth_frame)
            queue = con.sql(
                "SELECT left_system, left_key, right_system, right_key FROM match.review_queue "
                "WHERE entity = ?",
                params=[entity],
            ).pl()
            review[entity] = true_pairs(queue, truth_frame)
    if args.json:
        print(json.dumps({e: {**r.to_dict(), "review_queue_pairs": review[e][0],
                              "review_queue_true_matches": review[e][1]}
                          for e, r in results.items()}, indent=2))  # fmt: skip
        return 0
    for entity, result in results.items():
        print(f"{entity}: {result.truth_records:,} truth records, "
              f"{result.missing_records:,} missing from xref (scored as singletons)")  # fmt: skip
        print(f"  pairwise  precision {result.pairwise_precision:.4f}  "
              f"recall {result.pairwise_recall:.4f}  F1 {result.pairwise_f1:.4f}")  # fmt: skip
        print(f"  B-cubed   precision {result.bcubed_precision:.4f}  "
              f"recall {result.bcubed_recall:.4f}  F1 {result.bcubed_f1:.4f}")  # fmt: skip
        pairs, true = review[entity]
        share = f" ({true / pairs:.0%} true matches)" if pairs else ""
        print(f"  review queue: {pairs:,} pairs{share}")
    return 0


def _truth_files(folder: Path) -> dict[str, Path]:
    """entity -> truth file, for each truth_<entity>.csv in `folder`, in resolution order."""
    order = ("customer", "account", "contract")
    return {e: folder / f"truth_{e}.csv" for e in order if (folder / f"truth_{e}.csv").exists()}


def _explain(args: argparse.Namespace) -> int:
    from pipelines import explain

    database = _published(args.warehouse, "explain")
    if database is None:
        return 2
    try:
        if args.golden_id:
            lines = explain.golden_record(database, args.golden_id)
        else:
            lines = explain.pair(database, *args.pair, entity=args.entity)
    except (explain.NotFound, ValueError) as exc:
        print(f"mdm explain: {exc}", file=sys.stderr)
        return 2
    print("\n".join(lines))
    return 0


def _versions(args: argparse.Namespace) -> int:
    from pipelines import versions

    kept = versions.kept(args.warehouse)
    if not kept:
        print(f"mdm versions: no published version in {args.warehouse}; run `mdm run` first",
              file=sys.stderr)  # fmt: skip
        return 2
    now = versions.current(args.warehouse)
    entities = " / ".join(kept[-1].info().get("golden", {}))
    print(f"  version  published             run       run started           "
          f"{'golden ' + entities:<47}  checks passed")  # fmt: skip
    for v in reversed(kept):
        info = v.info()
        golden = " / ".join(f"{n:,}" for n in info.get("golden", {}).values())
        checks = f"{info.get('passed', 0)}/{info.get('checks', 0)}"
        mark = "*" if now and v.number == now.number else " "
        published = (v.published_at or "")[:19].replace("T", " ")
        started = info.get("as_of", "")[:19].replace("T", " ")
        print(f"{mark} {v.number:>7}  {published:<20}  {info.get('run_id', '')[:8]:<8}  "
              f"{started:<20}  {golden:<47}  {checks}")  # fmt: skip
    print("* the published version (mdm.duckdb); `mdm rollback --to N` restores another")
    return 0


def _rollback(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from pipelines import ledger, versions

    now = versions.current(args.warehouse)
    if now is None:
        print(f"mdm rollback: no published version in {args.warehouse}", file=sys.stderr)
        return 2
    if args.to is None:
        older = [v for v in versions.kept(args.warehouse) if v.number < now.number]
        target = older[-1] if older else None
        if target is None:
            print(f"mdm rollback: version {now.number} is the oldest one kept", file=sys.stderr)
            return 2
    else:
        target = versions.get(args.warehouse, args.to)
        if target is None:
            kept = ", ".join(str(v.number) for v in versions.kept(args.warehouse))
            print(f"mdm rollback: no version {args.to} is kept (kept: {kept})", file=sys.stderr)
            return 2
    try:
        with versions.exclusive(args.warehouse, "mdm rollback"):
            versions.switch(args.warehouse, target)
    except versions.WarehouseBusy as exc:
        print(f"mdm rollback: {exc}", file=sys.stderr)
        return 2
    recorded = ledger.record_publication(args.warehouse, {
        "switched_at": datetime.now(UTC), "action": "rollback", "version": target.number,
        "previous_version": now.number, "run_id": target.info().get("run_id"),
    })  # fmt: skip
    print(f"mdm rollback: {args.warehouse / versions.DATABASE} is version {target.number} "
          f"again (was {now.number}); new connections see it")  # fmt: skip
    if not recorded:
        print(f"  (the ledger is open in another session: the rollback's record waits in "
              f"{args.warehouse / ledger.PENDING})")  # fmt: skip
    return 0


def _resolve(args: argparse.Namespace) -> int:
    from pipelines import explain

    database = _published(args.warehouse, "resolve")
    if database is None:
        return 2
    try:
        lines = explain.resolve(database, args.golden_id)
    except explain.NotFound as exc:
        print(f"mdm resolve: {exc}", file=sys.stderr)
        return 2
    print("\n".join(lines))
    return 0


def _erase(args: argparse.Namespace) -> int:
    from pipelines import erasure, versions

    source = tuple(args.source) if args.source else None
    try:
        with versions.exclusive(args.warehouse, "mdm erase"):
            done = erasure.erase(args.warehouse, args.golden_id, source, args.reason or "")
    except (versions.WarehouseBusy, erasure.NotFound) as exc:
        print(f"mdm erase: {exc}", file=sys.stderr)
        return 2
    golden = ", ".join(f"{e} {n:,}" for e, n in sorted(done.golden.items())) or "none"
    print(f"mdm erase: {len(done.records):,} source record(s) and golden records ({golden}) "
          f"erased from {done.versions} version(s), {done.files} file(s) rewritten; "
          f"{done.tombstones:,} tombstone(s) keep them from coming back")  # fmt: skip
    return 0


def _contracts_lint(args: argparse.Namespace) -> int:
    if not args.project.is_dir():
        print(f"mdm contracts lint: no project folder {args.project}", file=sys.stderr)
        return 2
    from pipelines.lint import lint_project

    report = lint_project(args.project)
    print("\n".join(report.lines()))
    return 1 if report.problems else 0


def _owners(args: argparse.Namespace) -> int:
    from pipelines.assets import asset_teams
    from pipelines.contracts import ContractError, load_project

    try:
        project = load_project(args.project)
    except (ContractError, ValueError) as exc:
        print(f"mdm owners: the project cannot load:\n{exc}", file=sys.stderr)
        return 2
    teams = asset_teams(project)
    if args.asset:
        teams = {k: v for k, v in teams.items() if k == args.asset or k.startswith(args.asset)}
        if not teams:
            print(f"mdm owners: no asset {args.asset!r}", file=sys.stderr)
            return 2
    for asset, name in teams.items():
        team = project.ownership.team(name)
        print(f"{asset}\n  team: {name}\n  owners: {', '.join(team.owners)}"
              f"\n  stewards: {', '.join(team.stewards)}"
              f"\n  escalation: {', '.join(team.escalation)}")  # fmt: skip
    return 0


def _at_least_one(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value}: at least 1 (the published version is kept)")
    return value


def _reader(commands, name: str, func, summary: str, description: str):
    """A command that works on a warehouse's published data (`--warehouse`)."""
    parser = commands.add_parser(name, help=summary, description=description)
    parser.add_argument("--warehouse", type=Path, default=Path("warehouse"),
                        help="warehouse folder (default: ./warehouse)")  # fmt: skip
    parser.set_defaults(func=func)
    return parser


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
    gen.add_argument(
        "--data-only",
        action="store_true",
        help="write only the extracts and truth, not a project folder (contracts/, ownership.yaml)",
    )
    gen.set_defaults(func=_generate)

    run = commands.add_parser(
        "run",
        help="run the whole pipeline on a project folder and publish the golden tables",
        description="Land, standardise, match and publish every entity of a project folder "
        "(contracts/, ownership.yaml, optional matching.yaml) into the warehouse.",
    )
    run.add_argument("--project", type=Path, default=ROOT, help="project folder (default: repo)")
    run.add_argument("--warehouse", type=Path, default=Path("warehouse"),
                     help="warehouse folder (default: ./warehouse)")  # fmt: skip
    run.add_argument("--keep-versions", type=_at_least_one, default=None, metavar="N",
                     help="published versions kept for rollback (default 5)")  # fmt: skip
    run.add_argument(
        "--log-level",
        default="CRITICAL",
        help="Dagster console log level (default CRITICAL: mdm prints its own summary)",
    )
    run.set_defaults(func=_run)

    ev = _reader(
        commands, "evaluate", _evaluate,
        "precision, recall and F1 of the published cross-reference against ground truth",
        "Pairwise and B-cubed precision, recall and F1 of golden.xref against truth files "
        "(source_system, source_key, entity_id): by default every truth_<entity>.csv in "
        "--truth-dir. Truth records missing from the cross-reference (quarantined ones too) "
        "count as singletons.",
    )  # fmt: skip
    ev.add_argument("--truth-dir", type=Path, default=ROOT / "data" / "samples" / "truth",
                    help="folder of truth_<entity>.csv files (default: the sample's)")  # fmt: skip
    ev.add_argument("--truth", type=Path, help="one truth CSV (for --entity, default customer)")
    ev.add_argument("--entity", choices=("customer", "account", "contract"),
                    help="evaluate one entity only")  # fmt: skip
    ev.add_argument("--json", action="store_true", help="machine-readable output")

    exp = _reader(
        commands, "explain", _explain,
        "why a golden record holds its records, or why two records did (not) match",
        "Explain a golden record (its values with source and survivorship rule, its member "
        "records, the pairs that bound them and their strongest evidence) or one pair decision "
        "(probability, every comparison's level and weight in bits, outcome).",
    )  # fmt: skip
    which = exp.add_mutually_exclusive_group(required=True)
    which.add_argument("--golden-id", help="a golden ID, e.g. CUS-7KQ2M9XH4T1B")
    which.add_argument("--pair", nargs=2, metavar="SYSTEM:KEY", help="two source records")
    exp.add_argument("--entity", choices=("customer", "account", "contract"),
                     help="with --pair: the records' entity, when a key is ambiguous")  # fmt: skip

    _reader(
        commands, "versions", _versions, "the published versions kept, newest first",
        "The versions kept for rollback (newest first; * marks the published one): when each "
        "was published, by which run and when that run started (UTC), its golden record counts "
        "and how many of its checks passed.",
    )  # fmt: skip
    back = _reader(
        commands, "rollback", _rollback, "publish an earlier kept version again, atomically",
        "Switch mdm.duckdb (and export/) back to a kept version: by default the newest one "
        "older than the published one. Open sessions keep the version they opened until they "
        "reconnect. The next run builds on the version restored.",
    )  # fmt: skip
    back.add_argument("--to", type=int, metavar="V", help="the version to restore")
    res = _reader(
        commands, "resolve", _resolve,
        "the current golden ID of any golden ID ever issued, following merges",
        "Follow a golden ID through the merges that retired it to the ID that holds its "
        "records now (golden.ids), and show that record's sources.",
    )  # fmt: skip
    res.add_argument("golden_id", help="a golden ID, current or retired")
    rep = _reader(
        commands, "report", _report, "write a run's HTML report (figures, plots, drift, cost)",
        "Write one self-contained HTML page of a run from the ledger: counts per stage, time "
        "and CPU per stage, cluster sizes and match weights per entity, drift against the "
        "previous version, checks, cost, and recent runs. No script or font is fetched: it "
        "opens offline. `mdm run` writes it for every run at <warehouse>/reports/<run id>.html.",
    )  # fmt: skip
    rep.add_argument("--run", metavar="RUN_ID", help="a run id or a unique prefix of one "
                     "(default: the latest run)")  # fmt: skip
    rep.add_argument(
        "--out",
        type=Path,
        metavar="PATH",
        help="where to write it (default: <warehouse>/reports/<run id>.html)",
    )
    erase = _reader(
        commands, "erase", _erase,
        "erase a person (or account, contract) from every table, export and kept version",
        "The right to be forgotten: remove a golden record, what it holds (a customer's "
        "accounts and contracts) and all their source records from every kept version "
        "(databases and exports, rewritten and renamed over), the ledger and the last run's "
        "intermediates; keep only a tombstone (a keyed hash) so that later runs suppress the "
        "records a source still holds, and an audit row without personal data.",
    )  # fmt: skip
    whom = erase.add_mutually_exclusive_group(required=True)
    whom.add_argument("--golden-id", help="a golden ID (a retired one is followed)")
    whom.add_argument("--source", nargs=2, metavar=("SYSTEM", "KEY"),
                      help="one source record; its golden record is erased with it")  # fmt: skip
    erase.add_argument("--reason", help="why (kept in audit.erasures: no personal data here)")

    contracts = commands.add_parser(
        "contracts",
        help="check a project's data contracts",
        description="Work with a project folder's data contracts (contracts/*.odcs.yaml).",
    )
    contract_commands = contracts.add_subparsers(dest="contracts_command", metavar="COMMAND",
                                                 required=True)  # fmt: skip
    lint = contract_commands.add_parser(
        "lint",
        help="every problem of every contract, without running anything",
        description="Load every contract as `mdm run` would (ODCS JSON schema and model, the "
        "team in ownership.yaml, mdm.* custom properties, masking, retention) and translate "
        "every quality rule into its checks; print each file's problems (path: place: "
        "message) or OK, the project's (ownership.yaml, duplicate ids or tables), and a "
        "summary. Exit 0 when clean, 1 with any problem, 2 without a project folder.",
    )
    lint.add_argument("--project", type=Path, default=ROOT, metavar="DIR",
                      help="project folder (default: the repository)")  # fmt: skip
    lint.set_defaults(func=_contracts_lint)

    own = commands.add_parser(
        "owners",
        help="who owns, stewards and answers for each asset",
        description="Each asset's team from ownership.yaml: owners, stewards, escalation.",
    )
    own.add_argument("asset", nargs="?", help="an asset key (or its prefix), e.g. golden/customer")
    own.add_argument("--project", type=Path, default=ROOT)
    own.set_defaults(func=_owners)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
