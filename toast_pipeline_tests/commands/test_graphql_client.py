"""The GraphQL client against a real webserver: launch a backfill, run it, read every outcome.

The webserver only records the backfill; the project's own driver executes it in this process,
as `toast-pipeline backfill` does when no daemon serves the instance.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
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
    toast_asset_keys,
)
from toast_pipeline_tests.helpers import PROJECT_ROOT, free_port, wait_until_serving

pytestmark = pytest.mark.e2e

# 2024-04-02 has no folder (a closure, since 04-03 was delivered), 04-03 header-only files
# (closed), 04-06 too few files (closed), 04-07 is damaged, 04-08 open.
DATES = ["2024-04-02", "2024-04-03", "2024-04-06", "2024-04-07", "2024-04-08"]


@pytest.fixture
def environment(tmp_path, monkeypatch, sample_env):
    """A fresh instance and the TOAST_* settings for the loopback SFTP server."""
    for key, value in sample_env.items():
        monkeypatch.setenv(key, value)
    return tmp_path


@pytest.fixture
def webserver(environment):
    """`dagster-webserver` on a free loopback port, serving the code location; its URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = (environment / "webserver.log").open("w")
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
        wait_until_serving(url, process, environment / "webserver.log")
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


def test_launch_a_backfill_and_read_its_outcome_through_graphql(webserver):
    backfill_id = launch_backfill(
        webserver, DATES, title="GraphQL client test", tags={"toast/requested_by": "test"}
    )
    before = backfill_status(webserver, backfill_id)
    assert before["status"] == "REQUESTED" and not before["finished"]
    assert before["num_partitions"] == 5
    assert before["tags"]["toast/requested_by"] == "test"
    assert {o["status"] for o in before["dates"].values()} == {"NOT_STARTED"}

    with dg.DagsterInstance.get() as instance, workspace(instance, os.environ) as context:
        drive(
            instance,
            context,
            backfill_id,
            [date.fromisoformat(d) for d in DATES],
            run_daemon_duties=True,
            on_progress=lambda progress: None,
        )

    status = backfill_status(webserver, backfill_id)
    assert status["status"] == "COMPLETED_FAILED" and status["finished"]
    assert status["title"] == "GraphQL client test"
    assert status["end_timestamp"] >= status["timestamp"]
    assert status["failed"] == ["2024-04-07"]
    assert status["materialized"] == ["2024-04-02", "2024-04-03", "2024-04-06", "2024-04-08"]
    assert status["in_progress"] == []
    assert status["dates"]["2024-04-02"]["day_status"] == "closed"
    assert status["dates"]["2024-04-02"]["closure_reason"] == "no_files"
    assert status["dates"]["2024-04-08"]["day_status"] == "open"
    damaged_run = status["dates"]["2024-04-07"]["run_id"]
    assert status["dates"]["2024-04-08"]["run_id"] == damaged_run  # batch-mates, one run
    assert sorted(len(run["dates"]) for run in status["runs"]) == [2, 3]
    assert status["assets"]["toast/business_days"] == {
        "targeted": 5,
        "materialized": 4,
        "failed": 1,
        "in_progress": 0,
    }
    assert set(status["assets"]) == {"/".join(key) for key in toast_asset_keys(webserver)}

    checks = closure_results(webserver, DATES)
    assert checks["2024-04-08"] == {"status": "SUCCEEDED"}
    assert checks["2024-04-02"]["status"] == "FAILED"
    assert checks["2024-04-02"]["reason"] == "no_files"
    assert checks["2024-04-06"]["status"] == "FAILED" and checks["2024-04-06"]["reason"]
    # The damaged date's run failed before the check could judge it.
    assert checks["2024-04-07"] == {"status": "EXECUTION_FAILED"}

    with pytest.raises(GraphQLClientError, match="BackfillNotFoundError"):
        backfill_status(webserver, "nosuchid")
    with pytest.raises(GraphQLClientError, match=r"launchPartitionBackfill: \w*Error: "):
        launch_backfill(webserver, ["2023-01-01"])  # before the first partition
