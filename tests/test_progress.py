"""The progress reporting of a run: the log lines long stages write, and the terminal bar."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest

from pipelines import progress


def test_reporter_states_done_total_elapsed_and_eta(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = iter([100.0, 110.0, 130.0])
    monkeypatch.setattr(progress.time, "perf_counter", lambda: next(clock))
    lines: list[str] = []
    report = progress.Reporter(lines.append, "scoring customer pairs", 8_000_000, "pairs")
    report(2_000_000, "person pairs compared")  # 10 s for a quarter: 30 s to go
    report(8_000_000)
    assert lines == [
        "scoring customer pairs (person pairs compared): 2,000,000 / 8,000,000 pairs, 10 s, "
        "ETA 30 s",
        "scoring customer pairs: 8,000,000 / 8,000,000 pairs, 30 s",
    ]


def _record(event_type: str | None, step: str | None, message: str = "") -> logging.LogRecord:
    record = logging.LogRecord("dagster", logging.DEBUG, "", 0, message, None, None)
    event = SimpleNamespace(event_type_value=event_type, step_key=step) if event_type else None
    record.dagster_meta = {"dagster_event": event, "step_key": step, "orig_message": message}
    return record


def test_step_bar_follows_dagster_step_events() -> None:
    advanced, shown = [], []
    bar = progress.StepBar(lambda: advanced.append(1), shown.append)
    bar.handle(_record("STEP_START", "scored__customer"))
    bar.handle(_record(None, "scored__customer", "scoring customer pairs: 1 / 2 pairs, 0 s"))
    bar.handle(_record(None, "other_step", "not the running step"))
    bar.handle(_record("STEP_OUTPUT", "scored__customer"))
    bar.handle(_record("STEP_SUCCESS", "scored__customer"))
    bar.handle(_record("STEP_START", "clusters__customer"))
    bar.handle(_record("STEP_FAILURE", "clusters__customer"))
    assert len(advanced) == 2
    assert shown == ["scored__customer",
                     "scored__customer: scoring customer pairs: 1 / 2 pairs, 0 s",
                     "clusters__customer"]  # fmt: skip


def test_step_bar_shows_the_steps_running_side_by_side() -> None:
    advanced, shown = [], []
    bar = progress.StepBar(lambda: advanced.append(1), shown.append)
    bar.handle(_record("STEP_START", "staged__customer"))
    bar.handle(_record("STEP_START", "raw__crm_accounts"))
    bar.handle(_record(None, "staged__customer", "staging: 1 / 2 rows"))
    bar.handle(_record("STEP_SUCCESS", "raw__crm_accounts"))
    bar.handle(_record("STEP_SUCCESS", "staged__customer"))
    assert len(advanced) == 2
    assert shown == ["staged__customer", "staged__customer | raw__crm_accounts",
                     "staged__customer: staging: 1 / 2 rows | raw__crm_accounts",
                     "staged__customer: staging: 1 / 2 rows"]  # fmt: skip


def test_mdm_run_in_a_terminal_shows_the_step_bar(tmp_path) -> None:
    import os
    import pty
    import re
    import subprocess
    import sys

    from conftest import ROOT

    controller, terminal = pty.openpty()
    run = subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", "run", "--warehouse", str(tmp_path / "w"),
         "--log-level", "WARNING"],
        cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=terminal,
    )  # fmt: skip
    os.close(terminal)
    screen = b""
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        screen += chunk
    # the run's own account of a failure (the terminal is its stderr), not just a status
    assert run.wait(timeout=600) == 0, screen.decode(errors="replace")[-4000:]
    bars = {(int(n), int(total)) for n, total in re.findall(rb"(\d+)/(\d+) steps", screen)}
    (total,) = {t for _, t in bars}  # the job's steps, one bar
    shown = {n for n, _ in bars}
    # the bar moved step by step while the run went on, and named the running step
    assert {0, total} < shown and len(shown) > total // 4
    assert b"scored__customer" in screen
