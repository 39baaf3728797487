"""The group's settings: the TOAST_* environment (and the locations file) parsed once, when the
definitions load.

A Toast export login belongs to a restaurant group and sees one numbered folder per location. The
environment holds the group's defaults; `TOAST_LOCATIONS` (or the single `TOAST_LOCATION_ID`) lists
the locations to load, else they are discovered from the server's numbered folders; the locations
file (`TOAST_LOCATIONS_FILE`, TOML) gives a location its own start date, time zone, holidays and
display name.

Only what shapes the definitions and picks the resources lives here (the partitions need the start
date and time zone before any resource exists). Connection details and secrets are resource config,
read by `defs/factories.py` and bound to the environment with `dagster.EnvVar`.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays

DEFAULT_TIMEZONE = "America/Chicago"
# Dates of one location per backfill run: two years and a day, so a location's whole history is
# usually one run. Each run pays a process start and the code location's load (about 3-5 s); a
# run writes, materializes and fails each date on its own whatever its size, holds a bounded
# number of dates in memory, and on DuckDB runs take turns anyway.
DEFAULT_BATCH_SIZE = 731
SOURCES = ("sftp", "archive")
WAREHOUSES = ("duckdb", "bigquery")
# Required as soon as there is something to read from: no demo or example value stands in.
REQUIRED = {"TOAST_START_DATE": "the first business date to load, YYYY-MM-DD"}
# Toast names each location's folder by its number; anything else under the root is not one.
LOCATION_FOLDER = re.compile(r"^[0-9]+$")
# What a location may set for itself in the locations file; the rest is the group's.
LOCATION_KEYS = ("name", "start_date", "timezone", "holiday_country", "holiday_subdivision")


class SettingsError(ValueError):
    """A TOAST_* variable is missing or malformed; the message names it."""


def is_location_folder(name: str) -> bool:
    return bool(LOCATION_FOLDER.match(name))


@dataclass(frozen=True)
class LocationSettings:
    """One location: the group's defaults with what the locations file sets for it."""

    location_id: str
    start_date: date
    timezone: str = DEFAULT_TIMEZONE
    holiday_country: str | None = "US"
    holiday_subdivision: str | None = None
    name: str | None = None  # the store's name, as Toast's `Location` column gives it

    @property
    def display_name(self) -> str:
        return f"{self.name} ({self.location_id})" if self.name else self.location_id


@dataclass(frozen=True)
class GroupSettings:
    """The group: shared settings, the defaults every location starts from, and the locations."""

    start_date: date
    timezone: str = DEFAULT_TIMEZONE
    warehouse: str = "duckdb"
    # Where exports are read from: Toast's SFTP server, or the raw archive (to rebuild from it).
    source: str = "sftp"
    # False when neither a server (TOAST_SFTP_HOST) nor the archive source is configured: the
    # location still loads, to be browsed, but starts nothing on its own.
    has_server: bool = True
    # Dates per backfill run: a run costs seconds to start, a date a fraction of one.
    batch_size: int = DEFAULT_BATCH_SIZE
    sensor_interval_seconds: int = 120
    # A folder still changing after this long is loaded anyway (Toast finishes within an hour).
    folder_max_wait: timedelta = timedelta(hours=3)
    schedule_time: tuple[int, int] = (6, 0)
    # A run that cannot reach the server is retried by Dagster (the resource already retried
    # each request for seconds): this many times, waiting this long, doubling.
    run_retries: int = 2
    run_retry_delay_seconds: int = 60
    holiday_country: str | None = "US"  # public holidays the closure rules and analysis know
    holiday_subdivision: str | None = None  # a state or province, e.g. TX
    # The locations to load, in order; empty: every numbered folder the server has.
    locations: tuple[str, ...] = ()
    # Per location, what the locations file sets (keys of LOCATION_KEYS).
    overrides: Mapping[str, Mapping[str, object]] = field(default_factory=dict)

    @property
    def watches_server(self) -> bool:
        """Whether the new-folder sensor has a server to list (else it would fail every tick)."""
        return self.has_server and self.source == "sftp"

    @property
    def discovers_locations(self) -> bool:
        """No list given: locations are the server's numbered folders, found as they appear."""
        return not self.locations

    @property
    def first_date(self) -> date:
        """The earliest start date of any location: where the date partitions begin."""
        starts = [o["start_date"] for o in self.overrides.values() if "start_date" in o]
        return min([self.start_date, *starts])

    @property
    def timezones(self) -> list[str]:
        """The group's zone, then any other zone a location sets, in file order."""
        own = [str(o["timezone"]) for o in self.overrides.values() if "timezone" in o]
        return list(dict.fromkeys([self.timezone, *own]))

    @property
    def partition_timezone(self) -> str:
        """The zone of the date partitions: of the group's zones, the one whose day starts first
        (the group's own on a tie), so every location's yesterday is already a partition when its
        schedule asks for it."""
        noon = datetime.combine(self.first_date, time(12), tzinfo=ZoneInfo("UTC"))
        return max(
            self.timezones,
            key=lambda zone: (noon.astimezone(ZoneInfo(zone)).utcoffset(), zone == self.timezone),
        )

    def location(self, location_id: str) -> LocationSettings:
        own = self.overrides.get(location_id, {})
        return LocationSettings(
            location_id=location_id,
            start_date=own.get("start_date", self.start_date),
            timezone=own.get("timezone", self.timezone),
            holiday_country=own.get("holiday_country", self.holiday_country),
            holiday_subdivision=own.get("holiday_subdivision", self.holiday_subdivision),
            name=own.get("name"),
        )

    def accepts(self, location_id: str) -> bool:
        """Whether a folder of the server is one of the group's locations to load."""
        if self.locations:
            return location_id in self.locations
        return is_location_folder(location_id)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> GroupSettings:
        env = os.environ if env is None else env
        timezone = _timezone(env.get("TOAST_TIMEZONE", DEFAULT_TIMEZONE), "TOAST_TIMEZONE")
        source = _choice(env, "TOAST_SOURCE", SOURCES)
        has_server = source == "archive" or bool(env.get("TOAST_SFTP_HOST"))
        missing = [f"{name} ({meaning})" for name, meaning in REQUIRED.items() if not env.get(name)]
        if has_server and missing:
            reason = "TOAST_SOURCE=archive" if source == "archive" else "TOAST_SFTP_HOST is set"
            raise SettingsError(f"{' and '.join(missing)} must be set when {reason}")
        start = env.get("TOAST_START_DATE")
        if start:
            start_date = _date(start, "TOAST_START_DATE")
        else:
            # Nothing to load from: one partition (yesterday) is enough to browse the location.
            start_date = datetime.now(ZoneInfo(timezone)).date() - timedelta(days=1)
        warehouse = _choice(env, "TOAST_WAREHOUSE", WAREHOUSES)
        schedule = env.get("TOAST_SCHEDULE_TIME", "06:00")
        try:
            at = time.fromisoformat(schedule)
        except ValueError:
            raise SettingsError(f"TOAST_SCHEDULE_TIME must be HH:MM, got {schedule!r}") from None
        country = _country(env.get("TOAST_HOLIDAY_COUNTRY", "US"))
        subdivision = env.get("TOAST_HOLIDAY_SUBDIVISION", "").strip() or None
        _check_holidays(country, subdivision, "TOAST_HOLIDAY_COUNTRY/SUBDIVISION")
        overrides = (
            read_locations_file(Path(env["TOAST_LOCATIONS_FILE"]), country, subdivision)
            if env.get("TOAST_LOCATIONS_FILE")
            else {}
        )
        return cls(
            locations=_locations(env),
            overrides=overrides,
            start_date=start_date,
            timezone=timezone,
            warehouse=warehouse,
            source=source,
            has_server=has_server,
            batch_size=_whole(env, "TOAST_BACKFILL_BATCH_SIZE", DEFAULT_BATCH_SIZE),
            sensor_interval_seconds=_whole(env, "TOAST_SENSOR_INTERVAL_SECONDS", 120),
            folder_max_wait=timedelta(minutes=_whole(env, "TOAST_FOLDER_MAX_WAIT_MINUTES", 180)),
            schedule_time=(at.hour, at.minute),
            run_retries=_whole(env, "TOAST_RUN_RETRIES", 2, minimum=0),
            run_retry_delay_seconds=_whole(env, "TOAST_RUN_RETRY_DELAY_SECONDS", 60),
            holiday_country=country,
            holiday_subdivision=subdivision,
        )


def _locations(env: Mapping[str, str]) -> tuple[str, ...]:
    """TOAST_LOCATIONS (comma- or space-separated), else TOAST_LOCATION_ID as a one-location group."""
    name, listed = "TOAST_LOCATIONS", env.get("TOAST_LOCATIONS", "").replace(",", " ").split()
    if not listed and env.get("TOAST_LOCATION_ID", "").strip():
        name, listed = "TOAST_LOCATION_ID", [env["TOAST_LOCATION_ID"].strip()]
    for location_id in listed:
        if not is_location_folder(location_id):
            raise SettingsError(
                f"{name}: {location_id!r} is not a location folder number (digits only)"
            )
    return tuple(dict.fromkeys(listed))


def read_locations_file(
    path: Path, country: str | None, subdivision: str | None
) -> dict[str, dict[str, object]]:
    """The locations file: a `[locations."<number>"]` table per location, each key optional.

    ```toml
    [locations."185129"]
    name = "Bistro on Main"
    start_date = 2024-03-01
    timezone = "America/Chicago"
    holiday_subdivision = "IL"
    ```
    """
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SettingsError(f"TOAST_LOCATIONS_FILE: no file {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}: not valid TOML: {exc}") from None
    unknown = set(document) - {"locations"}
    if unknown:
        raise SettingsError(
            f'{path}: unknown top-level keys {sorted(unknown)}; expected [locations."<number>"]'
        )
    found: dict[str, dict[str, object]] = {}
    for location_id, table in document.get("locations", {}).items():
        where = f'{path}: [locations."{location_id}"]'
        if not is_location_folder(location_id) or not isinstance(table, dict):
            raise SettingsError(f"{where}: expected a table named by the location's folder number")
        extra = set(table) - set(LOCATION_KEYS)
        if extra:
            raise SettingsError(
                f"{where}: unknown keys {sorted(extra)}; allowed {list(LOCATION_KEYS)}"
            )
        own: dict[str, object] = {}
        if "name" in table:
            own["name"] = str(table["name"])
        if "start_date" in table:
            value = table["start_date"]
            # A TOML date is kept; a TOML date-time (a `date` too) is refused like any other value.
            own["start_date"] = (
                value if type(value) is date else _date(str(value), f"{where} start_date")
            )
        if "timezone" in table:
            own["timezone"] = _timezone(str(table["timezone"]), f"{where} timezone")
        if "holiday_country" in table:
            own["holiday_country"] = _country(str(table["holiday_country"]))
        if "holiday_subdivision" in table:
            own["holiday_subdivision"] = str(table["holiday_subdivision"]).strip() or None
        _check_holidays(
            own.get("holiday_country", country),
            own.get("holiday_subdivision", subdivision),
            f"{where} holidays",
        )
        found[location_id] = own
    return found


def _timezone(value: str, where: str) -> str:
    try:
        ZoneInfo(value)
    except Exception:
        raise SettingsError(
            f"{where} must be an IANA zone such as America/Chicago, got {value!r}"
        ) from None
    return value


def _date(value: str, where: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise SettingsError(f"{where} must be YYYY-MM-DD (or YYYYMMDD), got {value!r}") from None


def _country(value: str) -> str | None:
    value = value.strip()
    return None if not value or value.lower() == "none" else value


def _check_holidays(country: str | None, subdivision: str | None, where: str) -> None:
    if country:
        try:
            holidays.country_holidays(country, subdiv=subdivision)
        except NotImplementedError as exc:
            raise SettingsError(f"{where}: {exc}") from None


def _choice(env: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str:
    """One of `choices`, the first being the default."""
    value = env.get(name, choices[0]).lower()
    if value not in choices:
        raise SettingsError(f"{name} must be {' or '.join(map(repr, choices))}, got {value!r}")
    return value


def _whole(env: Mapping[str, str], name: str, default: int, minimum: int = 1) -> int:
    value = env.get(name, str(default))
    if not value.isdigit() or int(value) < minimum:
        raise SettingsError(f"{name} must be a whole number of at least {minimum}, got {value!r}")
    return int(value)
