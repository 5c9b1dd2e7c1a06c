"""Published versions of a warehouse: each one an immutable folder, `current` a link to one.

    versions/v000007/mdm.duckdb          the version's database (never written once built)
    versions/v000007/export/golden/      its Parquet exports (the database's big tables are
                                         views over these, by their path inside the version)
    versions/v000007/analytics.duckdb    the same tables, classified columns masked
    versions/v000007/export/analytics/   (`pipelines.analytics`), for broad access
    versions/v000007/version.json        what it holds: run, base version, row counts, checks
    versions/v000007/published           when it was published (absent: an unfinished build)
    current -> versions/v000007          the published version
    mdm.duckdb -> current/mdm.duckdb     what readers open
    analytics.duckdb -> current/analytics.duckdb
    export -> current/export

Publishing and rolling back replace the one link `current` by `rename(2)`, which is atomic: a
reader that opens `mdm.duckdb` gets the old version or the new one, never a mix, and a reader
that already has a version open keeps it (DuckDB holds its file open; nothing writes to it
again) until it reconnects. A process killed at any point leaves `current` where it was or
where it was going; an unfinished build is a folder without `published`, removed by the next
build.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

VERSIONS = "versions"
CURRENT = "current"
DATABASE = "mdm.duckdb"
ANALYTICS = "analytics.duckdb"
EXPORT = "export"
INFO = "version.json"
PUBLISHED = "published"
KEEP = 5  # published versions kept for rollback, unless configured otherwise
_NAME = re.compile(r"^v(\d{6,})$")
LOCK = ".lock"


class WarehouseBusy(RuntimeError):
    """Another process is running or rolling back this warehouse."""


@contextlib.contextmanager
def exclusive(root: Path, what: str) -> Iterator[None]:
    """Hold the warehouse for one writer (`mdm run`, `mdm rollback`): two runs building on the
    same published version would each publish IDs inherited from it. An advisory lock
    (flock) on `<root>/.lock`, which the system releases when the process ends, however it
    ends: a killed run never leaves the warehouse locked."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    with open(root / LOCK, "a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise WarehouseBusy(f"{root} is in use by {holder}; try again when it ends") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{what} (pid {os.getpid()})\n")
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)


@dataclass(frozen=True)
class Version:
    number: int
    path: Path

    @property
    def database(self) -> Path:
        return self.path / DATABASE

    @property
    def export(self) -> Path:
        return self.path / EXPORT

    @property
    def published(self) -> bool:
        return (self.path / PUBLISHED).exists()

    @property
    def published_at(self) -> str | None:
        marker = self.path / PUBLISHED
        return marker.read_text().strip() if marker.exists() else None

    def info(self) -> dict:
        path = self.path / INFO
        return json.loads(path.read_text()) if path.exists() else {}


def folder(root: Path, number: int) -> Path:
    return Path(root) / VERSIONS / f"v{number:06d}"


def _all(root: Path) -> list[Version]:
    base = Path(root) / VERSIONS
    if not base.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in base.iterdir() if (m := _NAME.match(p.name))]
    return [Version(n, p) for n, p in sorted(found)]


def current(root: Path) -> Version | None:
    """The published version, or None before the first publish."""
    link = Path(root) / CURRENT
    if not link.is_symlink():
        return None
    m = _NAME.match(Path(os.readlink(link)).name)
    return Version(int(m.group(1)), folder(root, int(m.group(1)))) if m else None


def kept(root: Path) -> list[Version]:
    """The versions a rollback can restore (published ones still on disk), oldest first."""
    now = current(root)
    return [v for v in _all(root) if v.published or (now and v.number == now.number)]


def get(root: Path, number: int) -> Version | None:
    return next((v for v in kept(root) if v.number == number), None)


def next_number(root: Path) -> int:
    """The number of the next version: above every version ever built here, so that a
    number is never reused (not even after a rollback)."""
    versions = _all(root)
    return versions[-1].number + 1 if versions else 1


def prepare(root: Path, number: int) -> Version:
    """An empty folder for building version `number`, after removing unfinished builds (the
    leftovers of killed runs: folders never published and not current)."""
    remove_unfinished(root)
    path = folder(root, number)
    if path.exists():
        raise FileExistsError(f"version {number} already exists in {path.parent}")
    (path / EXPORT).mkdir(parents=True)
    return Version(number, path)


def remove_unfinished(root: Path) -> None:
    """Delete the leftovers of killed runs: version folders never published and not current."""
    now = current(root)
    for v in _all(root):
        if not v.published and not (now and v.number == now.number):
            shutil.rmtree(v.path)


def _link(target: str, link: Path) -> None:
    """Point `link` at `target` (relative) atomically: a new link renamed over the old."""
    for stale in link.parent.glob(f".{link.name}.*.link"):  # a killed switch's
        stale.unlink()
    tmp = link.with_name(f".{link.name}.{os.getpid()}.link")
    os.symlink(target, tmp)
    if link.is_dir() and not link.is_symlink():
        # a warehouse from before versions: its export folder, a copy of its last publish,
        # gives way to the link once
        shutil.rmtree(link)
    os.replace(tmp, link)


def switch(root: Path, version: Version) -> None:
    """Make `version` the published one: one atomic rename of the link `current`."""
    root = Path(root)
    before = current(root)
    if before is not None and not before.published:
        # published by a run killed before it could say so: it stays kept for rollback
        mark_published(before)
    _link(f"{VERSIONS}/{version.path.name}", root / CURRENT)
    # these point through `current` and never change (made once, or over a warehouse from
    # before versions, whose mdm.duckdb was a file)
    for name in (DATABASE, ANALYTICS, EXPORT):
        link = root / name
        if not (link.is_symlink() and os.readlink(link) == f"{CURRENT}/{name}"):
            _link(f"{CURRENT}/{name}", link)


def mark_published(version: Version) -> None:
    (version.path / PUBLISHED).write_text(datetime.now(UTC).isoformat(timespec="seconds") + "\n")


def prune(root: Path, keep: int) -> list[int]:
    """Delete published versions beyond the newest `keep`, never the current one. A reader
    that still has a deleted version open keeps reading its database; its Parquet-backed views
    (pairs, lineage) fail from then on: `keep` is how many publishes such a session outlives."""
    now = current(root)
    published = [v for v in kept(root) if not (now and v.number == now.number)]
    doomed = published[: max(0, len(published) - (keep - 1))] if keep >= 1 else published
    for v in doomed:
        shutil.rmtree(v.path)
    return [v.number for v in doomed]
