from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from pipelines.generator import generate

ROOT = Path(__file__).resolve().parent.parent


def read(folder: Path, name: str) -> pl.DataFrame:
    """A generated CSV as text columns, with the separator its system uses."""
    sep = ";" if name.startswith("erp/") else ","
    return pl.read_csv(folder / f"{name}.csv", separator=sep, infer_schema=False)


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3,000 entities, default rates: small enough for every structural test."""
    out = tmp_path_factory.mktemp("generated")
    generate(3_000, 5, out)
    return out
