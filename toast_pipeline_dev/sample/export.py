"""`generate_export`: a sample export written date by date, with its truth.

It checks the caller's options, plans each date from its own streams (open or closed, and how
a closed date is delivered) and has each date's folder written; the account's files decide which
of the seven Toast files exist at all.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from toast_pipeline.toast.specs import TABLE_SPECS, TableSpec
from toast_pipeline_dev.sample.business_calendar import (
    REQUESTABLE_DELIVERIES,
    DayStreams,
    closing_holidays,
    plan_date,
)
from toast_pipeline_dev.sample.damage import DAMAGE_KINDS, DAMAGEABLE_FILES
from toast_pipeline_dev.sample.day_folder import DayWriter
from toast_pipeline_dev.sample.manifest import SampleExport
from toast_pipeline_dev.sample.menu import MENUS
from toast_pipeline_dev.sample.restaurant import LOCATION_CODE, LOCATION_NAME

# An account configured without these three never receives them (a real account's folders held
# only the other four of the seven, plus the files `other_files` writes).
LEAN_ACCOUNT_OMITS = ("CheckDetails.csv", "CashEntries.csv", "KitchenTimings.csv")
LEAN_ACCOUNT_FILES = tuple(
    s.file_name for s in TABLE_SPECS if s.file_name not in LEAN_ACCOUNT_OMITS
)


def generate_export(
    root: Path,
    *,
    location_id: str = "185129",
    start: date,
    days: int,
    seed: int = 0,
    orders_per_day: int = 80,
    timezone: str = "America/Chicago",
    closed_weekdays: tuple[int, ...] = (),
    holiday_country: str | None = "US",
    random_closure_rate: float = 0.03,
    damaged_dates: Mapping[date, str] | None = None,
    quirks: bool = True,
    quirk_rate: float = 0.1,
    closure_deliveries: Mapping[date, str] | None = None,
    volume_factors: Mapping[date, float] | None = None,
    account_files: Collection[str] | None = None,
    location_name: str = LOCATION_NAME,
    location_code: str = LOCATION_CODE,
    menu: str = "full",
) -> SampleExport:
    """Write `days` business dates from `start` under `root/<location_id>/` and return the truth.

    A date in `damaged_dates` is always open (the caller asked for its files); a date in
    `closure_deliveries` is closed in the given way (an emergency closure unless a rule closes
    it anyway). `quirk_rate` is the chance, per date and quirk kind, that the quirk shows up.
    `volume_factors` scales an open date's orders (a storm at 0.25, a half day at 0.5) so labelled
    exports can hold slow days the caller knows about; it replaces the generator's own random slow
    day on that date. `account_files` are the Toast files this account is configured to receive
    (file names, default all seven; `LEAN_ACCOUNT_FILES` is an account without CheckDetails,
    CashEntries and KitchenTimings): the others are never written, on any date.
    `location_name` and `location_code` fill the files' `Location` and `Location Code` columns, so
    stores of one group can be told apart; `menu` names the part of the menu the store lists
    (`"full"`, or `"cafe"`: no bar, dinner plates, happy hour or holiday menu). The same
    arguments give the same bytes.
    """
    damaged = dict(damaged_dates or {})
    forced = dict(closure_deliveries or {})
    factors = dict(volume_factors or {})
    _validate(
        days, orders_per_day, closed_weekdays, random_closure_rate, quirk_rate, damaged, forced
    )
    if any(f <= 0 for f in factors.values()):
        raise ValueError(f"volume_factors must be positive, got {sorted(factors.values())}")
    if menu not in MENUS:
        raise ValueError(f"unknown menu {menu!r}; expected one of {sorted(MENUS)}")
    specs = _account_specs(account_files, damaged)
    zone = ZoneInfo(timezone)
    location_dir = Path(root) / location_id
    if location_dir.exists() and any(location_dir.iterdir()):
        raise FileExistsError(
            f"{location_dir} already holds an export; generate into a fresh folder"
        )
    location_dir.mkdir(parents=True, exist_ok=True)
    end = start + timedelta(days=max(days - 1, 0))
    holiday_closures = closing_holidays(holiday_country, start, end)

    out = []
    for offset in range(days):
        business_date = start + timedelta(days=offset)
        streams = DayStreams(seed, location_id, business_date)
        closure_kind, delivery = plan_date(
            streams.plan,
            business_date,
            damaged=business_date in damaged,
            forced=forced.get(business_date),
            closed_weekdays=closed_weekdays,
            holiday_closures=holiday_closures,
            random_closure_rate=random_closure_rate,
        )
        folder = location_dir / business_date.strftime("%Y%m%d")
        writer = DayWriter(
            folder,
            streams,
            zone,
            quirks,
            quirk_rate,
            specs,
            MENUS[menu],
            location_name,
            location_code,
        )
        if closure_kind is None:
            day = writer.open_day(
                business_date,
                orders_per_day,
                damaged.get(business_date),
                factors.get(business_date, 1.0),
            )
        else:
            day = writer.closed_day(business_date, closure_kind, delivery)
        out.append(day)
    return SampleExport(location_id=location_id, root=Path(root), days=out, timezone=timezone)


def _validate(
    days: int,
    orders_per_day: int,
    closed_weekdays: tuple[int, ...],
    random_closure_rate: float,
    quirk_rate: float,
    damaged: Mapping[date, str],
    forced: Mapping[date, str],
) -> None:
    if days < 0:
        raise ValueError(f"days must be >= 0, got {days}")
    if orders_per_day < 1:
        raise ValueError(f"orders_per_day must be >= 1, got {orders_per_day}")
    if any(w not in range(7) for w in closed_weekdays):
        raise ValueError(f"closed_weekdays are Python weekday numbers 0-6, got {closed_weekdays}")
    for name, rate in (("random_closure_rate", random_closure_rate), ("quirk_rate", quirk_rate)):
        if not 0 <= rate <= 1:
            raise ValueError(f"{name} must be within [0, 1], got {rate}")
    for kind in damaged.values():
        if kind not in DAMAGE_KINDS:
            raise ValueError(f"unknown damage kind {kind!r}; expected one of {DAMAGE_KINDS}")
    for when, delivery in forced.items():
        if delivery not in REQUESTABLE_DELIVERIES:
            raise ValueError(
                f"unknown closed delivery {delivery!r}; expected one of {REQUESTABLE_DELIVERIES}"
            )
        if when in damaged:
            raise ValueError(f"{when} is both damaged (open) and closed")


def _account_specs(
    account_files: Collection[str] | None, damaged: Mapping[date, str]
) -> tuple[TableSpec, ...]:
    if account_files is None:
        return TABLE_SPECS
    names = set(account_files)
    unknown = names - {s.file_name for s in TABLE_SPECS}
    if unknown or not names:
        raise ValueError(
            f"account_files must be a non-empty set of {[s.file_name for s in TABLE_SPECS]}, "
            f"got {sorted(names)}"
        )
    if damaged and not names & set(DAMAGEABLE_FILES):
        raise ValueError(f"damaged dates need one of {DAMAGEABLE_FILES} among the account's files")
    return tuple(s for s in TABLE_SPECS if s.file_name in names)
