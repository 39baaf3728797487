"""The location's settings, read from the environment when the definitions load (never at import).

Only what shapes the definitions themselves lives here (the partitions need the start date and time
zone before any resource exists). Connection details and secrets are resource config, bound to the
environment with `dagster.EnvVar` in `definitions.py`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

DEFAULT_START_DATE = "2024-03-01"
DEFAULT_TIMEZONE = "America/Chicago"
DEFAULT_LOCATION_ID = "185129"
DEFAULT_DUCKDB_PATH = "data/toast.duckdb"


@dataclass(frozen=True)
class LocationSettings:
    location_id: str = DEFAULT_LOCATION_ID
    start_date: date = date.fromisoformat(DEFAULT_START_DATE)
    timezone: str = DEFAULT_TIMEZONE
    warehouse: str = "duckdb"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> LocationSettings:
        env = os.environ if env is None else env
        start = env.get("TOAST_START_DATE", DEFAULT_START_DATE)
        try:
            start_date = date.fromisoformat(start)
        except ValueError:
            raise ValueError(f"TOAST_START_DATE must be YYYY-MM-DD (or YYYYMMDD), got {start!r}") from None
        timezone = env.get("TOAST_TIMEZONE", DEFAULT_TIMEZONE)
        try:
            ZoneInfo(timezone)
        except Exception:
            raise ValueError(f"TOAST_TIMEZONE must be an IANA zone such as America/Chicago, got {timezone!r}") from None
        warehouse = env.get("TOAST_WAREHOUSE", "duckdb").lower()
        if warehouse not in ("duckdb", "bigquery"):
            raise ValueError(f"TOAST_WAREHOUSE must be 'duckdb' or 'bigquery', got {warehouse!r}")
        return cls(
            location_id=env.get("TOAST_LOCATION_ID", DEFAULT_LOCATION_ID),
            start_date=start_date,
            timezone=timezone,
            warehouse=warehouse,
        )
