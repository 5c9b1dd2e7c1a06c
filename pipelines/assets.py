"""The asset graph, built from a project folder: one `raw/` asset per source contract, then
staged -> candidates -> scored -> clusters -> golden per entity.

Each asset reads its inputs' Parquet files from the warehouse and writes its own; the logic is
in `matching`, the assets only move data and report what a data engineer wants to see.
"""

import time
from datetime import UTC, datetime

import dagster as dg
import numpy as np
import polars as pl
from dagster import AssetExecutionContext

from matching import golden as golden_lib
from matching.mapping import CUSTOMER_FIELDS
from matching.resolve import candidates, cluster, score
from matching.standardize import standardize

from . import ledger
from .contracts import Project, SourceContract
from .ingest import land
from .settings import MatchSettings
from .warehouse import WarehouseResource

ENTITY = "customer"
GOLDEN_ATTRIBUTES = [f for f in CUSTOMER_FIELDS if f not in ("source_updated_at", "region")]
ID_PREFIX = {"customer": "CUS"}
# audit.quarantine: a source record no golden record holds, and the rule it broke. `line` is the
# file line of a record the reader rejected; `row_number` the record's ordinal otherwise.
QUARANTINE_COLUMNS = ["source", "file", "source_system", "source_key", "line", "row_number",
                      "rule", "detail", "excerpt"]  # fmt: skip


def _owners(project: Project, team: str) -> list[str]:
    return list(project.ownership.team(team).owners)


def _markdown(frame: pl.DataFrame) -> str:
    head = "| " + " | ".join(frame.columns) + " |"
    rule = "|" + "---|" * len(frame.columns)
    rows = ["| " + " | ".join(str(v) for v in row) + " |" for row in frame.iter_rows()]
    return "\n".join([head, rule, *rows])


def _raw_asset(project: Project, contract: SourceContract) -> dg.AssetsDefinition:
    name = contract.dataset

    @dg.asset(
        key=dg.AssetKey(["raw", name]),
        group_name=contract.entity,
        owners=_owners(project, contract.team),
        kinds={"polars", "parquet"},
        description=f"{contract.name}: the extract as landed, with _ingested_at and _row_hash.",
    )
    def raw(warehouse: WarehouseResource) -> dg.MaterializeResult:
        landed = land(contract)
        columns = [c for c in landed.records.columns if c != "_record"]
        frame = landed.records.with_columns(
            _ingested_at=pl.lit(datetime.now(UTC)),
            _row_hash=pl.concat_str(pl.col(columns).fill_null(""), separator="\x1f").hash(),
        )
        frame.write_parquet(warehouse.intermediate("raw", name))
        landed.rejects.write_parquet(warehouse.intermediate("rejects", name))
        return dg.MaterializeResult(metadata={
            "dagster/row_count": frame.height,
            "rejected_records": landed.rejects.height,
            "source_file": dg.MetadataValue.path(str(contract.server.path)),
            "columns": len(columns),
        })  # fmt: skip

    return raw


def _entity_assets(project: Project, settings: MatchSettings) -> list[dg.AssetsDefinition]:
    sources = [c for c in project.sources if c.entity == ENTITY]
    golden_contract = next(c for c in project.golden if c.entity == ENTITY)
    owners = _owners(project, golden_contract.team)
    entity_settings = getattr(settings, ENTITY)
    match_settings = entity_settings.to_matching()
    raw_keys = [dg.AssetKey(["raw", c.dataset]) for c in sources]
    common = {"group_name": ENTITY, "owners": owners}

    @dg.asset(key=dg.AssetKey(["staged", ENTITY]), deps=raw_keys, kinds={"polars", "parquet"},
              description=f"Source {ENTITY} records mapped to the canonical model, standardised.",
              **common)  # fmt: skip
    def staged(warehouse: WarehouseResource) -> dg.MaterializeResult:
        parts, quarantined, per_source, defects = [], [], {}, {}
        for contract in sources:
            name = contract.dataset
            raw = pl.read_parquet(warehouse.intermediate("raw", name)).drop(
                "_ingested_at", "_row_hash"
            )
            result = standardize(raw, contract.mapping)
            parts.append(result.records)
            file = contract.server.declared_path
            quarantined.append(result.quarantine.with_columns(
                source=pl.lit(name), file=pl.lit(file), line=pl.lit(None, pl.Int64),
                excerpt=pl.lit(None, pl.String),
            ))  # fmt: skip
            rejects = pl.read_parquet(warehouse.intermediate("rejects", name))
            quarantined.append(rejects.select(
                source_system=pl.lit(contract.source_system), source_key=pl.lit(None, pl.String),
                row_number=pl.lit(None, pl.Int64), rule="rule", detail="detail",
                source=pl.lit(name), file=pl.lit(file), line="line", excerpt="excerpt",
            ))  # fmt: skip
            per_source[name] = result.records.height
            defects.update({f"{name}.{k}": v for k, v in result.field_defects.items() if v})
        records = pl.concat(parts, how="vertical_relaxed")
        records.write_parquet(warehouse.intermediate("staged", ENTITY))
        quarantine = pl.concat(quarantined, how="diagonal_relaxed").select(QUARANTINE_COLUMNS)
        quarantine.write_parquet(warehouse.intermediate("quarantine", ENTITY))
        return dg.MaterializeResult(metadata={
            "dagster/row_count": records.height,
            "quarantined_rows": quarantine.height,
            "records_per_source": dg.MetadataValue.json(per_source),
            "nulled_field_values": dg.MetadataValue.json(defects),
        })  # fmt: skip

    @dg.asset(key=dg.AssetKey(["candidates", ENTITY]), deps=[staged.key],
              kinds={"polars", "parquet"},
              description="Candidate pairs from several blocking keys (self-joins, capped blocks).",
              **common)  # fmt: skip
    def candidate_pairs(warehouse: WarehouseResource) -> dg.MaterializeResult:
        records = pl.read_parquet(warehouse.intermediate("staged", ENTITY))
        blocked = candidates(records, match_settings)
        blocked.pairs.write_parquet(warehouse.intermediate("candidates", ENTITY))
        n = records.height
        all_pairs = n * (n - 1) // 2
        return dg.MaterializeResult(metadata={
            "dagster/row_count": blocked.pairs.height,
            "candidate_pairs": blocked.pairs.height,
            "reduction_ratio": 1.0 - blocked.pairs.height / all_pairs if all_pairs else 1.0,
            "capped_blocks": int(blocked.report["capped_blocks"].sum())
            if blocked.report.height else 0,
            "blocking_rules": dg.MetadataValue.md(_markdown(blocked.report)),
        })  # fmt: skip

    @dg.asset(key=dg.AssetKey(["scored", ENTITY]), deps=[candidate_pairs.key],
              kinds={"polars", "parquet"},
              description="Fellegi-Sunter comparison levels, match weight and probability per "
              "candidate pair; m/u estimated by EM.", **common)  # fmt: skip
    def scored(warehouse: WarehouseResource) -> dg.MaterializeResult:
        records = pl.read_parquet(warehouse.intermediate("staged", ENTITY))
        pairs = pl.read_parquet(warehouse.intermediate("candidates", ENTITY))
        started = time.perf_counter()
        result, models = score(records, pairs, match_settings)
        elapsed = time.perf_counter() - started
        result.write_parquet(warehouse.intermediate("scored", ENTITY))
        weights = pl.DataFrame([
            {"party": party, "comparison": name, "level": i, "weight_bits": round(float(w), 2)}
            for party, model in models.items()
            for name, values in model.weights().items()
            for i, w in enumerate(values)
        ])  # fmt: skip
        above = (
            int((result["probability"] >= match_settings.threshold).sum()) if result.height else 0
        )
        return dg.MaterializeResult(metadata={
            "dagster/row_count": result.height,
            "pairs_per_second": result.height / elapsed if elapsed else 0.0,
            "pairs_above_threshold": above,
            "match_weights": dg.MetadataValue.md(_markdown(weights)) if weights.height else "",
        })  # fmt: skip

    @dg.asset(key=dg.AssetKey(["clusters", ENTITY]), deps=[scored.key],
              kinds={"scipy", "parquet"},
              description="Connected components of the records joined by pairs at or above "
              "the match threshold.", **common)  # fmt: skip
    def clusters(warehouse: WarehouseResource) -> dg.MaterializeResult:
        records = pl.read_parquet(warehouse.intermediate("staged", ENTITY))
        result = pl.read_parquet(warehouse.intermediate("scored", ENTITY))
        labels = cluster(records.height, result, match_settings.threshold)
        pl.DataFrame({"cluster": labels}).write_parquet(warehouse.intermediate("clusters", ENTITY))
        sizes = pl.Series(np.bincount(labels)) if len(labels) else pl.Series([], dtype=pl.Int64)
        histogram = (
            sizes.value_counts()
            .sort(sizes.name)
            .rename({sizes.name: "cluster_size", "count": "clusters"})
        )
        return dg.MaterializeResult(metadata={
            "dagster/row_count": int(sizes.len()),
            "clusters": int(sizes.len()),
            "largest_cluster": int(sizes.max() or 0),
            "cluster_sizes": dg.MetadataValue.md(_markdown(histogram)),
        })  # fmt: skip

    @dg.asset(key=dg.AssetKey(["golden", ENTITY]), deps=[clusters.key],
              kinds={"duckdb", "parquet"},
              description=f"Golden {ENTITY} records with cross-reference and lineage, not yet "
              "published: its checks run on this version first.",
              **common)  # fmt: skip
    def golden(context: AssetExecutionContext, warehouse: WarehouseResource):
        records = pl.read_parquet(warehouse.intermediate("staged", ENTITY))
        result = pl.read_parquet(warehouse.intermediate("scored", ENTITY))
        labels = pl.read_parquet(warehouse.intermediate("clusters", ENTITY))["cluster"].to_numpy()
        n_clusters = int(labels.max()) + 1 if len(labels) else 0
        ids = golden_lib.mint_ids(n_clusters, ID_PREFIX[ENTITY], np.random.default_rng())
        table, xref, lineage = golden_lib.build(
            records, labels, result, threshold=match_settings.threshold,
            attributes=GOLDEN_ATTRIBUTES,
            survivorship=entity_settings.survivorship.to_matching(), golden_ids=ids,
        )  # fmt: skip
        now = datetime.now(UTC)
        table = table.with_columns(valid_from=pl.lit(now), version=pl.lit(1))
        xref = xref.select(pl.lit(ENTITY).alias("entity"), *xref.columns).with_columns(
            valid_from=pl.lit(now), valid_to=pl.lit(None, pl.Datetime("us", "UTC"))
        )
        lineage = lineage.select(pl.lit(ENTITY).alias("entity"), *lineage.columns)
        key_of = records.select("source_system", "source_key").with_row_index("row")
        pairs = result.join(
            key_of.rename(
                {"row": "left", "source_system": "left_system", "source_key": "left_key"}
            ),
            on="left",
        )
        pairs = pairs.join(
            key_of.rename(
                {"row": "right", "source_system": "right_system", "source_key": "right_key"}
            ),
            on="right",
        )
        pairs = pairs.drop("left", "right").with_columns(pl.col("rules").list.join(","))
        outputs = {"golden": table, "xref": xref, "lineage": lineage, "pairs": pairs}
        for name, frame in outputs.items():
            frame.write_parquet(warehouse.intermediate("golden", f"{name}_{ENTITY}"))
        return dg.MaterializeResult(metadata={
            "dagster/row_count": table.height,
            "golden_records": table.height,
            "xref_rows": xref.height,
            "lineage_rows": lineage.height,
            "source_records": records.height,
        })  # fmt: skip

    return [staged, candidate_pairs, scored, clusters, golden]


PUBLISHED = {  # intermediate name -> published table, per entity
    "golden": "golden.{entity}",
    "xref": "golden.xref",
    "lineage": "golden.lineage",
    "pairs": "match.pairs_{entity}",
}


def _publish_asset(project: Project) -> dg.AssetsDefinition:
    golden_contract = next(c for c in project.golden if c.entity == ENTITY)

    @dg.asset(
        key=dg.AssetKey(["publish"]),
        deps=[dg.AssetKey(["golden", ENTITY])],
        group_name="publish",
        owners=_owners(project, golden_contract.team),
        kinds={"duckdb", "parquet"},
        description="Publishes the checked golden version into mdm.duckdb atomically (a new "
        "file renamed over the old one) with Parquet exports; runs only when no blocking "
        "check failed.",
    )
    def publish(context: AssetExecutionContext, warehouse: WarehouseResource):
        tables = {
            table.format(entity=ENTITY): pl.read_parquet(
                warehouse.intermediate("golden", f"{name}_{ENTITY}")
            )
            for name, table in PUBLISHED.items()
        }
        # the version carries the ledger up to itself: earlier runs, and this run's quarantine
        run_id = context.run.run_id
        quarantine = pl.read_parquet(warehouse.intermediate("quarantine", ENTITY))
        tables["audit.quarantine"] = pl.concat([
            ledger.read(warehouse.root, "audit.quarantine"),
            quarantine.with_columns(run_id=pl.lit(run_id)).select(list(ledger.QUARANTINE_SCHEMA))
            .cast(ledger.QUARANTINE_SCHEMA),
        ])  # fmt: skip
        tables["audit.runs"] = ledger.read(warehouse.root, "audit.runs")
        tables["audit.check_results"] = ledger.read(warehouse.root, "audit.check_results")
        path = warehouse.publish(tables, run_id)
        return dg.MaterializeResult(metadata={
            "database": dg.MetadataValue.path(str(path)),
            **{f"rows {name}": frame.height for name, frame in tables.items()},
        })  # fmt: skip

    return publish


def _accounting_check(project: Project) -> dg.AssetChecksDefinition:
    sources = [c for c in project.sources if c.entity == ENTITY]

    golden_contract = next(c for c in project.golden if c.entity == ENTITY)
    team = golden_contract.team
    owners = _owners(project, team)

    @dg.asset_check(
        asset=dg.AssetKey(["golden", ENTITY]),
        name="every_record_accounted_for",
        blocking=True,
        description="Every record of every source (as landed, plus every line the reader "
        "rejected) is a row of the cross-reference or of the quarantine, exactly once. "
        f"Owners: {', '.join(owners)}",
        metadata={"owners": owners, "team": team, "contract": str(golden_contract.file)},
        op_tags={"mdm/team": team},
    )
    def accounting(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        xref = pl.read_parquet(warehouse.intermediate("golden", f"xref_{ENTITY}"))
        quarantine = pl.read_parquet(warehouse.intermediate("quarantine", ENTITY))
        rows, passed = [], True
        for contract in sources:
            name = contract.dataset
            landed = pl.scan_parquet(warehouse.intermediate("raw", name)).select(pl.len())
            rejected = pl.scan_parquet(warehouse.intermediate("rejects", name)).select(pl.len())
            arrived = landed.collect().item() + rejected.collect().item()
            resolved = xref.filter(pl.col("source_system") == contract.source_system).height
            held = quarantine.filter(pl.col("source") == name).height
            ok = arrived == resolved + held
            passed &= ok
            rows.append({"source": name, "records": arrived, "in_xref": resolved,
                         "quarantined": held, "balanced": ok})  # fmt: skip
        duplicated = int(xref.select("source_system", "source_key").is_duplicated().sum())
        passed &= duplicated == 0
        return dg.AssetCheckResult(
            passed=passed,
            metadata={
                "per_source": dg.MetadataValue.md(_markdown(pl.DataFrame(rows))),
                "duplicated_xref_keys": duplicated,
            },
        )

    return accounting


def build_pipeline_checks(project: Project) -> list[dg.AssetChecksDefinition]:
    """Checks the pipeline itself owes (not from contracts): the accounting invariant."""
    return [_accounting_check(project)]


def asset_teams(project: Project) -> dict[str, str]:
    """Asset key -> the team accountable for it (the same teams the asset owners come from)."""
    golden_team = next(c for c in project.golden if c.entity == ENTITY).team
    teams = {f"raw/{c.dataset}": c.team for c in project.sources}
    for stage in ("staged", "candidates", "scored", "clusters", "golden"):
        teams[f"{stage}/{ENTITY}"] = golden_team
    teams["publish"] = golden_team
    return teams


def build_assets(project: Project, settings: MatchSettings) -> list[dg.AssetsDefinition]:
    """Every asset of `project`: raw per source contract, the entity chain, then publish."""
    raw = [_raw_asset(project, c) for c in project.sources]
    return [*raw, *_entity_assets(project, settings), _publish_asset(project)]
