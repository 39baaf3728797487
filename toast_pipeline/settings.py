"""The location's settings: the TOAST_* environment parsed once, when the definitions load.

Only what shapes the definitions and picks the resources lives here (the partitions need the start
date and time zone before any resource exists). Connection details and secrets are resource config,
read by `defs/factories.py` and bound to the environment with `dagster.EnvVar`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays

DEFAULT_TIMEZONE = "America/Chicago"
DEFAULT_BATCH_SIZE = 31
SOURCES = ("sftp", "archive")
WAREHOUSES = ("duckdb", "bigquery")
# Required as soon as there is something to read from: no demo or example value stands in.
REQUIRED = {
    "TOAST_LOCATION_ID": "the location's folder number on the server",
    "TOAST_START_DATE": "the first business date to load, YYYY-MM-DD",
}


class SettingsError(ValueError):
    """A TOAST_* variable is missing or malformed; the message names it."""


@dataclass(frozen=True)
class LocationSettings:
    location_id: str
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

    @property
    def watches_server(self) -> bool:
        """Whether the new-folder sensor has a server to list (else it would fail every tick)."""
        return self.has_server and self.source == "sftp"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> LocationSettings:
        env = os.environ if env is None else env
        timezone = env.get("TOAST_TIMEZONE", DEFAULT_TIMEZONE)
        try:
            ZoneInfo(timezone)
        except Exception:
            raise SettingsError(
                f"TOAST_TIMEZONE must be an IANA zone such as America/Chicago, got {timezone!r}"
            ) from None
        source = _choice(env, "TOAST_SOURCE", SOURCES)
        has_server = source == "archive" or bool(env.get("TOAST_SFTP_HOST"))
        missing = [f"{name} ({meaning})" for name, meaning in REQUIRED.items() if not env.get(name)]
        if has_server and missing:
            reason = "TOAST_SOURCE=archive" if source == "archive" else "TOAST_SFTP_HOST is set"
            raise SettingsError(f"{' and '.join(missing)} must be set when {reason}")
        start = env.get("TOAST_START_DATE")
        if start:
            try:
                start_date = date.fromisoformat(start)
            except ValueError:
                raise SettingsError(
                    f"TOAST_START_DATE must be YYYY-MM-DD (or YYYYMMDD), got {start!r}"
                ) from None
        else:
            # Nothing to load from: one partition (yesterday) is enough to browse the location.
            start_date = datetime.now(ZoneInfo(timezone)).date() - timedelta(days=1)
        warehouse = _choice(env, "TOAST_WAREHOUSE", WAREHOUSES)
        schedule = env.get("TOAST_SCHEDULE_TIME", "06:00")
        try:
            at = time.fromisoformat(schedule)
        except ValueError:
            raise SettingsError(f"TOAST_SCHEDULE_TIME must be HH:MM, got {schedule!r}") from None
        country = env.get("TOAST_HOLIDAY_COUNTRY", "US").strip() or None
        subdivision = env.get("TOAST_HOLIDAY_SUBDIVISION", "").strip() or None
        if country and country.lower() == "none":
            country = None
        if country:
            try:
                holidays.country_holidays(country, subdiv=subdivision)
            except NotImplementedError as exc:
                raise SettingsError(f"TOAST_HOLIDAY_COUNTRY/SUBDIVISION: {exc}") from None
        return cls(
            location_id=env.get("TOAST_LOCATION_ID", ""),
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
