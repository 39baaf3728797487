"""The GraphQL client against a real webserver: launch a backfill, run it, read every outcome.

The webserver only records the backfill; the project's own driver executes it in this process,
as `toast-pipeline backfill` does when no daemon serves the instance. Keys name a location's
business date, `2024-04-02|185129`: one listed location first, then a discovered group of two.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import dagster as dg
import pytest

from toast_pipeline.commands.backfill import drive, workspace
from toast_pipeline.commands.graphql_client import (
    GraphQLClientError,
    backfill_status,
    closure_results,
    launch_backfill,
    range_keys,
    toast_asset_keys,
)
from toast_pipeline.commands.instance import open_instance
from toast_pipeline.defs.partitions import add_locations, partitions_for
from toast_pipeline.settings import GroupSettings
from toast_pipeline.toast.closures import TRANSACTION_TABLES
from toast_pipeline_dev.sample import SampleExport
from toast_pipeline_tests.helpers import PROJECT_ROOT, free_port, wait_until_serving

pytestmark = pytest.mark.e2e

LOCATION = "185129"  # the sample export's one location, listed (TOAST_LOCATION_ID)
# 2024-04-02 has no folder (a closure, since 04-03 was delivered), 04-03 header-only files
# (closed), 04-06 too few files (closed), 04-07 is damaged, 04-08 open.
DATES = ["2024-04-02", "2024-04-03", "2024-04-06", "2024-04-07", "2024-04-08"]
KEYS = [f"{day}|{LOCATION}" for day in DATES]
# The demo group's two stores, found on the server (no location is listed).
BISTRO, CAFE = "185129", "185342"
# Sunday to Wednesday: the bistro is closed on Monday 04-08 (too few files); the café on Sunday
# (too few files) and Monday (no folder), and its Tuesday 04-09 is damaged.
GROUP_DATES = ["2024-04-07", "2024-04-08", "2024-04-09", "2024-04-10"]


@contextmanager
def dagster_webserver(folder: Path) -> Iterator[str]:
    """`dagster-webserver` on a free loopback port, serving the code location with this process's
    environment; its URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = (folder / "webserver.log").open("w")
    command = [
        str(Path(sys.executable).with_name("dagster-webserver")),
        "-h",
        "127.0.0.1",
        "-p",
        str(port),
        "-m",
        "toast_pipeline.definitions",
    ]
    process = subprocess.Popen(
        command, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        wait_until_serving(url, process, folder / "webserver.log")
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


def set_environment(monkeypatch: pytest.MonkeyPatch, env: Mapping[str, str]) -> None:
    """A fresh instance and the TOAST_* settings for the loopback SFTP server."""
    for key, value in env.items():
        monkeypatch.setenv(key, value)


@pytest.fixture
def webserver(tmp_path, monkeypatch, sample_env) -> Iterator[str]:
    """The webserver for the one-location sample export."""
    set_environment(monkeypatch, sample_env)
    with dagster_webserver(tmp_path) as url:
        yield url


@pytest.fixture
def group_webserver(tmp_path, monkeypatch, group_env) -> Iterator[str]:
    """The webserver for the two-location group, both stores added to `toast_locations`."""
    set_environment(monkeypatch, group_env)
    with dg.DagsterInstance.get() as instance:
        partitions_def = partitions_for(GroupSettings.from_env(os.environ))
        assert add_locations(instance, partitions_def, [BISTRO, CAFE]) == [BISTRO, CAFE]
    with dagster_webserver(tmp_path) as url:
        yield url


def run_backfill(backfill_id: str, keys: list[tuple[str, date]]) -> None:
    """Execute the backfill to its end in this process, as the backfill command does."""
    partitions_def = partitions_for(GroupSettings.from_env(os.environ))
    with (
        open_instance(Path(os.environ["DAGSTER_HOME"]), runs_in_process=True) as instance,
        workspace(instance) as context,
    ):
        drive(
            instance,
            context,
            backfill_id,
            keys,
            partitions_def,
            run_daemon_duties=True,
            on_progress=lambda progress: None,
        )


def transaction_rows(export: SampleExport, day: str) -> int:
    """The rows a delivered date loads: those of its transactional files (`rows_loaded`)."""
    rows = export.day(date.fromisoformat(day)).rows
    return sum(n for table, n in rows.items() if table in TRANSACTION_TABLES)


def test_launch_a_backfill_and_read_its_outcome_through_graphql(webserver, sample_export):
    # Keys and (location, date) pairs mix; the pair's date may be a `date` or a string.
    requested = [*KEYS[:-1], (LOCATION, date(2024, 4, 8))]
    backfill_id = launch_backfill(
        webserver, requested, title="GraphQL client test", tags={"toast/requested_by": "test"}
    )
    before = backfill_status(webserver, backfill_id)
    assert before["status"] == "REQUESTED" and not before["finished"]
    assert before["num_partitions"] == 5
    assert before["tags"]["toast/requested_by"] == "test"
    assert before["partitions"] == {key: {"status": "NOT_STARTED"} for key in KEYS}
    assert before["in_progress"] == KEYS

    run_backfill(backfill_id, [(LOCATION, date.fromisoformat(d)) for d in DATES])

    status = backfill_status(webserver, backfill_id)
    assert status["status"] == "COMPLETED_FAILED" and status["finished"]
    assert status["title"] == "GraphQL client test"
    assert status["end_timestamp"] >= status["timestamp"]
    assert list(status["partitions"]) == KEYS
    assert status["failed"] == ["2024-04-07|185129"]
    assert status["materialized"] == [
        "2024-04-02|185129",
        "2024-04-03|185129",
        "2024-04-06|185129",
        "2024-04-08|185129",
    ]
    assert status["in_progress"] == []
    # Ranged runs, expanded to their keys: 04-02 and 04-03, then 04-06 to 04-08 (04-07 damaged).
    runs = {run["status"]: run for run in status["runs"]}
    assert {s: run["partitions"] for s, run in runs.items()} == {
        "SUCCESS": ["2024-04-02|185129", "2024-04-03|185129"],
        "FAILURE": ["2024-04-06|185129", "2024-04-07|185129", "2024-04-08|185129"],
    }
    first, second = runs["SUCCESS"]["run_id"], runs["FAILURE"]["run_id"]
    # 04-02 has no folder: a delivery gap when loaded, re-judged closed once 04-03 was written
    # (the verdict is the re-judged one, the rows those of the load).
    assert status["partitions"] == {
        "2024-04-02|185129": {
            "status": "MATERIALIZED",
            "run_id": first,
            "day_status": "closed",
            "closure_reason": "no_files",
            "rows_loaded": 0,
        },
        "2024-04-03|185129": {
            "status": "MATERIALIZED",
            "run_id": first,
            "day_status": "closed",
            "closure_reason": "low_activity",
            "rows_loaded": 0,
        },
        "2024-04-06|185129": {
            "status": "MATERIALIZED",
            "run_id": second,
            "day_status": "closed",
            "closure_reason": "insufficient_files",
            "rows_loaded": 0,
        },
        # The damaged date fails alone: its batch-mates are loaded by the same failed run.
        "2024-04-07|185129": {"status": "FAILED", "run_id": second},
        "2024-04-08|185129": {
            "status": "MATERIALIZED",
            "run_id": second,
            "day_status": "open",
            "rows_loaded": transaction_rows(sample_export, "2024-04-08"),
        },
    }
    assert status["assets"]["toast/business_days"] == {
        "targeted": 5,
        "materialized": 4,
        "failed": 1,
        "in_progress": 0,
    }
    assert set(status["assets"]) == {"/".join(key) for key in toast_asset_keys(webserver)}

    checks = closure_results(webserver, [(LOCATION, d) for d in DATES])
    assert {key: check["status"] for key, check in checks.items()} == {
        "2024-04-02|185129": "FAILED",
        "2024-04-03|185129": "FAILED",
        "2024-04-06|185129": "FAILED",
        # The damaged date's run failed before the check could judge it.
        "2024-04-07|185129": "EXECUTION_FAILED",
        "2024-04-08|185129": "SUCCEEDED",
    }
    assert checks["2024-04-08|185129"] == {"status": "SUCCEEDED"}
    assert checks["2024-04-07|185129"] == {"status": "EXECUTION_FAILED"}
    explanation = checks["2024-04-06|185129"]["explanation"]
    assert explanation.endswith(
        "3 of the 7 Toast files the location receives delivered, fewer than 4"
    )
    assert checks["2024-04-06|185129"] == {
        "status": "FAILED",
        "run_id": second,
        "description": explanation,  # it starts with "closed" already
        "reason": "insufficient_files",
        "explanation": explanation,
        "files_found": 3,
        "records": 0,
        "orders": 0,
        "net_sales": "0.00",
    }
    assert [checks[key]["reason"] for key in KEYS[:2]] == ["no_files", "low_activity"]
    assert closure_results(webserver, ["2024-04-01|185129"]) == {
        "2024-04-01|185129": {"status": "MISSING"}
    }

    with pytest.raises(GraphQLClientError, match="BackfillNotFoundError"):
        backfill_status(webserver, "nosuchid")
    with pytest.raises(GraphQLClientError, match=r"launchPartitionBackfill: \w*Error: "):
        launch_backfill(webserver, ["2023-01-01|185129"])  # before the first partition


def test_malformed_location_dates_are_refused_before_anything_is_sent():
    url = "http://127.0.0.1:9"  # nothing listens: a request would fail differently
    expected_form = r'expected "YYYY-MM-DD\|<location id>"'
    with pytest.raises(
        ValueError, match=rf"'2024-04-02' is not a location-date key: {expected_form}"
    ):
        launch_backfill(url, ["2024-04-02"])
    with pytest.raises(ValueError, match=rf"'2024-04-02' is not a location id .*{expected_form}"):
        launch_backfill(url, [("2024-04-02", "185129")])  # date and location swapped
    with pytest.raises(ValueError, match=rf"'2024-4-2' is not a date .*{expected_form}"):
        launch_backfill(url, ["2024-04-02|185129", "2024-4-2|185129"])
    with pytest.raises(ValueError, match=rf"'2024-02-30' is not a date .*{expected_form}"):
        closure_results(url, [(LOCATION, "2024-02-30")])
    with pytest.raises(ValueError, match="give a list of location-dates"):
        closure_results(url, "2024-04-02|185129")
    with pytest.raises(ValueError, match="no location-dates to backfill"):
        launch_backfill(url, [])


def test_a_two_location_backfill_reports_each_location_date(group_webserver, sample_group):
    url = group_webserver
    keys = [(location_id, day) for location_id in (BISTRO, CAFE) for day in GROUP_DATES]
    backfill_id = launch_backfill(url, keys, title="Two stores")
    run_backfill(backfill_id, [(i, date.fromisoformat(d)) for i, d in keys])

    status = backfill_status(url, backfill_id)
    assert status["status"] == "COMPLETED_FAILED" and status["finished"]
    # Dagster's backfill policy runs each location's dates apart: one ranged run per store, and
    # the café's fails on its damaged date.
    runs = {run["status"]: run for run in status["runs"]}
    assert {s: run["partitions"] for s, run in runs.items()} == {
        "SUCCESS": [f"{day}|{BISTRO}" for day in GROUP_DATES],
        "FAILURE": [f"{day}|{CAFE}" for day in GROUP_DATES],
    }
    run_of = {BISTRO: runs["SUCCESS"]["run_id"], CAFE: runs["FAILURE"]["run_id"]}

    def loaded(location_id: str, day: str, day_status: str, reason: str | None = None) -> dict:
        outcome = {"status": "MATERIALIZED", "run_id": run_of[location_id]}
        outcome["day_status"] = day_status
        if reason:
            outcome["closure_reason"] = reason
        rows = transaction_rows(sample_group.export(location_id), day)
        return {**outcome, "rows_loaded": rows if day_status == "open" else 0}

    assert status["partitions"] == {
        "2024-04-07|185129": loaded(BISTRO, "2024-04-07", "open"),
        "2024-04-07|185342": loaded(CAFE, "2024-04-07", "closed", "insufficient_files"),
        "2024-04-08|185129": loaded(BISTRO, "2024-04-08", "closed", "insufficient_files"),
        # No folder, and the day after it damaged, so nothing stored after it: a possible gap.
        "2024-04-08|185342": loaded(CAFE, "2024-04-08", "delivery_gap", "delivery_gap"),
        "2024-04-09|185129": loaded(BISTRO, "2024-04-09", "open"),
        "2024-04-09|185342": {"status": "FAILED", "run_id": run_of[CAFE]},
        "2024-04-10|185129": loaded(BISTRO, "2024-04-10", "open"),
        "2024-04-10|185342": loaded(CAFE, "2024-04-10", "open"),
    }
    assert status["failed"] == ["2024-04-09|185342"]
    assert status["in_progress"] == []
    assert status["assets"]["toast/business_days"] == {
        "targeted": 8,
        "materialized": 7,
        "failed": 1,
        "in_progress": 0,
    }

    checks = closure_results(url, keys)
    assert {key: check["status"] for key, check in checks.items()} == {
        "2024-04-07|185129": "SUCCEEDED",
        "2024-04-07|185342": "FAILED",
        "2024-04-08|185129": "FAILED",
        "2024-04-08|185342": "FAILED",
        "2024-04-09|185129": "SUCCEEDED",
        "2024-04-09|185342": "EXECUTION_FAILED",
        "2024-04-10|185129": "SUCCEEDED",
        "2024-04-10|185342": "SUCCEEDED",
    }
    assert {key: check.get("reason") for key, check in checks.items() if "reason" in check} == {
        "2024-04-07|185342": "insufficient_files",
        "2024-04-08|185129": "insufficient_files",
        "2024-04-08|185342": "delivery_gap",
    }

    # A range over both stores is a rectangle: its dates × the locations between, in the
    # dimension's order (the order they were added).
    assert range_keys(url, "2024-04-07|185129", "2024-04-08|185342") == [
        "2024-04-07|185129",
        "2024-04-07|185342",
        "2024-04-08|185129",
        "2024-04-08|185342",
    ]
    assert range_keys(url, "2024-04-07|185342", "2024-04-08|185342") == [
        "2024-04-07|185342",
        "2024-04-08|185342",
    ]
