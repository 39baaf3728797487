"""A sample Toast nightly export: realistic CSV folders plus the ground truth they were made from.

The demo, the tests and the benchmark need exports that behave like the real thing (closed days
delivered in all the ways Toast delivers them, header drift, damaged files) while still knowing
exactly what each day contained. `generate_export` writes `root/<location>/<YYYYMMDD>/*.csv` and
returns a `SampleExport` whose manifest is that truth.

Every date draws from its own seeded random streams (one for the day's plan, one for its sales,
one for its quirks), so a date's files depend only on the seed, the location and the date: a
five-day export is the first five days of a sixty-day one, and switching quirks off changes the
formatting, never the sales.

Files are written as Toast writes them (UTF-8, CRLF, the real value formats: 8-decimal item tax
with `0E-8` for zero, signed negative durations, AllItemsReport as the nested product-mix report
over the whole menu with shares as Java doubles), beside the files Toast also delivers
(ModifiersSelectionDetails, TimeEntries, AccountingReport.xls, now and then a MenuExport JSON).

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
import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays
import polars as pl

from toast_pipeline.toast.specs import (
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
DAMAGE_KINDS = (
    "unterminated_quote",
    "nul_byte",
    "bad_value",
    "missing_key_column",
    "cut_short",
    "latin1",
)
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
# Folder neighbours Toast also delivers, which the pipeline must list and ignore: every delivered
# folder holds the first three; some days add MenuExport_<guid>.json (and, rarely, a house-account
# export, an unknown file that must not fail a day either).
IGNORED_FILES = (
    "ModifiersSelectionDetails.csv",
    "TimeEntries.csv",
    "AccountingReport.xls",
    "HouseAccountExport.csv",
)
MENU_EXPORT_PREFIX = "MenuExport_"
MENU_EXPORT_RATE = 0.15
OLE2_SIGNATURE = bytes.fromhex("D0CF11E0A1B11AE1")
# An account configured without these three never receives them (a real account's folders held
# only the other four of the seven, plus the neighbours above).
LEAN_ACCOUNT_OMITS = ("CheckDetails.csv", "CashEntries.csv", "KitchenTimings.csv")
LEAN_ACCOUNT_FILES = tuple(
    s.file_name for s in TABLE_SPECS if s.file_name not in LEAN_ACCOUNT_OMITS
)
# Schema drift: columns a newer export adds (None: the value is the folder's date, or empty).
EXTRA_COLUMNS = (("Business Date", None), ("Export Version", "2"), ("Restaurant External ID", None))

TIMESTAMP_FORMAT = "%-m/%-d/%y %-I:%M %p"  # what real exports write: 4/4/24 11:23 AM
DOCS_TIMESTAMP_FORMAT = "%m/%d/%Y %H:%M:%S"  # what Toast's docs show
DATE_FORMAT = "%-m/%-d/%y"
TIME_FORMAT = "%-I:%M %p"
CENT = Decimal("0.01")

LOCATION_NAME = "Smoke & Barrel"
LOCATION_CODE = "300"
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
EARLY_PAID_RATE = 0.01  # orders paid before they were opened: a negative duration
EARLY_PAID_MAX_SECONDS = 72 * 3600
CATERING_PREPAID_SECONDS = 2 * 86_400  # a catering order is paid online days ahead
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
    counts data rows per delivered table (for AllItemsReport every report row: total, menus,
    groups and items, sold or not); a table whose file was not delivered is absent.
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
    account_files: Collection[str] | None = None,
) -> SampleExport:
    """Write `days` business dates from `start` under `root/<location_id>/` and return the truth.

    A date in `damaged_dates` is always open (the caller asked for its files); a date in
    `closure_deliveries` is closed in the given way (an emergency closure unless a rule closes
    it anyway). `quirk_rate` is the chance, per date and quirk kind, that the quirk shows up.
    `volume_factors` scales an open date's orders (a storm at 0.25, a half day at 0.5) so labelled
    exports can hold slow days the caller knows about; it replaces the generator's own random slow
    day on that date. `account_files` are the Toast files this account is configured to receive
    (file names, default all seven; `LEAN_ACCOUNT_FILES` is an account without CheckDetails,
    CashEntries and KitchenTimings): the others are never written, on any date. The same
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
    specs = _account_specs(account_files, damaged)
    zone = ZoneInfo(timezone)
    location_dir = Path(root) / location_id
    if location_dir.exists() and any(location_dir.iterdir()):
        raise FileExistsError(
            f"{location_dir} already holds an export; generate into a fresh folder"
        )
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
        delivery = (
            OPEN_DELIVERY if closure_kind is None else forced.get(business_date, delivery_draw)
        )
        folder = location_dir / business_date.strftime("%Y%m%d")
        writer = _DayWriter(folder, streams, zone, quirks, quirk_rate, specs)
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
    menu: str
    category: str
    price: int  # cents
    station: str
    popularity: int
    master: int | None = None  # index of the item whose Master ID this variant shares
    tags: str | None = None
    plu: str | None = None


MENU_ITEMS = (
    _MenuItem("Wings, Buffalo", "Appetizers", "Food", "Food", 1299, "Fry", 6, tags="Spicy"),
    _MenuItem("Loaded Nachos", "Appetizers", "Food", "Food", 1199, "Fry", 4),
    _MenuItem("Fried Pickles", "Appetizers", "Food", "Food", 899, "Fry", 3, tags="Vegetarian"),
    _MenuItem("Queso & Chips", "Appetizers", "Food", "Food", 799, "Cold", 3, tags="Vegetarian"),
    _MenuItem('House "Special" Burger', "Burgers", "Food", "Food", 1599, "Grill", 8),
    _MenuItem("Classic Cheeseburger", "Burgers", "Food", "Food", 1399, "Grill", 9),
    _MenuItem("Smash Burger, Double", "Burgers", "Food", "Food", 1499, "Grill", 5),
    _MenuItem("Veggie Burger", "Burgers", "Food", "Food", 1299, "Grill", 2, tags="Vegetarian"),
    _MenuItem("Brisket Sandwich", "Sandwiches", "Food", "Food", 1549, "Grill", 5),
    _MenuItem(
        "Chicken Sandwich, Spicy", "Sandwiches", "Food", "Food", 1349, "Fry", 5, tags="Spicy"
    ),
    _MenuItem("Half Rack Ribs", "Entrees", "Food", "Food", 2199, "Grill", 4),
    _MenuItem("Full Rack Ribs", "Entrees", "Food", "Food", 3299, "Grill", 2),
    _MenuItem("Brisket Plate", "Entrees", "Food", "Food", 2399, "Grill", 4),
    _MenuItem("Smoked Salmon", "Entrees", "Food", "Food", 2499, "Grill", 2, tags="Gluten Free"),
    _MenuItem("Caesar Salad", "Salads", "Food", "Food", 1099, "Cold", 3),
    _MenuItem("Cobb Salad", "Salads", "Food", "Food", 1399, "Cold", 2, tags="Gluten Free"),
    _MenuItem("Fries", "Sides", "Food", "Food", 499, "Fry", 8, plu="4001"),
    _MenuItem("Sweet Potato Fries", "Sides", "Food", "Food", 599, "Fry", 4, plu="4002"),
    _MenuItem("Mac, Cheese & Bacon", "Sides", "Food", "Food", 699, "Fry", 4),
    _MenuItem("Coleslaw", "Sides", "Food", "Food", 399, "Cold", 3, plu="4004"),
    _MenuItem("Peach Cobbler", "Desserts", "Food", "Food", 799, "Dessert", 2),
    _MenuItem("Chocolate Cake", "Desserts", "Food", "Food", 899, "Dessert", 2),
    _MenuItem("Fountain Soda", "Soft Drinks", "Drinks", "Beverage", 299, "Bar", 9, plu="1001"),
    _MenuItem("Iced Tea", "Soft Drinks", "Drinks", "Beverage", 299, "Bar", 6, plu="1002"),
    _MenuItem("Lemonade", "Soft Drinks", "Drinks", "Beverage", 349, "Bar", 4, plu="1003"),
    _MenuItem("Draft Lager 16oz", "Beer", "Drinks", "Beer", 650, "Bar", 6),
    _MenuItem("IPA 16oz", "Beer", "Drinks", "Beer", 750, "Bar", 5),
    _MenuItem("House Red, Glass", "Wine", "Drinks", "Wine", 900, "Bar", 3),
    _MenuItem("Margarita", "Cocktails", "Drinks", "Liquor", 1100, "Bar", 5),
    _MenuItem("Margarita (Happy Hour)", "Cocktails", "Drinks", "Liquor", 700, "Bar", 2, master=28),
    _MenuItem("Old Fashioned", "Cocktails", "Drinks", "Liquor", 1300, "Bar", 3),
)

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
_LAST = (
    "Smith",
    "Garcia",
    "Johnson",
    "Chen",
    "Lopez",
    "Brown",
    "Kowalski",
    "Okafor",
    "Miller",
    "Sato",
)
CUSTOMERS = tuple(f"{last}, {first}" for last in _LAST for first in _FIRST[:6]) + (
    'Big "Mike" Russo',
    'The "Tuesday" Crew',
    "Party of 12, Birthday",
)
CUSTOMER_EMAILS = tuple(
    name.split(", ")[1].lower() + "." + name.split(", ")[0].lower() + "@example.com"
    if ", " in name
    else None
    for name in CUSTOMERS
)

DINING_OPTIONS = ("Dine In", "Take Out", "Delivery", "Online Ordering")
DINING_CUM_WEIGHTS = (65, 85, 93, 100)
AREAS = (("Dining Room", "", 30), ("Bar", "B", 12), ("Patio", "P", 10))
ITEMS_PER_CHECK_CUM = (38, 68, 84, 93, 98, 100)  # 1..6 items
DISCOUNTS = ((10, "Happy Hour"), (20, "Loyalty"), (50, "Manager Comp"), (100, "Employee Meal"))
TIP_PERCENTS = (0, 15, 18, 18, 20, 20, 22, 25)
CARD_TYPES = ("Visa", "Visa", "Mastercard", "Amex", "Discover")
DELIVERY_PARTNERS = ("DoorDash", "Uber Eats")

_IDS_PER_DAY = 10**9


def _daily_ids(space: int, business_date: date, rng: random.Random, count: int) -> list[int]:
    """18-digit IDs, increasing with random gaps; unique across spaces, dates and the export."""
    base = space * 10**17 + business_date.toordinal() * _IDS_PER_DAY
    if count * 1000 >= _IDS_PER_DAY:
        raise ValueError(f"too many rows for one day: {count}")
    return list(
        itertools.accumulate((int(rng.random() * 999) + 1 for _ in range(count)), initial=base)
    )[1:]


def _static_id(space: int, index: int) -> int:
    """IDs of things that live across days (menu items, groups, customers)."""
    return 9 * 10**17 + space * 10**15 + 7919 * (index + 1)


CUSTOMER_IDS = tuple(_static_id(4, i) for i in range(len(CUSTOMERS)))


# The rest of the menu: what a real menu mostly is, items that sell now and then or never (a real
# bakery's report lists ~615 rows a day, two thirds unsold). (menu, group, category, station,
# modifier kind, price range in cents, names); prices are spread over the range by position.
def _names(bases: Sequence[str], styles: Sequence[str]) -> tuple[str, ...]:
    return tuple(f"{base}, {style}" if style else base for base in bases for style in styles)


_TAIL = (
    (
        "Food",
        "Appetizers",
        "Food",
        "Fry",
        "sauce",
        (799, 1699),
        _names(
            ("Smoked Wings", "Crispy Wings", "Cauliflower Bites", "Pork Belly Bites"),
            ("6 pc", "12 pc", "Cajun", "Honey Garlic", "Lemon Pepper", "Korean BBQ"),
        ),
    ),
    (
        "Food",
        "Burgers",
        "Food",
        "Grill",
        "burger",
        (1299, 1799),
        _names(
            (
                "Bacon Burger",
                "Mushroom Swiss Burger",
                "Jalapeño Burger",
                "Western Burger",
                "Black & Bleu Burger",
                "Pimento Cheese Burger",
            ),
            ("", "Double", "Sliders"),
        ),
    ),
    (
        "Food",
        "Sandwiches",
        "Food",
        "Grill",
        "plate",
        (1199, 1699),
        _names(
            ("Pulled Pork", "Smoked Turkey", "Hot Link", "Chopped Beef", "Burnt Ends", "Pastrami"),
            ("Sandwich", "Po' Boy", "Melt", "Wrap"),
        ),
    ),
    (
        "Food",
        "Entrees",
        "Food",
        "Grill",
        "plate",
        (1699, 3499),
        _names(
            ("Brisket", "Pulled Pork", "Half Chicken", "Spare Ribs", "Sausage", "Turkey"),
            ("Plate, 1 Meat", "Plate, 2 Meats", "by the Pound", "by the Half Pound"),
        ),
    ),
    (
        "Food",
        "Salads",
        "Food",
        "Cold",
        "salad",
        (999, 1599),
        _names(("Caesar", "Cobb", "Wedge", "Garden"), ("Brisket", "Chicken", "Salmon", "Tofu")),
    ),
    (
        "Food",
        "Sides",
        "Food",
        "Fry",
        None,
        (399, 1499),
        _names(
            (
                "Potato Salad",
                "Baked Beans",
                "Collard Greens",
                "Corn on the Cob",
                "Green Beans",
                "Cornbread",
                "Onion Rings",
                "Hush Puppies",
            ),
            ("Small", "Large", "Family"),
        ),
    ),
    (
        "Food",
        "Desserts",
        "Food",
        "Dessert",
        None,
        (699, 3999),
        _names(
            ("Pecan Pie", "Banana Pudding", "Key Lime Pie", "Bread Pudding", "Cheesecake"),
            ("Slice", "Whole"),
        ),
    ),
    (
        "Food",
        "Kids",
        "Food",
        "Grill",
        None,
        (699, 899),
        _names(
            (
                "Cheeseburger",
                "Chicken Tenders",
                "Mac & Cheese",
                "Grilled Cheese",
                "Corn Dog",
                "Sliders",
            ),
            ("Kids",),
        ),
    ),
    (
        "Drinks",
        "Soft Drinks",
        "Beverage",
        "Bar",
        None,
        (249, 549),
        _names(
            (
                "Root Beer",
                "Sweet Tea",
                "Arnold Palmer",
                "Ginger Ale",
                "Club Soda",
                "Cold Brew",
                "Hot Coffee",
                "Orange Juice",
            ),
            ("Small", "Large"),
        ),
    ),
    (
        "Drinks",
        "Beer",
        "Beer",
        "Bar",
        None,
        (500, 1999),
        _names(
            (
                "Shiner Bock",
                "Lone Star",
                "Modelo",
                "Blue Moon",
                "Michelob Ultra",
                "Stella Artois",
                "Guinness",
                "Seasonal Ale",
            ),
            ("Draft 16oz", "Pitcher", "Bottle", "Can"),
        ),
    ),
    (
        "Drinks",
        "Wine",
        "Wine",
        "Bar",
        None,
        (900, 5900),
        _names(
            (
                "Cabernet",
                "Pinot Noir",
                "Malbec",
                "Chardonnay",
                "Sauvignon Blanc",
                "Rosé",
                "Prosecco",
            ),
            ("Glass", "Half Carafe", "Bottle"),
        ),
    ),
    (
        "Drinks",
        "Cocktails",
        "Liquor",
        "Bar",
        "spirit",
        (1000, 1599),
        _names(
            (
                "Paloma",
                "Mule",
                "Ranch Water",
                "Whiskey Sour",
                "Mojito",
                "Bloody Mary",
                "Espresso Martini",
                "Manhattan",
            ),
            ("", "Top Shelf"),
        ),
    ),
    (
        "Drinks",
        "Whiskey",
        "Liquor",
        "Bar",
        "spirit",
        (900, 4500),
        _names(
            (
                "Buffalo Trace",
                "Maker's Mark",
                "Woodford Reserve",
                "Eagle Rare",
                "Blanton's",
                "Four Roses",
                "Knob Creek",
                "Wild Turkey 101",
                "Elijah Craig",
                "Old Forester",
                "Rittenhouse Rye",
                "Bulleit Rye",
                "Jameson",
                "Lagavulin 16",
                "Macallan 12",
                "Balvenie 12",
            ),
            ("1.5oz", "2oz", "Neat Pour", "Flight"),
        ),
    ),
    (
        "Drinks",
        "Tequila & Mezcal",
        "Liquor",
        "Bar",
        "spirit",
        (900, 3500),
        _names(
            (
                "Espolon Blanco",
                "Casamigos Reposado",
                "Don Julio 1942",
                "Patrón Silver",
                "Fortaleza Añejo",
                "Del Maguey Vida",
                "Clase Azul",
            ),
            ("1.5oz", "2oz"),
        ),
    ),
    (
        "Weekend Brunch",
        "Brunch Plates",
        "Food",
        "Grill",
        None,
        (1199, 1899),
        _names(
            (
                "Chicken & Waffles",
                "Brisket Hash",
                "Biscuits & Gravy",
                "Breakfast Tacos",
                "Shrimp & Grits",
                "French Toast",
                "Huevos Rancheros",
                "Smoked Salmon Benedict",
            ),
            ("", "Half"),
        ),
    ),
    (
        "Weekend Brunch",
        "Brunch Drinks",
        "Liquor",
        "Bar",
        None,
        (800, 3200),
        _names(("Mimosa", "Bellini", "Michelada", "Brunch Punch"), ("Glass", "Carafe")),
    ),
    (
        "Merchandise",
        "Merch",
        "Retail",
        "Cold",
        None,
        (800, 4500),
        _names(
            ("T-Shirt", "Hoodie", "Trucker Hat", "Dry Rub, 12oz", "BBQ Sauce, 16oz", "Hot Sauce"),
            ("",),
        ),
    ),
    (
        "Holiday Specials",
        "Thanksgiving",
        "Food",
        "Grill",
        None,
        (2999, 11999),
        _names(
            (
                "Smoked Turkey, Whole",
                "Turkey Breast",
                "Cornbread Dressing",
                "Pecan Pie, Whole",
                "Cranberry Relish",
                "Sweet Potato Casserole",
            ),
            ("",),
        ),
    ),
    (
        "Holiday Specials",
        "Christmas",
        "Food",
        "Grill",
        None,
        (2999, 14999),
        _names(
            ("Prime Rib, Whole", "Honey Ham", "Brisket, Whole", "Smoked Prime Rib, Half"), ("",)
        ),
    ),
)
_CATERING_TAIL = (
    (
        "Catering",
        "Catering Packs",
        "Catering",
        "Grill",
        None,
        (8999, 34999),
        _names(
            ("Brisket Pack", "Pulled Pork Pack", "Rib Pack", "Chicken Pack", "Combo Pack"),
            ("Serves 10", "Serves 20", "Serves 40"),
        ),
    ),
    (
        "Catering",
        "Catering Sides",
        "Catering",
        "Cold",
        None,
        (2499, 6999),
        _names(
            (
                "Baked Beans",
                "Potato Salad",
                "Mac & Cheese",
                "Coleslaw",
                "Banana Pudding",
                "Sweet Tea",
            ),
            ("Half Pan", "Full Pan"),
        ),
    ),
)
# Items also listed on a second menu under the same IDs (the report lists them under each).
_SHARED = (
    (
        "Happy Hour",
        "HH Bites",
        ("Wings, Buffalo", "Loaded Nachos", "Fried Pickles", "Queso & Chips"),
    ),
    (
        "Happy Hour",
        "HH Drinks",
        ("Draft Lager 16oz", "IPA 16oz", "House Red, Glass", "Margarita (Happy Hour)"),
    ),
    (
        "Online Ordering",
        "Sides (OL)",
        ("Fries", "Sweet Potato Fries", "Mac, Cheese & Bacon", "Coleslaw"),
    ),
)
# Online-ordering copies: their own items with their own IDs, as Toast's "(OL)" items are.
_ONLINE_COPIES = (
    ("Burgers (OL)", "Burgers"),
    ("Sandwiches (OL)", "Sandwiches"),
    ("Entrees (OL)", "Entrees"),
    ("Salads (OL)", "Salads"),
)
GIFT_CARDS_MENU = "Gift Cards"
OPEN_ITEMS_MENU = "Open Items"
OPEN_ITEM_GROUPS = ("Open Item", "Open Catering Item")
# Names a server types for an open item; what the report lists under Open Items when one sells.
OPEN_ITEM_NAMES = (
    "Side Of Bacon",
    "Extra Sauce",
    "Birthday Candle",
    "Corkage Fee",
    "Smoked Sausage Link",
)
OPEN_ITEM_MASTER_ID = "-1"
OPEN_ITEM_ITEM_ID = "4611686018427387903"  # 2**62 - 1: Toast's synthetic Item ID for open items
OPEN_ITEM_RATE = 0.006  # of item lines on an ordinary order
TAX_EXEMPT_RATE = 0.03  # of orders (a school, a church): every item Tax Exempt, tax 0E-8


@dataclass(frozen=True)
class _Placement:
    """An item as listed under one menu and group: what a report row and a sold line carry."""

    name: str
    menu: str
    group: str
    category: str
    station: str
    price: int
    weight: float  # relative chance an ordinary order line is this placement
    item_id: int
    master_id: int
    tags: str | None = None
    plu: str | None = None
    sku: str | None = None
    modifiers: str | None = None  # a key of MODIFIER_GROUPS
    catering: bool = False
    open_item: bool = False


_HAND_MODIFIERS = {
    "Burgers": "burger",
    "Sandwiches": "plate",
    "Entrees": "plate",
    "Salads": "salad",
    "Appetizers": "sauce",
    "Cocktails": "spirit",
}


def _build_menu() -> tuple[tuple[_Placement, ...], dict[str, dict[str, list[int]]]]:
    placements: list[_Placement] = []
    layout: dict[str, dict[str, list[int]]] = {}

    def add(placement: _Placement) -> None:
        layout.setdefault(placement.menu, {}).setdefault(placement.group, []).append(
            len(placements)
        )
        placements.append(placement)

    hand_ids = [_static_id(1, i) for i in range(len(MENU_ITEMS))]
    by_name = {}
    for i, m in enumerate(MENU_ITEMS):
        master = hand_ids[i if m.master is None else m.master] + 1
        by_name[m.name] = _Placement(
            m.name,
            m.menu,
            m.group,
            m.category,
            m.station,
            m.price,
            10.0 * m.popularity,
            hand_ids[i],
            master,
            m.tags,
            m.plu,
            None if i % 4 == 3 else f"0{7_300_100_000 + 37 * i}",
            _HAND_MODIFIERS.get(m.group),
        )
    ordered = [*MENU_ITEMS]
    serial = len(MENU_ITEMS)
    tail_by_group: dict[tuple[str, str], list[_Placement]] = {}
    for catering, table in ((False, _TAIL), (True, _CATERING_TAIL)):
        for menu, group, category, station, modifiers, (low, high), names in table:
            for k, name in enumerate(names):
                item_id = _static_id(1, serial)
                serial += 1
                price = low + (7919 * (k + 1)) % (high - low + 1)
                price = price // 100 * 100 + 99 if price % 100 else price
                never = menu == "Holiday Specials"
                weight = 0.0 if never or catering else (0.3 if menu == "Merchandise" else 1.0)
                tail_by_group.setdefault((menu, group), []).append(
                    _Placement(
                        name,
                        menu,
                        group,
                        category,
                        station,
                        price,
                        weight,
                        item_id,
                        item_id + 1,
                        modifiers=modifiers,
                        catering=catering,
                    )
                )
    # The hand-written items lead their groups; the tail follows, then the other menus.
    for m in ordered:
        add(by_name[m.name])
        for placement in tail_by_group.pop((m.menu, m.group), []):
            add(placement)
    for menu, group in list(tail_by_group):
        if menu in ("Food", "Drinks"):
            for placement in tail_by_group.pop((menu, group)):
                add(placement)
    for menu, group in list(tail_by_group):
        if menu == "Weekend Brunch":
            for placement in tail_by_group.pop((menu, group)):
                add(placement)
    for menu, group, names in _SHARED:
        for name in names:
            base = by_name[name]
            add(
                _Placement(
                    base.name,
                    menu,
                    group,
                    base.category,
                    base.station,
                    base.price,
                    base.weight / 8,
                    base.item_id,
                    base.master_id,
                    base.tags,
                    base.plu,
                    base.sku,
                    base.modifiers,
                )
            )
    for group, source in _ONLINE_COPIES:
        for k in layout["Food"][source][:6]:
            base = placements[k]
            item_id = _static_id(1, serial)
            serial += 1
            add(
                _Placement(
                    f"{base.name}(OL)",
                    "Online Ordering",
                    group,
                    base.category,
                    base.station,
                    base.price,
                    max(base.weight / 6, 0.5),
                    item_id,
                    item_id + 1,
                    base.tags,
                    None,
                    None,
                    base.modifiers,
                )
            )
    for tail in tail_by_group.values():
        for placement in tail:
            add(placement)
    layout[GIFT_CARDS_MENU] = {GIFT_CARDS_MENU: []}
    layout[OPEN_ITEMS_MENU] = {group: [] for group in OPEN_ITEM_GROUPS}
    for name in OPEN_ITEM_NAMES:
        item_id, master_id = OPEN_GROUP_IDS[OPEN_ITEM_GROUPS[0]]
        add(
            _Placement(
                name,
                OPEN_ITEMS_MENU,
                OPEN_ITEM_GROUPS[0],
                "Food",
                "Grill",
                0,
                0.0,
                -item_id,
                -master_id,
                open_item=True,
            )
        )
    return tuple(placements), layout


# Open Items' groups carry negative IDs in the report (positive ones on the item selections).
OPEN_GROUP_IDS = {
    group: (-(_static_id(5, k) - 1), -_static_id(5, k)) for k, group in enumerate(OPEN_ITEM_GROUPS)
}
PLACEMENTS, MENU_LAYOUT = _build_menu()
GROUP_IDS = {
    (menu, group): (_static_id(3, k) - 1, _static_id(3, k))
    for k, (menu, group) in enumerate((m, g) for m, groups in MENU_LAYOUT.items() for g in groups)
}
ORDINARY_PLACEMENTS = tuple(i for i, p in enumerate(PLACEMENTS) if p.weight > 0 and not p.open_item)
ORDINARY_CUM_WEIGHTS = tuple(
    itertools.accumulate(PLACEMENTS[i].weight for i in ORDINARY_PLACEMENTS)
)
CATERING_PLACEMENTS = tuple(i for i, p in enumerate(PLACEMENTS) if p.catering)
SMALL_ITEMS = tuple(
    i
    for i, p in enumerate(PLACEMENTS)
    if p.menu in ("Food", "Drinks") and p.weight >= 10 and p.price <= SMALL_ORDER_MAX_PRICE
)
OPEN_PLACEMENTS = tuple(i for i, p in enumerate(PLACEMENTS) if p.open_item)
OPEN_ITEM_PRICES = (200, 150, 100, 1500, 399)

# Modifier option groups by kind: (option group, chance per line, options (name, price in cents)).
# A priced option adds to the item's Gross Price, as Toast's does.
MODIFIER_GROUPS = {
    "burger": (
        (
            "Temperature",
            0.9,
            (("Medium Rare", 0), ("Medium", 0), ("Medium Well", 0), ("Well Done", 0)),
        ),
        (
            "Add-Ons",
            0.25,
            (("Add Bacon", 200), ("Add Egg", 150), ("Add Avocado", 250), ("Extra Cheese", 100)),
        ),
    ),
    "plate": (
        (
            "Sauce",
            0.6,
            (("Sweet BBQ", 0), ("Spicy BBQ", 0), ("Mustard BBQ", 0), ("Sauce on the Side", 0)),
        ),
        (
            "Side Choice",
            0.3,
            (("Side: Fries", 0), ("Side: Coleslaw", 0), ("Side: Mac & Cheese", 150)),
        ),
    ),
    "salad": (
        ("Dressing", 0.9, (("Ranch", 0), ("Blue Cheese", 0), ("Caesar", 0), ("Vinaigrette", 0))),
    ),
    "sauce": (("Sauce", 0.5, (("Ranch", 0), ("Blue Cheese", 0), ("Extra Sauce", 75))),),
    "spirit": (
        ("Style", 0.7, (("Neat", 0), ("Rocks", 0), ("Up", 0))),
        ("Upgrade", 0.1, (("Top Shelf", 300), ("Double", 500))),
    ),
}
MODIFIER_OPTIONS = tuple(
    (kind, g, o)
    for kind, groups in MODIFIER_GROUPS.items()
    for g in range(len(groups))
    for o in range(len(groups[g][2]))
)
MODIFIER_IDS = {key: _static_id(6, k) for k, key in enumerate(MODIFIER_OPTIONS)}
OPTION_GROUP_IDS = {
    (kind, g): _static_id(7, k)
    for k, (kind, g) in enumerate(
        (kind, g) for kind, groups in MODIFIER_GROUPS.items() for g in range(len(groups))
    )
}


MENU_FRAME = pl.DataFrame(
    {
        "menu_index": list(range(len(PLACEMENTS))),
        "item_name": [p.name for p in PLACEMENTS],
        "group": [p.group for p in PLACEMENTS],
        "menu_name": [p.menu for p in PLACEMENTS],
        # An open item's selection names no menu or group (the report files it under Open Items).
        "isd_group": [None if p.open_item else p.group for p in PLACEMENTS],
        "isd_menu": [None if p.open_item else p.menu for p in PLACEMENTS],
        "category": [p.category for p in PLACEMENTS],
        "price": [p.price for p in PLACEMENTS],
        "station": [p.station for p in PLACEMENTS],
        "tags": [p.tags for p in PLACEMENTS],
        "plu": [p.plu for p in PLACEMENTS],
        "sku": [p.sku for p in PLACEMENTS],
        "item_id": [p.item_id for p in PLACEMENTS],
        "master_id": [p.master_id for p in PLACEMENTS],
        "open_item": [p.open_item for p in PLACEMENTS],
    },
    schema_overrides={
        "tags": pl.String,
        "plu": pl.String,
        "sku": pl.String,
        "isd_group": pl.String,
        "isd_menu": pl.String,
    },
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
    text = pl.format(
        "{}.{}", magnitude // step, (magnitude % step).cast(pl.String).str.zfill(scale)
    )
    return pl.when(units < 0).then(pl.lit("-") + text).otherwise(text)


def _hms(seconds: pl.Expr) -> pl.Expr:
    """`00:00:41`, hours zero-padded (and past 24); a negative span signs every nonzero part:
    `-23:-39:-50`, `-69:-03:00`, as Toast writes an order paid before it was opened."""
    magnitude = seconds.abs()
    negative = seconds < 0

    def part(amount: pl.Expr) -> pl.Expr:
        text = amount.cast(pl.String).str.zfill(2)
        return pl.when(negative & (amount > 0)).then(pl.lit("-") + text).otherwise(text)

    return pl.format(
        "{}:{}:{}", part(magnitude // 3600), part(magnitude % 3600 // 60), part(magnitude % 60)
    )


def _tax_text(cents: pl.Expr) -> pl.Expr:
    """ItemSelectionDetails `Tax`: 8 decimals on every row (`2.70000000`), zero as `0E-8`."""
    return pl.when(cents == 0).then(pl.lit("0E-8")).otherwise(_fixed(cents * 10**6, 8))


def _java_double(value: float) -> str:
    """A double as Java's Double.toString writes it: shortest digits, `E` notation below 1e-3."""
    if value == 0:
        return "0.0"
    text = repr(value)
    if 1e-3 <= abs(value) < 1e7:
        return text
    if "e" in text:
        mantissa, exponent = text.split("e")
        exponent_value = int(exponent)
    else:
        number = Decimal(text)
        digits = "".join(map(str, number.as_tuple().digits)).lstrip("0")
        exponent_value = number.adjusted()
        mantissa = ("-" if value < 0 else "") + digits[0] + "." + digits[1:]
    if "." not in mantissa or mantissa.endswith("."):
        mantissa = mantissa.rstrip(".") + ".0"
    return f"{mantissa}E{exponent_value}"


def _cents_text(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole}.{part:02d}"


def _duration_words(seconds: int) -> str:
    """Kitchen `Fulfillment Time` text: `1 day, 2 hours, 1 minute and 6 seconds`."""
    parts = []
    for unit, size in (
        ("week", 604_800),
        ("day", 86_400),
        ("hour", 3_600),
        ("minute", 60),
        ("second", 1),
    ):
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
        elif column.kind is Kind.MONEY:
            text = _fixed(value, 2)
        elif column.kind is Kind.QUANTITY:
            text = value.cast(pl.String) + pl.lit(
                ".0"
            )  # whole quantities as Toast writes them: 1.0
        elif column.kind is Kind.DURATION_HMS:
            text = _hms(value)
        else:
            text = value.cast(pl.String)
        exprs.append(text.alias(column.header))
    return frame.select(exprs)


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
    modifiers: pl.DataFrame  # ModifiersSelectionDetails, text keyed by its headers


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
    rng: random.Random,
    business_date: date,
    n_orders: int,
    *,
    small: bool = False,
    catering: bool = False,
) -> _Sales:
    """Orders -> checks -> payments / item selections / kitchen tickets, plus the item report.

    `small` makes the lone order rung in on a closed day: one take-out check, one cheap item.
    `catering` makes it a catering order instead: one take-out check of many items in bulk.
    """
    n = n_orders
    r = rng.random
    lone = small or catering
    opened = (
        sorted(_opened_second(rng) for _ in range(n))
        if not lone
        else [int(r() * 3 * 3600) + 14 * 3600]
    )
    dining = (
        [1]
        if lone
        else rng.choices(range(len(DINING_OPTIONS)), cum_weights=DINING_CUM_WEIGHTS, k=n)
    )
    dine_in = [d == 0 for d in dining]
    area = [int(r() * 3) if d else None for d in dine_in]
    table = [None if a is None else f"{AREAS[a][1]}{int(r() * AREAS[a][2]) + 1}" for a in area]
    guests = [min(1 + int(abs(rng.gauss(0, 2.2))), 12) if d else 1 for d in dine_in]
    voided = [not lone and r() < VOID_RATE for _ in range(n)]
    n_checks = [2 if d and g >= 2 and r() < 0.25 else 1 for d, g in zip(dine_in, guests)]
    server = [int(r() * len(SERVERS)) for _ in range(n)]
    to_paid = [
        int(min(max(rng.gauss(55, 15), 15), 150) * 60) if d else int(r() * 22 * 60) + 180
        for d in dine_in
    ]
    to_closed = [int(r() * 600) for _ in range(n)]
    # Now and then an order is paid before it was opened (a tab moved, a clock fixed): Toast then
    # writes a negative duration. A catering order is paid days ahead and has no duration at all.
    paid_early = [
        None if lone or r() >= EARLY_PAID_RATE else 60 + int(r() * EARLY_PAID_MAX_SECONDS)
        for _ in range(n)
    ]
    prepaid = [catering] * n
    tax_exempt = [not lone and r() < TAX_EXEMPT_RATE for _ in range(n)]
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
        n_items = (
            [1] * c if small else rng.choices(range(1, 7), cum_weights=ITEMS_PER_CHECK_CUM, k=c)
        )
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
    elif catering:
        menu = [CATERING_PLACEMENTS[int(r() * len(CATERING_PLACEMENTS))] for _ in range(i_count)]
    else:
        menu = rng.choices(ORDINARY_PLACEMENTS, cum_weights=ORDINARY_CUM_WEIGHTS, k=i_count)
        for k in range(i_count):
            if r() < OPEN_ITEM_RATE:
                menu[k] = OPEN_PLACEMENTS[int(r() * len(OPEN_PLACEMENTS))]
    open_price = [
        OPEN_ITEM_PRICES[OPEN_PLACEMENTS.index(m)] if PLACEMENTS[m].open_item else 0 for m in menu
    ]
    chosen_modifiers, extra = _choose_modifiers(rng, menu)
    if catering:
        qty = [2 + int(r() * 5) for _ in range(i_count)]
    else:
        qty = [1 if small or r() >= 0.07 else 2 for _ in range(i_count)]
    discount = [
        int(r() * len(DISCOUNTS)) if not small and r() < 0.06 else None for _ in range(i_count)
    ]
    sent_after = [int(r() * 180) if r() < 0.8 else int(r() * 2400) for _ in range(i_count)]
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
            "paid_early": paid_early,
            "prepaid": prepaid,
            "tax_exempt": tax_exempt,
            "source": source,
        },
        schema_overrides={"area": pl.String, "table": pl.String, "paid_early": pl.Int64},
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
                    "customer_email": [
                        None if cu is None else CUSTOMER_EMAILS[cu] for cu in customer
                    ],
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
                        "discount_reason": [
                            None if d is None else DISCOUNTS[d][1] for d in discount
                        ],
                        "sent_after": sent_after,
                        "line": list(range(i_count)),
                        "extra": [e + o for e, o in zip(extra, open_price)],
                    },
                    schema_overrides={"discount_percent": pl.Int64, "discount_reason": pl.String},
                ),
                _take(MENU_FRAME, menu),
                _take(checks, item_check),
            ],
            how="horizontal",
        )
        .with_columns(gross=(pl.col("price") + pl.col("extra")) * pl.col("qty"))
        .with_columns(discount=pl.col("gross") * pl.col("discount_percent").fill_null(0) // 100)
        .with_columns(net=pl.col("gross") - pl.col("discount"))
        .with_columns(item_tax=pl.when(pl.col("tax_exempt")).then(0).otherwise(_tax(pl.col("net"))))
    )

    check_sums = (
        items.group_by("check")
        .agg(
            amount=pl.col("net").sum(),
            tax=pl.col("item_tax").sum(),
            discount_total=pl.col("discount").sum(),
            description=pl.col("item_name").str.join(", "),
            reason=pl.col("discount_reason").drop_nulls().first(),
        )
        .sort("check")
    )
    checks = (
        checks.join(check_sums, on="check", how="left", maintain_order="left")
        .with_columns(tip=pl.col("amount") * pl.col("tip_percent") // 100)
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
        paid_s=pl.when(pl.col("voided"))
        .then(None)
        .when(pl.col("prepaid"))
        .then(pl.col("opened_s") - CATERING_PREPAID_SECONDS - pl.col("to_paid") * 60)
        .when(pl.col("paid_early").is_not_null())
        .then(pl.col("opened_s") - pl.col("paid_early"))
        .otherwise(pl.col("opened_s") + pl.col("to_paid"))
    )
    orders = orders.with_columns(
        closed_s=pl.when(pl.col("prepaid") | pl.col("paid_early").is_not_null())
        .then(pl.col("opened_s") - pl.col("to_closed"))
        .otherwise(pl.coalesce("paid_s", pl.col("opened_s") + 300) + pl.col("to_closed")),
        tabs=pl.when(pl.col("tabs") != "").then(pl.col("tabs")),
    )

    payments = _payments(rng, business_date, checks, orders)
    kitchen = _kitchen(rng, business_date, items)
    modifiers = _modifier_selections(rng, business_date, items, chosen_modifiers)
    truth = orders.filter(~pl.col("voided"))
    tables = {
        ORDER_DETAILS.table: _order_details(business_date, orders),
        CHECK_DETAILS.table: _check_details(business_date, checks),
        PAYMENT_DETAILS.table: payments,
        ITEM_SELECTION_DETAILS.table: _item_selections(business_date, items),
        KITCHEN_TIMINGS.table: kitchen,
        ALL_ITEMS_REPORT.table: _all_items_report(items),
    }
    return _Sales(tables, truth.height, int(truth["amount"].sum()), modifiers)


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
        pl.col("tax").alias("Tax"),
        pl.col("tip").alias("Tip"),
        pl.col("gratuity").alias("Gratuity"),
        pl.col("total").alias("Total"),
        pl.col("voided").alias("Voided"),
        _at(business_date, pl.col("paid_s")).alias("Paid"),
        _at(business_date, pl.col("closed_s")).alias("Closed"),
        pl.when(~pl.col("prepaid"))
        .then(_hms(pl.col("paid_s") - pl.col("opened_s")))
        .alias("Duration (Opened to Paid)"),
        pl.col("source").alias("Order Source"),
    )


def _check_details(business_date: date, checks: pl.DataFrame) -> pl.DataFrame:
    opened = _at(business_date, pl.col("opened_s"))
    customer = pl.col("customer")
    checks = checks.with_columns(receipt_code=_receipt_code(pl.col("check_id"), 7))
    return checks.select(
        pl.col("customer_id").alias("Customer Id"),
        pl.col("customer_name").alias("Customer"),
        pl.when(customer.is_not_null() & pl.col("dining").is_in(["Delivery", "Online Ordering"]))
        .then(pl.format("312555{}", (customer + 100).cast(pl.String).str.zfill(4)))
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
        pl.format("http://www.toasttab.com/receipts/{}", pl.col("receipt_code")).alias("Link"),
    )


def _receipt_code(ids: pl.Expr, length: int) -> pl.Expr:
    """A letters-and-digits code derived from an ID, as receipt links and receipt codes carry."""
    alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    base = len(alphabet)
    mixed = (ids % 1_000_000_007) * 7_919 + ids // 1_000_000_007 % 1_000_003
    parts = [
        (mixed // base**k % base).replace_strict(
            list(range(base)), list(alphabet), return_dtype=pl.String
        )
        for k in range(min(length, 7))
    ]
    parts += parts[: length - len(parts)]
    return pl.concat_str(parts)


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
                    "phone": [
                        None if r() < 0.8 else f"555{int(r() * 10**7):07d}" for _ in range(p)
                    ],
                    "refund": [r() < 0.003 for _ in range(p)],
                    "refund_after": [86_400 + int(r() * 2 * 86_400) for _ in range(p)],
                    "void_after": [120 + int(r() * 900) for _ in range(p)],
                    "manager": [MANAGERS[int(r() * 2)] for _ in range(p)],
                },
                schema_overrides={"phone": pl.String},
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
        paid_at=pl.coalesce("paid_s", pl.col("opened_s") + pl.col("void_after"))
        + pl.col("position") * 40,
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
        pl.when(credit & pl.col("swiped"))
        .then(pl.col("pay_total"))
        .otherwise(0)
        .alias("Swiped Card Amount"),
        pl.when(credit & ~pl.col("swiped"))
        .then(pl.col("pay_total"))
        .otherwise(0)
        .alias("Keyed Card Amount"),
        pl.when(cash)
        .then((pl.col("pay_total") + 499) // 500 * 500)
        .otherwise(0)
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
        pl.when(pl.col("voided"))
        .then(pl.lit("VOIDED"))
        .otherwise(pl.lit("CAPTURED"))
        .alias("Status"),
        pl.col("kind").alias("Type"),
        pl.when(cash)
        .then(
            pl.when(pl.col("area") == "Bar")
            .then(pl.lit("Bar Drawer"))
            .otherwise(pl.lit("Front Drawer"))
        )
        .alias("Cash Drawer"),
        pl.when(credit).then(pl.col("card")).alias("Card Type"),
        pl.when(pl.col("kind") == "Other").then(pl.col("partner")).alias("Other Type"),
        pl.when(pl.col("dining") == "Online Ordering")
        .then(pl.col("customer_email"))
        .alias("Email"),
        pl.col("phone").alias("Phone"),
        pl.when(credit).then(pl.col("last4")).alias("Last 4 Card Digits"),
        pl.when(credit)
        .then((pl.col("pay_total") * 275 + 5_000) // 10_000 + 10)
        .alias("V/MC/D Fees"),
        _receipt_code(pl.col("payment_id"), 13).alias("Receipt"),
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
        pl.col("isd_group").alias("Menu Group"),
        pl.col("isd_menu").alias("Menu"),
        pl.col("category").alias("Sales Category"),
        pl.col("gross").alias("Gross Price"),
        pl.col("discount").alias("Discount"),
        pl.col("net").alias("Net Price"),
        pl.col("qty").alias("Qty"),
        _tax_text(pl.col("item_tax")).alias("Tax"),
        pl.col("voided").alias("Void?"),
        pl.lit(False).alias("Deferred"),
        pl.col("tax_exempt").alias("Tax Exempt"),
        pl.lit("Tax Not Included").alias("Tax Inclusion Option"),
        pl.when(~pl.col("open_item")).then(pl.lit("No Effect")).alias("Dining Option Tax"),
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
        _at(business_date, pl.col("fired_s")).alias("Fired Date"),
        _at(business_date, pl.col("fired_s") + pl.col("took")).alias("Fulfilled Date"),
        pl.col("took_text").alias("Fulfillment Time"),
        pl.when(done).then(pl.col("bumped_by")).alias("Fulfilled By"),
    )


def _cash_entries(rng: random.Random, business_date: date, *, stray: bool = False) -> pl.DataFrame:
    """Drawer activity: opening banks, no-sales, pay-outs, a close-out; on a closed day, a no-sale."""
    r = rng.random

    def entry(
        seconds: int, action: str, drawer: str, employee: str, **values: str | int | None
    ) -> dict:
        return {
            "seconds": seconds,
            "Action": action,
            "Cash Drawer": drawer,
            "Employee": employee,
            **values,
        }

    if stray:
        rows = [
            entry(
                10 * 3600 + int(r() * 7 * 3600),
                "NO_SALE",
                "Front Drawer",
                MANAGERS[int(r() * 2)],
                Amount=0,
                **{"No Sale Reason": "Make change", "Comment": "Opened for change, closed day"},
            )
            for _ in range(1 + int(r() * 2))
        ]
    else:
        rows = [
            entry(
                10 * 3600 + 45 * 60,
                "CASH_IN",
                "Front Drawer",
                MANAGERS[0],
                Amount=20_000,
                Comment="Bank",
            ),
            entry(10 * 3600 + 50 * 60, "CASH_IN", "Bar Drawer", MANAGERS[0], Amount=15_000),
        ]
        for _ in range(int(r() * 4)):
            drawer = ("Front Drawer", "Bar Drawer")[int(r() * 2)]
            reason = ("Make change", "Customer request")[int(r() * 2)]
            server = SERVERS[int(r() * len(SERVERS))]
            seconds = 11 * 3600 + int(r() * 12 * 3600)
            rows.append(
                entry(seconds, "NO_SALE", drawer, server, Amount=0, **{"No Sale Reason": reason})
            )
        for _ in range(int(r() * 3)):
            reason = ("Produce run", "Ice", "Cleaning, supplies")[int(r() * 3)]
            rows.append(
                entry(
                    11 * 3600 + int(r() * 10 * 3600),
                    "PAY_OUT",
                    "Front Drawer",
                    MANAGERS[int(r() * 2)],
                    Amount=1_500 + int(r() * 6_500),
                    Comment='Bought ice for the "walk-in"' if reason == "Ice" else None,
                    **{"Payout Reason": reason, "Employee 2": SERVERS[int(r() * len(SERVERS))]},
                )
            )
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


def _choose_modifiers(
    rng: random.Random, menu: Sequence[int]
) -> tuple[list[list[tuple[str, int, int]]], list[int]]:
    """Per item line, the modifier options chosen ((kind, option group, option)) and their price."""
    r = rng.random
    chosen, extra = [], []
    for placement in menu:
        kind = PLACEMENTS[placement].modifiers
        picks: list[tuple[str, int, int]] = []
        price = 0
        if kind is not None:
            for g, (_, chance, options) in enumerate(MODIFIER_GROUPS[kind]):
                if r() < chance:
                    o = int(r() * len(options))
                    picks.append((kind, g, o))
                    price += options[o][1]
        chosen.append(picks)
        extra.append(price)
    return chosen, extra


MODIFIER_HEADERS = (
    "Location",
    "Order Id",
    "Order #",
    "Sent Date",
    "Order Date",
    "Check Id",
    "Server",
    "Table",
    "Dining Area",
    "Service",
    "Dining Option",
    "Item Selection Id",
    "Modifier Id",
    "Master Id",
    "Modifier SKU",
    "Modifier PLU",
    "Modifier",
    "Option Group ID",
    "Option Group Name",
    "Parent Menu Selection Item ID",
    "Parent Menu Selection",
    "Sales Category",
    "Gross Price",
    "Discount",
    "Net Price",
    "Qty",
    "Void?",
    "Void Reason ID",
    "Void Reason",
)
TIME_ENTRY_HEADERS = (
    "Location",
    "Location Code",
    "Id",
    "GUID",
    "Employee Id",
    "Employee GUID",
    "Employee External Id",
    "Employee",
    "Job Id",
    "Job GUID",
    "Job Code",
    "Job Title",
    "In Date",
    "Out Date",
    "Auto Clock-out",
    "Total Hours",
    "Unpaid Break Time",
    "Paid Break Time",
    "Payable Hours",
    "Cash Tips Declared",
    "Non Cash Tips",
    "Total Gratuity",
    "Total Tips",
    "Tips Withheld",
    "Wage",
    "Regular Hours",
    "Overtime Hours",
    "Regular Pay",
    "Overtime Pay",
    "Total Pay",
)


def _modifier_selections(
    rng: random.Random,
    business_date: date,
    items: pl.DataFrame,
    chosen: Sequence[Sequence[tuple[str, int, int]]],
) -> pl.DataFrame:
    """ModifiersSelectionDetails: one row per modifier chosen. `Parent Menu Selection Item ID` is
    the parent line's menu `Item Id` (not its `Item Selection Id`), as real files have it."""
    lines = [k for k, picks in enumerate(chosen) for _ in picks]
    picks = [pick for picks in chosen for pick in picks]
    if not picks:
        return pl.DataFrame(schema={h: pl.String for h in MODIFIER_HEADERS})
    names = [MODIFIER_GROUPS[kind][g][2][o][0] for kind, g, o in picks]
    prices = [MODIFIER_GROUPS[kind][g][2][o][1] for kind, g, o in picks]
    parents = _take(items, lines)
    frame = parents.with_columns(
        selection=pl.Series(_daily_ids(7, business_date, rng, len(picks))),
        modifier_id=pl.Series([MODIFIER_IDS[p] for p in picks]),
        option_group_id=pl.Series([OPTION_GROUP_IDS[(kind, g)] for kind, g, _ in picks]),
        option_group=pl.Series([MODIFIER_GROUPS[kind][g][0] for kind, g, _ in picks]),
        modifier=pl.Series(names),
        modifier_gross=pl.Series(prices) * pl.col("qty"),
    )
    sent = _at(business_date, pl.col("opened_s") + pl.col("sent_after")).dt.strftime(
        TIMESTAMP_FORMAT
    )
    money = _fixed(pl.col("modifier_gross"), 2)
    return frame.select(
        pl.lit(LOCATION_NAME).alias("Location"),
        pl.col("order_id").cast(pl.String).alias("Order Id"),
        pl.col("order_no").cast(pl.String).alias("Order #"),
        sent.alias("Sent Date"),
        _at(business_date, pl.col("opened_s")).dt.strftime(TIMESTAMP_FORMAT).alias("Order Date"),
        pl.col("check_id").cast(pl.String).alias("Check Id"),
        pl.col("server").alias("Server"),
        pl.col("table").alias("Table"),
        pl.col("area").alias("Dining Area"),
        pl.col("service").alias("Service"),
        pl.col("dining").alias("Dining Option"),
        pl.col("selection").cast(pl.String).alias("Item Selection Id"),
        pl.col("modifier_id").cast(pl.String).alias("Modifier Id"),
        (pl.col("modifier_id") + 1).cast(pl.String).alias("Master Id"),
        pl.lit(None, pl.String).alias("Modifier SKU"),
        pl.lit(None, pl.String).alias("Modifier PLU"),
        pl.col("modifier").alias("Modifier"),
        pl.col("option_group_id").cast(pl.String).alias("Option Group ID"),
        pl.col("option_group").alias("Option Group Name"),
        pl.col("item_id").cast(pl.String).alias("Parent Menu Selection Item ID"),
        pl.col("item_name").alias("Parent Menu Selection"),
        pl.lit(None, pl.String).alias("Sales Category"),
        money.alias("Gross Price"),
        pl.lit("0.00").alias("Discount"),
        money.alias("Net Price"),
        (pl.col("qty").cast(pl.String) + ".0").alias("Qty"),
        pl.when(pl.col("voided")).then(pl.lit("true")).otherwise(pl.lit("false")).alias("Void?"),
        pl.lit(None, pl.String).alias("Void Reason ID"),
        pl.lit(None, pl.String).alias("Void Reason"),
    )


# --- AllItemsReport: the product-mix report, a tree over the whole menu ------------------------

_REPORT_HEADERS = tuple(c.header for c in ALL_ITEMS_REPORT.columns)
_FIGURE_HEADERS = _REPORT_HEADERS[8:]
# Figures of a row that sold nothing: what the real file writes on every unsold row.
_UNSOLD = (
    "0.00",
    "0.0",
    "0.0",
    "0.00",
    "0.0",
    "0.0",
    "0.00",
    "0.0",
    "0.00",
    "0.00",
    "0.00",
    "0",
    "0",
    "0",
    "0",
    "0",
    "0",
    "0",
    "0",
)
# The Gift Cards rows as the real file writes them (a few shares are 0.0 rather than 0).
_GIFT_CARDS_MENU_FIGURES = (*_UNSOLD[:12], "0.0", "0", "0", "0.0", "0", "0", "0.0")
_GIFT_CARDS_GROUP_FIGURES = (*_UNSOLD[:12], "0", "0", "0", "0.0", "0", "0", "0.0")
_LEVELS = ("total", "menu", "group", "item")


@dataclass
class _Tally:
    """Sales under one report row: (incl voids) figures, kept figures, and the orders."""

    qty_all: int = 0
    gross_all: int = 0  # cents
    qty: int = 0
    gross: int = 0
    discount: int = 0
    orders: set = field(default_factory=set)

    @property
    def net(self) -> int:
        return self.gross - self.discount

    def add(self, qty: int, gross: int, discount: int, voided: bool, order: int) -> None:
        self.qty_all += qty
        self.gross_all += gross
        if not voided:
            self.qty += qty
            self.gross += gross
            self.discount += discount
            self.orders.add(order)


def _share(part: float, whole: float, active: bool) -> str:
    if not active or whole == 0:
        return "0"
    return _java_double(part / whole)


def _figures(
    level: int, row: _Tally, parents: Sequence[_Tally], *, group_rounding: bool
) -> tuple[str, ...]:
    """The 19 figures of a report row; `parents` are the total, menu and group rows above it.

    Shares are fractions written as Java doubles: the (incl voids) shares and `% of Ttl # Orders`
    are within the row's parent; `% Qty (Group)` etc. apply to the rows below that level only."""
    if row.qty_all == 0:
        return _UNSOLD
    up = parents[level - 1] if level else None
    total, menu, group = (list(parents) + [None, None, None])[:3]
    avg = row.gross_all / 100 / row.qty_all
    if group_rounding:
        avg_text = _cents_text((2 * row.gross_all + row.qty_all) // (2 * row.qty_all))
    else:
        avg_text = _java_double(avg)
    if up is None:
        shares = ("0.0", "0.0", "0")
    else:
        shares = (
            _java_double(row.qty_all / up.qty_all) if up.qty_all else "0.0",
            _java_double(row.gross_all / 100 / (up.gross_all / 100)) if up.gross_all else "0.0",
            _share(len(row.orders), len(up.orders), True),
        )
    net = row.net / 100

    def within(parent: _Tally | None, applies: bool, part: float, whole: float) -> str:
        return _share(part, whole, applies and parent is not None)

    return (
        avg_text,
        f"{row.qty_all}.0",
        shares[0],
        _cents_text(row.gross_all),
        shares[1],
        f"{row.qty}.0",
        _cents_text(row.gross),
        f"{row.qty_all - row.qty}.0",
        _cents_text(row.gross_all - row.gross),
        _cents_text(row.discount),
        _cents_text(row.net),
        str(len(row.orders)),
        shares[2],
        within(group, level == 3, row.qty, group.qty if group else 0),
        within(menu, level >= 2, row.qty, menu.qty if menu else 0),
        within(total, level >= 1, row.qty, total.qty if total else 0),
        within(group, level == 3, net, group.net / 100 if group else 0),
        within(menu, level >= 2, net, menu.net / 100 if menu else 0),
        within(total, level >= 1, net, total.net / 100 if total else 0),
    )


def _all_items_report(items: pl.DataFrame | None) -> pl.DataFrame:
    """Toast's product mix as it writes it: the grand total (`ALL MENUS`), then per menu its total
    row, and per group a group row followed by every item on it, sold or not.

    A menu that sold nothing is written with an all-empty total row (as the real file has it); an
    open item (typed in by a server) is listed under Open Items only when it sold, with Master ID
    -1 and a synthetic Item ID. `Net Amount` adds up the same at every level."""
    if items is None:
        return _zero_report()
    tallies: dict[object, _Tally] = {}
    total = _Tally()
    columns = items.select("menu_index", "qty", "gross", "discount", "voided", "order")
    for placement, qty, gross, discount, voided, order in zip(
        *(c.to_list() for c in columns.get_columns())
    ):
        p = PLACEMENTS[placement]
        for key in (
            (p.menu,),
            (p.menu, p.group),
            (p.menu, p.group, p.name if p.open_item else placement),
        ):
            tallies.setdefault(key, _Tally()).add(qty, gross, discount, voided, order)
        total.add(qty, gross, discount, voided, order)
    rows = [
        ("", "", "", "ALL MENUS", "", "", "", "", *_figures(0, total, [], group_rounding=False))
    ]
    for menu, groups in MENU_LAYOUT.items():
        menu_tally = tallies.get((menu,), _Tally())
        if menu == GIFT_CARDS_MENU:
            rows.append(("", "", "", menu, "", "", "", "", *_GIFT_CARDS_MENU_FIGURES))
            rows.append(("-1", "-1", "", menu, menu, "", "", "", *_GIFT_CARDS_GROUP_FIGURES))
            continue
        name = menu if menu_tally.qty_all else ""
        figures = _figures(1, menu_tally, [total], group_rounding=False)
        rows.append(("", "", "", name, "", "", "", "", *figures))
        for group, members in groups.items():
            group_tally = tallies.get((menu, group), _Tally())
            if menu == OPEN_ITEMS_MENU:
                item_id, master_id = OPEN_GROUP_IDS[group]
            else:
                item_id, master_id = GROUP_IDS[(menu, group)]
            parent = str(master_id)
            figures = _figures(
                2, group_tally, [total, menu_tally], group_rounding=menu != OPEN_ITEMS_MENU
            )
            rows.append((parent, str(item_id), "", menu, group, "", "", "", *figures))
            line = [total, menu_tally, group_tally]
            if menu == OPEN_ITEMS_MENU:
                for open_name in OPEN_ITEM_NAMES:
                    tally = tallies.get((menu, group, open_name))
                    if tally is not None:
                        figures = _figures(3, tally, line, group_rounding=False)
                        rows.append(
                            (
                                OPEN_ITEM_MASTER_ID,
                                OPEN_ITEM_ITEM_ID,
                                parent,
                                menu,
                                group,
                                "",
                                open_name,
                                "",
                                *figures,
                            )
                        )
                continue
            for k in members:
                p = PLACEMENTS[k]
                tally = tallies.get((menu, group, k))
                figures = (
                    _UNSOLD if tally is None else _figures(3, tally, line, group_rounding=False)
                )
                rows.append(
                    (
                        str(p.master_id),
                        str(p.item_id),
                        parent,
                        menu,
                        group,
                        "",
                        p.name,
                        p.tags or "",
                        *figures,
                    )
                )
    return _report_frame(rows)


def _report_frame(rows: Sequence[Sequence[str]]) -> pl.DataFrame:
    columns = list(zip(*rows))
    return pl.DataFrame(
        {
            h: [v if v != "" else None for v in column]
            for h, column in zip(_REPORT_HEADERS, columns)
        },
        schema={h: pl.String for h in _REPORT_HEADERS},
    )


_ZERO_REPORT: list[pl.DataFrame] = []


def _zero_report() -> pl.DataFrame:
    """A day without sales: the whole menu, every figure zero (built once, the same every day)."""
    if not _ZERO_REPORT:
        _ZERO_REPORT.append(
            _all_items_report(
                pl.DataFrame(
                    schema={
                        "menu_index": pl.Int64,
                        "qty": pl.Int64,
                        "gross": pl.Int64,
                        "discount": pl.Int64,
                        "voided": pl.Boolean,
                        "order": pl.Int64,
                    }
                )
            )
        )
    return _ZERO_REPORT[0]


# --- the other files of a folder: labour, accounting, the menu ---------------------------------

JOBS = (
    # (job code, title, hourly wage in cents or None for salaried, staff)
    ("FOH", "Server", 1100, SERVERS),
    ("BOH", "Cook", 1750, KITCHEN_STAFF[1:]),
    ("BOH", "Expo", 1600, KITCHEN_STAFF[:1]),
    ("MGMT", "General Manager", None, MANAGERS),
)
STAFF = tuple((job, person) for job, (_, _, _, people) in enumerate(JOBS) for person in people)


def _guid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


STAFF_GUIDS = tuple(_guid(random.Random(f"toast-sample:staff:{k}")) for k in range(len(STAFF)))
JOB_GUIDS = tuple(_guid(random.Random(f"toast-sample:job:{k}")) for k in range(len(JOBS)))


def _time_entries(rng: random.Random, business_date: date) -> pl.DataFrame:
    """TimeEntries: one row per shift worked, `Yes`/`No` for the auto clock-out, money and hours to
    two decimals; a salaried manager has no wage or pay."""
    r = rng.random
    rows = []
    for staff, (job, person) in enumerate(STAFF):
        if r() < 0.3:
            continue
        code, title, wage, _ = JOBS[job]
        start = 9 * 3600 + int(r() * 9 * 3600)
        minutes = 240 + int(r() * 360)
        auto = r() < 0.05
        unpaid = 30 if minutes > 360 else 0
        payable = minutes - unpaid
        hours = _cents_text(payable * 100 // 60)
        tips = int(r() * 9000) if title == "Server" else 0
        pay = None if wage is None else _cents_text(payable * wage // 60)
        rows.append(
            {
                "Location": LOCATION_NAME,
                "Location Code": LOCATION_CODE,
                "Id": None,
                "GUID": _guid(rng),
                "Employee Id": str(_static_id(8, staff)),
                "Employee GUID": STAFF_GUIDS[staff],
                "Employee External Id": str(1001 + staff),
                "Employee": person if ", " in person else ", ".join(reversed(person.split(" ", 1))),
                "Job Id": str(_static_id(9, job)),
                "Job GUID": JOB_GUIDS[job],
                "Job Code": code,
                "Job Title": title,
                "In Date": datetime.combine(business_date, time()) + timedelta(seconds=start),
                "Out Date": datetime.combine(business_date, time())
                + timedelta(seconds=start + minutes * 60),
                "Auto Clock-out": "Yes" if auto else "No",
                "Total Hours": _cents_text(minutes * 100 // 60),
                "Unpaid Break Time": _cents_text(unpaid * 100 // 60),
                "Paid Break Time": "0.00",
                "Payable Hours": hours,
                "Cash Tips Declared": None,
                "Non Cash Tips": _cents_text(tips),
                "Total Gratuity": "0.00",
                "Total Tips": _cents_text(tips),
                "Tips Withheld": _cents_text(tips * 35 // 1000),
                "Wage": None if wage is None else _cents_text(wage),
                "Regular Hours": hours,
                "Overtime Hours": "0.00",
                "Regular Pay": pay,
                "Overtime Pay": None if wage is None else "0.00",
                "Total Pay": pay,
            }
        )
    rows.sort(key=lambda row: row["In Date"])
    ids = _daily_ids(8, business_date, rng, len(rows))
    for row, entry_id in zip(rows, ids):
        row["Id"] = str(entry_id)
        for key in ("In Date", "Out Date"):
            row[key] = row[key].strftime(TIMESTAMP_FORMAT)
    return pl.DataFrame(rows, schema={h: pl.String for h in TIME_ENTRY_HEADERS})


def _accounting_report(business_date: date) -> bytes:
    """AccountingReport.xls: an OLE2 compound file (the pipeline never reads it); a header sector
    with the OLE2 signature and a few sectors of content."""
    header = bytearray(512)
    header[0:8] = OLE2_SIGNATURE
    header[24:26] = (0x3E).to_bytes(2, "little")  # minor version
    header[26:28] = (3).to_bytes(2, "little")  # major version 3: 512-byte sectors
    header[28:30] = b"\xfe\xff"  # byte order mark
    header[30:32] = (9).to_bytes(2, "little")  # sector shift
    header[32:34] = (6).to_bytes(2, "little")  # mini sector shift
    header[76:512] = b"\xff" * 436  # unused DIFAT entries
    body = f"Accounting report {business_date:%m/%d/%Y} {LOCATION_NAME}".encode().ljust(
        1024, b"\x00"
    )
    return bytes(header) + body


def _menu_export(rng: random.Random) -> tuple[str, bytes]:
    """MenuExport_<guid>.json: the menu as JSON (Toast adds one on days the menu was published)."""
    return f"{MENU_EXPORT_PREFIX}{_guid(rng)}.json", _MENU_JSON


_MENU_JSON = json.dumps(
    {
        "restaurant": LOCATION_NAME,
        "menus": [
            {
                "name": menu,
                "groups": [
                    {
                        "name": group,
                        "items": [
                            {
                                "name": PLACEMENTS[k].name,
                                "itemId": str(PLACEMENTS[k].item_id),
                                "price": PLACEMENTS[k].price / 100,
                            }
                            for k in members
                        ],
                    }
                    for group, members in groups.items()
                ],
            }
            for menu, groups in MENU_LAYOUT.items()
        ],
    },
    ensure_ascii=False,
).encode("utf-8")


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
        self,
        folder: Path,
        streams: _Streams,
        zone: ZoneInfo,
        quirks: bool,
        quirk_rate: float,
        specs: Sequence[TableSpec] = TABLE_SPECS,
    ) -> None:
        self.folder, self.streams, self.zone = folder, streams, zone
        self.quirks, self.quirk_rate = quirks, quirk_rate
        self.specs = tuple(specs)  # the files this account is configured to receive

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
        for spec in self.specs:
            frame = tables[spec.table]
            shape = shapes.get(spec.file_name, _FileShape())
            file_damage = damage if damage and damage.file == spec.file_name else None
            line = self._write_table(spec, frame, shape, file_damage) or line
            rows[spec.table] = frame.height
        files = [s.file_name for s in self.specs]
        shifts = _time_entries(self.streams.sales, business_date)
        files += self._other_files(business_date, sales.modifiers, shifts)
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
        """A closed day as Toast delivers it; AllItemsReport always lists the whole menu."""
        plan = self.streams.plan
        orders, net_cents = 0, 0
        if delivery == "no_folder":
            return SampleDay(business_date, "closed", closure_kind, delivery)
        own = {s.table for s in self.specs}
        empty = {s.table: pl.DataFrame() for s in self.specs}
        empty[ALL_ITEMS_REPORT.table] = _zero_report()
        modifiers = None
        if delivery == "header_only":
            tables = empty
        elif delivery == CATERING_DELIVERY:
            sales = _sales(self.streams.sales, business_date, 1, catering=True)
            tables = {**empty, **sales.tables}
            orders, net_cents, modifiers = sales.orders, sales.net_cents, sales.modifiers
        elif delivery == "stray_rows":
            tables = dict(empty)
            if plan.random() < 0.5 and CASH_ENTRIES.table in own:
                tables[CASH_ENTRIES.table] = _cash_entries(
                    self.streams.sales, business_date, stray=True
                )
            else:
                sales = _sales(self.streams.sales, business_date, 1, small=True)
                tables.update(sales.tables)
                orders, net_cents, modifiers = sales.orders, sales.net_cents, sales.modifiers
        else:
            own_tables = [s.table for s in self.specs]
            present = plan.sample(own_tables, 1 + int(plan.random() * min(3, len(own_tables))))
            tables = {t: empty[t] for t in present}
            if CASH_ENTRIES.table in tables and plan.random() < 0.5:
                tables[CASH_ENTRIES.table] = _cash_entries(
                    self.streams.sales, business_date, stray=True
                )
        rows = {}
        for spec in self.specs:
            if spec.table in tables:
                self._write_table(spec, tables[spec.table], _FileShape(), None)
                rows[spec.table] = tables[spec.table].height
        files = [s.file_name for s in self.specs if s.table in tables]
        files += self._other_files(business_date, modifiers, None)
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
        own = [f for f in DAMAGEABLE_FILES if f in {s.file_name for s in self.specs}]
        file = own[int(plan.random() * len(own))]
        spec = ORDER_DETAILS if file == ORDER_DETAILS.file_name else PAYMENT_DETAILS
        row = 1 + int(plan.random() * (tables[spec.table].height - 1))
        if kind == "unterminated_quote":
            column = "Tab Names" if spec is ORDER_DETAILS else "Tab Name"
        elif kind in ("nul_byte", "latin1", "cut_short"):
            column = "Server"
        elif kind == "bad_value":
            column = (
                "Amount"
                if plan.random() < 0.5
                else ("Opened" if spec is ORDER_DETAILS else "Paid Date")
            )
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
        specs = [s for s in self.specs if s.file_name != exclude]

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
                optional = [
                    c.header
                    for c in spec.columns
                    if c.kind is Kind.TEXT and not (c.key or c.required)
                ]
                shape(spec).drop = rng.choice(optional)
                notes.append(f"missing_optional_column:{spec.file_name}:{shape(spec).drop}")
            elif kind == "docs_timestamps":
                spec = rng.choice(
                    [s for s in specs if any(c.kind is Kind.TIMESTAMP for c in s.columns)]
                )
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
        data = _csv_bytes(text)
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

    def _other_files(
        self, business_date: date, modifiers: pl.DataFrame | None, time_entries: pl.DataFrame | None
    ) -> list[str]:
        """The files Toast puts beside the seven, which the pipeline lists and ignores: modifiers,
        time entries (header only without sales or shifts), the accounting workbook, now and then
        the menu as JSON, and rarely a house-account export."""
        plan = self.streams.plan
        self.folder.mkdir(parents=True, exist_ok=True)
        modifiers_name, time_entries_name, accounting_name, house = IGNORED_FILES
        empty_modifiers = pl.DataFrame(schema={h: pl.String for h in MODIFIER_HEADERS})
        empty_entries = pl.DataFrame(schema={h: pl.String for h in TIME_ENTRY_HEADERS})
        chosen = empty_modifiers if modifiers is None else modifiers
        (self.folder / modifiers_name).write_bytes(_csv_bytes(chosen))
        entries = empty_entries if time_entries is None else time_entries
        (self.folder / time_entries_name).write_bytes(_csv_bytes(entries))
        (self.folder / accounting_name).write_bytes(_accounting_report(business_date))
        written = [modifiers_name, time_entries_name, accounting_name]
        if plan.random() < MENU_EXPORT_RATE:
            name, data = _menu_export(plan)
            (self.folder / name).write_bytes(data)
            written.append(name)
        if plan.random() < 0.1:
            (self.folder / house).write_bytes(b"Location,House Account,Customer,Amount,Balance\r\n")
            written.append(house)
        return written

    def _stamp_times(self, business_date: date) -> None:
        """Files land within the hour after the next morning's closeout, as Toast writes them."""
        closeout = datetime.combine(
            business_date + timedelta(days=1), time(CLOSEOUT_HOUR), tzinfo=self.zone
        )
        for path in sorted(self.folder.iterdir()):
            moment = (
                closeout + timedelta(minutes=5 + int(self.streams.plan.random() * 50))
            ).timestamp()
            os.utime(path, (moment, moment))
        latest = (closeout + timedelta(minutes=56)).timestamp()
        os.utime(self.folder, (latest, latest))


def _csv_bytes(text: pl.DataFrame) -> bytes:
    """A text frame as Toast writes CSV: UTF-8, CRLF line ends, quotes only where needed."""
    buffer = io.BytesIO()
    text.write_csv(buffer, line_terminator="\r\n")
    return buffer.getvalue()


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
        prog="python -m toast_pipeline_dev.sample",
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
        "--closed-weekdays",
        default="",
        help="comma-separated Python weekday numbers, e.g. 0,1: Mon, Tue",
    )
    parser.add_argument("--holiday-country", default="US", help="'none' for no holiday closures")
    parser.add_argument("--random-closure-rate", type=float, default=0.03)
    parser.add_argument("--no-quirks", action="store_true")
    parser.add_argument(
        "--lean-account",
        action="store_true",
        help="an account configured without CheckDetails, CashEntries and KitchenTimings",
    )
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
        account_files=LEAN_ACCOUNT_FILES if args.lean_account else None,
    )
    manifest = args.out_dir / "manifest.json"
    export.write_manifest(manifest)
    closed = sum(d.status == "closed" for d in export.days)
    print(
        f"{len(export.days)} business dates ({closed} closed) in {export.location_dir}; see {manifest}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
