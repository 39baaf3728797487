import shutil
import threading
import time
import uuid
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa

from toast_pipeline.commands.instance import open_instance
from toast_pipeline.event_log_storage import (
    KEPT_RUN_SHARDS,
    PooledSqliteEventLogStorage,
    pooled_event_log_override,
)

PROJECT_YAML = Path(__file__).parents[1] / "dagster_home" / "dagster.yaml"
ASSET = dg.AssetKey(["toast", "order_details"])


def report(instance: dg.DagsterInstance, partition: str, run_id: str | None = None) -> None:
    """One asset materialization stored under `run_id` (a run shard of its own)."""
    instance.report_runless_asset_event(dg.AssetMaterialization(ASSET, partition=partition))
    if run_id is not None:
        instance.event_log_storage.store_event(
            dg.EventLogEntry(
                error_info=None,
                level="INFO",
                user_message="",
                run_id=run_id,
                timestamp=time.time(),
            )
        )


@pytest.fixture
def project_home(tmp_path: Path) -> Path:
    shutil.copy(PROJECT_YAML, tmp_path)
    return tmp_path


def test_the_project_instance_records_events_through_the_pooled_storage(project_home):
    with open_instance(project_home) as instance:
        assert type(instance.event_log_storage) is PooledSqliteEventLogStorage
        report(instance, "2024-03-01|185129")


def test_dagster_own_sqlite_storage_reads_what_the_pooled_one_wrote_and_back(project_home):
    """Same files, same format: the webserver and daemon open them with Dagster's own class."""
    with open_instance(project_home) as pooled:
        report(pooled, "2024-03-01|185129")
    with dg.DagsterInstance.local_temp(str(project_home)) as default:
        assert type(default.event_log_storage) is not PooledSqliteEventLogStorage
        assert default.get_materialized_partitions(ASSET) == {"2024-03-01|185129"}
        report(default, "2024-03-02|185129")
    with open_instance(project_home) as pooled:
        assert pooled.get_materialized_partitions(ASSET) == {
            "2024-03-01|185129",
            "2024-03-02|185129",
        }


def test_only_a_few_run_shards_keep_their_connection(tmp_path):
    storage = PooledSqliteEventLogStorage(str(tmp_path))
    runs = [str(uuid.uuid4()) for _ in range(KEPT_RUN_SHARDS + 3)]
    for run_id in runs:
        with storage.run_connection(run_id):
            pass
    kept = set(storage._engines) - {"index"}
    assert kept == set(runs[-KEPT_RUN_SHARDS:])
    storage.dispose()
    assert not storage._engines


def test_a_commit_waits_for_the_disk_only_at_checkpoints(tmp_path):
    storage = PooledSqliteEventLogStorage(str(tmp_path))
    with storage.index_connection() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
    storage.dispose()


def test_regression_every_asset_event_reflected_the_asset_index_schema(project_home):
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    sa.event.listen(sa.Engine, "before_cursor_execute", record)
    try:
        with open_instance(project_home) as instance:
            for day in range(1, 6):
                report(instance, f"2024-03-{day:02d}|185129")
    finally:
        sa.event.remove(sa.Engine, "before_cursor_execute", record)
    assert len([s for s in statements if s.startswith("INSERT INTO event_logs")]) >= 5
    # SQLAlchemy reads a table's columns with table_xinfo (creating tables uses table_info).
    assert statements.count('PRAGMA main.table_xinfo("asset_keys")') == 1


def test_events_stored_from_several_threads_all_land(project_home):
    with open_instance(project_home) as instance:
        keys = [f"2024-03-{day:02d}|185129" for day in range(1, 29)]
        threads = [
            threading.Thread(target=report, args=(instance, key, str(uuid.uuid4()))) for key in keys
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert instance.get_materialized_partitions(ASSET) == set(keys)


@pytest.mark.parametrize(
    "yaml_storage",
    [
        {"storage": {"postgres": {"postgres_url": "postgresql://x"}}},
        {"event_log_storage": {"module": "dagster", "class": "SqliteEventLogStorage"}},
    ],
)
def test_an_instance_that_names_its_storage_is_left_alone(yaml_storage):
    assert pooled_event_log_override("/home", yaml_storage) == {}


def test_an_instance_on_default_storage_gets_the_pooled_event_log_in_its_own_folder():
    override = pooled_event_log_override("/srv/dagster_home", {"telemetry": {"enabled": False}})
    assert override["event_log_storage"]["config"] == {"base_dir": "/srv/dagster_home/history/runs"}
