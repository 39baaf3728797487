from datetime import date

import pytest

from toast_pipeline.settings import LocationSettings


def test_defaults_without_environment():
    assert LocationSettings.from_env({}) == LocationSettings()


def test_settings_from_environment_accept_basic_dates():
    env = {"TOAST_LOCATION_ID": "42", "TOAST_START_DATE": "20240105", "TOAST_TIMEZONE": "Europe/Paris"}
    assert LocationSettings.from_env(env) == LocationSettings("42", date(2024, 1, 5), "Europe/Paris")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"TOAST_TIMEZONE": "Central"}, "TOAST_TIMEZONE must be an IANA zone"),
        ({"TOAST_START_DATE": "04/01/2024"}, "TOAST_START_DATE must be YYYY-MM-DD"),
        ({"TOAST_WAREHOUSE": "snowflake"}, "TOAST_WAREHOUSE must be 'duckdb'"),
    ],
)
def test_bad_settings_are_clear_errors(env, message):
    with pytest.raises(ValueError, match=message):
        LocationSettings.from_env(env)
