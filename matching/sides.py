"""The two records of each candidate pair, column by column, as arrays.

Millions of pairs draw on a few hundred thousand records, so every column is encoded once per
*record* (dictionary codes, strings, numbers) and then gathered per pair with a NumPy index:
exact agreement is an integer comparison, and a similarity is computed only for the pairs
whose values differ (equal values score the scorer's own maximum). Gathering the strings of
each pair as Polars Series and converting them to Python lists cost more than the comparisons
themselves (1M entities: 8.3M pairs, ~30 s of ~100 s).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import polars as pl
from rapidfuzz.process import cpdist

Column = str | tuple[str, pl.Expr]  # a column, or a name and an expression over the records


class Sides:
    """`left` and `right` record rows of `records`: per pair, the two sides of a column."""

    def __init__(self, records: pl.DataFrame, left: np.ndarray, right: np.ndarray):
        self.records, self.left, self.right = records, left, right
        self._encoded: dict[str, pl.Series] = {}
        self._codes: dict[str, np.ndarray] = {}
        self._text: dict[str, np.ndarray] = {}
        self._derived: dict[tuple[str, Callable], tuple[np.ndarray, np.ndarray]] = {}
        self._agree: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}  # per pair

    def pairs(self, left: np.ndarray, right: np.ndarray) -> Sides:
        """Other pairs of the same records, sharing this one's encodings of them."""
        other = Sides(self.records, left, right)
        other._encoded, other._codes, other._text, other._derived = (
            self._encoded,
            self._codes,
            self._text,
            self._derived,
        )
        return other

    def __len__(self) -> int:
        return len(self.left)

    def _expr(self, column: Column) -> tuple[str, pl.Expr]:
        return (column, pl.col(column)) if isinstance(column, str) else column

    def _categorical(self, column: Column) -> pl.Series:
        name, expr = self._expr(column)
        if name not in self._encoded:
            # its own categories: codes are dense, and freed with the column (the global
            # string cache would keep every value of every run)
            dtype = pl.Categorical(pl.Categories.random())
            self._encoded[name] = self.records.select(expr.cast(pl.String).cast(dtype)).to_series()
        return self._encoded[name]

    def record_codes(self, column: Column) -> np.ndarray:
        """Per record: the code of its value (equal values, equal codes), -1 null."""
        name, _ = self._expr(column)
        if name not in self._codes:
            physical = self._categorical(column).to_physical().cast(pl.Int32)
            self._codes[name] = physical.fill_null(-1).to_numpy()
        return self._codes[name]

    def _texts(self, column: Column) -> np.ndarray:
        """The distinct values by code, then "" (code -1, a null, reads as empty)."""
        name, _ = self._expr(column)
        if name not in self._text:
            distinct = self._categorical(column).drop_nulls().unique()
            text = np.full(len(distinct) + 1, "", dtype=object)
            text[distinct.to_physical().to_numpy()] = distinct.cast(pl.String).to_list()
            self._text[name] = text
        return self._text[name]

    def codes(self, column: Column) -> tuple[np.ndarray, np.ndarray]:
        codes = self.record_codes(column)
        return codes[self.left], codes[self.right]

    def _agreement(self, column: Column) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(same value or both null, exact, a side null) per pair: kept, the codes are not."""
        name, _ = self._expr(column)
        if name not in self._agree:
            a, b = self.codes(column)
            same, null = a == b, (a < 0) | (b < 0)
            self._agree[name] = (same, same & ~null, null)
        return self._agree[name]

    def exact(self, column: Column) -> np.ndarray:
        return self._agreement(column)[1]

    def nulls(self, column: Column) -> np.ndarray:
        return self._agreement(column)[2]

    def numbers(self, column: Column) -> tuple[np.ndarray, np.ndarray]:
        """Per pair, both sides as float64 (dates as days), NaN where null."""
        _, expr = self._expr(column)
        series = self.records.select(expr).to_series()
        if series.dtype == pl.Date:
            series = series.cast(pl.Int32)
        values = series.cast(pl.Float64).fill_null(np.nan).to_numpy()
        return values[self.left], values[self.right]

    def text(self, column: Column, rows: np.ndarray) -> np.ndarray:
        """The text of `column` ("" for null) at record rows `rows`."""
        return self._texts(column)[self.record_codes(column)[rows]]

    def derived(self, column: Column, function: Callable, codes: np.ndarray) -> np.ndarray:
        """`function` (a Series of values -> a Series) of the values with codes `codes` (NaN
        for null), each distinct value computed once for all pairs of these records."""
        name, _ = self._expr(column)
        text = self._texts(column)
        if (name, function) not in self._derived:
            self._derived[name, function] = (np.full(len(text), np.nan), np.zeros(len(text), bool))
        value, done = self._derived[name, function]
        todo = np.unique(codes[codes >= 0])
        todo = todo[~done[todo]]
        if len(todo):
            result = function(pl.Series(text[todo].tolist(), dtype=pl.String))
            value[todo] = result.cast(pl.Float64).fill_null(np.nan).to_numpy()
            done[todo] = True
        return value[codes]

    def strings(self, column: Column, pairs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The two sides' text ("" for null) of the pairs at positions `pairs`."""
        return self.text(column, self.left[pairs]), self.text(column, self.right[pairs])

    def similarity(
        self,
        column: Column,
        scorer: Callable,
        other: Column | None = None,
        where: np.ndarray | None = None,
        fill: float | None = None,
    ) -> np.ndarray:
        """`scorer` of each pair's two values ("" for null), left side from `column`, right side
        from `other` (default: the same column). Only the pairs where `where` holds (default:
        all) are scored, the others get `fill`. Within one column, two equal values (or two
        nulls) get the scorer's value for equal strings without being computed."""
        same = scorer("", "")  # equal strings: the maximum similarity, or a distance of 0
        out = np.full(len(self), same if fill is None else fill, dtype=np.float64)
        todo = np.ones(len(self), bool) if where is None else where.copy()
        if other is None:
            equal = self._agreement(column)[0]
            out[equal] = same
            todo &= ~equal
            other = column
        pairs = np.flatnonzero(todo)
        if len(pairs):
            a = self.text(column, self.left[pairs]).tolist()
            b = self.text(other, self.right[pairs]).tolist()
            out[pairs] = cpdist(a, b, scorer=scorer, workers=-1)
        return out

    def gathered(self, column: Column) -> tuple[pl.Series, pl.Series]:
        """Both sides as Polars Series, for the few comparisons that need string functions."""
        _, expr = self._expr(column)
        series = self.records.select(expr).to_series()
        return series.gather(self.left), series.gather(self.right)
