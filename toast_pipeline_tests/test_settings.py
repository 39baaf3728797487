from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from toast_pipeline.settings import LocationSettings, SettingsError

SERVER = {"TOAST_SFTP_HOST": "s-1234.server.transfer.us-east-1.amazonaws.com"}
LOCATION = {"TOAST_LOCATION_ID": "42", "TOAST_START_DATE": "2024-01-05"}


def test_without_a_server_the_location_is_unconfigured_but_loads():
    """No demo or example location stands in: nothing to read from, one partition to browse."""
    settings = LocationSettings.from_env({})
    yesterday = datetime.now(ZoneInfo("America/Chicago")).date() - timedelta(days=1)
    assert settings == LocationSettings(location_id="", start_date=yesterday, has_server=False)
    assert not settings.watches_server


def test_without_a_server_a_given_location_and_start_date_are_kept():
    settings = LocationSettings.from_env(LOCATION)
    assert (settings.location_id, settings.start_date, settings.has_server) == (
        "42",
        date(2024, 1, 5),
        False,
    )


def test_a_server_with_its_location_is_configured():
    settings = LocationSettings.from_env({**SERVER, **LOCATION})
    assert settings == LocationSettings("42", date(2024, 1, 5))
    assert settings.has_server and settings.watches_server
    archive = LocationSettings.from_env({"TOAST_SOURCE": "archive", **LOCATION})
    assert (archive.source, archive.has_server, archive.watches_server) == ("archive", True, False)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            SERVER,
            r"^TOAST_LOCATION_ID \(the location's folder number on the server\) and "
            r"TOAST_START_DATE \(the first business date to load, YYYY-MM-DD\) must be set when "
            r"TOAST_SFTP_HOST is set$",
        ),
        (
            {**SERVER, "TOAST_START_DATE": "2024-01-05"},
            r"^TOAST_LOCATION_ID \(.*\) must be set when TOAST_SFTP_HOST is set$",
        ),
        (
            {**SERVER, "TOAST_LOCATION_ID": "42"},
            r"^TOAST_START_DATE \(.*\) must be set when TOAST_SFTP_HOST is set$",
        ),
        (
            {"TOAST_SOURCE": "archive", "TOAST_LOCATION_ID": "42"},
            r"^TOAST_START_DATE \(.*\) must be set when TOAST_SOURCE=archive$",
        ),
    ],
)
def test_a_server_needs_the_location_and_the_start_date(env, message):
    with pytest.raises(SettingsError, match=message):
        LocationSettings.from_env(env)


def test_run_retries_can_be_turned_off():
    env = {"TOAST_RUN_RETRIES": "0", "TOAST_RUN_RETRY_DELAY_SECONDS": "5"}
    settings = LocationSettings.from_env(env)
    assert (settings.run_retries, settings.run_retry_delay_seconds) == (0, 5)


def test_settings_from_environment_accept_basic_dates():
    env = {
        **SERVER,
        "TOAST_LOCATION_ID": "42",
        "TOAST_START_DATE": "20240105",
        "TOAST_TIMEZONE": "Europe/Paris",
    }
    assert LocationSettings.from_env(env) == LocationSettings(
        "42", date(2024, 1, 5), "Europe/Paris"
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"TOAST_TIMEZONE": "Central"}, "TOAST_TIMEZONE must be an IANA zone"),
        ({"TOAST_START_DATE": "04/01/2024"}, "TOAST_START_DATE must be YYYY-MM-DD"),
        ({"TOAST_WAREHOUSE": "snowflake"}, "TOAST_WAREHOUSE must be 'duckdb'"),
        ({"TOAST_SOURCE": "s3"}, "TOAST_SOURCE must be 'sftp' or 'archive', got 's3'"),
        ({"TOAST_RUN_RETRIES": "-1"}, "TOAST_RUN_RETRIES must be a whole number of at least 0"),
        (
            {"TOAST_BACKFILL_BATCH_SIZE": "0"},
            "TOAST_BACKFILL_BATCH_SIZE must be a whole number of at least 1",
        ),
    ],
)
def test_bad_settings_are_clear_errors(env, message):
    with pytest.raises(ValueError, match=message):
        LocationSettings.from_env(env)
