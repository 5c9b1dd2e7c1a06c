"""The event log of a warehouse's Dagster instance: Dagster's own SQLite storage (a database per
run and an index, in `<warehouse>/.dagster/history/runs/`), with its databases kept open.

Dagster's `SqliteEventLogStorage` creates an engine, connects, commits and disconnects for every
event it stores. Closing the last connection to a database in WAL mode checkpoints the log into
the database (a sync), and every commit syncs the log again: a run stores ~865 events (twice,
for asset and check events: the run's database and the index), which took 14 of the 37 seconds
of a sample `mdm run` (py-spy) and 5-12 s at a million entities. Here each database's engine
and its one connection stay open while the process uses it (the few most recent; the least
recently used is closed), and commits sync at checkpoints only (`synchronous = NORMAL`,
SQLite's advice for WAL): a power cut may lose the last events' rows, never corrupt the file,
and the run ledger (`ledger.duckdb`), not Dagster's log, is the record of runs. The tables,
files and readers are Dagster's: the UI (`make ui`) and `dagster` commands read the same
databases.

It replaces a private method of Dagster's class (`_connect`): `tests/test_eventlog.py` checks
it against Dagster's own storage reading the same files, every test run of the job goes
through it, and the pinned Dagster version (requirements.lock) is the one it was written for.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from dagster._core.storage.event_log import SqliteEventLogStorage
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import StaticPool

# databases kept open: a run's own and the index, plus a few a UI process reads
KEEP_OPEN = 8


def config(base_dir: Path) -> dict:
    """The dagster.yaml section that makes an instance store its events here."""
    return {"module": __name__, "class": WarehouseEventLog.__name__,
            "config": {"base_dir": str(base_dir)}}  # fmt: skip


def _tune(connection: Any, _record: Any) -> None:
    connection.execute("PRAGMA synchronous = NORMAL")


class WarehouseEventLog(SqliteEventLogStorage):
    """`SqliteEventLogStorage` that keeps its databases open (module docstring)."""

    def __init__(self, base_dir: str, inst_data: Any = None) -> None:
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        self._engines_lock = threading.Lock()
        super().__init__(base_dir, inst_data)

    @classmethod
    def from_config_value(cls, inst_data: Any, config_value: Any) -> WarehouseEventLog:
        return cls(inst_data=inst_data, **config_value)

    def _engine(self, shard: str) -> Engine:
        with self._engines_lock:
            engine = self._engines.pop(shard, None)
            if engine is None:
                engine = sa.create_engine(
                    self.conn_string_for_shard(shard),
                    # one connection, used under the storage's lock by one thread at a time
                    poolclass=StaticPool,
                    connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS,
                                  "check_same_thread": False},
                )  # fmt: skip
                sa.event.listen(engine, "connect", _tune)
            self._engines[shard] = engine  # the most recently used last
            while len(self._engines) > KEEP_OPEN:
                self._engines.popitem(last=False)[1].dispose()
            return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock:
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    def dispose(self) -> None:
        with self._engines_lock:
            while self._engines:
                self._engines.popitem()[1].dispose()
        super().dispose()
