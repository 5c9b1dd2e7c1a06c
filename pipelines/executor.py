"""The job's executor: its steps on threads of the run's one process, a few at a time.

Dagster's in-process executor runs one step after the other, and the multiprocess one starts a
process and loads the code location for every step (~5 s each, ~50 steps a run). Here the
steps run on threads of the run process: Polars, DuckDB, rapidfuzz and Arrow work outside
Python's lock, so a step that keeps one core busy (a contract check in Great Expectations, the
landing of an extract) fills the core a matching step leaves idle, and the extracts land two at
a time. Which steps may run side by side is decided by their tags, not by luck:

- at most `max_concurrent` steps (two: the machine class has two cores);
- at most one step tagged `mdm/memory: heavy` (`HEAVY`: staging, matching, survivorship, the
  version build), so two of them never add their peaks (each holds 1.5-2.5 GB at a million
  entities over the process's ~1 GB; the 4 GB budget of issue #7 holds one);
- of the steps ready to start, those with the longest chain of steps after them go first (the
  customers' extracts before the contracts'), so the critical path never waits for a side step.

Each step's events are made on its own thread and handed to the run's thread, which stores
them, tracks the plan and runs the step's hooks (`pipelines.memory`) when it ends, as the
in-process executor does. A run that is interrupted starts no other step and interrupts the
running ones (at their next Python instruction), as Dagster interrupts a step on the run's
own thread.

It drives Dagster's own plan machinery (`ActiveExecution`, `dagster_event_sequence_for_step`,
the private `_trigger_hook`) the way its in-process executor does: `tests/test_executor.py`
checks it, every run of the job goes through it, and the pinned Dagster version
(requirements.lock) is the one it was written for. `run_in_process` runs a job with it in
this process (the CLI); the UI's and the schedule's runs use it as the job's executor.
"""

from __future__ import annotations

import ctypes
import os
import queue
import threading
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import dagster as dg
from dagster._core.errors import DagsterExecutionInterruptedError
from dagster._core.events import DagsterEvent, EngineEventData
from dagster._core.execution.api import ExecuteRunWithPlanIterable
from dagster._core.execution.compute_logs import create_compute_log_file_key
from dagster._core.execution.context.system import PlanExecutionContext, PlanOrchestrationContext
from dagster._core.execution.context_creation_job import PlanExecutionContextManager
from dagster._core.execution.plan.execute_plan import _trigger_hook, dagster_event_sequence_for_step
from dagster._core.execution.plan.instance_concurrency_context import InstanceConcurrencyContext
from dagster._core.execution.plan.plan import ExecutionPlan
from dagster._core.execution.retries import RetryMode, get_retries_config
from dagster._core.executor.base import Executor

from . import usage

MEMORY_TAG = "mdm/memory"
HEAVY = {MEMORY_TAG: "heavy"}
"""Op tags of a step whose peak memory grows with the data: one such step runs at a time."""

MAX_CONCURRENT = 2
_POLL_SECONDS = 0.5  # how often the run's thread looks for an interrupt while steps run


class ThreadedExecutor(Executor):
    def __init__(self, retries: RetryMode, max_concurrent: int, limits: list[dict[str, Any]]):
        self._retries = retries
        self.max_concurrent = max_concurrent
        self.limits = limits

    @property
    def retries(self) -> RetryMode:
        return self._retries

    def execute(
        self, plan_context: PlanOrchestrationContext, execution_plan: ExecutionPlan
    ) -> Iterator[DagsterEvent]:
        keys = execution_plan.step_keys_to_execute
        yield DagsterEvent.engine_event(
            plan_context,
            f"Executing steps on up to {self.max_concurrent} threads (pid: {os.getpid()})",
            event_specific_data=EngineEventData.in_process(os.getpid(), keys),
        )
        yield from ExecuteRunWithPlanIterable(
            execution_plan=plan_context.execution_plan,
            iterator=partial(_steps, max_concurrent=self.max_concurrent, limits=self.limits),
            execution_context_manager=PlanExecutionContextManager(
                job=plan_context.job,
                retry_mode=plan_context.retry_mode,
                execution_plan=plan_context.execution_plan,
                run_config=plan_context.run_config,
                dagster_run=plan_context.dagster_run,
                instance=plan_context.instance,
                raise_on_error=plan_context.raise_on_error,
                output_capture=plan_context.output_capture,
            ),
        )


@dg.executor(
    name="threaded",
    config_schema={
        "max_concurrent": dg.Field(
            int, default_value=MAX_CONCURRENT, description="Steps running at once."
        ),
        "heavy_at_once": dg.Field(
            int,
            default_value=1,
            description=f"Steps tagged {MEMORY_TAG}: heavy running at once (their peaks add up).",
        ),
        "retries": get_retries_config(),
    },
)
def threaded_executor(init_context: dg.InitExecutorContext) -> ThreadedExecutor:
    """The job's steps on threads of the run's process (`pipelines.executor`)."""
    config = init_context.executor_config
    limits = [{"key": MEMORY_TAG, "value": HEAVY[MEMORY_TAG], "limit": config["heavy_at_once"]}]
    return ThreadedExecutor(
        RetryMode.from_config(config["retries"]),  # type: ignore[arg-type]
        max(1, config["max_concurrent"]),
        limits,
    )


def critical_path_first(plan: ExecutionPlan):
    """A sort key for ready steps: the longest chain of steps still to come after a step, the
    longer first (Dagster starts the ready steps in the key's ascending order)."""
    after: dict[str, set[str]] = {}
    for step in plan.get_all_steps_in_topo_order():
        for step_input in step.step_inputs:
            for handle in step_input.get_step_output_handle_dependencies():
                after.setdefault(handle.step_key, set()).add(step.key)
    chain: dict[str, int] = {}
    for step in reversed(plan.get_all_steps_in_topo_order()):
        chain[step.key] = 1 + max((chain[k] for k in after.get(step.key, ())), default=0)
    return lambda step: -chain.get(step.key, 0)


_DONE = object()


@dataclass
class _Running:
    context: Any
    thread: threading.Thread
    events: list[DagsterEvent] = field(default_factory=list)


def _run_step(context: Any, out: queue.Queue) -> None:
    """One step on its own thread: its events into `out`, then `_DONE` (after the exception
    that escaped Dagster's own handling, if one did, for the run's thread to raise)."""
    key = context.step.key
    try:
        usage.begin(key)
        for event in dagster_event_sequence_for_step(context):
            out.put((key, event))
    except BaseException as error:  # noqa: BLE001 - handed over, raised by the run's thread
        out.put((key, error))
    finally:
        while True:  # an interruption arrives once: `_DONE` is always posted
            try:
                out.put((key, _DONE))
                break
            except DagsterExecutionInterruptedError:
                continue


def _interrupt(thread: threading.Thread) -> None:
    """Raise `DagsterExecutionInterruptedError` in `thread` at its next Python instruction
    (a native call in progress, a Polars query say, finishes first): the step then ends as
    Dagster ends an interrupted step on the run's own thread."""
    if thread.ident is not None and thread.is_alive():
        ctypes.pythonapi.PyThreadState_SetAsyncExc(
            ctypes.c_ulong(thread.ident), ctypes.py_object(DagsterExecutionInterruptedError)
        )


def _steps(
    job_context: PlanExecutionContext,
    execution_plan: ExecutionPlan,
    max_concurrent: int,
    limits: list[dict[str, Any]],
) -> Iterator[DagsterEvent]:
    """Dagster's in-process plan loop (`inner_plan_execution_iterator`) with the steps on
    threads: start what may start, pass each event on as it comes, finish a step when its
    thread is done. An interrupt (Ctrl-C, a termination from the UI) or an error outside a
    step's own handling stops the run: no step starts any more, the running ones are
    interrupted and waited for, then the run ends with it."""
    logs = job_context.instance.compute_log_manager
    keys = [step.key for step in execution_plan.get_steps_to_execute_in_topo_order()]
    with ExitStack() as stack:
        concurrency = stack.enter_context(
            InstanceConcurrencyContext(job_context.instance, job_context.dagster_run)
        )
        active = stack.enter_context(
            execution_plan.start(
                retry_mode=job_context.retry_mode,
                sort_key_fn=critical_path_first(execution_plan),
                max_concurrent=max_concurrent,
                tag_concurrency_limits=limits,
                instance_concurrency_context=concurrency,
                step_dependency_config=job_context.step_dependency_config,
            )
        )
        log_key = logs.build_log_key_for_run(job_context.run_id, create_compute_log_file_key())
        log_context = stack.enter_context(logs.capture_logs(log_key))
        yield DagsterEvent.capture_logs(job_context, keys, log_key, log_context)

        events: queue.Queue = queue.Queue()
        running: dict[str, _Running] = {}
        stop: BaseException | None = None
        stopping = False
        while running or (stop is None and not active.is_complete):
            if stop is None and active.check_for_interrupts():
                stop = DagsterExecutionInterruptedError("the run was interrupted")
            if stop is not None and not stopping:
                stopping = True
                active.mark_interrupted()
                yield DagsterEvent.engine_event(
                    job_context,
                    f"Stopping the run: interrupting {sorted(running)}, starting no other step",
                    EngineEventData.interrupted(sorted(running)),
                )
                for step in running.values():
                    _interrupt(step.thread)
            if stop is None:
                for step in active.get_steps_to_execute(limit=max_concurrent - len(running)):
                    context = job_context.for_step(step, active.get_known_state())
                    thread = threading.Thread(target=_run_step, args=(context, events),
                                              daemon=True, name=f"step {step.key}")  # fmt: skip
                    running[step.key] = _Running(context, thread)
                    thread.start()
                yield from active.concurrency_event_iterator(job_context)
                if not running:
                    active.sleep_til_ready()
                    continue
            try:
                key, item = events.get(timeout=_POLL_SECONDS)
            except queue.Empty:
                # a thread interrupted before its `try` dies without posting `_DONE`: done too
                gone = [k for k, r in running.items() if not r.thread.is_alive()]
                if not gone or not events.empty():
                    continue
                key, item = gone[0], _DONE
            if isinstance(item, DagsterEvent):
                running[key].events.append(item)
                yield item
                active.handle_event(item)
            elif isinstance(item, BaseException):
                stop = stop or item
            else:  # the step's thread is done: what the in-process loop does after a step
                step = running.pop(key)
                active.verify_complete(job_context, key)
                for event in active.plan_events_iterator(job_context):
                    step.events.append(event)
                    yield event
                yield from _trigger_hook(step.context, step.events)
        if stop is not None:
            raise stop


def run_in_process(job: dg.JobDefinition, instance: dg.DagsterInstance, run_config: dict,
                   tags: dict[str, str]) -> dg.ExecuteInProcessResult:  # fmt: skip
    """Run `job` in this process with its own executor and return Dagster's in-process result
    (`job.execute_in_process` replaces the job's executor with the in-process one)."""
    from dagster._core.definitions.job_base import InMemoryJob
    from dagster._core.execution.execute_in_process import core_execute_in_process

    return core_execute_in_process(
        run_config=run_config, job=InMemoryJob(job), instance=instance,
        output_capturing_enabled=True, raise_on_error=False,
        run_tags={**job.run_tags, **tags},
    )  # fmt: skip
