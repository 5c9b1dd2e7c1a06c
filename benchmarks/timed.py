"""One process under `/usr/bin/time -v`: its wall time, peak RSS and CPU seconds.

Shared by the benchmarks that measure whole processes (`generate.py`, `scale.py`)."""

from __future__ import annotations

import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Timed:
    wall_s: float  # process start included
    peak_rss_kb: int
    cpu_s: float  # user + system
    stdout: str


def timed(command: list[str], cwd: Path | None = None) -> Timed:
    """Run `command` to completion under /usr/bin/time -v; a failure stops the benchmark."""
    started = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-v", *command], cwd=cwd, capture_output=True,
                          text=True, check=False)  # fmt: skip
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{proc.stdout[-2000:]}{proc.stderr[-4000:]}")
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    cpu = sum(float(x) for x in re.findall(r"(?:User|System) time \(seconds\): ([\d.]+)",
                                           proc.stderr))  # fmt: skip
    return Timed(wall, int(rss.group(1)), cpu, proc.stdout)
