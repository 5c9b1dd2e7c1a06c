"""Progress of a run: long stages log how far they are (rows or pairs, elapsed, ETA) to the
Dagster log, and `mdm run` in a terminal shows a rich bar over the job's steps fed by it."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import dagster as dg

STEP_DONE = {"STEP_SUCCESS", "STEP_FAILURE", "STEP_SKIPPED"}


class Reporter:
    """Logs `done` of `total` `unit` of one stage with the elapsed time and, from the rate so
    far, the time left: "scoring person pairs: 4,000,000 / 8,254,913 pairs, 21 s, ETA 22 s"."""

    def __init__(self, log: Callable[[str], None], stage: str, total: int, unit: str):
        self.log, self.stage, self.total, self.unit = log, stage, total, unit
        self.started = time.perf_counter()

    def __call__(self, done: int, note: str = "") -> str:
        elapsed = time.perf_counter() - self.started
        left = elapsed * (self.total - done) / done if done else float("nan")
        eta = f", ETA {left:.0f} s" if done < self.total and done else ""
        message = (f"{self.stage}{f' ({note})' if note else ''}: {done:,} / {self.total:,} "
                   f"{self.unit}, {elapsed:.0f} s{eta}")  # fmt: skip
        self.log(message)
        return message


class StepBar(logging.Handler):
    """Moves a bar one step per finished Dagster step and shows the running steps (two can run
    at once, `pipelines.executor`), each with its last progress message, in the order they
    started."""

    def __init__(self, advance: Callable[[], None], describe: Callable[[str], None]):
        super().__init__(logging.DEBUG)  # step events are logged at DEBUG
        self.advance, self.describe = advance, describe
        self.running: dict[str, str] = {}  # step -> its last progress message

    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", None) or {}
        event = meta.get("dagster_event")
        kind = getattr(event, "event_type_value", None)
        step = meta.get("step_key")
        if kind == "STEP_START":
            self.running[event.step_key] = ""
        elif kind in STEP_DONE:
            self.advance()
            if self.running.pop(getattr(event, "step_key", None), None) is None or not self.running:
                return  # the description stays until another step starts
        elif event is None and step in self.running:
            self.running[step] = meta.get("orig_message", "")
        else:
            return
        self.describe(" | ".join(f"{s}: {m}"[:90] if m else s for s, m in self.running.items()))


def bar_logger(handler: logging.Handler) -> dg.LoggerDefinition:
    """A Dagster logger that hands every record to `handler` (the CLI's bar)."""

    def build(_: dg.InitLoggerContext) -> logging.Logger:
        logger = logging.Logger("mdm_progress", logging.DEBUG)
        logger.addHandler(handler)
        return logger

    return dg.LoggerDefinition(build, description="the progress bar of `mdm run`")
