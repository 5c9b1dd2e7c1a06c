"""Peak memory per Dagster step of one `mdm run` (issue #7: find the step that sets the peak).

Runs `mdm run ARGS...` in this process with the terminal bar's place taken by a log handler
that, at the end of each step, reads the process's peak RSS (VmHWM) and resets it (Linux:
writing 5 to /proc/self/clear_refs). A step's figure is therefore the highest RSS seen while
it ran, which includes what earlier steps left allocated; "after" is the RSS the step left
(live data and what the allocators kept); then the wall and CPU seconds since the previous step
ended (CPU over wall: how much of the two cores the step kept busy). Prints one line per
step::

    .venv/bin/python benchmarks/step_memory.py run --project benchmarks/.cache/gen-1000000 \\
        --warehouse /tmp/w --log-level WARNING
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
from pathlib import Path

import pipelines.cli as cli

STATUS = Path("/proc/self/status")


def status_gb(field: str) -> float:
    line = next(x for x in STATUS.read_text().splitlines() if x.startswith(field))
    return int(line.split()[1]) / 1024**2


def _cpu() -> float:
    """CPU seconds of this process so far, every thread (user + system)."""
    times = os.times()
    return times.user + times.system


class StepPeaks(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)  # step events are logged at DEBUG
        self.started = time.perf_counter()
        self.last = (self.started, _cpu())

    def emit(self, record: logging.LogRecord) -> None:
        event = (getattr(record, "dagster_meta", None) or {}).get("dagster_event")
        if getattr(event, "event_type_value", None) in ("STEP_SUCCESS", "STEP_FAILURE"):
            clock, cpu = time.perf_counter(), _cpu()
            wall, used = clock - self.last[0], cpu - self.last[1]
            self.last = (clock, cpu)
            peak, now = status_gb("VmHWM"), status_gb("VmRSS")
            print(
                f"{clock - self.started:7.1f} s  {peak:5.2f} GB  {now:5.2f} GB after  "
                f"{wall:5.1f} s wall {used:5.1f} s CPU ({used / wall:4.0%})  {event.step_key}",
                flush=True,
            )
            Path("/proc/self/clear_refs").write_text("5")


@contextlib.contextmanager
def _peaks(_steps: int):
    yield StepPeaks()


if __name__ == "__main__":
    cli._step_bar = _peaks
    sys.exit(cli.main(sys.argv[1:]))
