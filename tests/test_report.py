"""The run report (`mdm report`, written by every `mdm run`): its plots show the run's own
figures from `audit.runs` and the version it published, it is reproducible from the ledger, it
fetches nothing, and it is readable by the broad audience. The page in a real browser:
tests/test_report_browser.py (`make test-browser`)."""

from __future__ import annotations

import json
import re
import stat
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest

from conftest import mdm
from pipelines import histograms, ledger, report, versions

BAR = re.compile(
    r'<g class="bar" data-chart="([^"]*)" data-series="([^"]*)" data-label="([^"]*)" '
    r'data-value="([^"]*)">'
)


def bars(page: str, chart: str) -> dict[tuple[str, str], float]:
    """(label, series) -> value of every bar of `chart` on the page."""
    return {(label, series): float(value)
            for name, series, label, value in BAR.findall(page) if name == chart}  # fmt: skip


@pytest.fixture(scope="module")
def runs(sample_runs: dict) -> list[dict]:
    frame = ledger.read(sample_runs["warehouse"], "audit.runs").sort("started_at")
    return [{**r, **{k: json.loads(r[k]) for k in report.JSON_FIELDS}} for r in frame.to_dicts()]


def test_every_run_wrote_its_report_for_everyone_to_read(runs, sample_runs: dict) -> None:
    warehouse = sample_runs["warehouse"]
    assert len(runs) == 2
    for run in runs:
        path = report.path_for(warehouse, run["run_id"])
        assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert stat.S_IMODE((warehouse / report.FOLDER).stat().st_mode) == 0o755
    assert f"report: {report.path_for(warehouse, runs[-1]['run_id'])}" in sample_runs["printed"]


def test_the_plotted_counts_are_the_runs_own(runs, sample_runs: dict) -> None:
    warehouse = sample_runs["warehouse"]
    for run in runs:
        page = report.path_for(warehouse, run["run_id"]).read_text(encoding="utf-8")
        counts = bars(page, "counts per stage")
        assert counts[("records in", "")] == run["records_in"] == 9_555
        assert counts[("candidate pairs", "")] == run["candidate_pairs"] > 8_000
        assert counts[("review-band pairs", "")] == run["review_pairs"]
        for entity, golden in run["golden"].items():
            assert counts[(f"golden {entity}", "")] == golden
            sizes = bars(page, f"cluster sizes {entity}")
            assert sum(sizes.values()) == golden
        events = bars(page, "golden ID events")
        assert {label: v for (label, _), v in events.items()} == run["id_events"]
        table = page.split('id="quarantine"')[1].split("</table>")[0]
        quarantined = re.findall(r'<td class="n">([\d,]+)</td></tr>', table)
        assert sum(int(n.replace(",", "")) for n in quarantined) == run["quarantined"] == 45
        sources = bars(page, "records in per source")
        assert {label: v for (label, _), v in sources.items()} == run["rows_in"]
        weights = {e: bars(page, f"match weights {e}") for e in run["golden"]}
        assert sum(sum(w.values()) for w in weights.values()) == run["comparisons"]
        # the merged band holds the pairs at or above the threshold: what the version holds
        database = versions.folder(warehouse, run["version"]) / versions.DATABASE
        with duckdb.connect(str(database), read_only=True) as con:
            above = con.sql("SELECT count(*) FROM match.pairs_customer WHERE probability >= 0.9")
            merged = sum(v for (_, band), v in weights["customer"].items() if band == "merged")
            assert merged == above.fetchall()[0][0] > 1_000
        stages = bars(page, "seconds per stage")
        assert sum(v for (_, series), v in stages.items() if series == "CPU seconds") == (
            pytest.approx(sum(s["cpu"] for s in run["stages"].values()), abs=0.01)
        )


def test_the_second_report_compares_with_the_first(runs, sample_runs: dict) -> None:
    page = report.path_for(sample_runs["warehouse"], runs[1]["run_id"]).read_text()
    assert f'previous run <span class="mono">{runs[0]["run_id"][:8]}' in page
    probabilities = bars(page, "match probabilities customer")
    assert {series for _, series in probabilities} == {"previous version", "this run"}
    assert sum(v for (_, s), v in probabilities.items() if s == "this run") == sum(
        w for (_, s), w in probabilities.items() if s == "previous version"
    )  # the same data twice: the same pairs
    assert page.count('<td class="ok">within limit</td>') == 18  # six drift checks per entity
    first = report.path_for(sample_runs["warehouse"], runs[0]["run_id"]).read_text()
    assert "match probabilities customer" not in first  # no earlier version to compare with
    assert "the first run in this warehouse" in first


def test_the_page_fetches_nothing(runs, sample_runs: dict) -> None:
    page = report.path_for(sample_runs["warehouse"], runs[-1]["run_id"]).read_text()
    for needle in ("<script", "<link", "<img", "<iframe", "src=", "url(", "@import", "http:",
                   "https:"):  # fmt: skip
        assert needle not in page, needle
    # counts, sources, ID events; stages; three per entity; recent runs: every chart is drawn
    assert page.count('<svg class="chart"') == 3 + 1 + 3 * 3 + 2


def test_mdm_report_rewrites_a_runs_page_from_the_ledger(runs, sample_runs, tmp_path) -> None:
    warehouse = sample_runs["warehouse"]
    first = runs[0]["run_id"]
    code, printed = mdm("report", "--run", first[:8], "--out", str(tmp_path / "r.html"),
                         "--warehouse", str(warehouse))  # fmt: skip
    assert code == 0, printed
    # reproducible: the same page the run wrote, though a later run came since
    assert (tmp_path / "r.html").read_bytes() == report.path_for(warehouse, first).read_bytes()
    code, printed = mdm("report", "--run", "no-such-run", "--warehouse", str(warehouse))
    assert code == 2 and "no run in" in printed and "'no-such-run'" in printed
    code, printed = mdm("report", "--warehouse", str(tmp_path / "empty"))
    assert code == 2 and "no run recorded" in printed


def test_cluster_size_and_match_weight_tables() -> None:
    sizes = histograms.cluster_sizes(pl.Series([1, 1, 2, 3, 12, 30]), largest=10)
    assert sizes.rows() == [("1", 2, 0.3333), ("2", 1, 0.1667), ("3", 1, 0.1667),
                            ("10+", 2, 0.3333)]  # fmt: skip
    pairs = pl.LazyFrame({"weight": [-40.0, -3.0, 2.0, 12.0, 12.5, 55.0],
                          "probability": [0.0, 0.2, 0.6, 0.95, 0.97, 1.0]})  # fmt: skip
    table = histograms.match_weights(pairs, 0.9, 0.5, width=5, low=-10, high=20)
    assert table["weight"].to_list() == ["< -10", "-10", "-5", "0", "5", "10", "15", ">= 20"]
    rows = {r["weight"]: (r["apart"], r["review"], r["merged"]) for r in table.to_dicts()}
    assert rows["< -10"] == (1, 0, 0) and rows["-5"] == (1, 0, 0) and rows["0"] == (0, 1, 0)
    assert rows["10"] == (0, 0, 2) and rows[">= 20"] == (0, 0, 1)
    assert table["pairs"].sum() == 6


def test_a_report_says_what_it_cannot_show(tmp_path: Path) -> None:
    """A failed run of a project that no longer loads: its page renders from the ledger row."""
    warehouse = tmp_path / "warehouse"
    (tmp_path / "matching.yaml").write_text("customer: {threshold: 2}\n")
    started = datetime(2026, 1, 1, tzinfo=UTC)
    run = ledger.RunRecord(
        "r1", started, started, "failed", str(tmp_path), "blocking check failed: golden/customer",
        records_in=10, quarantined=1, wall_seconds=1.5, cpu_seconds=1.0,
        stages=json.dumps({"raw__crm": {"wall": 1.0, "cpu": 0.5}}),
        rows_in=json.dumps({"crm": 10}), golden="{}",
    )  # fmt: skip
    assert ledger.append(warehouse, run, [], None)
    page = report.path_for(warehouse, "r1")
    assert report.write(warehouse) == page
    text = page.read_text()
    assert "this run published no version" in text and "blocking check failed" in text
    assert "matching.yaml no longer loads" in text
    assert bars(text, "counts per stage")[("records in", "")] == 10
    assert bars(text, "seconds per stage")[("raw", "CPU seconds")] == 0.5
