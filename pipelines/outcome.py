"""What a run did, read from its events and the files it wrote: status, the problems that
stopped it, check results, quarantined records and counts (for the CLI and the ledger)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import polars as pl


@dataclass
class Outcome:
    status: str  # published | blocked | failed
    problems: list[str] = field(default_factory=list)
    checks: list[dict] = field(default_factory=list)
    quarantine: pl.DataFrame | None = None
    per_source: dict[str, int] = field(default_factory=dict)
    records_in: int = 0
    past_retention: int = 0  # rows older than their source's retention period, not landed
    suppressed: int = 0  # erased records a source still holds, not landed
    quarantined: int = 0
    golden_records: int = 0  # golden customers
    golden: dict[str, int] = field(default_factory=dict)  # entity -> golden records
    pairs: dict[str, int] = field(default_factory=dict)  # entity -> candidate pairs scored
    version: int | None = None  # the version it published
    base_version: int | None = None  # the version published before it
    candidate_pairs: int = 0  # blocking's pairs, every entity
    auto_merges: int = 0  # scored pairs at or above their entity's threshold
    review_pairs: int = 0  # pairs in the review band, queued for stewards
    id_events: dict[str, int] = field(default_factory=dict)  # kind -> count, every entity

    @property
    def message(self) -> str:
        return "; ".join(self.problems) if self.problems else "published"


def run_events(instance: dg.DagsterInstance, run_id: str) -> list[dg.DagsterEvent]:
    """A run's events as its instance stored them (whoever launched it: CLI, UI, schedule)."""
    return [r.dagster_event for r in instance.all_logs(run_id) if r.dagster_event is not None]


def _metadata_value(value: object) -> object:
    return getattr(value, "value", value)


def collect(events: Iterable[dg.DagsterEvent], warehouse: Path) -> Outcome:
    """The outcome of a run from its events (`run_events`) and the files it wrote."""
    materialized: dict[str, dict] = {}
    checks, problems = [], []
    for event in events:
        if event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION:
            mat = event.event_specific_data.materialization
            materialized[mat.asset_key.to_user_string()] = {
                k: _metadata_value(v) for k, v in mat.metadata.items()
            }
        elif event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            ev = event.event_specific_data
            checks.append({
                "asset": ev.asset_key.to_user_string(), "check_name": ev.check_name,
                "passed": ev.passed, "severity": ev.severity.value,
                "blocking": bool(getattr(ev, "blocking", False)),
                "metadata": {k: _metadata_value(v) for k, v in ev.metadata.items()},
            })  # fmt: skip
        elif event.is_step_failure:
            error = event.step_failure_data.error
            cause = error.cause.message if error and error.cause else ""
            text = (cause or (error.message if error else "")).strip().splitlines()
            first = re.sub(r"^[\w.]+(Error|Exception): ", "", text[0]) if text else ""
            problems.append(f"step {event.step_key} failed: {first}")
    for check in checks:
        if not check["passed"] and check["blocking"]:
            meta = check["metadata"]
            where = f" [{meta['contract']}: {meta['place']}]" if "place" in meta else ""
            problems.append(
                f"blocking check {check['asset']}:{check['check_name']} failed"
                + (f" ({meta['failing_count']} failing)" if "failing_count" in meta else "")
                + where
            )
    published = "publish" in materialized
    built = materialized.get("version", {})
    status = "published" if published else ("blocked" if any(
        not c["passed"] and c["blocking"] for c in checks) else "failed")  # fmt: skip
    outcome = Outcome(status, problems, checks)
    if published:
        outcome.version = int(materialized["publish"]["version"])
        outcome.base_version = int(built.get("base_version", 0)) or None
    raw = {k.removeprefix("raw/"): v for k, v in materialized.items() if k.startswith("raw/")}
    outcome.per_source = {k: int(v.get("dagster/row_count", 0)) for k, v in sorted(raw.items())}
    rejected = sum(int(v.get("rejected_records", 0)) for v in raw.values())
    # rows a contract's retention period dropped at landing were read all the same
    outcome.past_retention = sum(int(v.get("rows_past_retention", 0)) for v in raw.values())
    # and records erased earlier that their source still holds (`mdm erase`), suppressed
    outcome.suppressed = sum(int(v.get("rows_suppressed", 0)) for v in raw.values())
    outcome.records_in = (sum(outcome.per_source.values()) + rejected + outcome.past_retention
                          + outcome.suppressed)  # fmt: skip
    staged = [k.removeprefix("staged/") for k in materialized if k.startswith("staged/")]
    files = [warehouse / "intermediate" / "quarantine" / f"{e}.parquet" for e in staged]
    if staged and all(f.exists() for f in files):
        outcome.quarantine = pl.concat([pl.read_parquet(f) for f in files])
    else:
        rejects = [warehouse / "intermediate" / "rejects" / f"{name}.parquet" for name in raw]
        frames = [pl.read_parquet(p).with_columns(source=pl.lit(p.stem)) for p in rejects
                  if p.exists()]  # fmt: skip
        outcome.quarantine = pl.concat(frames, how="diagonal_relaxed") if frames else None
    outcome.quarantined = outcome.quarantine.height if outcome.quarantine is not None else 0
    outcome.golden = {
        k.removeprefix("golden/"): int(v.get("dagster/row_count", 0))
        for k, v in materialized.items() if k.startswith("golden/")
    }  # fmt: skip
    outcome.golden_records = outcome.golden.get("customer", 0)
    outcome.pairs = {
        k.removeprefix("scored/"): int(v.get("dagster/row_count", 0))
        for k, v in materialized.items() if k.startswith("scored/")
    }  # fmt: skip

    def total(stage: str, key: str) -> int:
        return sum(int(v.get(key, 0)) for k, v in materialized.items() if k.startswith(stage))

    outcome.candidate_pairs = total("candidates/", "candidate_pairs")
    outcome.auto_merges = total("scored/", "pairs_above_threshold")
    outcome.review_pairs = total("golden/", "review_queue_pairs")
    for k, v in materialized.items():
        if k.startswith("golden/"):
            for name, n in v.items():
                if name.startswith("id_events_"):
                    kind = name.removeprefix("id_events_")
                    outcome.id_events[kind] = outcome.id_events.get(kind, 0) + int(n)
    return outcome
