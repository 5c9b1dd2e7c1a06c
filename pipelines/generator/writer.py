"""Chunked writers: each dataset is appended to chunk by chunk, so memory stays bounded."""

from __future__ import annotations

from pathlib import Path
from typing import IO

import polars as pl
import pyarrow.parquet as pq


class DatasetWriter:
    """Appends frames to `<out>/<name>.csv` (or `.parquet`); every column is written as text,
    as the source systems hand it over."""

    def __init__(self, out: Path, name: str, fmt: str, separator: str = ","):
        self.path = out / f"{name}.{'csv' if fmt == 'csv' else 'parquet'}"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fmt = fmt
        self.separator = separator
        self.rows = 0
        self._csv: IO[bytes] | None = None
        self._parquet: pq.ParquetWriter | None = None

    def write(self, frame: pl.DataFrame) -> None:
        frame = frame.with_columns(pl.all().cast(pl.String))
        if self.fmt == "csv":
            if self._csv is None:
                self._csv = self.path.open("wb")
                frame.write_csv(self._csv, separator=self.separator, include_header=True)
            else:
                frame.write_csv(self._csv, separator=self.separator, include_header=False)
        else:
            table = frame.to_arrow()
            if self._parquet is None:
                self._parquet = pq.ParquetWriter(self.path, table.schema, compression="zstd")
            self._parquet.write_table(table)
        self.rows += frame.height

    def close(self) -> None:
        if self._csv is not None:
            self._csv.close()
        if self._parquet is not None:
            self._parquet.close()
