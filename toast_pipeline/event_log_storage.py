"""Dagster's SQLite event log, with its connections kept open between events.

Dagster 1.13's `SqliteEventLogStorage` creates a SQLAlchemy engine for every event it stores,
compiles the insert again (the compiled-statement cache lives on the engine), and opens, commits
and closes a SQLite connection twice for an asset event (the run's shard, then the index shard);
closing the last connection to a file checkpoints its write-ahead log. A backfill records about
nine events per location-date, so that was most of a run's time: 8 ms of one core per event here,
2.6 ms with the engines kept.

This storage is Dagster's class with its connection method replaced, on the same files in the
same format (the webserver and the daemon may open them with Dagster's own class at the same
time); only its engines outlive an event: the index shard's for the process's life, and those
of the few run shards used last. Two more costs of each event are cut: its commit waits for the
disk only at checkpoints (SQLite's `synchronous=NORMAL` in write-ahead-log mode: a power cut may
lose the last events, never corrupt the file), and the asset index's columns are read once, not
reflected from the schema for every asset event (a quarter of an event's time between them).
The toast-pipeline commands use it for the instances they open on Dagster's default storage, and
the runs they launch inherit it through the instance's reference.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from toast_pipeline.defs.dagster_internals import SqliteEventLogStorage

MODULE = __name__
CLASS = "PooledSqliteEventLogStorage"
INDEX_SHARD = "index"
ASSET_KEYS_TABLE = "asset_keys"

# How long a write waits for another process's lock on a file, as Dagster's own SQLite storage.
BUSY_TIMEOUT_SECONDS = 30
# Run shards whose engines stay open: a run worker writes to one, a watching command reads a few.
KEPT_RUN_SHARDS = 4


class PooledSqliteEventLogStorage(SqliteEventLogStorage):
    """`SqliteEventLogStorage` whose engines (and their one pooled connection each) are kept."""

    def __init__(self, base_dir: str, inst_data: Any = None) -> None:
        self._engines: OrderedDict[str, sa.Engine] = OrderedDict()
        self._engines_lock = threading.Lock()
        self._asset_key_columns: frozenset[str] | None = None
        super().__init__(base_dir, inst_data=inst_data)

    @classmethod
    def from_config_value(
        cls, inst_data: Any, config_value: Mapping[str, Any]
    ) -> PooledSqliteEventLogStorage:
        return cls(inst_data=inst_data, **config_value)

    def _engine(self, shard: str) -> sa.Engine:
        """The shard's kept engine, created (and its database initialised) on first use."""
        with self._engines_lock:
            engine = self._engines.get(shard)
            if engine is not None:
                self._engines.move_to_end(shard)
                return engine
            engine = sa.create_engine(
                self.conn_string_for_shard(shard),
                poolclass=sa.pool.QueuePool,
                pool_size=1,
                max_overflow=4,
                connect_args={"timeout": BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
            )
            sa.event.listen(engine, "connect", _sync_at_checkpoints)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            self._engines[shard] = engine
            run_shards = [name for name in self._engines if name != INDEX_SHARD]
            for name in run_shards[: max(0, len(run_shards) - KEPT_RUN_SHARDS)]:
                self._engines.pop(name).dispose()
            return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[sa.Connection]:
        # Same transaction and lock as Dagster's `_connect`; only the engine outlives the event.
        with self._db_lock, self._engine(shard).connect() as conn, conn.begin():
            yield conn

    def _has_asset_key_col_on_connection(self, conn: sa.Connection, column_name: str) -> bool:
        # The table's columns change only by a migration (`upgrade`), which forgets them.
        if self._asset_key_columns is None:
            columns = sa.inspect(conn).get_columns(ASSET_KEYS_TABLE)
            self._asset_key_columns = frozenset(c["name"] for c in columns)
        return column_name in self._asset_key_columns

    def upgrade(self) -> None:
        self._asset_key_columns = None
        super().upgrade()

    def _dispose_engines(self) -> None:
        with self._engines_lock:
            while self._engines:
                self._engines.popitem()[1].dispose()

    def wipe(self) -> None:
        self._dispose_engines()
        self._asset_key_columns = None
        super().wipe()

    def dispose(self) -> None:
        self._dispose_engines()
        super().dispose()


def _sync_at_checkpoints(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA synchronous=NORMAL")


def pooled_event_log_override(home: str, instance_config: Mapping[str, Any]) -> dict[str, Any]:
    """The instance override that stores this instance's events through the pooled storage.

    Only for an instance on Dagster's default storage (its dagster.yaml names none), whose event
    log is the SQLite files in `<home>/history/runs/`; any other storage, Postgres above all, is
    left alone. The runs and schedules stay in Dagster's default files beside it.
    """
    if {"storage", "event_log_storage"} & set(instance_config):
        return {}
    return {
        "event_log_storage": {
            "module": MODULE,
            "class": CLASS,
            "config": {"base_dir": str(Path(home, "history", "runs"))},
        }
    }
