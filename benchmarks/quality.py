"""Match quality side by side: the pipeline (`mdm run`) and Splink 5 on the same records.

Each dataset runs the pipeline as its own process from an empty warehouse, then Splink (DuckDB
backend) in this process, and scores both with `matching.evaluate` against the same truth:

- ``febrl1``, ``febrl2``, ``febrl3``: FEBRL datasets 1-3, each deduplicated (Splink
  configured as its FEBRL3 tutorial does, plus address and suburb; it must reach F1 >= 0.998 on
  dataset3 for the configuration to count as fair);
- ``febrl4``: FEBRL dataset4a and 4b linked (Splink ``link_only``);
- ``sample`` (the committed sample, the repository's project) or ``generated:DIR`` (a folder
  `mdm generate` wrote), customers. Splink gets the *same canonical
  fields* the pipeline matches on (the pipeline's staged, standardised customer records) and
  the *same blocking keys*, persons and organisations together as Splink cannot split them.

Usage (prints a markdown table; commit it to benchmarks/RESULTS.md with the date)::

    .venv/bin/python benchmarks/quality.py febrl1 febrl2 febrl3 febrl4 sample generated:/tmp/p10
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

from matching.evaluate import Evaluation, evaluate

ROOT = Path(__file__).resolve().parent.parent
MDM = [sys.executable, "-m", "pipelines.cli"]


def _pipeline(project: Path, truth: Path) -> tuple[Evaluation, float, pl.DataFrame]:
    """Run `mdm run` on `project` into a fresh warehouse; its customer evaluation, the wall
    seconds of the process, and the staged customer records (for Splink)."""
    import duckdb

    warehouse = Path(tempfile.mkdtemp(prefix="quality_"))
    started = time.perf_counter()
    subprocess.run([*MDM, "run", "--project", str(project), "--warehouse", str(warehouse)],
                   check=True, capture_output=True, cwd=ROOT)  # fmt: skip
    wall = time.perf_counter() - started
    with duckdb.connect(str(warehouse / "mdm.duckdb"), read_only=True) as con:
        xref = con.sql("SELECT source_system, source_key, golden_id FROM golden.xref "
                       "WHERE entity = 'customer' AND valid_to IS NULL").pl()  # fmt: skip
    staged = pl.read_parquet(warehouse / "intermediate" / "staged" / "customer.parquet")
    return evaluate(xref, pl.read_csv(truth, infer_schema=False)), wall, staged


def _clusters(linker, predictions, threshold: float) -> pl.DataFrame:
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, threshold)
    return pl.from_arrow(clusters.as_duckdbpyrelation().arrow())


def _febrl_frame(path: Path) -> pl.DataFrame:
    frame = pl.read_csv(path, infer_schema=False)
    return frame.rename({c: c.strip() for c in frame.columns}).with_columns(
        pl.all().str.strip_chars()
    )


def _febrl_settings(link_type: str):
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    return SettingsCreator(
        unique_id_column_name="rec_id",
        link_type=link_type,
        blocking_rules_to_generate_predictions=[
            block_on("given_name", "surname"), block_on("surname", "date_of_birth"),
            block_on("given_name", "date_of_birth"), block_on("postcode", "street_number"),
            block_on("soc_sec_id"), block_on("address_1", "postcode"),
            block_on("surname", "postcode"),
        ],
        comparisons=[
            cl.NameComparison("given_name"), cl.NameComparison("surname"),
            cl.DateOfBirthComparison("date_of_birth", input_is_string=True,
                                     datetime_format="%Y%m%d"),
            cl.DamerauLevenshteinAtThresholds("soc_sec_id", [1, 2]),
            cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
            cl.ExactMatch("postcode").configure(term_frequency_adjustments=True),
            cl.JaroWinklerAtThresholds("suburb", [0.9]),
            cl.JaroWinklerAtThresholds("address_1", [0.9, 0.8]),
            cl.ExactMatch("state"),
        ],
    )  # fmt: skip


def _train(linker, deterministic: list, sessions: list) -> None:
    linker.training.estimate_probability_two_random_records_match(deterministic, recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6)
    for rule in sessions:
        linker.training.estimate_parameters_using_expectation_maximisation(rule)


def splink_febrl(files: dict[str, Path], truth: Path) -> tuple[Evaluation, float]:
    """Splink on FEBRL files (one: dedupe; two: link), keyed by their source systems."""
    from splink import DuckDBAPI, Linker, block_on

    started = time.perf_counter()
    db = DuckDBAPI()
    frames = [db.register(_febrl_frame(path).to_arrow(), dataset_display_name=system)
              for system, path in files.items()]  # fmt: skip
    link_type = "dedupe_only" if len(frames) == 1 else "link_only"
    linker = Linker(frames[0] if len(frames) == 1 else frames, _febrl_settings(link_type))
    _train(
        linker,
        [block_on("given_name", "surname")],
        [block_on("date_of_birth"), block_on("postcode"), block_on("given_name", "surname")],
    )
    clusters = _clusters(linker, linker.inference.predict(threshold_match_probability=0.1), 0.9)
    wall = time.perf_counter() - started
    system = (pl.col("source_dataset") if "source_dataset" in clusters.columns
              else pl.lit(next(iter(files))))  # fmt: skip
    xref = clusters.select(source_system=system, source_key="rec_id",
                           golden_id=pl.col("cluster_id").cast(pl.String))  # fmt: skip
    return evaluate(xref, pl.read_csv(truth, infer_schema=False)), wall


def splink_customers(staged: pl.DataFrame, truth: Path) -> tuple[Evaluation, float]:
    """Splink on the pipeline's staged customers: the same fields, the same blocking keys."""
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    from matching import normalize as norm

    started = time.perf_counter()
    records = staged.select(
        "party_type", "m_given", "m_family", "m_email", "m_phone", "m_postcode", "m_address",
        "m_city", "m_tax_id", "m_organization", "m_generation",
        uid=pl.col("source_system") + ":" + pl.col("source_key"),
        birth_date=pl.col("birth_date").cast(pl.String),
        name_pair=pl.concat_str([pl.min_horizontal("m_given", "m_family"),
                                 pl.max_horizontal("m_given", "m_family")], separator=" "),
        org_start=pl.col("m_organization").str.split(" ").list.first(),
        given_sound=norm.sounds(staged["m_given"]), family_sound=norm.sounds(staged["m_family"]),
    )  # fmt: skip
    db = DuckDBAPI()
    frame = db.register(records.to_arrow(), dataset_display_name="customers")
    rules = [block_on(*cols) for cols in (
        ("m_email",), ("m_phone",), ("name_pair",), ("m_family", "m_postcode"),
        ("m_given", "birth_date"), ("m_family", "birth_date"), ("birth_date", "m_postcode"),
        ("m_postcode", "m_address"), ("m_tax_id",), ("m_given", "m_postcode"),
        ("birth_date", "m_city"), ("birth_date", "m_address"), ("m_address", "m_city"),
        ("m_given", "m_address"), ("given_sound", "family_sound"), ("m_organization",),
        ("org_start", "m_city"),
    )]  # fmt: skip
    settings = SettingsCreator(
        unique_id_column_name="uid",
        link_type="dedupe_only",
        blocking_rules_to_generate_predictions=rules,
        comparisons=[
            cl.ExactMatch("party_type"),
            # term-frequency adjusted, as the pipeline's exact levels are
            cl.NameComparison("m_given").configure(term_frequency_adjustments=True),
            cl.NameComparison("m_family").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison("birth_date", input_is_string=True,
                                     datetime_format="%Y-%m-%d"),
            cl.ExactMatch("m_generation"),
            cl.EmailComparison("m_email"), cl.ExactMatch("m_phone"),
            cl.PostcodeComparison("m_postcode").configure(term_frequency_adjustments=True),
            cl.JaroWinklerAtThresholds("m_address", [0.9, 0.8]),
            cl.JaroWinklerAtThresholds("m_city", [0.9]),
            cl.ExactMatch("m_tax_id"),
            cl.JaroWinklerAtThresholds("m_organization", [0.9, 0.8]),
        ],
    )  # fmt: skip
    linker = Linker(frame, settings)
    _train(
        linker,
        [block_on("name_pair"), block_on("m_email")],
        [block_on("name_pair"), block_on("birth_date", "m_postcode"), block_on("m_email")],
    )
    clusters = _clusters(linker, linker.inference.predict(threshold_match_probability=0.1), 0.9)
    wall = time.perf_counter() - started
    xref = clusters.select(
        source_system=pl.col("uid").str.split(":").list.first(),
        source_key=pl.col("uid").str.splitn(":", 2).struct.field("field_1"),
        golden_id=pl.col("cluster_id").cast(pl.String),
    )
    return evaluate(xref, pl.read_csv(truth, infer_schema=False)), wall


def _row(dataset: str, tool: str, result: Evaluation, wall: float) -> str:
    return (f"| {dataset} | {tool} | {result.pairwise_precision:.4f} | "
            f"{result.pairwise_recall:.4f} | {result.pairwise_f1:.4f} | {result.bcubed_f1:.4f} | "
            f"{result.largest_cluster} | {wall:.1f} |")  # fmt: skip


def run(dataset: str) -> list[str]:
    if dataset in ("febrl1", "febrl2", "febrl3", "febrl4"):
        project = ROOT / "benchmarks" / dataset
        truth = project / "truth" / "truth_customer.csv"
        ours, wall, _ = _pipeline(project, truth)
        data = project / "data"
        files = {"febrl": data / f"dataset{dataset[-1]}.csv"}
        if dataset == "febrl4":
            files = {"febrl_a": data / "dataset4a.csv", "febrl_b": data / "dataset4b.csv"}
        theirs, their_wall = splink_febrl(files, truth)
    elif dataset == "sample" or dataset.startswith("generated:"):
        project = Path(dataset.removeprefix("generated:")) if dataset != "sample" else ROOT
        folder = ROOT / "data" / "samples" if dataset == "sample" else project
        truth = folder / "truth" / "truth_customer.csv"
        ours, wall, staged = _pipeline(project, truth)
        theirs, their_wall = splink_customers(staged, truth)
    else:
        raise SystemExit(f"unknown dataset {dataset!r}: febrl1 .. febrl4, sample or generated:DIR")
    return [_row(dataset, "pipeline (whole run)", ours, wall),
            _row(dataset, "Splink 5 (matching only)", theirs, their_wall)]  # fmt: skip


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    print("| dataset | tool | precision | recall | F1 | B-cubed F1 | largest cluster | wall s |")
    print("|---|---|---|---|---|---|---|---|")
    for dataset in argv:
        for line in run(dataset):
            print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
