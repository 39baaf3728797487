from datetime import date

import pytest

from toast_pipeline.settings import LocationSettings


def test_defaults_without_environment():
    assert LocationSettings.from_env({}) == LocationSettings()


def test_run_retries_can_be_turned_off():
    env = {"TOAST_RUN_RETRIES": "0", "TOAST_RUN_RETRY_DELAY_SECONDS": "5"}
    settings = LocationSettings.from_env(env)
    assert (settings.run_retries, settings.run_retry_delay_seconds) == (0, 5)


def test_settings_from_environment_accept_basic_dates():
    env = {
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
