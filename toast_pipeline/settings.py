"""The location's settings, read from the environment when the definitions load (never at import).

Only what shapes the definitions themselves lives here (the partitions need the start date and time
zone before any resource exists). Connection details and secrets are resource config, bound to the
environment with `dagster.EnvVar` in `definitions.py`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

import holidays

DEFAULT_START_DATE = "2024-03-01"
DEFAULT_TIMEZONE = "America/Chicago"
DEFAULT_LOCATION_ID = "185129"
DEFAULT_DUCKDB_PATH = "data/toast.duckdb"
DEFAULT_BATCH_SIZE = 31


@dataclass(frozen=True)
class LocationSettings:
    location_id: str = DEFAULT_LOCATION_ID
    start_date: date = date.fromisoformat(DEFAULT_START_DATE)
    timezone: str = DEFAULT_TIMEZONE
    warehouse: str = "duckdb"
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

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> LocationSettings:
        env = os.environ if env is None else env
        start = env.get("TOAST_START_DATE", DEFAULT_START_DATE)
        try:
            start_date = date.fromisoformat(start)
        except ValueError:
            raise ValueError(
                f"TOAST_START_DATE must be YYYY-MM-DD (or YYYYMMDD), got {start!r}"
            ) from None
        timezone = env.get("TOAST_TIMEZONE", DEFAULT_TIMEZONE)
        try:
            ZoneInfo(timezone)
        except Exception:
            raise ValueError(
                f"TOAST_TIMEZONE must be an IANA zone such as America/Chicago, got {timezone!r}"
            ) from None
        warehouse = env.get("TOAST_WAREHOUSE", "duckdb").lower()
        schedule = env.get("TOAST_SCHEDULE_TIME", "06:00")
        try:
            at = time.fromisoformat(schedule)
        except ValueError:
            raise ValueError(f"TOAST_SCHEDULE_TIME must be HH:MM, got {schedule!r}") from None
        country = env.get("TOAST_HOLIDAY_COUNTRY", "US").strip() or None
        subdivision = env.get("TOAST_HOLIDAY_SUBDIVISION", "").strip() or None
        if country and country.lower() == "none":
            country = None
        if country:
            try:
                holidays.country_holidays(country, subdiv=subdivision)
            except NotImplementedError as exc:
                raise ValueError(f"TOAST_HOLIDAY_COUNTRY/SUBDIVISION: {exc}") from None
        if warehouse not in ("duckdb", "bigquery"):
            raise ValueError(f"TOAST_WAREHOUSE must be 'duckdb' or 'bigquery', got {warehouse!r}")
        return cls(
            location_id=env.get("TOAST_LOCATION_ID", DEFAULT_LOCATION_ID),
            start_date=start_date,
            timezone=timezone,
            warehouse=warehouse,
            batch_size=_whole(env, "TOAST_BACKFILL_BATCH_SIZE", DEFAULT_BATCH_SIZE),
            sensor_interval_seconds=_whole(env, "TOAST_SENSOR_INTERVAL_SECONDS", 120),
            folder_max_wait=timedelta(minutes=_whole(env, "TOAST_FOLDER_MAX_WAIT_MINUTES", 180)),
            schedule_time=(at.hour, at.minute),
            run_retries=_whole(env, "TOAST_RUN_RETRIES", 2, minimum=0),
            run_retry_delay_seconds=_whole(env, "TOAST_RUN_RETRY_DELAY_SECONDS", 60),
            holiday_country=country,
            holiday_subdivision=subdivision,
        )


def _whole(env: Mapping[str, str], name: str, default: int, minimum: int = 1) -> int:
    value = env.get(name, str(default))
    if not value.isdigit() or int(value) < minimum:
        raise ValueError(f"{name} must be a whole number of at least {minimum}, got {value!r}")
    return int(value)
