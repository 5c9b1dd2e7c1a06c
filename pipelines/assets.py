"""The asset graph, built from a project folder: one `raw/` asset per source contract, then
staged -> candidates -> scored -> clusters -> golden per entity, in the order customer ->
account -> contract (a child is staged from its parents' golden cross-reference).

Each asset reads its inputs' Parquet files from the warehouse and writes its own; the logic is
in `matching`, the assets only move data and report what a data engineer wants to see.
"""

import json
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import dagster as dg
import numpy as np
import polars as pl
import pyarrow.parquet as pq

from matching import golden as golden_lib
from matching import hierarchy
from matching.identity import KEYS, carry_versions
from matching.mapping import CANONICAL_FIELDS
from matching.resolve import (
    Scoring,
    blocking_columns,
    candidates,
    cluster,
    labelled_settings,
    scoring_columns,
)
from matching.standardize import Staged, standardize
from matching.survive import Survivorship

from . import drift, histograms, history, report, usage
from . import pairs as pairs_lib
from .checks import import_in_background
from .contracts import Contract, Project, SourceContract
from .erasure import suppressed
from .executor import HEAVY
from .ingest import land
from .progress import Reporter
from .settings import MatchSettings
from .warehouse import WarehouseResource

ENTITIES = ("customer", "account", "contract")  # resolution order: parents first
PARENTS = {"customer": (), "account": ("customer",), "contract": ("account", "customer")}
ID_PREFIX = {"customer": "CUS", "account": "ACC", "contract": "CON"}
_NOT_SURVIVED = ("source_updated_at", "region", "customer_ref", "account_ref")
# golden attributes: the parents' golden IDs first (a contract's customer comes from its account)
GOLDEN_ATTRIBUTES = {
    "customer": [f for f in CANONICAL_FIELDS["customer"] if f not in _NOT_SURVIVED],
    "account": ["customer_golden_id"]
    + [f for f in CANONICAL_FIELDS["account"] if f not in _NOT_SURVIVED],
    "contract": ["account_golden_id"]
    + [f for f in CANONICAL_FIELDS["contract"] if f not in _NOT_SURVIVED],
}
# a child belongs to the parent most of its records name; a trusted system breaks ties
PARENT_RULES = ("frequency", "source_trust", "recency")
# audit.quarantine: a source record no golden record holds, and the rule it broke. `line` is the
# file line of a record the reader rejected; `row_number` the record's ordinal otherwise.
QUARANTINE_COLUMNS = ["source", "file", "source_system", "source_key", "line", "row_number",
                      "rule", "detail", "excerpt"]  # fmt: skip


def project_entities(project: Project) -> tuple[str, ...]:
    """The entities `project` resolves, in resolution order; ValueError when an entity lacks
    its golden contract or a parent entity."""
    present = {c.entity for c in project.sources}
    golden = {c.entity for c in project.golden}
    for contract in project.golden:
        if contract.entity not in present:
            raise ValueError(f"{contract.file}: a golden {contract.entity} contract, but no source "
                             f"contract maps to {contract.entity}")  # fmt: skip
    for entity in (e for e in ENTITIES if e in present):
        if entity not in golden:
            raise ValueError(
                f"sources map to {entity} but no golden contract (mdm.role: golden, "
                f"physicalName golden.{entity}) is in {project.folder}/contracts"
            )
        missing = [p for p in PARENTS[entity] if p not in present]
        if missing:
            raise ValueError(
                f"sources map to {entity} but none to its parent {missing[0]}: "
                f"each {entity} record references a {missing[0]} record of its system"
            )
    # a reference is a key of the same system: that system must hold the parent records
    systems = {(c.entity, c.source_system) for c in project.sources}
    for contract in project.sources:
        for reference, parent in hierarchy.PARENT_OF.items():
            mapped = reference in contract.mapping.fields
            if (
                mapped
                and parent in PARENTS[contract.entity]
                and ((parent, contract.source_system) not in systems)
            ):
                raise ValueError(
                    f"{contract.file}: {reference} names {parent} records of system "
                    f"'{contract.source_system}', but no source contract maps {parent} records "
                    f"of that system"
                )
    return tuple(e for e in ENTITIES if e in present)


def golden_contract(project: Project, entity: str):
    return next(c for c in project.golden if c.entity == entity)


def owners(project: Project, team: str) -> list[str]:
    return list(project.ownership.team(team).owners)


# classifications, most sensitive first (any other after them, by name)
_CLASSIFICATIONS = ("restricted", "confidential", "internal", "public")
_SLA_FIELDS = ("property", "value", "unit", "element")


def classification_summary(contract: Contract) -> str:
    """How many of the contract's columns each classification covers, and how many are tagged
    pii: ``restricted: 7, confidential: 2, pii: 9`` (``none`` when nothing is classified)."""
    counts = Counter(p.classification for p in contract.properties if p.classification)
    rank = {c: i for i, c in enumerate(_CLASSIFICATIONS)}
    parts = [f"{c}: {counts[c]}" for c in sorted(counts, key=lambda c: (rank.get(c, 9), c))]
    pii = sum(p.pii for p in contract.properties)
    return ", ".join([*parts, f"pii: {pii}"]) if parts or pii else "none"


def contract_metadata(project: Project, contract: Contract) -> dict[str, Any]:
    """The definition metadata of an asset built from `contract`, shown on the asset's page:
    the contract (id, version, file in the project), its team, what its columns are classified
    as and its ODCS slaProperties (retention, frequency, latency, ...)."""
    try:
        file = contract.file.relative_to(project.folder).as_posix()
    except ValueError:  # a contract outside the project folder: its path as loaded
        file = str(contract.file)
    sla = [{k: v if isinstance(v, (str, int, float, bool, list, dict)) else str(v)
            for k in _SLA_FIELDS if (v := item.get(k)) is not None}
           for item in contract.sla]  # fmt: skip
    documented = text_rules(contract)
    return {
        "contract": contract.id,
        "contract_version": contract.version,
        "contract_file": dg.MetadataValue.path(file),
        "team": contract.team,
        "classification": classification_summary(contract),
        "sla": dg.MetadataValue.json(sla),
        # `type: text` rules are documentation: never evaluated, shown here
        **({"documented_rules": dg.MetadataValue.md(documented)} if documented else {}),
    }


def freshness_policy(contract) -> dg.FreshnessPolicy | None:
    """The golden contract's SLA as Dagster's freshness policy: late (warn) once a `frequency`
    has passed since the asset was last materialized, failing once `latency` more has."""
    if contract.frequency is None:
        return None
    if contract.latency is None:
        return dg.FreshnessPolicy.time_window(fail_window=contract.frequency)
    return dg.FreshnessPolicy.time_window(
        fail_window=contract.frequency + contract.latency, warn_window=contract.frequency
    )


def text_rules(contract: Contract) -> str:
    """The contract's `type: text` quality rules as a markdown list (where: what)."""
    rules = [("table", q) for q in contract.quality]
    rules += [(p.name, q) for p in contract.properties for q in p.quality]
    lines = [f"- **{where}**: {q.get('description') or q.get('name') or ''}".rstrip()
             for where, q in rules if q.get("type") == "text"]  # fmt: skip
    return "\n".join(lines)


def markdown(frame: pl.DataFrame) -> str:
    head = "| " + " | ".join(frame.columns) + " |"
    rule = "|" + "---|" * len(frame.columns)
    rows = ["| " + " | ".join(str(v) for v in row) + " |" for row in frame.iter_rows()]
    return "\n".join([head, rule, *rows])


def _raw_asset(project: Project, contract: SourceContract) -> dg.AssetsDefinition:
    name = contract.dataset
    description = f"{contract.name}: the extract as landed, with _ingested_at and _row_hash."
    if contract.retention is not None:
        description += f" Retention {contract.retention}: older rows are dropped, and counted."

    @dg.asset(
        key=dg.AssetKey(["raw", name]),
        group_name=contract.entity,
        owners=owners(project, contract.team),
        kinds={"polars", "parquet"},
        description=description,
        metadata=contract_metadata(project, contract),
    )
    def raw(warehouse: WarehouseResource) -> dg.MaterializeResult:
        import_in_background()  # the extract's contract checks come next
        now = datetime.now(UTC)
        landed = land(contract, now)  # a retention period counts back from now
        # records erased by `mdm erase` that the source still holds: never landed again
        erased = suppressed(warehouse.root, contract.source_system, landed.records[contract.key])
        records = landed.records.filter(~erased)
        columns = [c for c in records.columns if c != "_record"]
        frame = records.with_columns(
            _ingested_at=pl.lit(now),
            _row_hash=pl.concat_str(pl.col(columns).fill_null(""), separator="\x1f").hash(),
        )
        warehouse.write(frame, "raw", name)
        warehouse.write(landed.rejects, "rejects", name)
        return dg.MaterializeResult(metadata={
            "dagster/row_count": frame.height,
            "rejected_records": landed.rejects.height,
            "source_file": dg.MetadataValue.path(str(contract.server.path)),
            "columns": len(columns),
            # rows in = row_count + rejected_records + rows_past_retention
            **(landed.expired.metadata() if landed.expired else {}),
            # rows in = row_count + rejected_records + rows_past_retention + rows_suppressed
            "rows_suppressed": int(erased.sum()),
        })  # fmt: skip

    return raw


def _quarantine_rows(frame: pl.DataFrame, contract: SourceContract) -> pl.DataFrame:
    """Row defects of one source in the audit.quarantine layout."""
    return frame.with_columns(
        source=pl.lit(contract.dataset), file=pl.lit(contract.server.declared_path),
        line=pl.lit(None, pl.Int64), excerpt=pl.lit(None, pl.String),
        **({} if "row_number" in frame.columns else {"row_number": pl.lit(None, pl.Int64)}),
    ).select(QUARANTINE_COLUMNS)  # fmt: skip


def _rejected_rows(contract: SourceContract, warehouse: WarehouseResource) -> pl.DataFrame:
    rejects = pl.read_parquet(warehouse.intermediate("rejects", contract.dataset))
    return rejects.select(
        source=pl.lit(contract.dataset), file=pl.lit(contract.server.declared_path),
        source_system=pl.lit(contract.source_system), source_key=pl.lit(None, pl.String),
        line="line", row_number=pl.lit(None, pl.Int64), rule="rule", detail="detail",
        excerpt="excerpt",
    )  # fmt: skip


def _parents(entity: str, warehouse: WarehouseResource) -> dict[str, hierarchy.Parent]:
    """Each parent entity's resolved records (this run's xref) and quarantined ones."""
    out = {}
    for parent in PARENTS[entity]:
        xref = pl.read_parquet(warehouse.intermediate("golden", f"xref_{parent}"))
        held = pl.read_parquet(warehouse.intermediate("quarantine", parent))
        out[parent] = hierarchy.Parent(
            parent,
            xref.select("source_system", "source_key", "golden_id"),
            held.select("source_system", "source_key", "rule"),
        )
    return out


def _in_hierarchy(entity: str, records: pl.DataFrame, warehouse: WarehouseResource):
    """What a child learns from its resolved parents: an account its label (its name without
    its holder's), a contract its customer (its account's). Returns records and metadata."""
    if entity == "account":
        customers = pl.read_parquet(warehouse.intermediate("staged", "customer"),
                                    columns=hierarchy.HOLDER_COLUMNS)  # fmt: skip
        return hierarchy.with_labels(records, customers), {}
    if entity == "contract":
        accounts = pl.read_parquet(warehouse.intermediate("golden", "golden_account"))
        records, disagree = hierarchy.through_account(records, accounts)
        return records, {"customer_ref_disagrees_with_account": disagree}
    return records, {}


def broken_references(quarantine: pl.DataFrame) -> pl.DataFrame:
    """Per source and rule: how many records a broken reference held back, and a few keys."""
    broken = quarantine.filter(
        pl.col("rule").is_in(["orphan_reference", "parent_quarantined", "reference_missing"])
    )
    return (
        broken.group_by("source", "rule")
        .agg(records=pl.len(), sample_keys=pl.col("source_key").sort().head(5).str.join(", "))
        .sort("source", "rule")
    )


def _staged_asset(project: Project, entity: str, common: dict) -> dg.AssetsDefinition:
    sources = [c for c in project.sources if c.entity == entity]
    deps = [dg.AssetKey(["raw", c.dataset]) for c in sources]
    deps += [dg.AssetKey(["golden", p]) for p in PARENTS[entity]]
    references = ", resolved to their parents' golden IDs" if PARENTS[entity] else ""
    contract = next((c for c in project.staged if c.entity == entity), None)
    metadata = contract_metadata(project, contract) if contract is not None else {}

    @dg.asset(key=dg.AssetKey(["staged", entity]), deps=deps, kinds={"polars", "parquet"},
              description=f"Source {entity} records mapped to the canonical model, "
              f"standardised{references}.", metadata=metadata, **common)  # fmt: skip
    def staged(context: dg.AssetExecutionContext,
               warehouse: WarehouseResource) -> dg.MaterializeResult:  # fmt: skip
        parents = _parents(entity, warehouse)
        parts, quarantined, per_source, defects = [], [], {}, {}
        rows = sum(pq.ParquetFile(warehouse.intermediate("raw", c.dataset)).metadata.num_rows
                   for c in sources)  # fmt: skip
        report, done = Reporter(context.log.info, f"staging {entity} records", rows, "rows"), 0

        def stage(contract: SourceContract) -> tuple[int, Staged, hierarchy.Linked | None]:
            raw = pl.read_parquet(warehouse.intermediate("raw", contract.dataset))
            result = standardize(raw.drop("_ingested_at", "_row_hash"), contract.mapping)
            linked = hierarchy.link(result.records, entity, parents) if parents else None
            return raw.height, result, linked

        # two sources at once: standardising one keeps ~1.4 of the two cores busy (its Python
        # parts, e-mail rules and transliteration, wait for each other's lock, not for Polars)
        with ThreadPoolExecutor(2) as pool:
            for contract, (height, result, linked) in zip(sources, pool.map(stage, sources),
                                                          strict=True):  # fmt: skip
                records = result.records if linked is None else linked.records
                quarantined += [_quarantine_rows(result.quarantine, contract),
                                _rejected_rows(contract, warehouse)]  # fmt: skip
                if linked is not None:
                    quarantined.append(_quarantine_rows(linked.quarantine, contract))
                parts.append(records)
                per_source[contract.dataset] = records.height
                done += height
                report(done, contract.dataset)
                defects.update({f"{contract.dataset}.{k}": v
                                for k, v in result.field_defects.items() if v})  # fmt: skip
                del result, linked
        records, learned = _in_hierarchy(entity, pl.concat(parts, how="vertical_relaxed"),
                                         warehouse)  # fmt: skip
        warehouse.write(records, "staged", entity)
        quarantine = pl.concat(quarantined, how="vertical_relaxed")
        warehouse.write(quarantine, "quarantine", entity)
        broken = broken_references(quarantine)
        return dg.MaterializeResult(metadata={
            "dagster/row_count": records.height,
            "quarantined_rows": quarantine.height,
            "records_per_source": dg.MetadataValue.json(per_source),
            "nulled_field_values": dg.MetadataValue.json(defects),
            **({"broken_references": int(broken["records"].sum()),
                "broken_references_by_source": dg.MetadataValue.md(markdown(broken))}
               if parents else {}),
            **learned,
        })  # fmt: skip

    return staged


def _labelled(warehouse: WarehouseResource, entity: str) -> pl.DataFrame:
    """The scored pairs a steward labelled (what `labelled_settings` reads), or none."""
    scored = pl.scan_parquet(warehouse.intermediate("scored", entity))
    if "match" not in scored.collect_schema().names():
        return pl.DataFrame()
    return scored.filter(pl.col("match").is_not_null()).select("match", "weight").collect()


def _golden_table(entity, table: pl.DataFrame, warehouse: WarehouseResource) -> pl.DataFrame:
    """A contract's customer is its golden account's: one hierarchy, never two answers."""
    if entity != "contract":
        return table
    accounts = pl.read_parquet(warehouse.intermediate("golden", "golden_account")).select(
        pl.col("golden_id").alias("account_golden_id"), "customer_golden_id"
    )
    table = table.join(accounts, on="account_golden_id", how="left")
    first = ["golden_id", "account_golden_id", "customer_golden_id"]
    return table.select(*first, *[c for c in table.columns if c not in first])


def _survivorship(entity: str, settings: MatchSettings) -> Survivorship:
    chosen = getattr(settings, entity).survivorship.to_matching()
    rules = {f"{p}_golden_id": PARENT_RULES for p in PARENTS[entity]} | dict(chosen.rules)
    return Survivorship(chosen.source_trust, rules)


def _entity_assets(
    project: Project, settings: MatchSettings, entity: str
) -> list[dg.AssetsDefinition]:
    team = golden_contract(project, entity).team
    match_settings = getattr(settings, entity).to_matching()
    # every step of an entity's chain holds its records or pairs in memory: one at a time
    common = {"group_name": entity, "owners": owners(project, team), "op_tags": HEAVY}
    staged = _staged_asset(project, entity, common)
    # the rest of the chain is built to the entity's golden contract, and shows it
    common = {**common, "metadata": contract_metadata(project, golden_contract(project, entity))}

    @dg.asset(key=dg.AssetKey(["candidates", entity]), deps=[staged.key],
              kinds={"polars", "parquet"},
              description="Candidate pairs from several blocking keys (self-joins, capped blocks).",
              **common)  # fmt: skip
    def candidate_pairs(warehouse: WarehouseResource) -> dg.MaterializeResult:
        records = pl.read_parquet(warehouse.intermediate("staged", entity),
                                  columns=blocking_columns(entity))  # fmt: skip
        blocked = candidates(records, match_settings, entity)
        warehouse.write(blocked.pairs, "candidates", entity)
        n = records.height
        all_pairs = n * (n - 1) // 2
        return dg.MaterializeResult(metadata={
            "dagster/row_count": blocked.pairs.height,
            "candidate_pairs": blocked.pairs.height,
            "reduction_ratio": 1.0 - blocked.pairs.height / all_pairs if all_pairs else 1.0,
            "capped_blocks": int(blocked.report["capped_blocks"].sum())
            if blocked.report.height else 0,
            "blocking_rules": dg.MetadataValue.md(markdown(blocked.report)),
            **usage.step_cost(settings.cost),
        })  # fmt: skip

    @dg.asset(key=dg.AssetKey(["scored", entity]), deps=[candidate_pairs.key],
              kinds={"polars", "parquet"},
              description="Fellegi-Sunter comparison levels, match weight and probability per "
              "candidate pair; m/u estimated by EM, and per context (a household) its own "
              "match share and u.", **common)  # fmt: skip
    def scored(context: dg.AssetExecutionContext,
               warehouse: WarehouseResource) -> dg.MaterializeResult:  # fmt: skip
        records = pl.read_parquet(warehouse.intermediate("staged", entity),
                                  columns=scoring_columns(entity))  # fmt: skip
        pairs = pl.read_parquet(warehouse.intermediate("candidates", entity))
        labels, unknown = pairs_lib.labelled_pairs(
            project, getattr(settings, entity).labels, records
        )
        started = time.perf_counter()
        report = Reporter(context.log.info, f"scoring {entity} pairs", pairs.height, "pairs")
        scoring = Scoring(records, pairs, match_settings, entity, labels, progress=report)
        # chunk by chunk to the file: the scored frame is never whole in memory
        path = warehouse.write_chunks(scoring, scoring.schema, "scored", entity)
        elapsed = time.perf_counter() - started
        models = scoring.models
        scored_pairs = pq.ParquetFile(path).metadata.num_rows
        weights = pl.DataFrame([
            {"kind": kind, "comparison": name, "level": i, "weight_bits": round(float(w), 2)}
            for kind, model in models.items()
            for name, values in model.weights().items()
            for i, w in enumerate(values)
        ])  # fmt: skip
        contexts = pl.DataFrame([
            {"kind": kind, "context": s.context.name, "pairs": s.pairs,
             "match_share": round(s.share, 4)}
            for kind, model in models.items() for s in model.settings
        ])  # fmt: skip
        distribution = histograms.match_weights(
            pl.scan_parquet(path), match_settings.threshold, match_settings.review_threshold
        )
        above = int(distribution["merged"].sum())
        return dg.MaterializeResult(metadata={
            "dagster/row_count": scored_pairs,
            "pairs_per_second": scored_pairs / elapsed if elapsed else 0.0,
            "pairs_above_threshold": above,
            "labelled_pairs": labels.height if labels is not None else 0,
            "labels_naming_unknown_records": unknown,
            "match_weights": dg.MetadataValue.md(markdown(weights)) if weights.height else "",
            # pairs per 5-bit bin of match weight, by the decision their probability gets
            "match_weight_distribution": dg.MetadataValue.md(markdown(distribution)),
            **usage.step_cost(settings.cost),
            "contexts": dg.MetadataValue.md(markdown(contexts)) if contexts.height else "",
        })  # fmt: skip

    @dg.asset(key=dg.AssetKey(["clusters", entity]), deps=[scored.key],
              kinds={"scipy", "parquet"},
              description="Connected components of the records joined by pairs at or above "
              "the match threshold, rebuilt where a chain would join two records whose own "
              "pair scored below the conflict floor.", **common)  # fmt: skip
    def clusters(warehouse: WarehouseResource) -> dg.MaterializeResult:
        staged = pq.ParquetFile(warehouse.intermediate("staged", entity)).metadata.num_rows
        chosen = labelled_settings(_labelled(warehouse, entity), match_settings)
        # a scan: only the pairs that join or hold apart are read, not all pairs' bits
        guarded = cluster(staged, pl.scan_parquet(warehouse.intermediate("scored", entity)),
                          chosen.threshold, chosen.conflict, chosen.conflict_bits)  # fmt: skip
        labels = guarded.labels
        warehouse.write(pl.DataFrame({"cluster": labels}), "clusters", entity)
        sizes = pl.Series(np.bincount(labels)) if len(labels) else pl.Series([], dtype=pl.Int64)
        return dg.MaterializeResult(metadata={
            "dagster/row_count": int(sizes.len()),
            "clusters": int(sizes.len()),
            "largest_cluster": int(sizes.max() or 0),
            "conflicted_components_split": guarded.conflicted,
            "edges_refused_by_conflicts": guarded.skipped_edges,
            "cluster_sizes": dg.MetadataValue.md(markdown(histograms.cluster_sizes(sizes))),
            "match_threshold": chosen.threshold,  # the labels' choice, where they made one
        })  # fmt: skip

    @dg.asset(key=dg.AssetKey(["golden", entity]), deps=[clusters.key],
              kinds={"duckdb", "parquet"},
              freshness_policy=freshness_policy(golden_contract(project, entity)),
              description=f"Golden {entity} records with cross-reference and lineage, not yet "
              "published: its checks run on this version first.",
              **common)  # fmt: skip
    def golden(context: dg.AssetExecutionContext,
               warehouse: WarehouseResource) -> dg.MaterializeResult:  # fmt: skip
        # what survivorship and the keys need: not the match columns
        kept = ["source_system", "source_key", "source_updated_at", *GOLDEN_ATTRIBUTES[entity]]
        records = pl.read_parquet(warehouse.intermediate("staged", entity), columns=kept)
        scored_file = warehouse.intermediate("scored", entity)
        labels = pl.read_parquet(warehouse.intermediate("clusters", entity))["cluster"].to_numpy()
        # each cluster inherits the published version's ID for most of its records
        before = history.prior(warehouse.published_version(), entity)
        stable = history.assign(
            ID_PREFIX[entity],
            records.select(KEYS),
            labels,
            before,
            history.run_started(context),
            warehouse.next_version_number(),
        )
        chosen = labelled_settings(_labelled(warehouse, entity), match_settings)
        # only the pairs holding clusters together (confidence, xref): the rest are streamed
        result = pl.scan_parquet(scored_file).filter(
            pl.col("probability") >= chosen.threshold
        ).select("left", "right", "probability").collect()  # fmt: skip
        table, xref, lineage = golden_lib.build(
            records, labels, result, threshold=chosen.threshold,
            attributes=GOLDEN_ATTRIBUTES[entity], survivorship=_survivorship(entity, settings),
            golden_ids=stable.identity.golden_ids,
        )  # fmt: skip
        del result
        table = _golden_table(entity, table, warehouse)
        # a record unchanged since the published version keeps its valid_from and version
        table = carry_versions(table, before.golden, stable.at, stable.version)
        xref, identity_counts = history.write(warehouse, entity, stable, before, xref,
                                              context.run.run_id)  # fmt: skip
        warehouse.write(table, "golden", f"golden_{entity}", exported=True)
        # what this run produced, for the next run's drift checks (`pipelines.drift`)
        events = {k.removeprefix("id_events_"): v for k, v in identity_counts.items()
                  if k.startswith("id_events_")}  # fmt: skip
        drift.profile_path(warehouse, entity).write_text(json.dumps(drift.profile(
            records, table, scored_file, GOLDEN_ATTRIBUTES[entity], events)))  # fmt: skip
        # written and let go before the pairs are named: their peaks do not add up
        lineage_file = warehouse.sink(lineage.select(pl.lit(entity).alias("entity"), pl.all()),
                                      "golden", f"lineage_{entity}")  # fmt: skip
        counts = {"golden_records": table.height, "xref_rows": xref.height,
                  "lineage_rows": pq.ParquetFile(lineage_file).metadata.num_rows,
                  "source_records": records.height}  # fmt: skip
        several = int((table["source_count"] > 1).sum())  # golden records held by 2+ records
        del table, lineage
        keys = records.select("source_system", "source_key")
        del records
        warehouse.sink(pairs_lib.named_pairs(keys, pl.scan_parquet(scored_file)),
                       "golden", f"pairs_{entity}", exported=True)  # fmt: skip
        band = pl.scan_parquet(scored_file).filter(
            pl.col("probability").is_between(chosen.review_threshold, chosen.threshold,
                                             closed="left")
        )  # fmt: skip
        review = pairs_lib.review_queue(
            entity, pairs_lib.named_pairs(keys, band).collect(), xref, chosen
        )
        warehouse.write(review, "golden", f"review_{entity}")
        merged = 1 - counts["golden_records"] / max(counts["source_records"], 1)
        return dg.MaterializeResult(metadata={
            "dagster/row_count": counts["golden_records"], **counts,
            "review_queue_pairs": review.height, **identity_counts,
            # numbers the UI plots over materializations: the share of records merged into
            # another record's golden record, and golden records held by several records
            "match_rate": round(merged, 6),
            "duplicate_rate": round(several / max(counts["golden_records"], 1), 6),
            # written by `mdm run` once the run is in the ledger
            "run_report": dg.MetadataValue.path(str(report.path_for(warehouse.root,
                                                                    context.run.run_id))),
            **usage.step_cost(settings.cost),
        })  # fmt: skip

    return [staged, candidate_pairs, scored, clusters, golden]


def asset_teams(project: Project) -> dict[str, str]:
    """Asset key -> the team accountable for it (the same teams the asset owners come from)."""
    teams = {f"raw/{c.dataset}": c.team for c in project.sources}
    entities = project_entities(project)
    for entity in entities:
        for stage in ("staged", "candidates", "scored", "clusters", "golden"):
            teams[f"{stage}/{entity}"] = golden_contract(project, entity).team
    if entities:
        team = golden_contract(project, entities[0]).team
        teams["version"] = teams["analytics"] = teams["publish"] = team
    return teams


def build_assets(project: Project, settings: MatchSettings) -> list[dg.AssetsDefinition]:
    """The assets of `project` up to golden: raw per source contract, then each entity's chain
    (`pipelines.publish` adds the publish asset)."""
    raw = [_raw_asset(project, c) for c in project.sources]
    chains = [a for e in project_entities(project) for a in _entity_assets(project, settings, e)]
    return [*raw, *chains]
