"""The production instance (deploy/dagster.yaml) on a real PostgreSQL server, served by the real
`dagster-daemon`: the configuration loads as written, and a backfill the daemon executes loads
the sample export exactly, one run of a location at a time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import dagster as dg
import pytest

from toast_pipeline.commands.instance import open_instance
from toast_pipeline.resources.duckdb_warehouse import DuckDBWarehouse
from toast_pipeline.run_coordinator import LOCATION_TAG, LocationTaggingRunCoordinator, location_of
from toast_pipeline_dev.production import running_daemon
from toast_pipeline_tests.commands.test_backfill import DAMAGED, stored
from toast_pipeline_tests.helpers import DAGSTER, PROJECT_ROOT

BIN = Path(sys.executable).parent
BACKFILL_TIMEOUT = 150  # the daemon's backfill loop ticks every 30 s
# The sample's eight dates of one location in two runs: both end before the daemon's second tick
# after the one that starts them, which marks the backfill complete.
BATCH_SIZE = 4
RUNS = 2
WRITER_POOL = "toast_duckdb_writer"
# How the sample delivers each closed date, and the reason the closure check gives it.
REASONS = {
    "no_folder": "no_files",
    "header_only": "low_activity",
    "stray_rows": "low_activity",
    "few_files": "insufficient_files",
}


@pytest.mark.parametrize(
    ("tags", "location"),
    [
        (
            {"dagster/partition": "2024-04-04|185129", "dagster/partition/location": "185129"},
            "185129",
        ),
        (
            {
                "dagster/asset_partition_range_start": "2024-04-01|185342",
                "dagster/asset_partition_range_end": "2024-04-03|185342",
            },
            "185342",
        ),
        (
            {
                "dagster/asset_partition_range_start": "2024-04-01|185129",
                "dagster/asset_partition_range_end": "2024-04-03|185342",
            },
            None,
        ),
        ({"dagster/partition": "2024-04-04"}, None),
        ({}, None),
    ],
)
def test_a_run_is_tagged_with_the_one_location_it_covers(tags, location):
    assert location_of(tags) == location


@pytest.mark.e2e
def test_dagster_loads_the_production_instance_from_its_yaml(production_env):
    """The real CLI reads deploy/dagster.yaml with the connection from the environment."""
    result = subprocess.run(
        [DAGSTER, "instance", "info"],
        env={**os.environ, **production_env},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=PROJECT_ROOT,
    )
    assert result.returncode == 0, result.stderr
    info = result.stdout
    for line in (
        "run_storage: PostgresRunStorage",
        "event_log_storage: PostgresEventLogStorage",
        "schedule_storage: PostgresScheduleStorage",
    ):
        assert line in info
    limits = (
        "concurrency:\n  runs:\n    max_concurrent_runs: 4\n    tag_concurrency_limits:\n"
        "    - key: toast/location\n      value:\n        applyLimitPerUniqueValue: true\n"
        "      limit: 1\n  pools:\n    default_limit: 1\n    granularity: run\n"
    )
    assert limits in info
    assert "telemetry:\n  enabled: false" in info
    # `info` prints the run coordinator only once something has used it: ask the instance.
    with open_instance(Path(production_env["DAGSTER_HOME"])) as instance:
        assert type(instance.run_coordinator) is LocationTaggingRunCoordinator
        queue = instance.get_concurrency_config().run_queue_config
        assert queue.max_concurrent_runs == 4
        assert queue.tag_concurrency_limits == [
            {"key": LOCATION_TAG, "value": {"applyLimitPerUniqueValue": True}, "limit": 1}
        ]
        assert instance.run_coordinator.dequeue_interval_seconds == 1


@pytest.fixture
def daemon(production_env: dict[str, str], tmp_path: Path) -> Iterator[Path]:
    """`dagster-daemon run` on the project's workspace, as production starts it, with runs of
    `BATCH_SIZE` dates; returns once its backfill daemon's heartbeat is on the instance, so the
    backfill created next is picked up by the tick 30 s after the daemon's start. Yields its log.
    """
    env = {**os.environ, **production_env, "TOAST_BACKFILL_BATCH_SIZE": str(BATCH_SIZE)}
    log_path = tmp_path / "daemon.log"
    with running_daemon(env, log_path):
        yield log_path


@pytest.mark.e2e
def test_the_daemon_executes_a_backfill_exactly_one_run_of_a_location_at_a_time(
    production_env, daemon, sample_export, tmp_path
):
    home = Path(production_env["DAGSTER_HOME"])
    with open_instance(home) as instance:
        # On DuckDB the writers' pool alone would keep every run apart: with a slot per run, only
        # the per-location limit keeps this location's runs from running together.
        instance.event_log_storage.set_concurrency_slots(WRITER_POOL, RUNS)
    log = tmp_path / "backfill_log.json"
    result = subprocess.run(
        [str(BIN / "toast-pipeline"), "backfill", "--all", "--log", str(log)],
        env={**os.environ, **production_env, "TOAST_BACKFILL_BATCH_SIZE": str(BATCH_SIZE)},
        capture_output=True,
        text=True,
        timeout=BACKFILL_TIMEOUT,
        cwd=PROJECT_ROOT,
    )
    output = " ".join(result.stdout.split())
    assert "(the running Dagster daemon executes it; this command watches)" in output, output
    assert result.returncode == 1, output + result.stderr  # the damaged date

    outcome = json.loads(log.read_text())
    assert outcome["failed_date_list"] == [DAMAGED]
    assert outcome["dates_loaded"] == 7 and outcome["closure_dates"] == 4
    location_id = sample_export.location_id
    logged = outcome["dates"][location_id]
    warehouse = DuckDBWarehouse(path=production_env["TOAST_DUCKDB_PATH"])
    verdicts = {
        row["business_date"]: (row["status"], row["closure_reason"])
        for row in warehouse.business_days(location_id).iter_rows(named=True)
    }
    rows, sales = stored(warehouse, location_id)
    for day in sample_export.days:
        when = day.business_date
        if day.damage:
            assert when not in verdicts and when not in rows  # nothing of it written
            assert logged[when.isoformat()]["status"] == "failed"
            continue
        reason = REASONS[day.delivery] if day.status == "closed" else None
        assert verdicts[when] == (day.status, reason), when
        assert logged[when.isoformat()]["status"] == day.status
        assert rows.get(when, {}) == {t: n for t, n in day.rows.items() if n}, when
        assert sales.get(when, Decimal("0.00")) == day.net_sales, when  # to the cent

    with open_instance(home) as instance:
        [backfill] = instance.get_backfills()
        assert backfill.status.value == "COMPLETED_FAILED"
        runs = instance.get_run_records(
            dg.RunsFilter(tags={"dagster/backfill": backfill.backfill_id})
        )
        # The queue reports a run STARTING as it takes it out of the queue.
        dequeued = {
            r.dagster_run.run_id: instance.all_logs(
                r.dagster_run.run_id, of_type=dg.DagsterEventType.RUN_STARTING
            )[0].timestamp
            for r in runs
        }
    assert len(runs) == RUNS
    assert {r.dagster_run.tags[LOCATION_TAG] for r in runs} == {location_id}
    # The daemon queued the runs together, and each left the queue only once the one
    # before had ended. (Launching a run takes longer than these runs last, so their running
    # times alone would not overlap even without the limit: the time out of the queue does.)
    assert max(r.create_timestamp.timestamp() for r in runs) < min(r.end_time for r in runs)
    windows = sorted((dequeued[r.dagster_run.run_id], r.end_time) for r in runs)
    assert all(later[0] >= earlier[1] for earlier, later in zip(windows, windows[1:])), windows
