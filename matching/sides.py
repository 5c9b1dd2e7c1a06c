"""The two records of each candidate pair, column by column, as arrays.

Millions of pairs draw on a few hundred thousand records, so every column is encoded once per
*record* (dictionary codes, strings, numbers) and then gathered per pair with a NumPy index:
exact agreement is an integer comparison, and a similarity is computed only for the pairs
whose values differ (equal values score the scorer's own maximum). Gathering the strings of
each pair as Polars Series and converting them to Python lists cost more than the comparisons
themselves (1M entities: 8.3M pairs, ~30 s of ~100 s).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import polars as pl
import pyarrow.compute as pc
from rapidfuzz.process import cpdist

Column = str | tuple[str, pl.Expr]  # a column, or a name and an expression over the records


class Sides:
    """`left` and `right` record rows of `records`: per pair, the two sides of a column."""

    def __init__(self, records: pl.DataFrame, left: np.ndarray, right: np.ndarray):
        self.records, self.left, self.right = records, left, right
        self._codes: dict[str, np.ndarray] = {}
        self._text: dict[str, np.ndarray] = {}
        self._derived: dict[tuple[str, Callable], tuple[np.ndarray, np.ndarray]] = {}
        self._agree: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}  # per pair

    def pairs(self, left: np.ndarray, right: np.ndarray) -> Sides:
        """Other pairs of the same records, sharing this one's encodings of them."""
        other = Sides(self.records, left, right)
        other._codes, other._text, other._derived = (
            self._codes,
            self._text,
            self._derived,
        )
        return other

    def __len__(self) -> int:
        return len(self.left)

    def _expr(self, column: Column) -> tuple[str, pl.Expr]:
        return (column, pl.col(column)) if isinstance(column, str) else column

    def encode(self, columns: Iterable[Column]) -> None:
        """Encode `columns` now, two at a time: Arrow's dictionary encoding runs outside
        Python's lock, and one column at a time kept one core busy (the ten text columns of 2M
        customer records: 5.8 s one by one, 2.8 s two at a time)."""
        todo = {self._expr(c)[0]: c for c in columns if self._expr(c)[0] not in self._codes}
        with ThreadPoolExecutor(2) as pool:
            done = pool.map(self._encoding, todo.values())
            for name, encoded in zip(todo, done, strict=True):
                self._codes[name], self._text[name] = encoded

    def _encoding(self, column: Column) -> tuple[np.ndarray, np.ndarray]:
        """(per record the code of its value, -1 null; the values by code, then "")."""
        _, expr = self._expr(column)
        values = self.records.select(expr.cast(pl.String)).to_series().rechunk().to_arrow()
        encoded = pc.dictionary_encode(values)
        codes = encoded.indices.fill_null(-1).to_numpy().astype(np.int32, copy=False)
        text = np.empty(len(encoded.dictionary) + 1, dtype=object)
        text[:-1] = encoded.dictionary.to_pylist()
        text[-1] = ""  # code -1, a null, reads as empty
        return codes, text

    def record_codes(self, column: Column) -> np.ndarray:
        """Per record: the code of its value (equal values, equal codes), -1 null."""
        name, _ = self._expr(column)
        if name not in self._codes:
            self._codes[name], self._text[name] = self._encoding(column)
        return self._codes[name]

    def _texts(self, column: Column) -> np.ndarray:
        """The distinct values by code, then "" (code -1, a null, reads as empty)."""
        self.record_codes(column)
        return self._text[self._expr(column)[0]]

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
            a = self.record_codes(column)[self.left[pairs]]
            b = self.record_codes(other)[self.right[pairs]]
            # the same two values meet again and again (a town, a common given name, the
            # address of a household's members): each distinct pair of values is scored once,
            # and handing strings to the scorer costs more than scoring them (1M entities:
            # 3.9M customer pairs, 1.8M distinct address pairs of 2.9M that differ)
            b_texts = self._texts(other)
            which = pl.Series((a + 1).astype(np.int64) * len(b_texts) + (b + 1)).rank("dense")
            which = which.to_numpy().astype(np.int64) - 1
            first = np.empty(which.max() + 1, np.int64)
            first[which] = np.arange(len(which))
            scored = cpdist(self._texts(column)[a[first]].tolist(), b_texts[b[first]].tolist(),
                            scorer=scorer, workers=-1)  # fmt: skip
            out[pairs] = scored[which]
        return out

    def gathered(self, column: Column) -> tuple[pl.Series, pl.Series]:
        """Both sides as Polars Series, for the few comparisons that need string functions."""
        _, expr = self._expr(column)
        series = self.records.select(expr).to_series()
        return series.gather(self.left), series.gather(self.right)
