"""The run report: one self-contained HTML page per run, at `<warehouse>/reports/<run id>.html`.

What a person checks after a run, on one page: the figures of the run's ledger row
(`audit.runs`) beside the run before it, counts per stage, time and CPU per stage, the
cluster-size histogram and the match-weight distribution of each entity (from the version the
run published), the drift checks against the version it built on, its checks, its cost, and
the recent runs. `mdm run` writes it after recording the run; `mdm report` writes it again for
any run in the ledger.

The page holds counts, rates, column names and check names, never a value, key or golden ID of
a record: it is readable by the warehouse's broad audience (0644), like analytics.duckdb, and
nothing in it is erased by `mdm erase`. Its charts are inline SVG (`pipelines.plots`): no
script, no font, no request.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import get_args

import duckdb
import polars as pl
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from matching.mapping import Entity

from . import histograms, ledger, plots, usage, versions
from .settings import MatchSettings, SettingsError, load_settings

FOLDER = "reports"
HISTORY = 30  # runs in the "recent runs" charts
ENTITIES = get_args(Entity)  # in resolution order
# Dagster step keys by the stage they belong to (a step's checks go with its asset)
STAGES = ("raw", "staged", "candidates", "scored", "clusters", "golden", "drift", "version",
          "analytics", "publish")  # fmt: skip
JSON_FIELDS = ("contract_versions", "stages", "rows_in", "golden", "id_events")


class NoSuchRun(LookupError):
    """The ledger holds no such run (or no run at all)."""


def path_for(warehouse: Path, run_id: str) -> Path:
    return Path(warehouse) / FOLDER / f"{run_id}.html"


@dataclass
class Figures:
    """Everything the page shows, gathered from the ledger and the run's version."""

    run: dict
    previous: dict | None
    history: list[dict]
    checks: list[dict]
    drift: list[dict]
    quarantine: list[tuple[str, str, int]] = field(default_factory=list)  # source, rule, rows
    entities: dict[str, dict] = field(default_factory=dict)
    settings: MatchSettings = field(default_factory=MatchSettings)
    notes: list[str] = field(default_factory=list)


def _parsed(row: dict) -> dict:
    return {**row, **{k: json.loads(row[k]) if row.get(k) else {} for k in JSON_FIELDS}}


def gather(warehouse: Path, run_id: str | None = None) -> Figures:
    """The figures of `run_id` (default: the latest run in the ledger)."""
    runs = ledger.read(warehouse, "audit.runs").sort("started_at")
    if runs.is_empty():
        raise NoSuchRun(f"no run recorded in {Path(warehouse) / ledger.LEDGER}; run `mdm run`")
    rows = runs.to_dicts()
    at = len(rows) - 1
    if run_id is not None:
        found = [i for i, r in enumerate(rows) if r["run_id"].startswith(run_id)]
        if len(found) != 1:
            what = "no run" if not found else f"{len(found)} runs"
            raise NoSuchRun(f"{what} in {Path(warehouse) / ledger.LEDGER} with id {run_id!r}")
        at = found[0]
    run = _parsed(rows[at])
    checks = (
        ledger.read(warehouse, "audit.check_results")
        .filter(pl.col("run_id") == run["run_id"])
        .sort("asset", "check_name")
        .to_dicts()
    )
    quarantine = (
        ledger.read(warehouse, "audit.quarantine")
        .filter(pl.col("run_id") == run["run_id"])
        .group_by("source", "rule")
        .len()
        .sort("len", "source", "rule", descending=[True, False, False])
    )  # counts only: its excerpts quote source lines
    figures = Figures(
        run=run,
        quarantine=quarantine.rows(),
        previous=_parsed(rows[at - 1]) if at else None,
        history=[_parsed(r) for r in rows[max(0, at + 1 - HISTORY) : at + 1]],
        checks=[c for c in checks if not c["check_name"].startswith("drift_")],
        drift=sorted(
            (_drift_row(c) for c in checks if c["check_name"].startswith("drift_")),
            key=lambda d: (_order(d["entity"]), d["measure"]),
        ),  # fmt: skip
    )
    try:
        figures.settings = load_settings(Path(run["project"]))
    except (SettingsError, OSError):
        figures.notes.append("the project's matching.yaml no longer loads: the decision bands "
                             "below use the default thresholds")  # fmt: skip
    _entity_figures(Path(warehouse), figures)
    return figures


def _drift_row(check: dict) -> dict:
    metadata = json.loads(check["metadata"] or "{}")
    measure = check["check_name"].removeprefix("drift_")
    if "note" in metadata:
        shown = {"previous": "", "current": "", "detail": metadata["note"]}
    elif measure == "null_rate":
        values = metadata.get("values", {})
        moved = "; ".join(f"{a}: {plots.number(v['previous'])} -> {plots.number(v['current'])}"
                          for a, v in sorted(values.items()))  # fmt: skip
        shown = {"previous": "", "current": "",
                 "detail": moved or "no attribute moved beyond the limit"}  # fmt: skip
    elif measure == "match_probabilities":
        shown = {"previous": "", "current": "", "detail": f"PSI {metadata.get('psi')}"}
    else:
        shown = {"previous": metadata.get("previous", metadata.get("previous_golden", "")),
                 "current": metadata.get("current", ""), "detail": ""}  # fmt: skip
    entity = check["asset"].split("/")[-1]
    return {"entity": entity, "measure": measure, "passed": check["passed"],
            "limit": metadata.get("limit"), **shown}  # fmt: skip


def _entity_figures(warehouse: Path, figures: Figures) -> None:
    """Per entity: cluster sizes and match weights from the run's version (while it is kept),
    and the match-probability histograms the drift check compared."""
    number = figures.run.get("version")
    version = versions.get(warehouse, number) if number else None
    if version is None or not version.database.exists():
        figures.notes.append(
            "this run published no version that is still kept: no cluster sizes or match "
            "weights to show"
            if number is None
            else f"version {number} is no longer kept: no cluster sizes or match weights to show"
        )
        return  # fmt: skip
    info = version.info()
    base = versions.get(warehouse, info["base"]) if info.get("base") else None
    before = base.info().get("profiles", {}) if base else {}
    with duckdb.connect(str(version.database), read_only=True) as con:
        for entity in figures.run["golden"]:
            entity_settings = getattr(figures.settings, entity)
            sizes = con.sql(f'SELECT source_count FROM golden."{_entity(entity)}"').pl()
            pairs = con.sql(f'SELECT weight, probability FROM match."pairs_{_entity(entity)}"')
            figures.entities[entity] = {
                "clusters": histograms.cluster_sizes(sizes["source_count"]),
                "weights": histograms.match_weights(
                    pairs.pl().lazy(), entity_settings.threshold,
                    entity_settings.review_threshold, width=2.0, low=-30.0, high=40.0),
                "probabilities": info.get("profiles", {}).get(entity, {}).get("probabilities"),
                "previous_probabilities": before.get(entity, {}).get("probabilities"),
            }  # fmt: skip


def _order(entity: str) -> int:
    return ENTITIES.index(entity) if entity in ENTITIES else len(ENTITIES)


def _entity(name: str) -> str:
    if name not in ENTITIES:  # names a table: only the pipeline's own entities
        raise ValueError(f"unknown entity {name!r} in the ledger")
    return name


def stage_of(step_key: str) -> str:
    """`golden__customer_contract` -> `golden`, `drift_account` -> `drift`."""
    head = step_key.split("__", 1)[0] if "__" in step_key else step_key.split("_", 1)[0]
    return head if head in STAGES else "other"


def stage_seconds(stages: dict, cpu_hour: float) -> dict[str, dict[str, float]]:
    """Wall and CPU seconds per stage, in pipeline order, and the CPU's price."""
    out = {s: {"wall": 0.0, "cpu": 0.0} for s in (*STAGES, "other")}
    for step, spent in stages.items():
        stage = out[stage_of(step)]
        stage["wall"] += spent.get("wall") or 0.0
        stage["cpu"] += spent.get("cpu") or 0.0
    return {s: {"wall": round(t["wall"], 3), "cpu": round(t["cpu"], 3),
                "cost": usage.cost(t["cpu"], 0.0, cpu_hour, 0.0)}
            for s, t in out.items() if any(t.values())}  # fmt: skip


def counts(run: dict) -> list[tuple[str, float]]:
    """The counts-per-stage chart's bars, from the run's ledger row."""
    rows = [
        ("records in", run["records_in"]),
        ("quarantined", run["quarantined"]),
        ("candidate pairs", run["candidate_pairs"]),
        ("comparisons", run["comparisons"]),
        ("auto-merged pairs", run["auto_merges"]),
        ("review-band pairs", run["review_pairs"]),
    ]
    rows += [(f"golden {e}", n) for e, n in run["golden"].items()]
    return [(label, value) for label, value in rows if value is not None]  # fmt: skip


def charts(figures: Figures, stages: dict[str, dict[str, float]]) -> dict:
    """The page's SVG charts (`stages`: `stage_seconds`)."""
    run = figures.run
    out = {
        "counts": plots.bars("counts per stage", counts(run)),
        "sources": plots.bars("records in per source", sorted(run["rows_in"].items())),
        "id_events": plots.bars("golden ID events", list(run["id_events"].items()))
        if run["id_events"]
        else None,
        "stages": plots.columns(
            "seconds per stage",
            list(stages),
            {
                "wall seconds": [t["wall"] for t in stages.values()],
                "CPU seconds": [t["cpu"] for t in stages.values()],
            },
        ),  # fmt: skip
        "entities": {},
    }
    for entity, shown in figures.entities.items():
        weights = shown["weights"]
        charts_ = {
            "clusters": plots.columns(
                f"cluster sizes {entity}", shown["clusters"]["cluster_size"].to_list(),
                {"golden records": shown["clusters"]["golden_records"].to_list()},
                x_title="records per golden record"),
            "weights": plots.columns(
                f"match weights {entity}", weights["weight"].to_list(),
                {band: weights[band].to_list() for band in histograms.BANDS}, stacked=True,
                x_title="match weight (bits), lower edge of each 2-bit bin",
                colours=("#999999", plots.COLOURS[1], plots.COLOURS[2])),
        }  # fmt: skip
        charts_["probabilities"] = None  # the first version has none to compare with
        if shown["probabilities"] and shown["previous_probabilities"]:
            tenths = [f"{i / 10:.1f}" for i in range(len(shown["probabilities"]))]
            charts_["probabilities"] = plots.columns(
                f"match probabilities {entity}", tenths,
                {"previous version": shown["previous_probabilities"],
                 "this run": shown["probabilities"]},
                x_title="match probability, lower edge of each tenth")  # fmt: skip
        out["entities"][entity] = charts_
    history = figures.history
    labels = [f"{r['started_at']:%m-%d %H:%M}" for r in history]
    out["history_wall"] = plots.columns(
        "recent runs: wall seconds",
        labels,
        {"wall seconds": [r["wall_seconds"] or 0 for r in history]},
    )
    out["history_cost"] = plots.columns(
        "recent runs: cost per 1,000 records", labels,
        {"US dollars": [r["cost_per_1k_records"] or 0 for r in history]})  # fmt: skip
    return out


def _changes(run: dict, previous: dict | None) -> list[dict]:
    """The headline figures beside the previous run's."""
    fields = [("records in", "records_in"), ("quarantined", "quarantined"),
              ("candidate pairs", "candidate_pairs"), ("auto-merged pairs", "auto_merges"),
              ("review-band pairs", "review_pairs"), ("golden customers", "golden_records"),
              ("wall seconds", "wall_seconds"), ("CPU seconds", "cpu_seconds"),
              ("peak memory (GB)", "peak_rss_gb"), ("cost (USD)", "cost"),
              ("cost per 1,000 records (USD)", "cost_per_1k_records")]  # fmt: skip
    rows = []
    for label, key in fields:
        now, before = run.get(key), previous.get(key) if previous else None
        change = (now - before) / before if now is not None and before else None
        rows.append({"label": label, "now": plots.number(now), "before": plots.number(before),
                     "change": "" if change is None else f"{change:+.1%}"})  # fmt: skip
    return rows


def render(figures: Figures) -> str:
    environment = Environment(
        loader=PackageLoader("pipelines", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
    )
    environment.filters["number"] = plots.number
    run = figures.run
    prices = figures.settings.cost
    stages = stage_seconds(run["stages"], prices.cpu_hour)
    failed = [c for c in figures.checks if not c["passed"]]
    return environment.get_template("report.html").render(
        run=run, previous=figures.previous, figures=figures, charts=charts(figures, stages),
        changes=_changes(run, figures.previous), failed=failed,
        cpu_cost=usage.cost(run["cpu_seconds"] or 0, 0.0, prices.cpu_hour, 0.0),
        storage_cost=usage.cost(0.0, run["storage_gb"] or 0, 0.0, prices.gb_month),
        prices=prices, stages=stages,
    )  # fmt: skip


def write(warehouse: Path, run_id: str | None = None, out: Path | None = None) -> Path:
    """Write the report of `run_id` (default: the latest run) to `out` (default: its place in
    the warehouse), as a new file renamed over the old. Returns the path."""
    figures = gather(warehouse, run_id)
    target = Path(out) if out else path_for(warehouse, figures.run["run_id"])
    target.parent.mkdir(parents=True, exist_ok=True)
    if not out:
        os.chmod(target.parent, 0o755)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.write_text(render(figures), encoding="utf-8")
    os.chmod(tmp, 0o644)
    os.replace(tmp, target)
    return target
