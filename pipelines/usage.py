"""What a run uses and costs: CPU seconds per step, the process's peak memory, the code and
contract versions it ran, and the price of it (the run ledger's `audit.runs`).

CPU time is the process's (every thread's: Polars, DuckDB and rapidfuzz work on their own).
The executor (`pipelines.executor`) runs a few steps at once, so the process's CPU seconds of
each stretch of time go in equal shares to the steps running then, and those spent while no
step runs (Dagster's own work between steps) to the step that starts next: the steps' figures
add up to the run's. The run's price: its CPU hours at `cost.cpu_hour` plus a month of keeping
the version it built at `cost.gb_month` (matching.yaml; defaults are a public cloud's list
prices in US dollars, roughly).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import threading
import time
from importlib import metadata
from pathlib import Path

_lock = threading.Lock()
_spent: dict[str, float] = {}  # CPU seconds per step that began or ended since `start`
_running: set[str] = set()
_ended: list[str] = []
_between = [0.0]  # CPU seconds while no step ran, not yet given to a step
_clock = [time.process_time()]  # the process's CPU time when last shared out
_started = [time.process_time()]
_step = threading.local()  # the step this thread runs, when the executor named it


def start() -> None:
    """A run begins: forget the steps of any earlier run in this process."""
    with _lock:
        _spent.clear()
        _running.clear()
        _ended.clear()
        _between[0] = 0.0
        _clock[0] = _started[0] = time.process_time()


def _share() -> None:
    """Give the CPU time since the last share to the steps running (under `_lock`)."""
    now = time.process_time()
    spent, _clock[0] = now - _clock[0], now
    if _running:
        for step in _running:
            _spent[step] += spent / len(_running)
    else:
        _between[0] += spent


def _take(step: str) -> None:
    """`step` starts counting (under `_lock`), with the time spent while no step ran."""
    _spent[step] = _spent.get(step, 0.0) + _between[0]
    _between[0] = 0.0
    _running.add(step)


def begin(step_key: str) -> None:
    """A step starts on this thread (the executor calls this)."""
    _step.key = step_key
    with _lock:
        _share()
        _take(step_key)


def mark(step_key: str, root: Path | None = None, run_id: str | None = None) -> None:
    """A step ended (`pipelines.memory`'s hooks call this; a step no executor began, as under
    Dagster's in-process executor, gets the time since the step before it ended). With the
    warehouse `root`, what the run used so far is written to `spent_path`: the process that
    records the run (the CLI, or the sensor after a run the UI or a schedule launched) reads it
    there."""
    with _lock:
        _share()
        if step_key not in _running:
            _take(step_key)
        _running.discard(step_key)
        _ended.append(step_key)
    if root is not None and run_id is not None:
        path = spent_path(root, run_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{threading.get_ident()}.tmp")
        tmp.write_text(json.dumps({"steps": cpu_by_step(), "cpu_seconds": cpu_seconds(),
                                   "peak_rss_gb": peak_rss_gb()}))  # fmt: skip
        os.replace(tmp, path)


def spent_path(root: Path, run_id: str) -> Path:
    return Path(root) / "intermediate" / "usage" / f"{run_id}.json"


def spent(root: Path, run_id: str) -> dict:
    """What run `run_id` used, as its steps' hooks wrote it ({} when they wrote nothing)."""
    path = spent_path(root, run_id)
    return json.loads(path.read_text()) if path.exists() else {}


def cpu_by_step() -> dict[str, float]:
    """CPU seconds of each step that ended since `start`, in the order they ended."""
    with _lock:
        return {step: round(_spent[step], 3) for step in _ended}


def step_cpu_seconds() -> float:
    """CPU seconds of the step running on this thread, so far."""
    key = getattr(_step, "key", None)
    with _lock:
        _share()
        if key in _running:
            return round(_spent[key], 3)
        return round(_between[0], 3)  # no executor named it: it alone ran since the last end


def step_cost(prices) -> dict[str, float]:
    """The running step's CPU seconds and their price (`CostSettings`), as asset metadata the
    UI plots over materializations."""
    seconds = step_cpu_seconds()
    return {"cpu_seconds": seconds, "cost_usd": cost(seconds, 0.0, prices.cpu_hour, 0.0)}


def cpu_seconds() -> float:
    return round(time.process_time() - _started[0], 3)


def peak_rss_gb() -> float:
    """The process's peak resident memory so far (Linux reports kB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2, 3)


def code_version() -> str:
    """The git commit the pipeline's code is at (with `+dirty` when it has local changes), or
    the installed package's version outside a git checkout."""
    here = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True,
                                text=True, check=True, timeout=5).stdout.strip()  # fmt: skip
        changes = ["git", "status", "--porcelain", "--untracked-files=no"]
        dirty = subprocess.run(changes, cwd=here, capture_output=True, text=True,
                               timeout=5).stdout  # fmt: skip
        return commit + ("+dirty" if dirty.strip() else "")
    except (OSError, subprocess.SubprocessError):
        try:
            return metadata.version("mdm-pipeline")
        except metadata.PackageNotFoundError:
            return "unknown"


def folder_gb(path: Path) -> float:
    """Bytes under `path` in GB (what keeping a version costs)."""
    path = Path(path)
    if not path.exists():
        return 0.0
    return round(sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1024**3, 6)


def cost(cpu_seconds: float, storage_gb: float, cpu_hour: float, gb_month: float) -> float:
    return cpu_seconds / 3600 * cpu_hour + storage_gb * gb_month


def run_record(run_id: str, outcome, instance, project: Path, warehouse: Path, started_at,
               finished_at=None):  # fmt: skip
    """The run's row of `audit.runs` (`ledger.RunRecord`), every field filled; `finished_at`
    defaults to now (the CLI records a run as it ends)."""
    from datetime import UTC, datetime

    from . import ledger, versions
    from .contracts import ContractError, load_project
    from .settings import SettingsError, load_settings

    finished = finished_at or datetime.now(UTC)
    used = spent(warehouse, run_id)
    cpu = used.get("steps", {})
    stages = {
        s.step_key: {"wall": round((s.end_time or s.start_time or 0) - (s.start_time or 0), 3),
                     "cpu": cpu.get(s.step_key)}
        for s in instance.get_run_step_stats(run_id)
    }  # fmt: skip
    try:
        contracts = {c.id: c.version for c in load_project(project).contracts}
        prices = load_settings(project).cost
    except (ContractError, SettingsError, ValueError):  # the run said why it could not load
        contracts, prices = {}, None
    built = versions.folder(warehouse, outcome.version) if outcome.version else None
    storage = folder_gb(built) if built else 0.0
    seconds = used.get("cpu_seconds")
    price = (cost(seconds, storage, prices.cpu_hour, prices.gb_month)
             if prices and seconds is not None else None)  # fmt: skip
    return ledger.RunRecord(
        run_id, started_at, finished, outcome.status, str(Path(project).resolve()),
        outcome.message, outcome.records_in, outcome.quarantined, outcome.golden_records,
        outcome.version, code_version=code_version(),
        contract_versions=json.dumps(contracts, sort_keys=True),
        wall_seconds=round((finished - started_at).total_seconds(), 3), cpu_seconds=seconds,
        stages=json.dumps(stages), peak_rss_gb=used.get("peak_rss_gb"),
        rows_in=json.dumps(outcome.per_source), candidate_pairs=outcome.candidate_pairs,
        comparisons=sum(outcome.pairs.values()), auto_merges=outcome.auto_merges,
        review_pairs=outcome.review_pairs, golden=json.dumps(outcome.golden),
        id_events=json.dumps(outcome.id_events), storage_gb=storage, cost=price,
        cost_per_1k_records=price / outcome.records_in * 1000
        if price is not None and outcome.records_in else None,
    )  # fmt: skip
