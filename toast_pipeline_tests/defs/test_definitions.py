"""The code location as Dagster's own command line loads and runs it."""

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from toast_pipeline.definitions import DAILY_JOB, defs
from toast_pipeline.defs.analysis_assets import CLOSURE_SUMMARY_KEY, DAILY_TRENDS_KEY
from toast_pipeline.defs.assets import BUSINESS_DAYS_KEY, CLOSURE_CHECK
from toast_pipeline.defs.factories import archive_from_env, source_from_env
from toast_pipeline.resources.archive import ArchiveExportSource, GCSRawArchive, LocalRawArchive
from toast_pipeline.resources.sftp import SFTPExportSource
from toast_pipeline.toast.specs import TABLE_SPECS

DAGSTER = str(Path(sys.executable).parent / "dagster")


def test_definitions_validate_from_the_command_line(tmp_path):
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path)}
    result = subprocess.run(
        [DAGSTER, "definitions", "validate", "-m", "toast_pipeline.definitions"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "Validation successful" in result.stderr + result.stdout


def test_definitions_hold_eight_assets_the_analysis_the_check_and_the_job(monkeypatch):
    monkeypatch.setenv("TOAST_START_DATE", "2024-04-01")
    definitions = defs()
    graph = definitions.resolve_asset_graph()
    toast = {dg.AssetKey(["toast", s.table]) for s in TABLE_SPECS} | {BUSINESS_DAYS_KEY}
    assert graph.get_all_asset_keys() == toast | {CLOSURE_SUMMARY_KEY, DAILY_TRENDS_KEY}
    assert definitions.resolve_job_def(DAILY_JOB).asset_layer.selected_asset_keys == toast
    assert graph.asset_check_keys == {dg.AssetCheckKey(BUSINESS_DAYS_KEY, CLOSURE_CHECK)}
    partitions = definitions.resolve_job_def(DAILY_JOB).partitions_def
    assert partitions.get_first_partition_key() == "2024-04-01"
    assert partitions.timezone == "America/Chicago"


def test_secrets_are_bound_by_name_never_by_value(monkeypatch):
    monkeypatch.setenv("TOAST_SFTP_PASSWORD", "s3cret-never-shown")
    monkeypatch.setenv("TOAST_SFTP_PRIVATE_KEY_PASSPHRASE", "pass-never-shown")
    source = defs().resources["source"]
    assert source.password == dg.EnvVar("TOAST_SFTP_PASSWORD")
    assert source.private_key_passphrase == dg.EnvVar("TOAST_SFTP_PRIVATE_KEY_PASSPHRASE")
    assert "never-shown" not in repr(source)


def test_the_archive_is_a_local_folder_unless_a_bucket_is_named():
    assert archive_from_env({"TOAST_ARCHIVE_PATH": "/srv/raw"}) == LocalRawArchive(path="/srv/raw")
    assert archive_from_env(
        {"TOAST_ARCHIVE_BUCKET": "b", "TOAST_BIGQUERY_PROJECT": "p"}
    ) == GCSRawArchive(bucket="b", prefix="toast-raw", project="p")


def test_the_source_is_the_sftp_server_unless_rebuilding_from_the_archive():
    archive = LocalRawArchive(path="raw")
    assert isinstance(source_from_env({}, archive), SFTPExportSource)
    assert source_from_env({"TOAST_SOURCE": "archive"}, archive) == ArchiveExportSource(
        archive=archive
    )
    with pytest.raises(ValueError, match="TOAST_SOURCE must be 'sftp' or 'archive'"):
        source_from_env({"TOAST_SOURCE": "s3"}, archive)


def test_the_new_folder_sensor_runs_only_when_there_is_a_server_to_watch(monkeypatch):
    monkeypatch.delenv("TOAST_SFTP_HOST", raising=False)

    def status() -> dg.DefaultSensorStatus:
        return defs().resolve_sensor_def("toast_new_folders").default_status

    assert status() == dg.DefaultSensorStatus.STOPPED
    monkeypatch.setenv("TOAST_SFTP_HOST", "s-1234.server.transfer.us-east-1.amazonaws.com")
    assert status() == dg.DefaultSensorStatus.RUNNING
    monkeypatch.setenv("TOAST_SOURCE", "archive")
    assert status() == dg.DefaultSensorStatus.STOPPED


def test_a_bad_start_date_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("TOAST_START_DATE", "April 1st")
    with pytest.raises(ValueError, match="TOAST_START_DATE must be YYYY-MM-DD"):
        defs()


def test_one_date_materializes_from_the_dagster_command_line(tmp_path, sample_export, sample_env):
    database = sample_env["TOAST_DUCKDB_PATH"]
    env = {**os.environ, **sample_env}
    result = subprocess.run(
        [
            DAGSTER,
            "asset",
            "materialize",
            "-m",
            "toast_pipeline.definitions",
            "--select",
            "key:toast/*",
            "--partition",
            "2024-04-04",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    truth = next(d for d in sample_export.days if d.business_date.isoformat() == "2024-04-04")
    with duckdb.connect(str(database), read_only=True) as conn:
        orders = conn.execute("SELECT count(*) FROM toast.toast.order_details").fetchone()[0]
        status = conn.execute("SELECT status FROM toast.toast.business_days").fetchall()
    assert orders == truth.rows["order_details"]
    assert status == [("open",)]
