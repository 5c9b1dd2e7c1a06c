"""The run ledger's `audit.runs`: every field of a run filled with a plausible value, and its
counts agreeing with the tables of the version the run published."""

from __future__ import annotations

import json
import re

import duckdb
import pytest

from conftest import ROOT
from pipelines import ledger, usage, versions
from pipelines.contracts import load_project
from pipelines.executor import MAX_CONCURRENT
from pipelines.settings import load_settings


@pytest.fixture(scope="module")
def runs(sample_runs: dict) -> list[dict]:
    """The two runs of the shared sample warehouse, oldest first."""
    frame = ledger.read(sample_runs["warehouse"], "audit.runs").sort("started_at")
    return frame.head(2).to_dicts()


def _one(database, sql: str):
    with duckdb.connect(str(database), read_only=True) as con:
        return con.sql(sql).fetchall()


def test_every_field_of_both_runs_is_filled(runs: list[dict]) -> None:
    assert [r["status"] for r in runs] == ["published", "published"]
    assert [r["version"] for r in runs] == [1, 2]
    for run in runs:
        assert [c for c, v in run.items() if v is None] == []
        assert re.fullmatch(r"[0-9a-f]{40}(\+dirty)?", run["code_version"])
        contracts = {c.id: c.version for c in load_project(ROOT).contracts}
        assert json.loads(run["contract_versions"]) == contracts and len(contracts) == 13


def test_what_a_run_used_is_plausible(runs: list[dict]) -> None:
    for run in runs:
        assert 1 < run["wall_seconds"] < 900 and 1 < run["cpu_seconds"] < 4 * run["wall_seconds"]
        assert 0.1 < run["peak_rss_gb"] < 8
        stages = json.loads(run["stages"])
        assert len(stages) >= 40 and "publish" in stages and "analytics" in stages
        assert all(s["wall"] >= 0 and s["cpu"] >= 0 for s in stages.values())
        # steps run side by side, at most MAX_CONCURRENT at once (pipelines/executor.py)
        assert sum(s["wall"] for s in stages.values()) <= MAX_CONCURRENT * run["wall_seconds"]
        # the steps' CPU is the run's (each rounded to the millisecond)
        cpu = sum(s["cpu"] for s in stages.values())
        assert cpu == pytest.approx(run["cpu_seconds"], abs=0.001 * len(stages))


def test_a_runs_counts_agree_with_the_version_it_published(
    runs: list[dict], sample_runs: dict
) -> None:
    prices = load_settings(ROOT).cost
    for run in runs:
        version = versions.folder(sample_runs["warehouse"], run["version"])
        database = version / versions.DATABASE
        rows_in = json.loads(run["rows_in"])
        assert len(rows_in) == 7 and sum(rows_in.values()) == run["records_in"] == 9_555
        golden = json.loads(run["golden"])
        assert golden == {e: _one(database, f"SELECT count(*) FROM golden.{e}")[0][0]
                          for e in ("customer", "account", "contract")}  # fmt: skip
        pairs = sum(_one(database, f"SELECT count(*) FROM match.pairs_{e}")[0][0]
                    for e in ("customer", "account", "contract"))  # fmt: skip
        assert run["candidate_pairs"] == run["comparisons"] == pairs
        assert (
            run["review_pairs"] == _one(database, "SELECT count(*) FROM match.review_queue")[0][0]
        )
        # a cluster of n records holds at least n - 1 merged pairs
        merged = _one(database, "SELECT count(*) - count(DISTINCT golden_id) FROM golden.xref "
                      "WHERE valid_to IS NULL")[0][0]  # fmt: skip
        assert merged <= run["auto_merges"] <= pairs
        events = dict(_one(database, "SELECT event, count(*) FROM audit.id_events "
                           f"WHERE version = {run['version']} GROUP BY ALL"))  # fmt: skip
        assert {k: v for k, v in json.loads(run["id_events"]).items() if v} == events
        assert 0 < run["storage_gb"] < 1
        assert run["cost"] == usage.cost(run["cpu_seconds"], run["storage_gb"],
                                         prices.cpu_hour, prices.gb_month)  # fmt: skip
        assert run["cost_per_1k_records"] == pytest.approx(run["cost"] / 9.555, rel=1e-3)
    assert json.loads(runs[0]["id_events"])["created"] == sum(
        json.loads(runs[0]["golden"]).values()
    )
    assert sum(json.loads(runs[1]["id_events"]).values()) == 0  # the re-run changed no ID
