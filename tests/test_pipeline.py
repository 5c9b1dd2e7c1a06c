"""The whole asset graph on the committed sample, run through the CLI into a temporary
warehouse: published tables, their consistency, F1, what the Dagster instance recorded, and a
snapshot of the graph."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest

from conftest import ROOT
from matching.evaluate import evaluate
from pipelines.cli import main
from pipelines.graph import build_definitions, instance_for


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("warehouse")
    assert main(["run", "--project", str(ROOT), "--warehouse", str(path)]) == 0
    return path


def _sql(warehouse: Path, query: str) -> pl.DataFrame:
    with duckdb.connect(str(warehouse / "mdm.duckdb"), read_only=True) as con:
        return con.sql(query).pl()


def test_published_tables_are_consistent(warehouse: Path) -> None:
    golden = _sql(warehouse, "SELECT * FROM golden.customer")
    xref = _sql(warehouse, "SELECT * FROM golden.xref")
    lineage = _sql(warehouse, "SELECT * FROM golden.lineage")
    truth = pl.read_csv(ROOT / "data/samples/truth/truth_customer.csv", infer_schema=False)
    # every source record has exactly one current xref row; every golden ID is used
    assert xref.height == truth.height
    assert xref.select("source_system", "source_key").is_duplicated().sum() == 0
    assert xref["valid_to"].null_count() == xref.height
    assert set(xref["golden_id"]) == set(golden["golden_id"])
    assert golden["golden_id"].str.contains(r"^CUS-[A-Z0-9]{12}$").all()
    assert golden["source_count"].sum() == xref.height
    # one lineage row per surviving non-null value, pointing at a record of that golden ID
    attributes = [c for c in lineage["attribute"].unique()]
    values = sum(golden[a].is_not_null().sum() for a in attributes)
    assert lineage.height == values
    joined = lineage.join(xref, on=["source_system", "source_key"], suffix="_x")
    assert joined.height == lineage.height
    assert (joined["golden_id"] == joined["golden_id_x"]).all()
    assert set(lineage["rule"]) <= {"source_trust", "recency", "frequency", "only_value",
                                    "tie_break"}  # fmt: skip
    assert golden["confidence"].is_between(0.0, 1.0).all()
    pairs = _sql(warehouse, "SELECT * FROM match.pairs_customer")
    assert pairs.height > 1_000 and pairs["probability"].is_between(0.0, 1.0).all()


def test_sample_resolves_with_f1_at_least_095(warehouse: Path) -> None:
    xref = _sql(warehouse, "SELECT source_system, source_key, golden_id FROM golden.xref")
    truth = pl.read_csv(ROOT / "data/samples/truth/truth_customer.csv", infer_schema=False)
    result = evaluate(xref, truth)
    assert result.missing_records == 0
    assert result.pairwise_f1 >= 0.95, result.to_dict()


def test_parquet_exports_match_the_database(warehouse: Path) -> None:
    for table in ("golden.customer", "golden.xref", "golden.lineage", "match.pairs_customer"):
        exported = pl.read_parquet(
            warehouse / "export/golden" / f"{table.replace('.', '_')}.parquet"
        )
        assert exported.height == _sql(warehouse, f"SELECT count(*) AS n FROM {table}")["n"][0]


def test_the_instance_records_what_the_cli_did(warehouse: Path) -> None:
    instance = instance_for(warehouse)
    runs = instance.get_runs()
    assert len(runs) == 1 and runs[0].status == dg.DagsterRunStatus.SUCCESS
    defs = build_definitions(ROOT, str(warehouse))
    keys = list(defs.resolve_asset_graph().get_all_asset_keys())
    counts = {}
    for key in keys:
        event = instance.get_latest_materialization_event(key)
        assert event is not None, key
        assert event.run_id == runs[0].run_id
        metadata = event.asset_materialization.metadata
        if "dagster/row_count" in metadata:
            counts[key.to_user_string()] = metadata["dagster/row_count"].value
    published = {
        "golden/customer": _sql(warehouse, "SELECT count(*) n FROM golden.customer")["n"][0],
        "staged/customer": _sql(warehouse, "SELECT count(*) n FROM golden.xref")["n"][0],
        "scored/customer": _sql(warehouse, "SELECT count(*) n FROM match.pairs_customer")["n"][0],
    }
    for key, n in published.items():
        assert counts[key] == n, key
    raw_total = sum(v for k, v in counts.items() if k.startswith("raw/"))
    assert raw_total == counts["staged/customer"]  # the sample has no row defects


def test_asset_graph_snapshot() -> None:
    defs = build_definitions(ROOT, "unused")
    graph = defs.resolve_asset_graph()
    snapshot = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        snapshot[key.to_user_string()] = (
            sorted(p.to_user_string() for p in node.parent_keys),
            node.group_name,
            sorted(node.owners),
        )
    mdm = ["mdm@example.com", "team:mdm"]
    assert snapshot == {
        "candidates/customer": (["staged/customer"], "customer", mdm),
        "clusters/customer": (["scored/customer"], "customer", mdm),
        "golden/customer": (["clusters/customer"], "customer", mdm),
        "publish": (["golden/customer"], "publish", mdm),
        "raw/billing_customers": ([], "customer", ["billing-data@example.com", "team:billing"]),
        "raw/crm_contacts": ([], "customer", ["crm-data@example.com", "team:crm"]),
        "raw/erp_partners": ([], "customer", ["erp-data@example.com", "team:erp"]),
        "scored/customer": (["candidates/customer"], "customer", mdm),
        "staged/customer": (
            ["raw/billing_customers", "raw/crm_contacts", "raw/erp_partners"], "customer", mdm,
        ),
    }  # fmt: skip
    for key in graph.get_all_asset_keys():
        assert graph.get(key).description, key
