"""The code location as Dagster's own command line loads and runs it."""

import os
import subprocess
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb
import pytest

from toast_pipeline.definitions import DAILY_JOB, defs
from toast_pipeline.defs.analysis_assets import CLOSURE_SUMMARY_KEY, DAILY_TRENDS_KEY
from toast_pipeline.defs.assets import BUSINESS_DAYS_KEY, CLOSURE_CHECK, DUCKDB_WRITER_POOL
from toast_pipeline.defs.factories import archive_from_env, source_from_env
from toast_pipeline.resources.archive import ArchiveExportSource, GCSRawArchive, LocalRawArchive
from toast_pipeline.resources.sftp import SFTPExportSource
from toast_pipeline.settings import GroupSettings
from toast_pipeline.toast.specs import TABLE_SPECS
from toast_pipeline_tests.helpers import DAGSTER, materialize_from_the_command_line


def test_definitions_validate_from_the_command_line(tmp_path):
    """As on a fresh checkout: no TOAST_* variable set at all."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOAST_")}
    env["DAGSTER_HOME"] = str(tmp_path)
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
    without_toast_settings(monkeypatch)
    monkeypatch.setenv("TOAST_START_DATE", "2024-04-01")
    definitions = defs()
    graph = definitions.resolve_asset_graph()
    toast = {dg.AssetKey(["toast", s.table]) for s in TABLE_SPECS} | {BUSINESS_DAYS_KEY}
    assert graph.get_all_asset_keys() == toast | {CLOSURE_SUMMARY_KEY, DAILY_TRENDS_KEY}
    assert definitions.resolve_job_def(DAILY_JOB).asset_layer.selected_asset_keys == toast
    assert graph.asset_check_keys == {dg.AssetCheckKey(BUSINESS_DAYS_KEY, CLOSURE_CHECK)}
    partitions = definitions.resolve_job_def(DAILY_JOB).partitions_def
    assert isinstance(partitions, dg.MultiPartitionsDefinition)
    dates = partitions.get_partitions_def_for_dimension("date")
    assert (dates.get_first_partition_key(), dates.timezone) == ("2024-04-01", "America/Chicago")


@pytest.mark.parametrize(
    ("warehouse", "pool"),
    [("duckdb", DUCKDB_WRITER_POOL), ("bigquery", None)],
)
def test_duckdb_writers_take_turns_through_a_pool_and_bigquery_s_run_in_parallel(
    monkeypatch, warehouse, pool
):
    """Every asset that writes to DuckDB is in its one-writer pool; on BigQuery none is."""
    without_toast_settings(monkeypatch)
    for name, value in {
        "TOAST_START_DATE": "2024-04-01",
        "TOAST_WAREHOUSE": warehouse,
        "TOAST_BIGQUERY_PROJECT": "p",
    }.items():
        monkeypatch.setenv(name, value)
    graph = defs().resolve_asset_graph()
    pools = {key: graph.get(key).pools for key in graph.get_all_asset_keys()}
    assert set(map(frozenset, pools.values())) == {frozenset({pool} if pool else set())}


@pytest.mark.parametrize(
    ("env", "dimension", "locations"),
    [
        ({}, dg.DynamicPartitionsDefinition, "toast_locations"),
        ({"TOAST_LOCATION_ID": "185129"}, dg.StaticPartitionsDefinition, ["185129"]),
        (
            {"TOAST_LOCATIONS": "185342 185129", "TOAST_LOCATION_ID": "1"},
            dg.StaticPartitionsDefinition,
            ["185342", "185129"],
        ),
    ],
)
def test_every_toast_asset_shares_the_location_dimension(monkeypatch, env, dimension, locations):
    """Listed locations are fixed partitions; otherwise the server's folders are added as found."""
    without_toast_settings(monkeypatch)
    for name, value in {"TOAST_START_DATE": "2024-04-01", **env}.items():
        monkeypatch.setenv(name, value)
    definitions = defs()
    graph = definitions.resolve_asset_graph()
    toast = {dg.AssetKey(["toast", s.table]) for s in TABLE_SPECS} | {BUSINESS_DAYS_KEY}
    job_partitions = definitions.resolve_job_def(DAILY_JOB).partitions_def
    assert {graph.get(key).partitions_def for key in toast} == {job_partitions}
    found = job_partitions.get_partitions_def_for_dimension("location")
    named = found.name if isinstance(found, dg.DynamicPartitionsDefinition) else None
    assert (type(found), named or found.get_partition_keys()) == (dimension, locations)


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

    def source(env: dict[str, str]):
        return source_from_env(GroupSettings.from_env(env), env, archive)

    assert isinstance(source({}), SFTPExportSource)
    location = {"TOAST_LOCATION_ID": "185129", "TOAST_START_DATE": "2024-04-01"}
    assert source({"TOAST_SOURCE": "archive", **location}) == ArchiveExportSource(archive=archive)
    with pytest.raises(ValueError, match="TOAST_SOURCE must be 'sftp' or 'archive'"):
        source({"TOAST_SOURCE": "s3"})


def test_a_command_takes_the_server_from_the_environment_it_was_given():
    env = {"TOAST_SFTP_HOST": "h", "TOAST_SFTP_USERNAME": "u", "TOAST_SFTP_PASSWORD": "p"}
    env |= {"TOAST_LOCATION_ID": "185129", "TOAST_START_DATE": "2024-04-01"}
    archive = LocalRawArchive(path="raw")
    settings = GroupSettings.from_env(env)
    source = source_from_env(settings, env, archive, bind_by_name=False)
    assert (source.host, source.username, source.password) == ("h", "u", "p")
    del env["TOAST_SFTP_USERNAME"]
    with pytest.raises(ValueError, match="TOAST_SFTP_USERNAME is not set"):
        source_from_env(settings, env, archive, bind_by_name=False)


SERVER = "s-1234.server.transfer.us-east-1.amazonaws.com"


def without_toast_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [k for k in os.environ if k.startswith("TOAST_")]:
        monkeypatch.delenv(name)


def test_the_new_folder_sensor_runs_only_when_there_is_a_server_to_watch(monkeypatch):
    without_toast_settings(monkeypatch)
    monkeypatch.setenv("TOAST_LOCATION_ID", "185129")
    monkeypatch.setenv("TOAST_START_DATE", "2024-04-01")

    def status() -> dg.DefaultSensorStatus:
        return defs().resolve_sensor_def("toast_new_folders").default_status

    assert status() == dg.DefaultSensorStatus.STOPPED
    monkeypatch.setenv("TOAST_SFTP_HOST", SERVER)
    assert status() == dg.DefaultSensorStatus.RUNNING
    monkeypatch.setenv("TOAST_SOURCE", "archive")
    assert status() == dg.DefaultSensorStatus.STOPPED


def test_with_no_server_configured_the_location_loads_but_starts_nothing(monkeypatch):
    """A fresh checkout: `dagster dev` shows the location; nothing runs on its own, the job says
    what to set, and the partitions (no start date given) hold only yesterday's date."""
    without_toast_settings(monkeypatch)
    definitions = defs()
    schedule = definitions.resolve_schedule_def("toast_daily_safety_net")
    sensor = definitions.resolve_sensor_def("toast_new_folders")
    assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED
    assert sensor.default_status == dg.DefaultSensorStatus.STOPPED
    job = definitions.resolve_job_def(DAILY_JOB)
    wanted = (
        "Nothing to load from yet: set TOAST_SFTP_HOST, TOAST_SFTP_USERNAME and TOAST_START_DATE"
    )
    assert wanted in job.description
    dates = job.partitions_def.get_partitions_def_for_dimension("date")
    yesterday = datetime.now(ZoneInfo("America/Chicago")).date() - timedelta(days=1)
    assert dates.get_partition_keys() == [yesterday.isoformat()]
    monkeypatch.setenv("TOAST_SFTP_HOST", SERVER)
    monkeypatch.setenv("TOAST_START_DATE", "2024-04-01")
    configured = defs()
    schedule = configured.resolve_schedule_def("toast_daily_safety_net")
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    assert configured.resolve_sensor_def("toast_new_folders").default_status == (
        dg.DefaultSensorStatus.RUNNING
    )
    assert "Nothing to load from" not in configured.resolve_job_def(DAILY_JOB).description


def test_a_server_without_its_start_date_is_a_clear_error(monkeypatch):
    """The locations may be discovered; the first date to load may not be guessed."""
    without_toast_settings(monkeypatch)
    monkeypatch.setenv("TOAST_SFTP_HOST", SERVER)
    monkeypatch.setenv("TOAST_LOCATIONS", "185129,185342")
    with pytest.raises(
        ValueError,
        match=r"^TOAST_START_DATE \(the first business date to load, YYYY-MM-DD\) must be set "
        r"when TOAST_SFTP_HOST is set$",
    ):
        defs()


def test_a_location_in_another_zone_adds_a_schedule(monkeypatch, tmp_path):
    without_toast_settings(monkeypatch)
    locations = tmp_path / "locations.toml"
    locations.write_text('[locations."185342"]\ntimezone = "America/Denver"\n', encoding="utf-8")
    monkeypatch.setenv("TOAST_START_DATE", "2024-04-01")
    monkeypatch.setenv("TOAST_LOCATIONS_FILE", str(locations))
    schedules = defs().get_repository_def().schedule_defs
    assert sorted((s.name, s.execution_timezone) for s in schedules) == [
        ("toast_daily_safety_net", "America/Chicago"),
        ("toast_daily_safety_net_america_denver", "America/Denver"),
    ]


def test_a_bad_start_date_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("TOAST_START_DATE", "April 1st")
    with pytest.raises(ValueError, match="TOAST_START_DATE must be YYYY-MM-DD"):
        defs()


@pytest.mark.e2e
def test_one_date_materializes_from_the_dagster_command_line(tmp_path, sample_export, sample_env):
    database = sample_env["TOAST_DUCKDB_PATH"]
    env = {**os.environ, **sample_env}
    result = materialize_from_the_command_line(date(2024, 4, 4), env, tmp_path, timeout=180)
    assert result.returncode == 0, result.stderr[-3000:]
    truth = next(d for d in sample_export.days if d.business_date.isoformat() == "2024-04-04")
    with duckdb.connect(str(database), read_only=True) as conn:
        orders = conn.execute("SELECT count(*) FROM toast.toast.order_details").fetchone()[0]
        status = conn.execute("SELECT status FROM toast.toast.business_days").fetchall()
    assert orders == truth.rows["order_details"]
    assert status == [("open",)]
