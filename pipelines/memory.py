"""Memory between steps: a run is one process (its steps on threads, `pipelines.executor`), so
what one step frees must be free for the next, not kept by an allocator or a reference cycle.

At 1M entities the steps left 2-4 GB of RSS behind them, on top of which the next step's own
peak came: DataFrames held by reference cycles that Python's collector had not visited yet (a
few Python objects own gigabytes, so its allocation-count thresholds are rarely reached) and
pages that NumPy and rapidfuzz freed into glibc's per-thread arenas. Each step therefore ends
with a full collection and a trim (scored customers' peak 6.1 -> 5.6 GB, golden customers'
6.4 -> 5.4). Polars' jemalloc needs no help: it returns large freed extents within seconds.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
from functools import cache

import dagster as dg

from . import usage


@cache
def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    library = ctypes.CDLL(name) if name else None
    return library if library is not None and hasattr(library, "malloc_trim") else None


_frozen = False


def release() -> None:
    """Collect unreachable cycles now, then hand glibc's free pages back to the system.

    The first call also freezes what is alive then (Dagster, the definitions: ~400,000
    objects) out of later collections, which each cost 0.2-0.4 s otherwise, 10 s or more over
    a run's ~45 steps; so does the first call after `settled` (an import of that size done
    during the run: Great Expectations)."""
    global _frozen
    gc.collect()
    if not _frozen:
        gc.freeze()
        _frozen = True
    libc = _libc()
    if libc is not None:  # glibc only; elsewhere the collection is what there is
        libc.malloc_trim(0)


def settled() -> None:
    """Long-lived objects were just made (a big import): freeze them at the next `release`."""
    global _frozen
    _frozen = False


def _ended(context: dg.HookContext) -> None:
    # the step's CPU and the process's peak memory, for the run ledger
    usage.mark(context.step_key, context.resources.warehouse.root, context.run_id)
    release()


@dg.success_hook(name="release_memory_after_success", required_resource_keys={"warehouse"})
def _after_success(context: dg.HookContext) -> None:
    _ended(context)


@dg.failure_hook(name="release_memory_after_failure", required_resource_keys={"warehouse"})
def _after_failure(context: dg.HookContext) -> None:
    _ended(context)


STEP_HOOKS = {_after_success, _after_failure}
