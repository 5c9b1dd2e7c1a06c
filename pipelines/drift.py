"""Drift between runs: did today's golden data behave like the published version's?

Each golden step writes a profile of what it produced (`profile`): golden and source record
counts, the share of records merged away (match rate), the largest cluster, the ID events, the
null rate of every golden attribute and of every attribute per source system, and a histogram
of the scored pairs' match probabilities. The version keeps its profiles (version.json), and
the next run's drift checks (`drift_checks`, WARN, never blocking) compare against the profiles
of the version it builds on. Thresholds, per entity in its golden contract
(``customProperties: mdm.drift``), default to `LIMITS`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import dagster as dg
import polars as pl

from . import versions
from .contracts import GoldenContract
from .warehouse import WarehouseResource

BINS = 10  # match-probability histogram: tenths
# measure -> the largest change that is not drift
LIMITS = {
    "golden_count": 0.05,  # relative change of the golden record count
    "match_rate": 0.02,  # absolute change of the share of records merged into another's cluster
    "largest_cluster": 1.5,  # the largest cluster grew by more than this factor
    "id_churn": 0.01,  # merged, split or retired IDs over the previous version's golden count
    "null_rate": 0.05,  # absolute change of an attribute's null rate (golden, or per source)
    "match_probabilities": 0.2,  # population stability index of the probability histogram
}
DESCRIPTIONS = {
    "golden_count": "the golden record count changed by more than its limit (relative)",
    "match_rate": "the share of records merged into another record's cluster moved",
    "largest_cluster": "a new largest cluster, larger than the previous one by the limit's factor",
    "id_churn": "more golden IDs merged, split or retired than the limit allows",
    "null_rate": "an attribute's null rate moved (golden, or in one source)",
    "match_probabilities": "the scored pairs' match probabilities shifted (PSI over tenths)",
}


def profile(
    records: pl.DataFrame,
    golden: pl.DataFrame,
    scored: Path,
    attributes: Sequence[str],
    events: Mapping[str, int],
) -> dict:
    """What one golden step produced, for the next run to compare with."""
    present = [a for a in attributes if a in golden.columns]
    per_source = records.group_by("source_system").agg(
        pl.len().alias("_rows"), *[pl.col(a).null_count().alias(a) for a in present]
    )  # fmt: skip
    null_rate = {a: golden[a].null_count() / max(golden.height, 1) for a in present}
    for row in per_source.iter_rows(named=True):
        null_rate |= {f"{row['source_system']}.{a}": row[a] / max(row["_rows"], 1)
                      for a in present}  # fmt: skip
    bins = (
        pl.scan_parquet(scored)
        .select((pl.col("probability") * BINS).floor().clip(0, BINS - 1).cast(pl.Int32).alias("b"))
        .group_by("b")
        .len()
        .collect()  # fmt: skip
    )
    histogram = [0] * BINS
    for b, n in bins.iter_rows():
        histogram[b] = n
    return {
        "golden_records": golden.height,
        "source_records": records.height,
        "match_rate": 1 - golden.height / max(records.height, 1),
        "largest_cluster": int(golden["source_count"].max() or 0),
        "id_events": dict(events),
        "null_rate": {k: round(v, 6) for k, v in sorted(null_rate.items())},
        "probabilities": histogram,
    }


def psi(before: Sequence[int], now: Sequence[int]) -> float:
    """Population stability index of two histograms (a tiny floor for empty bins)."""
    a, b = max(sum(before), 1), max(sum(now), 1)
    total = 0.0
    for x, y in zip(before, now, strict=True):
        p, q = max(x / a, 1e-4), max(y / b, 1e-4)
        total += (q - p) * math.log(q / p)
    return round(total, 6)


def compare(before: dict, now: dict, limits: Mapping[str, float]) -> dict[str, tuple[bool, dict]]:
    """measure -> (within its limit, metadata with the previous and current values)."""
    out: dict[str, tuple[bool, dict]] = {}
    count = abs(now["golden_records"] - before["golden_records"]) / max(before["golden_records"], 1)
    out["golden_count"] = (count <= limits["golden_count"], {
        "previous": before["golden_records"], "current": now["golden_records"],
        "change": round(count, 6)})  # fmt: skip
    rate = abs(now["match_rate"] - before["match_rate"])
    out["match_rate"] = (rate <= limits["match_rate"], {
        "previous": round(before["match_rate"], 6), "current": round(now["match_rate"], 6),
        "change": round(rate, 6)})  # fmt: skip
    largest = now["largest_cluster"] <= before["largest_cluster"] * limits["largest_cluster"]
    out["largest_cluster"] = (largest, {"previous": before["largest_cluster"],
                                        "current": now["largest_cluster"]})  # fmt: skip
    moved = sum(v for k, v in now["id_events"].items() if k in ("merged", "split", "retired"))
    churn = moved / max(before["golden_records"], 1)
    out["id_churn"] = (churn <= limits["id_churn"], {
        "previous_golden": before["golden_records"], "ids_moved": moved,
        "current": round(churn, 6)})  # fmt: skip
    drifted = {
        name: {"previous": before["null_rate"][name], "current": rate}
        for name, rate in now["null_rate"].items()
        if name in before["null_rate"]
        and abs(rate - before["null_rate"][name]) > limits["null_rate"]
    }  # fmt: skip
    out["null_rate"] = (not drifted, {"attributes": sorted(drifted), "values": drifted})
    shift = psi(before["probabilities"], now["probabilities"])
    out["match_probabilities"] = (shift <= limits["match_probabilities"], {
        "psi": shift, "previous": before["probabilities"],
        "current": now["probabilities"]})  # fmt: skip
    return out


def profile_path(warehouse: WarehouseResource, entity: str) -> Path:
    return warehouse.intermediate("golden", f"profile_{entity}").with_suffix(".json")


def _previous(warehouse: WarehouseResource, entity: str) -> dict | None:
    """The profile of the version this run builds on (its stamp's base), if it kept one."""
    stamp = warehouse.intermediate("golden", f"stamp_{entity}").with_suffix(".json")
    base = json.loads(stamp.read_text())["base"]
    if base is None:
        return None
    info = versions.Version(base, versions.folder(warehouse.root, base)).info()
    return info.get("profiles", {}).get(entity)


def drift_checks(contract: GoldenContract, owners: list[str]) -> dg.AssetChecksDefinition:
    asset = dg.AssetKey(["golden", contract.entity])
    limits = {**LIMITS, **contract.drift}
    specs = [
        dg.AssetCheckSpec(
            f"drift_{name}", asset=asset, blocking=False,
            description=f"{DESCRIPTIONS[name]} (limit {limits[name]}; WARN). Owners: "
            + ", ".join(owners),
            metadata={"limit": limits[name], "team": contract.team, "owners": owners,
                      "contract": str(contract.file)},
        )
        for name in LIMITS
    ]  # fmt: skip

    @dg.multi_asset_check(specs=specs, name=f"drift_{contract.entity}",
                          op_tags={"mdm/team": contract.team})  # fmt: skip
    def drift(warehouse: WarehouseResource):
        now = json.loads(profile_path(warehouse, contract.entity).read_text())
        before = _previous(warehouse, contract.entity)
        results = compare(before, now, limits) if before else {}
        for name in LIMITS:
            passed, metadata = results.get(name, (True, {"note": "no earlier version"}))
            yield dg.AssetCheckResult(
                asset_key=asset, check_name=f"drift_{name}", passed=passed,
                severity=dg.AssetCheckSeverity.WARN,
                metadata={"limit": limits[name], **{k: dg.MetadataValue.json(v)
                          if isinstance(v, (dict, list)) else v for k, v in metadata.items()}},
            )  # fmt: skip

    return drift
