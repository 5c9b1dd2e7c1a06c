"""Great Expectations, imported only where a check needs it (~5 s) and kept quiet."""

from __future__ import annotations

import functools
import logging
import threading
import warnings
from typing import Any

_IMPORTING = threading.Lock()


def quiet_great_expectations() -> Any:
    """Import Great Expectations (~5 s, so only inside a check) with its logs quiet."""
    for name in ("great_expectations", "great_expectations.core", "great_expectations.validator"):
        logging.getLogger(name).setLevel(logging.ERROR)
    # one thread at a time: `catch_warnings` saves and restores the process's filters, and two
    # overlapping saves would leave "ignore" in force after both (the landing starts the import
    # on a thread of its own, a check may need it meanwhile)
    with _IMPORTING, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import great_expectations as gx
        from great_expectations.execution_engine import pandas_execution_engine as engine
    # GE hashes every row of every in-memory batch for a fingerprint it only reports in the
    # batch markers (nothing reads it back): at 1M entities that cost ~70 s a run, more than
    # the validations. The data validated is the asset's Parquet file, named in the metadata.
    engine.hash_pandas_dataframe = _no_fingerprint
    return gx


def _no_fingerprint(frame: Any) -> str:
    return f"not computed ({len(frame):,} rows)"


@functools.cache
def expectation_classes() -> dict[str, type]:
    """Great Expectations' expectations by type (expect_...) and by class name; imports Great
    Expectations, so only called for custom rules and validations."""
    gx = quiet_great_expectations()
    base = gx.expectations.Expectation
    out: dict[str, type] = {}
    for name in dir(gx.expectations):
        cls = getattr(gx.expectations, name)
        if isinstance(cls, type) and issubclass(cls, base) and cls.expectation_type:
            out[cls.expectation_type] = out[name] = cls
    return out
