"""A sample Toast nightly export: realistic CSV folders plus the ground truth they were made from.

The demo, the tests and the benchmark need exports that behave like the real thing (closed days
delivered in all the ways Toast delivers them, header drift, damaged files) while still knowing
exactly what each day contained. `generate_export` writes `root/<location>/<YYYYMMDD>/*.csv` and
returns a `SampleExport` whose manifest is that truth.

Every date draws from its own seeded random streams (one for the day's plan, one for its sales,
one for its quirks), so a date's files depend only on the seed, the location and the date: a
five-day export is the first five days of a sixty-day one, and switching quirks off changes the
formatting, never the sales.

Rows are built a table at a time (random draws in plain lists, arithmetic, joins and formatting
in polars) and written by polars' CSV writer, so a year of a busy restaurant takes seconds.
"""

from __future__ import annotations

import argparse
import io
import itertools
import json
import os
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays
import polars as pl

from toast_pipeline.export.specs import (
    ALL_ITEMS_REPORT,
    CASH_ENTRIES,
    CHECK_DETAILS,
    ITEM_SELECTION_DETAILS,
    KITCHEN_TIMINGS,
    ORDER_DETAILS,
    PAYMENT_DETAILS,
    TABLE_SPECS,
    Kind,
    TableSpec,
)

OPEN_DELIVERY = "full"
CLOSED_DELIVERIES = ("no_folder", "header_only", "stray_rows", "few_files")
# Only on request (`closure_deliveries`): a closed day on which a manager rang in one catering order,
# big enough in records and sales to pass the seed's fixed rules.
CATERING_DELIVERY = "catering"
REQUESTABLE_DELIVERIES = (*CLOSED_DELIVERIES, CATERING_DELIVERY)
DELIVERIES = (OPEN_DELIVERY, *REQUESTABLE_DELIVERIES)
CLOSED_DELIVERY_WEIGHTS = (35, 25, 25, 15)
CLOSURE_KINDS = ("holiday", "weekly", "emergency")
DAMAGE_KINDS = ("unterminated_quote", "nul_byte", "bad_value", "missing_key_column", "cut_short", "latin1")
DAMAGEABLE_FILES = (ORDER_DETAILS.file_name, PAYMENT_DETAILS.file_name)
QUIRK_KINDS = (
    "bom",
    "discnt_header",
    "reordered_columns",
    "extra_column",
    "missing_optional_column",
    "docs_timestamps",
    "title_booleans",
)
# A restaurant stays open on most public holidays (they are busy days); these three it closes for.
# Names as the holidays package spells them in English; observed (shifted) days are not closures.
CLOSING_HOLIDAY_NAMES = ("New Year's Day", "Thanksgiving", "Christmas Day")
# Folder neighbours Toast also delivers, which the pipeline must ignore.
IGNORED_FILES = ("ModifiersSelectionDetails.csv", "TimeEntries.csv", "HouseAccountExport.csv")
# Schema drift: columns a newer export adds (None: the value is the folder's date, or empty).
EXTRA_COLUMNS = (("Business Date", None), ("Export Version", "2"), ("Restaurant External ID", None))

TIMESTAMP_FORMAT = "%-m/%-d/%y %-I:%M %p"  # what real exports write: 4/4/24 11:23 AM
DOCS_TIMESTAMP_FORMAT = "%m/%d/%Y %H:%M:%S"  # what Toast's docs show
DATE_FORMAT = "%-m/%-d/%y"
TIME_FORMAT = "%-I:%M %p"
CENT = Decimal("0.01")

LOCATION_NAME = "Smoke & Barrel"
LOCATION_CODE = "SB-DT"
TAX_RATE_BASIS_POINTS = 825  # 8.25 %
AUTO_GRATUITY_PERCENT = 18
AUTO_GRATUITY_GUESTS = 6
CLOSEOUT_HOUR = 4
BAR_STATION = "Bar"
# Open-day volume: weekends busier; the mean over a week is 1.
WEEKDAY_FACTORS = tuple(f / 1.043 for f in (0.8, 0.8, 0.9, 1.0, 1.3, 1.4, 1.1))
SLOW_DAY_RATE = 0.03  # storms, half days: open, but quiet
MIN_OPEN_ORDERS = 3
VOID_RATE = 0.02
SMALL_ORDER_MAX_PRICE = 1600  # a stray order stays under $30 with tax and tip
CATERING_ITEMS = (8, 16)  # lines on a catering order, each 2-6 portions: a few hundred dollars

MARKER_OPEN_QUOTE = "ZZOPENQUOTEZZ"
MARKER_NUL = "ZZNULBYTEZZ"
MARKER_LATIN1 = "ZZLATIN1ZZ"
MARKER_CUT = "ZZCUTZZ"
MARKER_BYTES = {
    MARKER_OPEN_QUOTE: b'"Smith, John',
    MARKER_NUL: b"Kel\x00ly Ross",
    MARKER_LATIN1: "Renée Dupré".encode("latin-1"),
}
BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class SampleDay:
    """What one business date's folder holds, as generated.

    `orders` and `net_sales` describe what the day meant (non-voided orders, exact sum of their
    OrderDetails `Amount`), even on a damaged date whose file can no longer be read. `rows`
    counts data rows per delivered table; a table whose file was not delivered is absent.
    """

    business_date: date
    status: str  # "open" or "closed"
    closure_kind: str | None
    delivery: str
    damage: str | None = None
    damage_file: str | None = None
    damage_line: int | None = None  # physical line of the defect, header = 1
    damage_column: str | None = None
    quirks: list[str] = field(default_factory=list)  # "kind:File.csv" or "kind:File.csv:Header"
    rows: dict[str, int] = field(default_factory=dict)
    orders: int = 0
    net_sales: Decimal = Decimal("0.00")
    files: list[str] = field(default_factory=list)

    @property
    def folder_name(self) -> str:
        return self.business_date.strftime("%Y%m%d")

    def to_json(self) -> dict:
        return {
            "business_date": self.business_date.isoformat(),
            "status": self.status,
            "closure_kind": self.closure_kind,
            "delivery": self.delivery,
            "damage": self.damage,
            "damage_file": self.damage_file,
            "damage_line": self.damage_line,
            "damage_column": self.damage_column,
            "quirks": list(self.quirks),
            "rows": dict(self.rows),
            "orders": self.orders,
            "net_sales": str(self.net_sales),
            "files": list(self.files),
        }

    @classmethod
    def from_json(cls, data: Mapping) -> SampleDay:
        return cls(
            business_date=date.fromisoformat(data["business_date"]),
            status=data["status"],
            closure_kind=data["closure_kind"],
            delivery=data["delivery"],
            damage=data["damage"],
            damage_file=data["damage_file"],
            damage_line=data["damage_line"],
            damage_column=data["damage_column"],
            quirks=list(data["quirks"]),
            rows=dict(data["rows"]),
            orders=data["orders"],
            net_sales=Decimal(data["net_sales"]),
            files=list(data["files"]),
        )


@dataclass(frozen=True)
class SampleExport:
    """A generated export and its truth; `root` is the folder that holds the location folder."""

    location_id: str
    root: Path
    days: list[SampleDay]
    timezone: str = "America/Chicago"

    @property
    def location_dir(self) -> Path:
        return self.root / self.location_id

    def day(self, business_date: date) -> SampleDay:
        for day in self.days:
            if day.business_date == business_date:
                return day
        raise KeyError(business_date)

    def write_manifest(self, path: Path) -> None:
        """JSON truth; `root` is stored relative to the manifest so the pair can be moved."""
        path = Path(path)
        root = Path(os.path.relpath(self.root.resolve(), path.parent.resolve()))
        data = {
            "location_id": self.location_id,
            "root": root.as_posix(),
            "timezone": self.timezone,
            "days": [d.to_json() for d in self.days],
        }
        path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")

    @classmethod
    def read_manifest(cls, path: Path) -> SampleExport:
        path = Path(path)
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            location_id=data["location_id"],
            root=(path.parent / data["root"]).resolve(),
            days=[SampleDay.from_json(d) for d in data["days"]],
            timezone=data["timezone"],
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
) -> SampleExport:
    """Write `days` business dates from `start` under `root/<location_id>/` and return the truth.

    A date in `damaged_dates` is always open (the caller asked for its files); a date in
    `closure_deliveries` is closed in the given way (an emergency closure unless a rule closes
    it anyway). `quirk_rate` is the chance, per date and quirk kind, that the quirk shows up.
    `volume_factors` scales an open date's orders (a storm at 0.25, a half day at 0.5) so labelled
    exports can hold slow days the caller knows about; it replaces the generator's own random slow
    day on that date. The same arguments give the same bytes.
    """
    damaged = dict(damaged_dates or {})
    forced = dict(closure_deliveries or {})
    factors = dict(volume_factors or {})
    _validate(days, orders_per_day, closed_weekdays, random_closure_rate, quirk_rate, damaged, forced)
    if any(f <= 0 for f in factors.values()):
        raise ValueError(f"volume_factors must be positive, got {sorted(factors.values())}")
    zone = ZoneInfo(timezone)
    location_dir = Path(root) / location_id
    if location_dir.exists() and any(location_dir.iterdir()):
        raise FileExistsError(f"{location_dir} already holds an export; generate into a fresh folder")
    location_dir.mkdir(parents=True, exist_ok=True)
    end = start + timedelta(days=max(days - 1, 0))
    closing_holidays = _closing_holidays(holiday_country, start, end)

    out = []
    for offset in range(days):
        business_date = start + timedelta(days=offset)
        streams = _Streams(seed, location_id, business_date)
        emergency = streams.plan.random() < random_closure_rate
        delivery_draw = streams.plan.choices(CLOSED_DELIVERIES, weights=CLOSED_DELIVERY_WEIGHTS)[0]
        if business_date in damaged:
            closure_kind = None
        elif business_date.weekday() in closed_weekdays:
            closure_kind = "weekly"
        elif business_date in closing_holidays:
            closure_kind = "holiday"
        elif emergency or business_date in forced:
            closure_kind = "emergency"
        else:
            closure_kind = None
        delivery = OPEN_DELIVERY if closure_kind is None else forced.get(business_date, delivery_draw)
        folder = location_dir / business_date.strftime("%Y%m%d")
        writer = _DayWriter(folder, streams, zone, quirks, quirk_rate)
        if closure_kind is None:
            day = writer.open_day(
                business_date, orders_per_day, damaged.get(business_date), factors.get(business_date, 1.0)
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


def _closing_holidays(country: str | None, start: date, end: date) -> set[date]:
    if country is None:
        return set()
    calendar = holidays.country_holidays(
        country, years=range(start.year, end.year + 1), observed=False, language="en_US"
    )
    return {
        when
        for when, name in calendar.items()
        if any(closing in part for part in name.split("; ") for closing in CLOSING_HOLIDAY_NAMES)
    }


class _Streams:
    """Independent random streams for one date, so one decision never shifts another."""

    def __init__(self, seed: int, location_id: str, business_date: date) -> None:
        stem = f"toast-sample:{seed}:{location_id}:{business_date.isoformat()}"
        self.plan = random.Random(f"{stem}:plan")
        self.sales = random.Random(f"{stem}:sales")
        self.quirks = random.Random(f"{stem}:quirks")


# --- static reference data: the menu, the staff, the regulars ---------------------------------


@dataclass(frozen=True)
class _MenuItem:
    name: str
    group: str
    subgroup: str | None
    menu: str
    category: str
    price: int  # cents
    station: str
    popularity: int
    master: int | None = None  # index of the item whose Master ID this variant shares
    tags: str | None = None
    plu: str | None = None


MENU_ITEMS = (
    _MenuItem("Wings, Buffalo", "Appetizers", "Shareables", "Food", "Food", 1299, "Fry", 6, tags="Spicy"),
    _MenuItem("Loaded Nachos", "Appetizers", "Shareables", "Food", "Food", 1199, "Fry", 4),
    _MenuItem("Fried Pickles", "Appetizers", None, "Food", "Food", 899, "Fry", 3, tags="Vegetarian"),
    _MenuItem("Queso & Chips", "Appetizers", None, "Food", "Food", 799, "Cold", 3, tags="Vegetarian"),
    _MenuItem('House "Special" Burger', "Burgers", "Handhelds", "Food", "Food", 1599, "Grill", 8),
    _MenuItem("Classic Cheeseburger", "Burgers", "Handhelds", "Food", "Food", 1399, "Grill", 9),
    _MenuItem("Smash Burger, Double", "Burgers", "Handhelds", "Food", "Food", 1499, "Grill", 5),
    _MenuItem("Veggie Burger", "Burgers", "Handhelds", "Food", "Food", 1299, "Grill", 2, tags="Vegetarian"),
    _MenuItem("Brisket Sandwich", "Sandwiches", "Handhelds", "Food", "Food", 1549, "Grill", 5),
    _MenuItem("Chicken Sandwich, Spicy", "Sandwiches", None, "Food", "Food", 1349, "Fry", 5, tags="Spicy"),
    _MenuItem("Half Rack Ribs", "Entrees", "Smokehouse", "Food", "Food", 2199, "Grill", 4),
    _MenuItem("Full Rack Ribs", "Entrees", "Smokehouse", "Food", "Food", 3299, "Grill", 2),
    _MenuItem("Brisket Plate", "Entrees", "Smokehouse", "Food", "Food", 2399, "Grill", 4),
    _MenuItem("Smoked Salmon", "Entrees", None, "Food", "Food", 2499, "Grill", 2, tags="Gluten Free"),
    _MenuItem("Caesar Salad", "Salads", None, "Food", "Food", 1099, "Cold", 3),
    _MenuItem("Cobb Salad", "Salads", None, "Food", "Food", 1399, "Cold", 2, tags="Gluten Free"),
    _MenuItem("Fries", "Sides", None, "Food", "Food", 499, "Fry", 8, plu="4001"),
    _MenuItem("Sweet Potato Fries", "Sides", None, "Food", "Food", 599, "Fry", 4, plu="4002"),
    _MenuItem("Mac, Cheese & Bacon", "Sides", None, "Food", "Food", 699, "Fry", 4),
    _MenuItem("Coleslaw", "Sides", None, "Food", "Food", 399, "Cold", 3, plu="4004"),
    _MenuItem("Peach Cobbler", "Desserts", None, "Food", "Food", 799, "Dessert", 2),
    _MenuItem("Chocolate Cake", "Desserts", None, "Food", "Food", 899, "Dessert", 2),
    _MenuItem("Fountain Soda", "Soft Drinks", None, "Drinks", "Beverage", 299, "Bar", 9, plu="1001"),
    _MenuItem("Iced Tea", "Soft Drinks", None, "Drinks", "Beverage", 299, "Bar", 6, plu="1002"),
    _MenuItem("Lemonade", "Soft Drinks", None, "Drinks", "Beverage", 349, "Bar", 4, plu="1003"),
    _MenuItem("Draft Lager 16oz", "Beer", "Draft", "Drinks", "Beer", 650, "Bar", 6),
    _MenuItem("IPA 16oz", "Beer", "Draft", "Drinks", "Beer", 750, "Bar", 5),
    _MenuItem("House Red, Glass", "Wine", None, "Drinks", "Wine", 900, "Bar", 3),
    _MenuItem("Margarita", "Cocktails", None, "Drinks", "Liquor", 1100, "Bar", 5),
    _MenuItem("Margarita (Happy Hour)", "Cocktails", None, "Drinks", "Liquor", 700, "Bar", 2, master=28),
    _MenuItem("Old Fashioned", "Cocktails", None, "Drinks", "Liquor", 1300, "Bar", 3),
)
MENU_CUM_WEIGHTS = tuple(itertools.accumulate(m.popularity for m in MENU_ITEMS))
SMALL_ITEMS = tuple(i for i, m in enumerate(MENU_ITEMS) if m.price <= SMALL_ORDER_MAX_PRICE)
MENU_GROUPS = tuple(dict.fromkeys(m.group for m in MENU_ITEMS))

SERVERS = (
    "Smith, John",
    "Maria Garcia",
    "O'Neil, Kate",
    "Nguyen, Tran",
    'Lee, "Sunny"',
    "DeShawn Carter",
    "Patel, Priya",
    "Alex Romero",
)
MANAGERS = ("Brooks, Dana", "Manny Ortiz")
KITCHEN_STAFF = ("Expo", "Rivera, Luis", "Kim Park", "Jones, Dee")
_FIRST = ("John", "Maria", "Aisha", "Wei", "Carlos", "Emily", "Sam", "Olga", "Tyrone", "Hana")
_LAST = ("Smith", "Garcia", "Johnson", "Chen", "Lopez", "Brown", "Kowalski", "Okafor", "Miller", "Sato")
CUSTOMERS = tuple(f"{last}, {first}" for last in _LAST for first in _FIRST[:6]) + (
    'Big "Mike" Russo',
    'The "Tuesday" Crew',
    "Party of 12, Birthday",
)
CUSTOMER_EMAILS = tuple(
    name.split(", ")[1].lower() + "." + name.split(", ")[0].lower() + "@example.com" if ", " in name else None
    for name in CUSTOMERS
)

DINING_OPTIONS = ("Dine In", "Take Out", "Delivery", "Online Ordering")
DINING_CUM_WEIGHTS = (65, 85, 93, 100)
AREAS = (("Dining Room", "", 30), ("Bar", "B", 12), ("Patio", "P", 10))
ITEMS_PER_CHECK_CUM = (38, 68, 84, 93, 98, 100)  # 1..6 items
DISCOUNTS = ((10, "Happy Hour"), (20, "Loyalty"), (50, "Manager Comp"), (100, "Employee Meal"))
TIP_PERCENTS = (0, 15, 18, 18, 20, 20, 22, 25)
CARD_TYPES = ("VISA", "VISA", "MASTERCARD", "AMEX", "DISCOVER")
DELIVERY_PARTNERS = ("DoorDash", "Uber Eats")

_IDS_PER_DAY = 10**9


def _daily_ids(space: int, business_date: date, rng: random.Random, count: int) -> list[int]:
    """18-digit IDs, increasing with random gaps; unique across spaces, dates and the export."""
    base = space * 10**17 + business_date.toordinal() * _IDS_PER_DAY
    if count * 1000 >= _IDS_PER_DAY:
        raise ValueError(f"too many rows for one day: {count}")
    return list(itertools.accumulate((int(rng.random() * 999) + 1 for _ in range(count)), initial=base))[1:]


def _static_id(space: int, index: int) -> int:
    """IDs of things that live across days (menu items, groups, customers)."""
    return 9 * 10**17 + space * 10**15 + 7919 * (index + 1)


CUSTOMER_IDS = tuple(_static_id(4, i) for i in range(len(CUSTOMERS)))


MENU_FRAME = pl.DataFrame(
    {
        "menu_index": list(range(len(MENU_ITEMS))),
        "item_name": [m.name for m in MENU_ITEMS],
        "group": [m.group for m in MENU_ITEMS],
        "subgroup": [m.subgroup for m in MENU_ITEMS],
        "menu_name": [m.menu for m in MENU_ITEMS],
        "category": [m.category for m in MENU_ITEMS],
        "price": [m.price for m in MENU_ITEMS],
        "station": [m.station for m in MENU_ITEMS],
        "tags": [m.tags for m in MENU_ITEMS],
        "plu": [m.plu for m in MENU_ITEMS],
        "sku": [None if i % 4 == 3 else f"SB-{1000 + i}" for i in range(len(MENU_ITEMS))],
        "item_id": [_static_id(1, i) for i in range(len(MENU_ITEMS))],
        "master_id": [_static_id(2, i if m.master is None else m.master) for i, m in enumerate(MENU_ITEMS)],
        "parent_id": [_static_id(3, MENU_GROUPS.index(m.group)) for m in MENU_ITEMS],
    },
    schema_overrides={"subgroup": pl.String, "tags": pl.String, "plu": pl.String, "sku": pl.String},
)


# --- formatting ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Style:
    """How one file writes timestamps and booleans (quirks change these per file)."""

    timestamp: str = TIMESTAMP_FORMAT
    true: str = "true"
    false: str = "false"


def _fixed(units: pl.Expr, scale: int) -> pl.Expr:
    """An integer count of 10**-scale units as exact decimal text: (1234, 2) -> '12.34'."""
    step = 10**scale
    magnitude = units.abs()
    text = pl.format("{}.{}", magnitude // step, (magnitude % step).cast(pl.String).str.zfill(scale))
    return pl.when(units < 0).then(pl.lit("-") + text).otherwise(text)


def _hms(seconds: pl.Expr) -> pl.Expr:
    minutes = (seconds % 3600 // 60).cast(pl.String).str.zfill(2)
    return pl.format("{}:{}:{}", seconds // 3600, minutes, (seconds % 60).cast(pl.String).str.zfill(2))


def _duration_words(seconds: int) -> str:
    """Kitchen `Fulfillment Time` text: `1 day, 2 hours, 1 minute and 6 seconds`."""
    parts = []
    for unit, size in (("week", 604_800), ("day", 86_400), ("hour", 3_600), ("minute", 60), ("second", 1)):
        amount, seconds = divmod(seconds, size)
        if amount:
            parts.append(f"{amount} {unit}{'' if amount == 1 else 's'}")
    if not parts:
        return "0 seconds"
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _render(spec: TableSpec, frame: pl.DataFrame, style: _Style) -> pl.DataFrame:
    """Typed columns named by their headers -> the file's text, in spec order, by column kind."""
    if frame.width == 0:
        return pl.DataFrame(schema={c.header: pl.String for c in spec.columns})
    unknown = set(frame.columns) - {c.header for c in spec.columns}
    if unknown:
        raise ValueError(f"{spec.file_name}: columns not in the spec: {sorted(unknown)}")
    schema = frame.schema
    exprs = []
    for column in spec.columns:
        if column.header not in schema:
            exprs.append(pl.lit(None, pl.String).alias(column.header))
            continue
        value, dtype = pl.col(column.header), schema[column.header]
        if dtype == pl.String:
            text = value
        elif dtype == pl.Boolean:
            text = pl.when(value).then(pl.lit(style.true)).when(~value).then(pl.lit(style.false))
        elif isinstance(dtype, pl.Datetime):
            text = value.dt.strftime(style.timestamp)
        elif dtype == pl.Date:
            text = value.dt.strftime(DATE_FORMAT)
        elif dtype == pl.Time:
            text = value.dt.strftime(TIME_FORMAT)
        elif column.kind in (Kind.MONEY, Kind.PERCENT):
            text = _fixed(value, 2)
        elif column.kind is Kind.DURATION_HMS:
            text = _hms(value)
        else:
            text = value.cast(pl.String)
        exprs.append(text.alias(column.header))
    return frame.select(exprs)


def _percent(part: pl.Expr, whole: pl.Expr) -> pl.Expr:
    """Hundredths of a percent, rounded half up; null when the whole is zero."""
    return pl.when(whole > 0).then((part * 10_000 + whole // 2) // whole)


def _tax(cents: pl.Expr) -> pl.Expr:
    return (cents * TAX_RATE_BASIS_POINTS + 5_000) // 10_000


def _at(business_date: date, seconds: pl.Expr) -> pl.Expr:
    """Seconds after the business date's midnight -> a local wall-clock timestamp."""
    return pl.lit(datetime.combine(business_date, time())) + pl.duration(seconds=seconds)


def _take(frame: pl.DataFrame, index: pl.Series | list[int]) -> pl.DataFrame:
    return frame.select(pl.all().gather(index))


def _expand(counts: Sequence[int]) -> list[int]:
    """[2, 1, 3] -> [0, 0, 1, 2, 2, 2]: the parent index of each child row."""
    return [parent for parent, count in enumerate(counts) for _ in range(count)]


# --- one day's sales ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Sales:
    tables: dict[str, pl.DataFrame]  # table name -> typed frame keyed by Toast headers
    orders: int
    net_cents: int


def _opened_second(rng: random.Random) -> int:
    """Lunch and dinner peaks and a late tail until about 1:30 AM (still the same business date)."""
    u = rng.random()
    if u < 0.38:
        hours = rng.gauss(12.6, 0.7)
    elif u < 0.85:
        hours = rng.gauss(19.2, 1.1)
    else:
        hours = rng.uniform(21.0, 25.5)
    return int(min(max(hours, 11.0), 25.5) * 3600)


def _sales(
    rng: random.Random, business_date: date, n_orders: int, *, small: bool = False, catering: bool = False
) -> _Sales:
    """Orders -> checks -> payments / item selections / kitchen tickets, plus the item report.

    `small` makes the lone order rung in on a closed day: one take-out check, one cheap item.
    `catering` makes it a catering order instead: one take-out check of many items in bulk.
    """
    n = n_orders
    r = rng.random
    lone = small or catering
    opened = sorted(_opened_second(rng) for _ in range(n)) if not lone else [int(r() * 3 * 3600) + 14 * 3600]
    dining = [1] if lone else rng.choices(range(len(DINING_OPTIONS)), cum_weights=DINING_CUM_WEIGHTS, k=n)
    dine_in = [d == 0 for d in dining]
    area = [int(r() * 3) if d else None for d in dine_in]
    table = [None if a is None else f"{AREAS[a][1]}{int(r() * AREAS[a][2]) + 1}" for a in area]
    guests = [min(1 + int(abs(rng.gauss(0, 2.2))), 12) if d else 1 for d in dine_in]
    voided = [not lone and r() < VOID_RATE for _ in range(n)]
    n_checks = [2 if d and g >= 2 and r() < 0.25 else 1 for d, g in zip(dine_in, guests)]
    server = [int(r() * len(SERVERS)) for _ in range(n)]
    to_paid = [
        int(min(max(rng.gauss(55, 15), 15), 150) * 60) if d else int(r() * 22 * 60) + 180 for d in dine_in
    ]
    to_closed = [int(r() * 600) for _ in range(n)]
    source = [
        ("In store", "Toast Go")[int(r() * 2)] if d in (0, 1) else ("API" if d == 2 else "Online")
        for d in dining
    ]
    order_ids = _daily_ids(1, business_date, rng, n)

    check_order = _expand(n_checks)
    c = len(check_order)
    if catering:
        n_items = [CATERING_ITEMS[0] + int(r() * (CATERING_ITEMS[1] - CATERING_ITEMS[0] + 1))]
    else:
        n_items = [1] * c if small else rng.choices(range(1, 7), cum_weights=ITEMS_PER_CHECK_CUM, k=c)
    online = [dining[o] in (2, 3) for o in check_order]
    customer = [int(r() * len(CUSTOMERS)) if on or r() < 0.15 else None for on in online]
    tab = [
        CUSTOMERS[cu] if cu is not None and (on or area[o] == 1 or r() < 0.3) else None
        for cu, on, o in zip(customer, online, check_order)
    ]
    pay_type = [
        ("Other" if dining[o] == 2 else "Credit")
        if on
        else ("Credit", "Credit", "Credit", "Cash", "Gift Card")[int(r() * 5)]
        for on, o in zip(online, check_order)
    ]
    tip_percent = [
        TIP_PERCENTS[int(r() * len(TIP_PERCENTS))] if t == "Credit" else 0 for t in pay_type
    ]
    n_payments = [2 if dine_in[o] and r() < 0.06 else 1 for o in check_order]
    check_ids = _daily_ids(2, business_date, rng, c)

    item_check = _expand(n_items)
    i_count = len(item_check)
    if small:
        menu = [SMALL_ITEMS[int(r() * len(SMALL_ITEMS))]]
    else:
        menu = rng.choices(range(len(MENU_ITEMS)), cum_weights=MENU_CUM_WEIGHTS, k=i_count)
    if catering:
        qty = [2 + int(r() * 5) for _ in range(i_count)]
    else:
        qty = [1 if small or r() >= 0.07 else 2 for _ in range(i_count)]
    discount = [int(r() * len(DISCOUNTS)) if not small and r() < 0.06 else None for _ in range(i_count)]
    sent_after = [int(r() * 180) if r() < 0.8 else int(r() * 2400) for _ in range(i_count)]
    tax_four_places = [r() < 0.01 for _ in range(i_count)]
    selection_ids = _daily_ids(4, business_date, rng, i_count)

    orders = pl.DataFrame(
        {
            "order": list(range(n)),
            "order_id": order_ids,
            "order_no": list(range(1, n + 1)),
            "opened_s": opened,
            "dining": [DINING_OPTIONS[d] for d in dining],
            "area": [None if a is None else AREAS[a][0] for a in area],
            "table": table,
            "guests": guests,
            "voided": voided,
            "server": [SERVERS[s] for s in server],
            "to_paid": to_paid,
            "to_closed": to_closed,
            "source": source,
            "tax_shown_4": [r() < 0.02 for _ in range(n)],
        },
        schema_overrides={"area": pl.String, "table": pl.String},
    ).with_columns(
        service=pl.when(pl.col("opened_s") < 16 * 3600)
        .then(pl.lit("Lunch"))
        .when(pl.col("opened_s") < 22 * 3600)
        .then(pl.lit("Dinner"))
        .otherwise(pl.lit("Late Night")),
        revenue_center=pl.col("area").fill_null(pl.lit("Takeout")),
    )
    checks = pl.concat(
        [
            pl.DataFrame(
                {
                    "check": list(range(c)),
                    "check_id": check_ids,
                    "check_no": list(range(1, c + 1)),
                    "customer": customer,
                    "customer_id": [None if cu is None else CUSTOMER_IDS[cu] for cu in customer],
                    "customer_name": [None if cu is None else CUSTOMERS[cu] for cu in customer],
                    "customer_email": [None if cu is None else CUSTOMER_EMAILS[cu] for cu in customer],
                    "tab": tab,
                    "pay_type": pay_type,
                    "tip_percent": tip_percent,
                    "n_payments": n_payments,
                },
                schema_overrides={
                    "customer": pl.Int64,
                    "customer_id": pl.Int64,
                    "customer_name": pl.String,
                    "customer_email": pl.String,
                    "tab": pl.String,
                },
            ),
            _take(orders, check_order),
        ],
        how="horizontal",
    )
    discount_percent = [None if d is None else DISCOUNTS[d][0] for d in discount]
    items = (
        pl.concat(
            [
                pl.DataFrame(
                    {
                        "selection_id": selection_ids,
                        "qty": qty,
                        "discount_percent": discount_percent,
                        "discount_reason": [None if d is None else DISCOUNTS[d][1] for d in discount],
                        "sent_after": sent_after,
                        "tax_4": tax_four_places,
                    },
                    schema_overrides={"discount_percent": pl.Int64, "discount_reason": pl.String},
                ),
                _take(MENU_FRAME, menu),
                _take(checks, item_check),
            ],
            how="horizontal",
        )
        .with_columns(gross=pl.col("price") * pl.col("qty"))
        .with_columns(discount=pl.col("gross") * pl.col("discount_percent").fill_null(0) // 100)
        .with_columns(net=pl.col("gross") - pl.col("discount"))
    )

    check_sums = (
        items.group_by("check")
        .agg(
            amount=pl.col("net").sum(),
            discount_total=pl.col("discount").sum(),
            description=pl.col("item_name").str.join(", "),
            reason=pl.col("discount_reason").drop_nulls().first(),
        )
        .sort("check")
    )
    checks = (
        checks.join(check_sums, on="check", how="left", maintain_order="left")
        .with_columns(tax=_tax(pl.col("amount")), tip=pl.col("amount") * pl.col("tip_percent") // 100)
        .with_columns(
            gratuity=pl.when(pl.col("guests") >= AUTO_GRATUITY_GUESTS)
            .then((pl.col("amount") * AUTO_GRATUITY_PERCENT + 50) // 100)
            .otherwise(0)
        )
        .with_columns(total=pl.sum_horizontal("amount", "tax", "tip", "gratuity"))
    )
    order_sums = (
        checks.group_by("order")
        .agg(
            pl.col("amount", "tax", "tip", "gratuity", "total", "discount_total").sum(),
            checks_text=pl.col("check_no").cast(pl.String).str.join(", "),
            tabs=pl.col("tab").drop_nulls().str.join(", "),
        )
        .sort("order")
    )
    orders = orders.join(order_sums, on="order", how="left", maintain_order="left").with_columns(
        paid_s=pl.when(~pl.col("voided")).then(pl.col("opened_s") + pl.col("to_paid"))
    )
    orders = orders.with_columns(
        closed_s=pl.coalesce("paid_s", pl.col("opened_s") + 300) + pl.col("to_closed"),
        tabs=pl.when(pl.col("tabs") != "").then(pl.col("tabs")),
    )

    payments = _payments(rng, business_date, checks, orders)
    kitchen = _kitchen(rng, business_date, items)
    truth = orders.filter(~pl.col("voided"))
    tables = {
        ORDER_DETAILS.table: _order_details(business_date, orders),
        CHECK_DETAILS.table: _check_details(business_date, checks),
        PAYMENT_DETAILS.table: payments,
        ITEM_SELECTION_DETAILS.table: _item_selections(business_date, items),
        KITCHEN_TIMINGS.table: kitchen,
        ALL_ITEMS_REPORT.table: _all_items(items, orders),
    }
    return _Sales(tables, truth.height, int(truth["amount"].sum()))


def _order_details(business_date: date, orders: pl.DataFrame) -> pl.DataFrame:
    return orders.select(
        pl.lit(LOCATION_NAME).alias("Location"),
        pl.col("order_id").alias("Order Id"),
        pl.col("order_no").alias("Order #"),
        pl.col("checks_text").alias("Checks"),
        _at(business_date, pl.col("opened_s")).alias("Opened"),
        pl.col("guests").alias("# of Guests"),
        pl.col("tabs").alias("Tab Names"),
        pl.col("server").alias("Server"),
        pl.col("table").alias("Table"),
        pl.col("revenue_center").alias("Revenue Center"),
        pl.col("area").alias("Dining Area"),
        pl.col("service").alias("Service"),
        pl.col("dining").alias("Dining Options"),
        pl.col("discount_total").alias("Discount Amount"),
        pl.col("amount").alias("Amount"),
        pl.when(pl.col("tax_shown_4"))
        .then(_fixed(pl.col("tax") * 100, 4))
        .otherwise(_fixed(pl.col("tax"), 2))
        .alias("Tax"),
        pl.col("tip").alias("Tip"),
        pl.col("gratuity").alias("Gratuity"),
        pl.col("total").alias("Total"),
        pl.col("voided").alias("Voided"),
        _at(business_date, pl.col("paid_s")).alias("Paid"),
        _at(business_date, pl.col("closed_s")).alias("Closed"),
        (pl.col("paid_s") - pl.col("opened_s")).alias("Duration (Opened to Paid)"),
        pl.col("source").alias("Order Source"),
    )


def _check_details(business_date: date, checks: pl.DataFrame) -> pl.DataFrame:
    opened = _at(business_date, pl.col("opened_s"))
    customer = pl.col("customer")
    return checks.select(
        pl.col("customer_id").alias("Customer Id"),
        pl.col("customer_name").alias("Customer"),
        pl.when(customer.is_not_null() & pl.col("dining").is_in(["Delivery", "Online Ordering"]))
        .then(pl.format("(312) 555-{}", (customer + 100).cast(pl.String).str.zfill(4)))
        .alias("Customer Phone"),
        pl.col("customer_email").alias("Customer Email"),
        pl.lit(LOCATION_CODE).alias("Location Code"),
        opened.dt.date().alias("Opened Date"),
        opened.dt.time().alias("Opened Time"),
        pl.col("description").alias("Item Description"),
        pl.col("server").alias("Server"),
        pl.col("tax").alias("Tax"),
        pl.when(pl.col("n_payments") > 1)
        .then(pl.lit("Credit, Cash"))
        .otherwise(pl.col("pay_type"))
        .alias("Tender"),
        pl.col("check_id").alias("Check Id"),
        pl.col("check_no").alias("Check #"),
        pl.col("total").alias("Total"),
        pl.col("guests").alias("Table Size"),
        pl.col("discount_total").alias("Discount"),
        pl.col("reason").alias("Reason of Discount"),
    )


def _payments(
    rng: random.Random, business_date: date, checks: pl.DataFrame, orders: pl.DataFrame
) -> pl.DataFrame:
    """One payment per check, two when the table split it (card first, then cash)."""
    r = rng.random
    payment_check = _expand(checks["n_payments"].to_list())
    p = len(payment_check)
    position = [i for k in checks["n_payments"].to_list() for i in range(k)]
    frame = pl.concat(
        [
            pl.DataFrame(
                {
                    "position": position,
                    "payment_id": _daily_ids(3, business_date, rng, p),
                    "card": [CARD_TYPES[int(r() * len(CARD_TYPES))] for _ in range(p)],
                    "last4": [f"{int(r() * 10_000):04d}" for _ in range(p)],
                    "gift": [f"{int(r() * 10_000):04d}" for _ in range(p)],
                    "swiped": [r() < 0.85 for _ in range(p)],
                    "partner": [DELIVERY_PARTNERS[int(r() * 2)] for _ in range(p)],
                    "receipt": [("Printed", "Email", None)[int(r() * 3)] for _ in range(p)],
                    "refund": [r() < 0.003 for _ in range(p)],
                    "refund_after": [86_400 + int(r() * 2 * 86_400) for _ in range(p)],
                    "void_after": [120 + int(r() * 900) for _ in range(p)],
                    "manager": [MANAGERS[int(r() * 2)] for _ in range(p)],
                },
                schema_overrides={"receipt": pl.String},
            ),
            _take(checks, payment_check),
        ],
        how="horizontal",
    )
    frame = frame.join(
        orders.select("order", "paid_s"), on="order", how="left", maintain_order="left"
    ).with_columns(
        due=pl.col("amount") + pl.col("tax"),
        kind=pl.when(pl.col("position") == 1)
        .then(pl.lit("Cash"))
        .when(pl.col("n_payments") > 1)
        .then(pl.lit("Credit"))
        .otherwise(pl.col("pay_type")),
    )
    first = pl.col("position") == 0
    split = pl.col("n_payments") > 1
    frame = frame.with_columns(
        part=pl.when(~split)
        .then(pl.col("due"))
        .when(first)
        .then(pl.col("due") // 2)
        .otherwise(pl.col("due") - pl.col("due") // 2),
        tip_part=pl.when(first).then(pl.col("tip")).otherwise(0),
        grat_part=pl.when(first).then(pl.col("gratuity")).otherwise(0),
        paid_at=pl.coalesce("paid_s", pl.col("opened_s") + pl.col("void_after")) + pl.col("position") * 40,
    ).with_columns(pay_total=pl.sum_horizontal("part", "tip_part", "grat_part"))
    credit = pl.col("kind") == "Credit"
    cash = pl.col("kind") == "Cash"
    gift = pl.col("kind") == "Gift Card"
    refund = pl.col("refund") & ~pl.col("voided")
    opened = _at(business_date, pl.col("opened_s"))
    return frame.select(
        pl.lit(LOCATION_NAME).alias("Location"),
        pl.col("payment_id").alias("Payment Id"),
        pl.col("order_id").alias("Order Id"),
        pl.col("order_no").alias("Order #"),
        _at(business_date, pl.col("paid_at")).alias("Paid Date"),
        opened.alias("Order Date"),
        pl.col("check_id").alias("Check Id"),
        pl.col("check_no").alias("Check #"),
        pl.col("tab").alias("Tab Name"),
        pl.col("server").alias("Server"),
        pl.col("table").alias("Table"),
        pl.col("area").alias("Dining Area"),
        pl.col("service").alias("Service"),
        pl.col("dining").alias("Dining Option"),
        pl.col("part").alias("Amount"),
        pl.col("tip_part").alias("Tip"),
        pl.col("grat_part").alias("Gratuity"),
        pl.col("pay_total").alias("Total"),
        pl.when(credit & pl.col("swiped")).then(pl.col("pay_total")).alias("Swiped Card Amount"),
        pl.when(credit & ~pl.col("swiped")).then(pl.col("pay_total")).alias("Keyed Card Amount"),
        pl.when(cash)
        .then((pl.col("pay_total") + 499) // 500 * 500)
        .otherwise(pl.col("pay_total"))
        .alias("Amount Tendered"),
        pl.when(refund).then(pl.lit("PARTIAL")).otherwise(pl.lit("NONE")).alias("Refunded"),
        pl.when(refund)
        .then(_at(business_date, pl.col("paid_at") + pl.col("refund_after")))
        .alias("Refund Date"),
        pl.when(refund).then(pl.col("part") // 4).alias("Refund Amount"),
        pl.when(refund).then(pl.lit(0)).alias("Refund Tip Amount"),
        pl.when(pl.col("voided")).then(pl.col("server")).alias("Void User"),
        pl.when(pl.col("voided")).then(pl.col("manager")).alias("Void Approver"),
        pl.when(pl.col("voided")).then(_at(business_date, pl.col("paid_at"))).alias("Void Date"),
        pl.when(pl.col("voided")).then(pl.lit("VOIDED")).otherwise(pl.lit("CAPTURED")).alias("Status"),
        pl.col("kind").alias("Type"),
        pl.when(cash)
        .then(pl.when(pl.col("area") == "Bar").then(pl.lit("Bar Drawer")).otherwise(pl.lit("Front Drawer")))
        .alias("Cash Drawer"),
        pl.when(credit).then(pl.col("card")).alias("Card Type"),
        pl.when(pl.col("kind") == "Other").then(pl.col("partner")).alias("Other Type"),
        pl.when(pl.col("dining") == "Online Ordering").then(pl.col("customer_email")).alias("Email"),
        pl.when(credit).then(pl.col("last4")).alias("Last 4 Card Digits"),
        pl.when(credit).then((pl.col("pay_total") * 275 + 5_000) // 10_000 + 10).alias("V/MC/D Fees"),
        pl.col("receipt").alias("Receipt"),
        pl.when(pl.col("dining").is_in(["Delivery", "Online Ordering"]))
        .then(pl.lit("Online"))
        .otherwise(pl.lit("In Store"))
        .alias("Source"),
        pl.when(gift).then(pl.col("gift")).alias("Last 4 Gift Card Digits"),
        pl.when(gift).then(pl.lit("60362")).alias("First 5 Gift Card Digits"),
    )


def _item_selections(business_date: date, items: pl.DataFrame) -> pl.DataFrame:
    return items.select(
        pl.lit(LOCATION_NAME).alias("Location"),
        pl.col("order_id").alias("Order Id"),
        pl.col("order_no").alias("Order #"),
        _at(business_date, pl.col("opened_s") + pl.col("sent_after")).alias("Sent Date"),
        _at(business_date, pl.col("opened_s")).alias("Order Date"),
        pl.col("check_id").alias("Check Id"),
        pl.col("server").alias("Server"),
        pl.col("table").alias("Table"),
        pl.col("area").alias("Dining Area"),
        pl.col("service").alias("Service"),
        pl.col("dining").alias("Dining Option"),
        pl.col("selection_id").alias("Item Selection Id"),
        pl.col("item_id").alias("Item Id"),
        pl.col("master_id").alias("Master Id"),
        pl.col("sku").alias("SKU"),
        pl.col("plu").alias("PLU"),
        pl.col("item_name").alias("Menu Item"),
        pl.col("subgroup").alias("Menu Subgroup(s)"),
        pl.col("group").alias("Menu Group"),
        pl.col("menu_name").alias("Menu"),
        pl.col("category").alias("Sales Category"),
        pl.col("gross").alias("Gross Price"),
        pl.col("discount").alias("Discount"),
        pl.col("net").alias("Net Price"),
        pl.col("qty").alias("Qty"),
        pl.when(pl.col("tax_4"))
        .then(_fixed((pl.col("net") * TAX_RATE_BASIS_POINTS + 50) // 100, 4))
        .otherwise(_fixed(_tax(pl.col("net")), 2))
        .alias("Tax"),
        pl.col("voided").alias("Void?"),
        pl.lit(False).alias("Deferred"),
        pl.lit(False).alias("Tax Exempt"),
        pl.lit("Tax not included").alias("Tax Inclusion Option"),
        pl.col("tab").alias("Tab Name"),
    )


def _kitchen(rng: random.Random, business_date: date, items: pl.DataFrame) -> pl.DataFrame:
    """One ticket per check and kitchen station (drinks are not on the screens); a few are
    forgotten for days or never bumped."""
    r = rng.random
    tickets = (
        items.filter(~pl.col("voided") & (pl.col("station") != BAR_STATION))
        .select("check", "check_no", "station", "opened_s", "server", "table")
        .unique(subset=["check", "station"], maintain_order=True)
    )
    k = tickets.height
    fired_after = [30 + int(r() * 240) for _ in range(k)]
    took = []
    for _ in range(k):
        u = r()
        if u < 0.005:
            took.append(None)
        elif u < 0.009:
            took.append(3 * 3600 + int(r() * 3 * 604_800))
        else:
            took.append(int(min(max(rng.gauss(720, 300), 45), 3600)))
    words = {s: _duration_words(s) for s in set(took) if s is not None}
    tickets = tickets.with_columns(
        ticket_id=pl.Series(_daily_ids(5, business_date, rng, k)),
        fired_s=pl.col("opened_s") + pl.Series(fired_after),
        took=pl.Series(took, dtype=pl.Int64),
        took_text=pl.Series([None if s is None else words[s] for s in took], dtype=pl.String),
        bumped_by=pl.Series([KITCHEN_STAFF[int(r() * len(KITCHEN_STAFF))] for _ in range(k)]),
    )
    done = pl.col("took").is_not_null()
    return tickets.select(
        pl.lit(LOCATION_NAME).alias("Location"),
        pl.col("ticket_id").alias("ID"),
        pl.col("server").alias("Server"),
        pl.col("check_no").alias("Check #"),
        pl.col("table").alias("Table"),
        _at(business_date, pl.col("opened_s")).alias("Check Opened"),
        pl.col("station").alias("Station"),
        pl.lit(1).alias("Expediter Level"),
        _at(business_date, pl.col("fired_s")).alias("Fired Date"),
        _at(business_date, pl.col("fired_s") + pl.col("took")).alias("Fulfilled Date"),
        pl.col("took_text").alias("Fulfillment Time"),
        pl.when(done).then(pl.col("bumped_by")).alias("Fulfilled By"),
    )


def _all_items(items: pl.DataFrame, orders: pl.DataFrame) -> pl.DataFrame:
    """The day's sales per (Master ID, Item ID), consistent with the item selections."""
    kept = ~pl.col("voided")
    per_item = (
        items.group_by(
            "menu_index", "master_id", "item_id", "parent_id", "menu_name", "group", "subgroup", "item_name"
        )
        .agg(
            pl.col("tags").first(),
            qty_all=pl.col("qty").sum(),
            gross_all=pl.col("gross").sum(),
            qty=pl.col("qty").filter(kept).sum(),
            gross=pl.col("gross").filter(kept).sum(),
            discount=pl.col("discount").filter(kept).sum(),
            orders=pl.col("order").filter(kept).n_unique(),
        )
        .with_columns(net=pl.col("gross") - pl.col("discount"))
        .sort("menu_name", "group", "item_name")
    )
    order_count = orders.filter(~pl.col("voided")).height
    qty, net = pl.col("qty"), pl.col("net")
    return per_item.select(
        pl.col("master_id").alias("Master ID"),
        pl.col("item_id").alias("Item ID"),
        pl.col("parent_id").alias("Parent ID"),
        pl.col("menu_name").alias("Menu Name"),
        pl.col("group").alias("Menu Group"),
        pl.col("subgroup").alias("Subgroup"),
        pl.col("item_name").alias("Menu Item"),
        pl.col("tags").alias("Tags"),
        (pl.col("gross_all") // pl.col("qty_all")).alias("Avg Price"),
        pl.col("qty_all").alias("Item Qty (incl voids)"),
        _percent(pl.col("qty_all"), pl.col("qty_all").sum()).alias("% of Ttl Qty (incl voids)"),
        pl.col("gross_all").alias("Gross Amount (incl voids)"),
        _percent(pl.col("gross_all"), pl.col("gross_all").sum()).alias("% of Ttl Amt (incl voids)"),
        qty.alias("Item Qty"),
        pl.col("gross").alias("Gross Amount"),
        (pl.col("qty_all") - qty).alias("Void Qty"),
        (pl.col("gross_all") - pl.col("gross")).alias("Void Amount"),
        pl.col("discount").alias("Discount Amount"),
        net.alias("Net Amount"),
        pl.col("orders").alias("# Orders"),
        _percent(pl.col("orders"), pl.lit(order_count)).alias("% of Ttl # Orders"),
        _percent(qty, qty.sum().over("group")).alias("% Qty (Group)"),
        _percent(qty, qty.sum().over("menu_name")).alias("% Qty (Menu)"),
        _percent(qty, qty.sum()).alias("% Qty (All)"),
        _percent(net, net.sum().over("group")).alias("% Net Amt (Group)"),
        _percent(net, net.sum().over("menu_name")).alias("% Net Amt (Menu)"),
        _percent(net, net.sum()).alias("% Net Amt (All)"),
    )


def _cash_entries(rng: random.Random, business_date: date, *, stray: bool = False) -> pl.DataFrame:
    """Drawer activity: opening banks, no-sales, pay-outs, a close-out; on a closed day, a no-sale."""
    r = rng.random

    def entry(seconds: int, action: str, drawer: str, employee: str, **values: str | int | None) -> dict:
        return {"seconds": seconds, "Action": action, "Cash Drawer": drawer, "Employee": employee, **values}

    if stray:
        rows = [
            entry(10 * 3600 + int(r() * 7 * 3600), "NO_SALE", "Front Drawer", MANAGERS[int(r() * 2)],
                  **{"No Sale Reason": "Make change", "Comment": "Opened for change, closed day"})
            for _ in range(1 + int(r() * 2))
        ]
    else:
        rows = [
            entry(10 * 3600 + 45 * 60, "CASH_IN", "Front Drawer", MANAGERS[0], Amount=20_000, Comment="Bank"),
            entry(10 * 3600 + 50 * 60, "CASH_IN", "Bar Drawer", MANAGERS[0], Amount=15_000),
        ]
        for _ in range(int(r() * 4)):
            drawer = ("Front Drawer", "Bar Drawer")[int(r() * 2)]
            reason = ("Make change", "Customer request")[int(r() * 2)]
            server = SERVERS[int(r() * len(SERVERS))]
            seconds = 11 * 3600 + int(r() * 12 * 3600)
            rows.append(entry(seconds, "NO_SALE", drawer, server, **{"No Sale Reason": reason}))
        for _ in range(int(r() * 3)):
            reason = ("Produce run", "Ice", "Cleaning, supplies")[int(r() * 3)]
            rows.append(entry(
                11 * 3600 + int(r() * 10 * 3600), "PAY_OUT", "Front Drawer", MANAGERS[int(r() * 2)],
                Amount=1_500 + int(r() * 6_500),
                Comment='Bought ice for the "walk-in"' if reason == "Ice" else None,
                **{"Payout Reason": reason, "Employee 2": SERVERS[int(r() * len(SERVERS))]},
            ))
        close = ("CLOSE_OUT_EXACT", "CLOSE_OUT_OVERAGE", "CLOSE_OUT_SHORTAGE")[int(r() * 3)]
        counted = 30_000 + int(r() * 90_000)
        rows.append(entry(25 * 3600 + 50 * 60, close, "Front Drawer", MANAGERS[1], Amount=counted))
    rows.sort(key=lambda row: row["seconds"])
    texts = {c.header: pl.String for c in CASH_ENTRIES.columns if c.kind is Kind.TEXT}
    texts.pop("Location")
    frame = pl.DataFrame(rows, schema={"seconds": pl.Int64, "Amount": pl.Int64, **texts})
    return frame.select(
        pl.lit(LOCATION_NAME).alias("Location"),
        pl.Series("Entry Id", _daily_ids(6, business_date, rng, frame.height), dtype=pl.Int64),
        _at(business_date, pl.col("seconds")).alias("Created Date"),
        pl.exclude("seconds"),
    )


# --- writing a day's folder ---------------------------------------------------------------------


@dataclass
class _FileShape:
    """How one file deviates from the spec on this date (quirks and damage)."""

    style: _Style = field(default_factory=_Style)
    bom: bool = False
    rename: dict[str, str] = field(default_factory=dict)
    order: list[str] | None = None
    extra: tuple[str, str | None] | None = None
    drop: str | None = None


@dataclass(frozen=True)
class _Damage:
    kind: str
    file: str
    row: int  # 0-based data row
    column: str


class _DayWriter:
    """Writes one business date's folder and reports it as a SampleDay."""

    def __init__(
        self, folder: Path, streams: _Streams, zone: ZoneInfo, quirks: bool, quirk_rate: float
    ) -> None:
        self.folder, self.streams, self.zone = folder, streams, zone
        self.quirks, self.quirk_rate = quirks, quirk_rate

    def open_day(
        self, business_date: date, orders_per_day: int, damage_kind: str | None, volume: float = 1.0
    ) -> SampleDay:
        plan = self.streams.plan
        factor = WEEKDAY_FACTORS[business_date.weekday()] * plan.lognormvariate(0, 0.15) * volume
        # A caller's volume factor replaces the generator's own slow-day draw (still drawn, so the
        # plan stream stays aligned).
        if plan.random() < SLOW_DAY_RATE and volume == 1.0:
            factor *= 0.35
        n_orders = max(MIN_OPEN_ORDERS, round(orders_per_day * factor))
        sales = _sales(self.streams.sales, business_date, n_orders)
        tables = dict(sales.tables)
        tables[CASH_ENTRIES.table] = _cash_entries(self.streams.sales, business_date)
        damage = self._damage(damage_kind, tables) if damage_kind else None
        shapes, quirks = self._quirks(exclude=damage.file if damage else None)
        rows, line = {}, None
        for spec in TABLE_SPECS:
            frame = tables[spec.table]
            shape = shapes.get(spec.file_name, _FileShape())
            file_damage = damage if damage and damage.file == spec.file_name else None
            line = self._write_table(spec, frame, shape, file_damage) or line
            rows[spec.table] = frame.height
        files = [s.file_name for s in TABLE_SPECS] + self._ignored_files(business_date, open_day=True)
        self._stamp_times(business_date)
        return SampleDay(
            business_date=business_date,
            status="open",
            closure_kind=None,
            delivery=OPEN_DELIVERY,
            damage=damage_kind,
            damage_file=damage.file if damage else None,
            damage_line=line,
            damage_column=damage.column if damage else None,
            quirks=quirks,
            rows=rows,
            orders=sales.orders,
            net_sales=_dollars(sales.net_cents),
            files=sorted(files),
        )

    def closed_day(self, business_date: date, closure_kind: str, delivery: str) -> SampleDay:
        plan = self.streams.plan
        orders, net_cents = 0, 0
        if delivery == "no_folder":
            return SampleDay(business_date, "closed", closure_kind, delivery)
        empty = {s.table: pl.DataFrame() for s in TABLE_SPECS}
        if delivery == "header_only":
            tables = empty
        elif delivery == CATERING_DELIVERY:
            sales = _sales(self.streams.sales, business_date, 1, catering=True)
            tables = {**empty, **sales.tables}
            orders, net_cents = sales.orders, sales.net_cents
        elif delivery == "stray_rows":
            tables = dict(empty)
            if plan.random() < 0.5:
                tables[CASH_ENTRIES.table] = _cash_entries(self.streams.sales, business_date, stray=True)
            else:
                sales = _sales(self.streams.sales, business_date, 1, small=True)
                tables.update(sales.tables)
                orders, net_cents = sales.orders, sales.net_cents
        else:
            present = plan.sample([s.table for s in TABLE_SPECS], 1 + int(plan.random() * 3))
            tables = {t: empty[t] for t in present}
            if CASH_ENTRIES.table in tables and plan.random() < 0.5:
                tables[CASH_ENTRIES.table] = _cash_entries(self.streams.sales, business_date, stray=True)
        rows = {}
        for spec in TABLE_SPECS:
            if spec.table in tables:
                self._write_table(spec, tables[spec.table], _FileShape(), None)
                rows[spec.table] = tables[spec.table].height
        files = [s.file_name for s in TABLE_SPECS if s.table in tables]
        files += self._ignored_files(business_date, open_day=False)
        self._stamp_times(business_date)
        return SampleDay(
            business_date=business_date,
            status="closed",
            closure_kind=closure_kind,
            delivery=delivery,
            rows=rows,
            orders=orders,
            net_sales=_dollars(net_cents),
            files=sorted(files),
        )

    def _damage(self, kind: str, tables: Mapping[str, pl.DataFrame]) -> _Damage:
        plan = self.streams.plan
        file = DAMAGEABLE_FILES[int(plan.random() * len(DAMAGEABLE_FILES))]
        spec = ORDER_DETAILS if file == ORDER_DETAILS.file_name else PAYMENT_DETAILS
        row = 1 + int(plan.random() * (tables[spec.table].height - 1))
        if kind == "unterminated_quote":
            column = "Tab Names" if spec is ORDER_DETAILS else "Tab Name"
        elif kind in ("nul_byte", "latin1", "cut_short"):
            column = "Server"
        elif kind == "bad_value":
            column = "Amount" if plan.random() < 0.5 else ("Opened" if spec is ORDER_DETAILS else "Paid Date")
        else:
            column = spec.key_columns[0].header
        return _Damage(kind, file, row, column)

    def _quirks(self, exclude: str | None) -> tuple[dict[str, _FileShape], list[str]]:
        """Pick this date's quirks; each kind shows up with `quirk_rate`, in one file or a few."""
        if not self.quirks:
            return {}, []
        rng = self.streams.quirks
        shapes: dict[str, _FileShape] = {}
        notes: list[str] = []
        specs = [s for s in TABLE_SPECS if s.file_name != exclude]

        def shape(spec: TableSpec) -> _FileShape:
            return shapes.setdefault(spec.file_name, _FileShape())

        for kind in QUIRK_KINDS:
            if rng.random() >= self.quirk_rate:
                continue
            if kind == "bom":
                for spec in rng.sample(specs, 1 + int(rng.random() * 3)):
                    shape(spec).bom = True
                    notes.append(f"bom:{spec.file_name}")
            elif kind == "discnt_header" and ITEM_SELECTION_DETAILS in specs:
                shape(ITEM_SELECTION_DETAILS).rename["Discount"] = "Discnt"
                notes.append(f"discnt_header:{ITEM_SELECTION_DETAILS.file_name}")
            elif kind == "reordered_columns":
                spec = rng.choice(specs)
                order = [c.header for c in spec.columns]
                rng.shuffle(order)
                shape(spec).order = order
                notes.append(f"reordered_columns:{spec.file_name}")
            elif kind == "extra_column":
                spec = rng.choice(specs)
                header, value = rng.choice(EXTRA_COLUMNS)
                shape(spec).extra = (header, value)
                notes.append(f"extra_column:{spec.file_name}:{header}")
            elif kind == "missing_optional_column":
                spec = rng.choice(specs)
                optional = [c.header for c in spec.columns if c.kind is Kind.TEXT and not c.key]
                shape(spec).drop = rng.choice(optional)
                notes.append(f"missing_optional_column:{spec.file_name}:{shape(spec).drop}")
            elif kind == "docs_timestamps":
                spec = rng.choice([s for s in specs if any(c.kind is Kind.TIMESTAMP for c in s.columns)])
                style = shape(spec).style
                shape(spec).style = _Style(DOCS_TIMESTAMP_FORMAT, style.true, style.false)
                notes.append(f"docs_timestamps:{spec.file_name}")
            elif kind == "title_booleans":
                candidates = [s for s in specs if any(c.kind is Kind.BOOLEAN for c in s.columns)]
                if candidates:
                    spec = rng.choice(candidates)
                    shape(spec).style = _Style(shape(spec).style.timestamp, "True", "False")
                    notes.append(f"title_booleans:{spec.file_name}")
        return shapes, sorted(notes)

    def _write_table(
        self, spec: TableSpec, frame: pl.DataFrame, shape: _FileShape, damage: _Damage | None
    ) -> int | None:
        """Write one file; returns the physical line of the damage it carries, if any."""
        text = _render(spec, frame, shape.style)
        line = None
        if damage is not None:
            text, line = _apply_damage(text, damage)
        if shape.extra is not None:
            header, value = shape.extra
            if header == "Business Date":
                value = self.folder.name
            text = text.with_columns(pl.lit(value, pl.String).alias(header))
        if shape.drop is not None:
            text = text.drop(shape.drop)
        if shape.order is not None:
            order = [h for h in shape.order if h in text.columns]
            text = text.select(order + [h for h in text.columns if h not in order])
        if shape.rename:
            text = text.rename(shape.rename)
        buffer = io.BytesIO()
        text.write_csv(buffer)
        data = buffer.getvalue()
        for marker, raw in MARKER_BYTES.items():
            data = data.replace(marker.encode(), raw)
        if MARKER_CUT.encode() in data:
            # A file cut off mid-row, as a half-written export is: the row ends before Server.
            data = data[: data.index(b"," + MARKER_CUT.encode())]
        if shape.bom:
            data = BOM + data
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / spec.file_name).write_bytes(data)
        return line

    def _ignored_files(self, business_date: date, *, open_day: bool) -> list[str]:
        """Toast's other files, which the pipeline must skip: an empty one, a timesheet, a header."""
        plan = self.streams.plan
        written = []
        modifiers, time_entries, house = IGNORED_FILES
        if plan.random() < 0.3:
            (self.folder / modifiers).write_bytes(b"")
            written.append(modifiers)
        if open_day and plan.random() < 0.5:
            frame = pl.DataFrame(
                {
                    "Location": [LOCATION_NAME] * len(SERVERS),
                    "Employee": list(SERVERS),
                    "Job Title": ["Server"] * len(SERVERS),
                    "In Date": [f"{business_date:%-m/%-d/%y} 10:{30 + i} AM" for i in range(len(SERVERS))],
                    "Total Hours": [f"{6 + plan.random() * 4:.2f}" for _ in SERVERS],
                }
            )
            buffer = io.BytesIO()
            frame.write_csv(buffer)
            (self.folder / time_entries).write_bytes(buffer.getvalue())
            written.append(time_entries)
        if plan.random() < 0.1:
            (self.folder / house).write_bytes(b"Location,House Account,Customer,Amount,Balance\n")
            written.append(house)
        return written

    def _stamp_times(self, business_date: date) -> None:
        """Files land within the hour after the next morning's closeout, as Toast writes them."""
        closeout = datetime.combine(business_date + timedelta(days=1), time(CLOSEOUT_HOUR), tzinfo=self.zone)
        for path in sorted(self.folder.iterdir()):
            moment = (closeout + timedelta(minutes=5 + int(self.streams.plan.random() * 50))).timestamp()
            os.utime(path, (moment, moment))
        latest = (closeout + timedelta(minutes=56)).timestamp()
        os.utime(self.folder, (latest, latest))


def _apply_damage(text: pl.DataFrame, damage: _Damage) -> tuple[pl.DataFrame, int]:
    """Break one value (or drop the key column) in the rendered file; returns the line it is on."""
    if damage.kind == "missing_key_column":
        return text.drop(damage.column), 1
    original = text[damage.column][damage.row]
    if damage.kind == "unterminated_quote":
        value = MARKER_OPEN_QUOTE
    elif damage.kind == "nul_byte":
        value = MARKER_NUL
    elif damage.kind == "latin1":
        value = MARKER_LATIN1
    elif damage.kind == "cut_short":
        value = MARKER_CUT
    elif damage.column == "Amount":
        value = original[:-1] + "x"
    else:
        value = original.replace(":", ":9", 1)
    column = text[damage.column].scatter(damage.row, value)
    return text.with_columns(column), damage.row + 2


def _dollars(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(CENT)


# --- command line -------------------------------------------------------------------------------


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m toast_pipeline.export.sample",
        description="Write a sample Toast nightly export to OUT_DIR/<location>/ "
        "and its truth to OUT_DIR/manifest.json.",
    )
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--start", type=date.fromisoformat, default=date(2024, 3, 1))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--orders-per-day", type=int, default=80)
    parser.add_argument("--location-id", default="185129")
    parser.add_argument("--timezone", default="America/Chicago")
    parser.add_argument(
        "--closed-weekdays", default="", help="comma-separated Python weekday numbers, e.g. 0,1: Mon, Tue"
    )
    parser.add_argument("--holiday-country", default="US", help="'none' for no holiday closures")
    parser.add_argument("--random-closure-rate", type=float, default=0.03)
    parser.add_argument("--no-quirks", action="store_true")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(argv)
    export = generate_export(
        args.out_dir,
        location_id=args.location_id,
        start=args.start,
        days=args.days,
        seed=args.seed,
        orders_per_day=args.orders_per_day,
        timezone=args.timezone,
        closed_weekdays=tuple(int(w) for w in args.closed_weekdays.split(",") if w.strip()),
        holiday_country=None if args.holiday_country.lower() == "none" else args.holiday_country,
        random_closure_rate=args.random_closure_rate,
        quirks=not args.no_quirks,
    )
    manifest = args.out_dir / "manifest.json"
    export.write_manifest(manifest)
    closed = sum(d.status == "closed" for d in export.days)
    print(f"{len(export.days)} business dates ({closed} closed) in {export.location_dir}; see {manifest}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
