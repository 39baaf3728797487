import re
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from toast_pipeline.settings import GroupSettings, LocationSettings, SettingsError

SERVER = {"TOAST_SFTP_HOST": "s-1234.server.transfer.us-east-1.amazonaws.com"}
LOCATION = {"TOAST_LOCATION_ID": "42", "TOAST_START_DATE": "2024-01-05"}


def test_without_a_server_the_group_is_unconfigured_but_loads():
    """No demo or example location stands in: nothing to read from, one partition to browse."""
    settings = GroupSettings.from_env({})
    yesterday = datetime.now(ZoneInfo("America/Chicago")).date() - timedelta(days=1)
    assert settings == GroupSettings(start_date=yesterday, has_server=False)
    assert not settings.watches_server


def test_without_a_server_a_given_location_and_start_date_are_kept():
    settings = GroupSettings.from_env(LOCATION)
    assert (settings.locations, settings.start_date, settings.has_server) == (
        ("42",),
        date(2024, 1, 5),
        False,
    )


def test_a_server_with_its_location_is_configured():
    settings = GroupSettings.from_env({**SERVER, **LOCATION})
    assert settings == GroupSettings(date(2024, 1, 5), locations=("42",))
    assert settings.has_server and settings.watches_server
    archive = GroupSettings.from_env({"TOAST_SOURCE": "archive", **LOCATION})
    assert (archive.source, archive.has_server, archive.watches_server) == ("archive", True, False)


def test_a_server_without_a_location_discovers_them():
    """TOAST_LOCATION_ID is no longer required: the server's numbered folders are the group."""
    settings = GroupSettings.from_env({**SERVER, "TOAST_START_DATE": "2024-01-05"})
    assert (settings.locations, settings.discovers_locations) == ((), True)
    assert [settings.accepts(name) for name in ("185129", "7", "archive", "185129-old")] == [
        True,
        True,
        False,
        False,
    ]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            SERVER,
            r"^TOAST_START_DATE \(the first business date to load, YYYY-MM-DD\) must be set when "
            r"TOAST_SFTP_HOST is set$",
        ),
        (
            {**SERVER, "TOAST_LOCATION_ID": "42"},
            r"^TOAST_START_DATE \(.*\) must be set when TOAST_SFTP_HOST is set$",
        ),
        (
            {"TOAST_SOURCE": "archive", "TOAST_LOCATIONS": "42"},
            r"^TOAST_START_DATE \(.*\) must be set when TOAST_SOURCE=archive$",
        ),
    ],
)
def test_a_server_needs_the_start_date(env, message):
    with pytest.raises(SettingsError, match=message):
        GroupSettings.from_env(env)


@pytest.mark.parametrize(
    ("env", "locations"),
    [
        ({"TOAST_LOCATIONS": "185129,185342"}, ("185129", "185342")),
        ({"TOAST_LOCATIONS": " 185129  185342 "}, ("185129", "185342")),
        ({"TOAST_LOCATIONS": "185342, 185129,,7"}, ("185342", "185129", "7")),
        ({"TOAST_LOCATIONS": "185129,185342 185129"}, ("185129", "185342")),
        ({"TOAST_LOCATION_ID": " 185129 "}, ("185129",)),
        # The list wins over the single location.
        ({"TOAST_LOCATIONS": "185342", "TOAST_LOCATION_ID": "185129"}, ("185342",)),
        ({"TOAST_LOCATIONS": " , ", "TOAST_LOCATION_ID": "185129"}, ("185129",)),
        ({"TOAST_LOCATIONS": "", "TOAST_LOCATION_ID": ""}, ()),
    ],
)
def test_locations_are_listed_in_order_without_duplicates(env, locations):
    settings = GroupSettings.from_env(env)
    assert (settings.locations, settings.discovers_locations) == (locations, not locations)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"TOAST_LOCATIONS": "185129,bistro"},
            "TOAST_LOCATIONS: 'bistro' is not a location folder number (digits only)",
        ),
        (
            {"TOAST_LOCATIONS": "185129;185342"},
            "TOAST_LOCATIONS: '185129;185342' is not a location folder number (digits only)",
        ),
        (
            {"TOAST_LOCATION_ID": "-42"},
            "TOAST_LOCATION_ID: '-42' is not a location folder number (digits only)",
        ),
    ],
)
def test_a_location_that_is_not_a_folder_number_is_refused(env, message):
    with pytest.raises(SettingsError, match=f"^{re.escape(message)}$"):
        GroupSettings.from_env(env)


def test_a_listed_location_only_accepts_its_own_folders():
    settings = GroupSettings.from_env({"TOAST_LOCATIONS": "185129 185342"})
    assert [settings.accepts(name) for name in ("185129", "185342", "999")] == [True, True, False]


def test_run_retries_can_be_turned_off():
    env = {"TOAST_RUN_RETRIES": "0", "TOAST_RUN_RETRY_DELAY_SECONDS": "5"}
    settings = GroupSettings.from_env(env)
    assert (settings.run_retries, settings.run_retry_delay_seconds) == (0, 5)


def test_settings_from_environment_accept_basic_dates():
    env = {
        **SERVER,
        "TOAST_LOCATION_ID": "42",
        "TOAST_START_DATE": "20240105",
        "TOAST_TIMEZONE": "Europe/Paris",
    }
    assert GroupSettings.from_env(env) == GroupSettings(
        date(2024, 1, 5), "Europe/Paris", locations=("42",)
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
        (
            {"TOAST_HOLIDAY_SUBDIVISION": "ZZ"},
            "TOAST_HOLIDAY_COUNTRY/SUBDIVISION: Entity `US` does not have subdivision ZZ",
        ),
    ],
)
def test_bad_settings_are_clear_errors(env, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        GroupSettings.from_env(env)


# The locations file ---------------------------------------------------------------------------

GROUP = {
    "TOAST_LOCATIONS": "185129,185342,185777",
    "TOAST_START_DATE": "2024-04-01",
    "TOAST_HOLIDAY_SUBDIVISION": "IL",
}
FILE = """
[locations."185342"]
name = "Café on Colfax"
start_date = 2024-03-15
timezone = "America/Denver"
holiday_country = "US"
holiday_subdivision = "CO"

[locations.185777]
name = "Bistro on Main"
start_date = "20240410"
"""


def with_file(tmp_path: Path, text: str, env: dict[str, str] = GROUP) -> GroupSettings:
    path = tmp_path / "locations.toml"
    path.write_text(text, encoding="utf-8")
    return GroupSettings.from_env({**env, "TOAST_LOCATIONS_FILE": str(path)})


def test_the_locations_file_sets_every_key_of_a_location(tmp_path):
    settings = with_file(tmp_path, FILE)
    assert settings.overrides == {
        "185342": {
            "name": "Café on Colfax",
            "start_date": date(2024, 3, 15),
            "timezone": "America/Denver",
            "holiday_country": "US",
            "holiday_subdivision": "CO",
        },
        "185777": {"name": "Bistro on Main", "start_date": date(2024, 4, 10)},
    }


def test_a_location_s_own_settings_override_the_group_s_defaults(tmp_path):
    settings = with_file(tmp_path, FILE)
    assert [settings.location(i) for i in settings.locations] == [
        LocationSettings("185129", date(2024, 4, 1), "America/Chicago", "US", "IL", None),
        LocationSettings(
            "185342", date(2024, 3, 15), "America/Denver", "US", "CO", "Café on Colfax"
        ),
        LocationSettings(
            "185777", date(2024, 4, 10), "America/Chicago", "US", "IL", "Bistro on Main"
        ),
    ]
    assert [settings.location(i).display_name for i in settings.locations] == [
        "185129",
        "Café on Colfax (185342)",
        "Bistro on Main (185777)",
    ]


def test_a_location_can_turn_holidays_off_or_use_another_country(tmp_path):
    settings = with_file(
        tmp_path,
        '[locations."185129"]\nholiday_country = "none"\n'
        '[locations."185342"]\nholiday_country = "CA"\nholiday_subdivision = "ON"\n'
        '[locations."185777"]\nholiday_subdivision = ""\n',
    )
    assert [
        (settings.location(i).holiday_country, settings.location(i).holiday_subdivision)
        for i in settings.locations
    ] == [(None, "IL"), ("CA", "ON"), ("US", None)]


@pytest.mark.parametrize(
    ("text", "first"),
    [
        ("", date(2024, 4, 1)),
        ('[locations."185342"]\nstart_date = 2024-04-20\n', date(2024, 4, 1)),
        (FILE, date(2024, 3, 15)),
        (
            '[locations."185342"]\nstart_date = 2024-03-15\n'
            '[locations."185777"]\nstart_date = 2023-12-31\n',
            date(2023, 12, 31),
        ),
    ],
)
def test_the_first_date_is_the_earliest_start_of_any_location(tmp_path, text, first):
    assert with_file(tmp_path, text).first_date == first


def test_a_discovered_location_takes_its_settings_from_the_file(tmp_path):
    """The file may name locations the server has yet to show; they apply once found."""
    settings = with_file(tmp_path, FILE, {"TOAST_START_DATE": "2024-04-01"})
    assert settings.discovers_locations
    assert settings.location("185342").timezone == "America/Denver"
    assert settings.location("999").start_date == date(2024, 4, 1)


WHERE = '[locations."185342"]'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[locations."185342"\nname = "x"\n', "{path}: not valid TOML: "),
        ('name = "x"\n', "{path}: unknown top-level keys ['name']; expected"),
        (
            f'{WHERE}\ncolour = "red"\n',
            "{path}: " + WHERE + ": unknown keys ['colour']; allowed ['name', 'start_date', "
            "'timezone', 'holiday_country', 'holiday_subdivision']",
        ),
        (
            '[locations.cafe]\nname = "x"\n',
            '{path}: [locations."cafe"]: expected a table named by the location\'s folder number',
        ),
        (
            f'{WHERE}\nstart_date = "2024-02-30"\n',
            "{path}: " + WHERE + " start_date must be YYYY-MM-DD (or YYYYMMDD), got '2024-02-30'",
        ),
        (
            f"{WHERE}\nstart_date = 2024-03-15T06:00:00\n",
            "{path}: " + WHERE + " start_date must be YYYY-MM-DD (or YYYYMMDD), got "
            "'2024-03-15 06:00:00'",
        ),
        (
            f'{WHERE}\ntimezone = "Mountain"\n',
            "{path}: " + WHERE + " timezone must be an IANA zone such as America/Chicago, got "
            "'Mountain'",
        ),
        (
            f'{WHERE}\nholiday_subdivision = "ZZ"\n',
            "{path}: " + WHERE + " holidays: Entity `US` does not have subdivision ZZ",
        ),
        (
            f'{WHERE}\nholiday_country = "CA"\n',
            "{path}: " + WHERE + " holidays: Entity `CA` does not have subdivision IL",
        ),
    ],
)
def test_a_bad_locations_file_is_a_clear_error_naming_the_file_and_table(tmp_path, text, message):
    path = tmp_path / "locations.toml"
    with pytest.raises(SettingsError, match=f"^{re.escape(message.format(path=path))}"):
        with_file(tmp_path, text)


def test_a_missing_locations_file_is_a_clear_error(tmp_path):
    path = tmp_path / "nowhere.toml"
    with pytest.raises(
        SettingsError, match=f"^TOAST_LOCATIONS_FILE: no file {re.escape(str(path))}$"
    ):
        GroupSettings.from_env({**GROUP, "TOAST_LOCATIONS_FILE": str(path)})


@pytest.mark.parametrize(
    ("zones", "expected"),
    [
        (["America/Chicago"], "America/Chicago"),
        # Denver's day starts an hour after Chicago's: Chicago's dates are partitions first.
        (["America/Chicago", "America/Denver"], "America/Chicago"),
        (["America/Denver", "America/New_York"], "America/New_York"),
        # Same offset as the group's own zone: the group's is kept.
        (["America/Chicago", "America/Winnipeg"], "America/Chicago"),
    ],
)
def test_the_date_partitions_follow_the_zone_whose_day_starts_first(zones, expected):
    settings = GroupSettings(
        date(2024, 4, 1),
        timezone=zones[0],
        overrides={str(i): {"timezone": zone} for i, zone in enumerate(zones[1:], 1)},
    )
    assert settings.timezones == zones
    assert settings.partition_timezone == expected


def test_the_example_locations_file_is_valid():
    example = Path(__file__).parents[1] / "toast_locations.example.toml"
    settings = GroupSettings.from_env({"TOAST_LOCATIONS_FILE": str(example)})
    assert settings.overrides and all(o.get("name") for o in settings.overrides.values())
