"""The threaded executor (pipelines/executor.py): steps side by side within its limits, the
critical path first, a failure skipping only what depends on it; and the sample run's steps
as the executor ran them."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import dagster as dg
import pytest

from conftest import ROOT
from pipelines import graph
from pipelines.executor import HEAVY, MAX_CONCURRENT, run_in_process, threaded_executor

_spans: dict[str, tuple[float, float, str]] = {}
_lock = threading.Lock()


def _timed(name: str, seconds: float = 0.3, *, heavy: bool = False, fail: bool = False):
    @dg.op(name=name, tags=HEAVY if heavy else {}, ins={"after": dg.In(dg.Nothing)})
    def step() -> None:
        started = time.perf_counter()
        time.sleep(seconds)  # sleeping releases the interpreter's lock, as Polars' work does
        with _lock:
            _spans[name] = (started, time.perf_counter(), threading.current_thread().name)
        if fail:
            raise RuntimeError(f"{name} failed on purpose")

    return step


def _at_once(spans: list[tuple[float, float]]) -> int:
    """The most spans open at one instant."""
    edges = sorted([(s, 1) for s, _ in spans] + [(e, -1) for _, e in spans])
    open_, most = 0, 0
    for _, step in edges:
        open_ += step
        most = max(most, open_)
    return most


def _run(job: dg.JobDefinition) -> dg.ExecuteInProcessResult:
    _spans.clear()
    with dg.DagsterInstance.ephemeral() as instance:
        return run_in_process(job, instance, {}, tags={})


def test_steps_run_side_by_side_but_never_two_heavy_ones():
    @dg.job(executor_def=threaded_executor)
    def job():
        land = [_timed(f"land_{i}")() for i in range(4)]
        big = [_timed(f"heavy_{i}", heavy=True)() for i in range(3)]
        _timed("last")(after=[*land, *big])

    result = _run(job)
    assert result.success
    assert set(_spans) == {*(f"land_{i}" for i in range(4)), *(f"heavy_{i}" for i in range(3)),
                           "last"}  # fmt: skip
    every = [(s, e) for s, e, _ in _spans.values()]
    assert _at_once(every) == MAX_CONCURRENT  # the light steps overlap; never three at once
    heavy = [(s, e) for k, (s, e, _) in _spans.items() if k.startswith("heavy")]
    assert _at_once(heavy) == 1
    # run on threads of this process, not on the run's own thread
    assert all(t.startswith("step ") for *_, t in _spans.values())
    # 8 steps of 0.3 s, two at a time: well under their 2.4 s one after the other
    first = min(s for s, _ in every)
    assert max(e for _, e in every) - first < 2.0


def test_the_longest_chain_starts_first():
    @dg.job(executor_def=threaded_executor)
    def job():
        for i in range(3):  # three side steps ready from the start, declared first
            _timed(f"side_{i}", 0.2)()
        tail = _timed("chain_0", 0.2)()
        for i in range(1, 4):
            tail = _timed(f"chain_{i}", 0.2)(after=[tail])

    assert _run(job).success
    order = sorted(_spans, key=lambda k: _spans[k][0])
    # in the first pair started: by declaration, side_0 and side_1 would take both slots and the
    # chain would wait. Which of the pair's two threads records its start first is the OS's
    # choice (clean-clone CI once saw side_0 a moment before chain_0)
    assert "chain_0" in order[:2]


def test_a_failure_stops_what_depends_on_it_and_nothing_else():
    @dg.job(executor_def=threaded_executor)
    def job():
        broken = _timed("broken", 0.1, fail=True)()
        _timed("after_broken")(after=[broken])
        _timed("beside", 0.5)()

    result = _run(job)
    assert not result.success
    statuses = {e.step_key: e.event_type_value for e in result.all_events if e.is_step_event}
    # as under Dagster's in-process executor: what depends on a failure never starts
    assert statuses == {"broken": "STEP_FAILURE", "beside": "STEP_SUCCESS"}
    assert set(_spans) == {"broken", "beside"}
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert "failed on purpose" in failure.step_failure_data.error.cause.message


def test_the_sample_run_kept_its_heavy_steps_apart(sample_runs: dict) -> None:
    """The sample run (conftest) as the executor ran it: its extracts landed side by side,
    at most two steps at once, one heavy step at a time, the steps' CPU seconds adding up to the
    run's."""
    warehouse = Path(sample_runs["warehouse"])
    instance = graph.instance_for(warehouse)
    run = instance.get_runs(limit=1)[0]
    spans = {s.step_key: (s.start_time, s.end_time) for s in
             instance.get_run_step_stats(run.run_id)}  # fmt: skip
    job = graph.build_definitions(ROOT, str(warehouse))
    tags = {n.name: n.definition.tags for n in job.resolve_job_def(graph.JOB).graph.nodes}
    heavy = [span for key, span in spans.items() if tags.get(key, {}).get("mdm/memory")]
    assert len(heavy) == 17 and _at_once(heavy) == 1
    assert _at_once(list(spans.values())) == MAX_CONCURRENT
    landing = [span for key, span in spans.items() if key.startswith("raw__") and
               not key.endswith(("_contract", "_contract_warnings"))]  # fmt: skip
    assert len(landing) == 7 and _at_once(landing) == 2


@pytest.mark.parametrize("steps", [1, 3])
def test_the_number_of_steps_at_once_is_configurable(steps: int):
    @dg.job(executor_def=threaded_executor,
            config={"execution": {"config": {"max_concurrent": steps}}})  # fmt: skip
    def job():
        for i in range(6):
            _timed(f"land_{i}", 0.2)()

    assert _run(job).success
    assert _at_once([(s, e) for s, e, _ in _spans.values()]) == steps


def test_an_interrupt_stops_the_running_steps_and_starts_no_other():
    """Ctrl-C (SIGINT, which Dagster captures during a run) reaches a step running on another
    thread at its next Python instruction: the run ends within a second or so, failed, and what
    comes after the step never starts."""
    started, finished = threading.Event(), threading.Event()

    @dg.op(name="long")
    def long() -> None:
        started.set()
        for _ in range(300):  # 30 s in Python-level slices, as a step's own code runs
            time.sleep(0.1)
        finished.set()

    @dg.job(executor_def=threaded_executor)
    def job():
        _timed("after_long")(after=[long()])

    def interrupt() -> None:
        if started.wait(30):
            os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=interrupt, daemon=True).start()
    began = time.perf_counter()
    result = _run(job)
    assert time.perf_counter() - began < 10
    assert not result.success and not finished.is_set()
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert failure.step_key == "long"
    assert "Interrupted" in failure.step_failure_data.error.cls_name
    assert "after_long" not in _spans
