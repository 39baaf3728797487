"""The sample export says what it wrote: every manifest figure is checked against the files."""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter, defaultdict
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from toast_pipeline.toast.parse import ExportParseError, parse_file
from toast_pipeline.toast.specs import (
    ALL_ITEMS_REPORT,
    CHECK_DETAILS,
    ITEM_SELECTION_DETAILS,
    KITCHEN_TIMINGS,
    ORDER_DETAILS,
    PAYMENT_DETAILS,
    SPECS_BY_FILE,
    SPECS_BY_TABLE,
    TABLE_SPECS,
    Kind,
)
from toast_pipeline_dev.sample import (
    BOM,
    CLOSED_DELIVERIES,
    DAMAGE_KINDS,
    IGNORED_FILES,
    LEAN_ACCOUNT_FILES,
    LEAN_ACCOUNT_OMITS,
    QUIRK_KINDS,
    SampleDay,
    SampleExport,
    generate_export,
    main,
)
from toast_pipeline_dev.sample.formats import java_double

START = date(2024, 11, 18)  # a Monday; Thanksgiving is 2024-11-28
DAMAGED = {
    date(2024, 11, 19): "unterminated_quote",  # a Tuesday, closed weekly unless damaged
    date(2024, 11, 20): "nul_byte",
    date(2024, 11, 21): "bad_value",
    date(2024, 11, 22): "missing_key_column",
    date(2024, 11, 23): "cut_short",
    date(2024, 11, 24): "latin1",
}
SPEC_FILES = {s.file_name for s in TABLE_SPECS}
TIMESTAMP = re.compile(r"^\d{1,2}/\d{1,2}/\d{2} \d{1,2}:\d{2} [AP]M$")
DOCS_TIMESTAMP = re.compile(r"^\d{2}/\d{2}/\d{4} \d{2}:\d{2}:\d{2}$")
MONEY = re.compile(r"^-?\d+\.\d{2}$")
ITEM_TAX = re.compile(r"^(\d+\.\d{8}|0E-8)$")  # 8 decimals on every row, zero as 0E-8
LONG_ID = re.compile(r"^\d{17,19}$")
REPORT_ID = re.compile(
    r"^-?\d+$"
)  # AllItemsReport: -1, negative Open Items IDs, 4611686018427387903
HMS = re.compile(r"^\d{2,}:[0-5]\d:[0-5]\d$")
NEGATIVE_HMS = re.compile(r"^(-\d{2,}|00):(-\d{2}|00):(-\d{2}|00)$")
MENU_EXPORT = re.compile(
    r"^MenuExport_[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\.json$"
)


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> SampleExport:
    """Three weeks, closed on Tuesdays, six damaged dates, the default quirk rate."""
    return generate_export(
        tmp_path_factory.mktemp("main"),
        start=START,
        days=21,
        seed=3,
        orders_per_day=25,
        closed_weekdays=(1,),
        damaged_dates=DAMAGED,
    )


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> SampleExport:
    return generate_export(
        tmp_path_factory.mktemp("plain"),
        start=START,
        days=7,
        seed=3,
        orders_per_day=25,
        quirks=False,
    )


@pytest.fixture(scope="module")
def quirky(tmp_path_factory: pytest.TempPathFactory) -> SampleExport:
    """Every quirk kind on every date."""
    return generate_export(
        tmp_path_factory.mktemp("quirky"),
        start=START,
        days=4,
        seed=5,
        orders_per_day=15,
        random_closure_rate=0,
        quirk_rate=1.0,
    )


@pytest.fixture(scope="module")
def closed(tmp_path_factory: pytest.TempPathFactory) -> SampleExport:
    """Closed every weekday, so each date shows one of the closed deliveries."""
    return generate_export(
        tmp_path_factory.mktemp("closed"),
        start=START,
        days=28,
        seed=11,
        closed_weekdays=tuple(range(7)),
    )


def read(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    """Header and rows, by header name, as any CSV reader sees them (BOM dropped)."""
    reader = csv.DictReader(io.StringIO(path.read_bytes().decode("utf-8-sig"), newline=""))
    rows = list(reader)
    return list(reader.fieldnames or []), rows


def folder(export: SampleExport, day: SampleDay) -> Path:
    return export.location_dir / day.folder_name


def undamaged_open_days(export: SampleExport) -> list[SampleDay]:
    return [d for d in export.days if d.status == "open" and d.damage is None]


def table(export: SampleExport, day: SampleDay, spec) -> list[dict[str, str]]:
    return read(folder(export, day) / spec.file_name)[1]


def money(text: str) -> Decimal:
    return Decimal(text)


def stamp(text: str) -> datetime:
    """Either timestamp form Toast writes."""
    fmt = "%m/%d/%Y %H:%M:%S" if DOCS_TIMESTAMP.match(text) else "%m/%d/%y %I:%M %p"
    return datetime.strptime(text, fmt)


def level(row: dict[str, str]) -> str:
    """Which level of the product-mix tree a report row is."""
    if row["Menu Name"] == "ALL MENUS":
        return "total"
    if not row["Master ID"]:
        return "menu" if row["Menu Name"] else "empty"
    return "item" if row["Menu Item"] else "group"


def tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_same_arguments_write_the_same_bytes(tmp_path: Path) -> None:
    kwargs = dict(
        start=START,
        days=4,
        seed=9,
        orders_per_day=12,
        quirk_rate=0.5,
        damaged_dates={START: "bad_value"},
    )
    first = generate_export(tmp_path / "a", **kwargs)
    second = generate_export(tmp_path / "b", **kwargs)
    generate_export(tmp_path / "c", **{**kwargs, "seed": 10})

    assert tree(tmp_path / "a") == tree(tmp_path / "b")
    assert first.days == second.days
    assert tree(tmp_path / "a") != tree(tmp_path / "c")


def test_a_date_depends_only_on_seed_and_date(tmp_path: Path, export: SampleExport) -> None:
    """The first days of a long export are a short export with the same arguments."""
    short = generate_export(
        tmp_path,
        start=START,
        days=3,
        seed=3,
        orders_per_day=25,
        closed_weekdays=(1,),
        damaged_dates=DAMAGED,
    )

    assert short.days == export.days[:3]
    folders = {d.folder_name for d in short.days}
    assert tree(short.location_dir) == {
        k: v for k, v in tree(export.location_dir).items() if k.split("/")[0] in folders
    }


def test_refuses_to_write_over_an_export(tmp_path: Path) -> None:
    generate_export(tmp_path, start=START, days=1, orders_per_day=5)

    with pytest.raises(FileExistsError):
        generate_export(tmp_path, start=START, days=1, orders_per_day=5)


def test_open_days_hold_the_seven_files_with_the_spec_headers(plain: SampleExport) -> None:
    for day in plain.days:
        assert day.status == "open" and day.delivery == "full"
        names = {p.name for p in folder(plain, day).iterdir()}
        assert names == set(day.files)
        assert SPEC_FILES <= names
        assert all(n in IGNORED_FILES or MENU_EXPORT.match(n) for n in names - SPEC_FILES)
        for spec in TABLE_SPECS:
            data = (folder(plain, day) / spec.file_name).read_bytes()
            assert not data.startswith(BOM)
            header, _ = read(folder(plain, day) / spec.file_name)
            assert header == [c.header for c in spec.columns]


def test_ignored_files_appear_on_some_days(export: SampleExport) -> None:
    present = Counter(
        "MenuExport" if MENU_EXPORT.match(name) else name
        for day in export.days
        for name in day.files
        if name not in SPEC_FILES
    )
    delivered = sum(1 for day in export.days if day.files)

    assert set(present) == {*IGNORED_FILES, "MenuExport"}
    for name in ("ModifiersSelectionDetails.csv", "TimeEntries.csv", "AccountingReport.xls"):
        assert present[name] == delivered  # in every delivered folder
    assert 0 < present["MenuExport"] < delivered


def test_every_quirk_is_written_as_recorded(quirky: SampleExport) -> None:
    seen = set()
    for day in quirky.days:
        for note in day.quirks:
            kind, file, *detail = note.split(":")
            seen.add(kind)
            spec = SPECS_BY_FILE[file]
            path = folder(quirky, day) / file
            header, rows = read(path)
            canonical = [c.header for c in spec.columns]
            if kind == "bom":
                assert path.read_bytes().startswith(BOM)
            elif kind == "discnt_header":
                assert "Discnt" in header and "Discount" not in header
            elif kind == "reordered_columns":
                assert header != canonical and set(header) >= {c.header for c in spec.key_columns}
            elif kind == "extra_column":
                assert detail[0] in header and detail[0] not in canonical
            elif kind == "missing_optional_column":
                assert detail[0] in canonical and detail[0] not in header
            elif kind == "docs_timestamps":
                stamps = [
                    r[c.header] for r in rows for c in spec.columns if c.kind is Kind.TIMESTAMP
                ]
                assert all(DOCS_TIMESTAMP.match(s) for s in stamps if s)
            elif kind == "title_booleans":
                flags = {r[c.header] for r in rows for c in spec.columns if c.kind is Kind.BOOLEAN}
                assert flags <= {"True", "False"} and flags
        for spec in TABLE_SPECS:
            data = (folder(quirky, day) / spec.file_name).read_bytes()
            assert data.startswith(BOM) == (f"bom:{spec.file_name}" in day.quirks)
            header, _ = read(folder(quirky, day) / spec.file_name)
            assert {c.header for c in spec.key_columns} <= set(header)

    assert seen == set(QUIRK_KINDS)


def test_the_parser_reads_every_undamaged_file(export: SampleExport, quirky: SampleExport) -> None:
    for sample in (export, quirky):
        for day in sample.days:
            for spec in TABLE_SPECS:
                path = folder(sample, day) / spec.file_name
                if spec.table not in day.rows or spec.file_name == day.damage_file:
                    continue
                parsed = parse_file(spec, path.read_bytes(), path.name)
                assert parsed.frame.height == day.rows[spec.table]


def test_manifest_row_counts_are_the_data_rows_written(
    export: SampleExport, closed: SampleExport
) -> None:
    for sample in (export, closed):
        for day in sample.days:
            delivered = {
                s.table for s in TABLE_SPECS if (folder(sample, day) / s.file_name).exists()
            }
            assert delivered == set(day.rows)
            for name, count in day.rows.items():
                path = folder(sample, day) / SPECS_BY_TABLE[name].file_name
                if path.name == day.damage_file and day.damage == "cut_short":
                    assert path.read_bytes().count(b"\n") == day.damage_line - 1 < count + 1
                elif path.name == day.damage_file:
                    assert path.read_bytes().count(b"\n") - 1 == count  # no value spans lines
                else:
                    assert len(read(path)[1]) == count


def test_net_sales_is_the_exact_sum_of_non_voided_amounts(export: SampleExport) -> None:
    voided = 0
    for day in undamaged_open_days(export):
        orders = table(export, day, ORDER_DETAILS)
        kept = [o for o in orders if o["Voided"].lower() == "false"]

        assert day.orders == len(kept) > 0
        assert day.net_sales == sum((money(o["Amount"]) for o in kept), Decimal("0.00"))
        voided += len(orders) - len(kept)

    assert voided > 0


def test_orders_checks_payments_and_items_add_up(export: SampleExport) -> None:
    for day in undamaged_open_days(export):
        orders = table(export, day, ORDER_DETAILS)
        checks = {c["Check Id"]: c for c in table(export, day, CHECK_DETAILS)}
        items = table(export, day, ITEM_SELECTION_DETAILS)
        payments = table(export, day, PAYMENT_DETAILS)
        net, discount, order_checks = defaultdict(Decimal), defaultdict(Decimal), defaultdict(set)
        for item in items:
            net[item["Order Id"]] += money(item["Net Price"])
            item_discount = money(item.get("Discount") or item["Discnt"])
            discount[item["Order Id"]] += item_discount
            assert money(item["Net Price"]) == money(item["Gross Price"]) - item_discount
            order_checks[item["Order Id"]].add(item["Check Id"])
        paid = defaultdict(Decimal)
        for payment in payments:
            assert money(payment["Total"]) == sum(
                money(payment[h]) for h in ("Amount", "Tip", "Gratuity")
            )
            paid[payment["Check Id"]] += money(payment["Total"])
        for order in orders:
            parts = sum(money(order[h]) for h in ("Amount", "Tax", "Tip", "Gratuity"))
            assert money(order["Total"]) == parts
            assert money(order["Amount"]) == net[order["Order Id"]]
            assert money(order["Discount Amount"]) == discount[order["Order Id"]]
            own = order_checks[order["Order Id"]]
            assert len(own) == len(order["Checks"].split(", ")) in (1, 2)
            assert sum(money(checks[c]["Total"]) for c in own) == money(order["Total"])
        assert all(paid[c] == money(check["Total"]) for c, check in checks.items())
        assert {i["Check Id"] for i in items} == set(checks)


def test_all_items_report_aggregates_the_item_selections(export: SampleExport) -> None:
    """Item rows hold what ItemSelectionDetails sold under that menu and group (open items, which
    name no menu on the selection, under Open Items); everything else on the menu sold nothing."""
    for day in undamaged_open_days(export):
        qty, void_qty, net = Counter(), Counter(), defaultdict(Decimal)
        for item in table(export, day, ITEM_SELECTION_DETAILS):
            menu, group = (
                (item["Menu"], item["Menu Group"]) if item["Menu"] else ("Open Items", "Open Item")
            )
            key = (menu, group, item["Menu Item"])
            if item["Void?"].lower() == "true":
                void_qty[key] += Decimal(item["Qty"])
            else:
                qty[key] += Decimal(item["Qty"])
                net[key] += money(item["Net Price"])
        report = [r for r in table(export, day, ALL_ITEMS_REPORT) if level(r) == "item"]
        keys = [(r["Menu Name"], r["Menu Group"], r["Menu Item"]) for r in report]

        assert len(keys) == len(set(keys))
        assert set(qty) | set(void_qty) <= set(keys)
        for row, key in zip(report, keys):
            assert Decimal(row["Item Qty"]) == qty[key]
            assert Decimal(row["Void Qty"]) == void_qty[key]
            assert Decimal(row["Item Qty (incl voids)"]) == qty[key] + void_qty[key]
            assert money(row["Net Amount"]) == net[key]
            assert money(row["Net Amount"]) == money(row["Gross Amount"]) - money(
                row["Discount Amount"]
            )
        assert sum(money(r["Net Amount"]) for r in report) == day.net_sales
        assert (
            abs(sum(float(r["% Qty (All)"]) for r in report) - 1) < 1e-9
        )  # fractions, not percents


def test_a_master_id_can_carry_two_item_ids(export: SampleExport) -> None:
    masters = defaultdict(set)
    for day in undamaged_open_days(export):
        for row in table(export, day, ALL_ITEMS_REPORT):
            if level(row) == "item" and not row["Master ID"].startswith("-"):
                masters[row["Master ID"]].add(row["Item ID"])

    assert any(len(items) == 2 for items in masters.values())


def test_values_are_written_in_toast_formats(plain: SampleExport) -> None:
    names, taxes, durations = set(), [], []
    for day in plain.days:
        for order in table(plain, day, ORDER_DETAILS):
            assert TIMESTAMP.match(order["Opened"])
            durations.append(order["Duration (Opened to Paid)"])
            assert order["Voided"] in ("true", "false")
            for header in ("Amount", "Tax", "Tip", "Gratuity", "Total", "Discount Amount"):
                assert MONEY.match(order[header])
            names.add(order["Server"])
        for check in table(plain, day, CHECK_DETAILS):
            assert re.match(r"^\d{1,2}/\d{1,2}/\d{2}$", check["Opened Date"])
            assert re.match(r"^\d{1,2}:\d{2} [AP]M$", check["Opened Time"])
        for ticket in table(plain, day, KITCHEN_TIMINGS):
            text = ticket["Fulfillment Time"]
            assert text == "" or re.match(r"^\d+ \w+(, \d+ \w+)*( and \d+ \w+)?$", text)
        for item in table(plain, day, ITEM_SELECTION_DETAILS):
            assert ITEM_TAX.match(item["Tax"])
            assert re.match(r"^\d+\.0$", item["Qty"])
            taxes.append(item["Tax"])
            names.add(item["Menu Item"])

    assert 'Lee, "Sunny"' in names and 'House "Special" Burger' in names
    assert "0E-8" in taxes and "0.00000000" not in taxes
    assert all(d == "" or HMS.match(d) or NEGATIVE_HMS.match(d) for d in durations)
    assert any(d.startswith("00:") for d in durations)


def test_orders_after_midnight_stay_in_the_previous_business_date(export: SampleExport) -> None:
    late = []
    for day in undamaged_open_days(export):
        for order in table(export, day, ORDER_DETAILS):
            opened = stamp(order["Opened"])
            assert day.business_date <= opened.date() <= day.business_date + timedelta(days=1)
            if opened.date() > day.business_date:
                assert opened.hour < 2
                late.append(opened)

    assert late


def test_forgotten_kitchen_tickets_take_days(export: SampleExport) -> None:
    days = undamaged_open_days(export)
    texts = [t["Fulfillment Time"] for day in days for t in table(export, day, KITCHEN_TIMINGS)]

    assert any("day" in t or "week" in t for t in texts)
    assert "" in texts


def test_ids_are_long_integers_unique_across_the_export(export: SampleExport) -> None:
    seen: Counter[str] = Counter()
    for day in export.days:
        for spec in TABLE_SPECS:
            path = folder(export, day) / spec.file_name
            if spec.table not in day.rows or path.name == day.damage_file:
                continue
            rows = read(path)[1]
            for column in spec.columns:
                if column.kind is Kind.ID:
                    values = [r[column.header] for r in rows if r.get(column.header)]
                    pattern = REPORT_ID if spec is ALL_ITEMS_REPORT else LONG_ID
                    assert all(pattern.match(v) for v in values), (path, column.header)
            if spec is not ALL_ITEMS_REPORT:
                seen.update(r[spec.key_columns[0].header] for r in rows)

    assert seen and max(seen.values()) == 1


def test_weekly_closures_fall_on_the_closed_weekday(export: SampleExport) -> None:
    for day in export.days:
        if day.business_date.weekday() == 1 and day.business_date not in DAMAGED:
            assert (day.status, day.closure_kind) == ("closed", "weekly")
        else:
            assert day.closure_kind != "weekly"


def test_a_damaged_date_is_open_even_on_a_closed_weekday(export: SampleExport) -> None:
    tuesday = export.day(date(2024, 11, 19))

    assert (tuesday.status, tuesday.delivery, tuesday.damage) == (
        "open",
        "full",
        "unterminated_quote",
    )


def test_closing_holidays_are_closed_and_other_holidays_open(
    tmp_path: Path, export: SampleExport
) -> None:
    thanksgiving = export.day(date(2024, 11, 28))
    assert (thanksgiving.status, thanksgiving.closure_kind) == ("closed", "holiday")
    quiet = dict(orders_per_day=5, random_closure_rate=0)
    winter = generate_export(tmp_path / "winter", start=date(2024, 12, 24), days=9, **quiet)
    july = generate_export(tmp_path / "july", start=date(2024, 7, 4), days=1, **quiet)
    kinds = {d.business_date: d.closure_kind for d in winter.days + july.days}

    assert kinds == {
        date(2024, 12, 24): None,
        date(2024, 12, 25): "holiday",
        date(2024, 12, 26): None,
        date(2024, 12, 27): None,
        date(2024, 12, 28): None,
        date(2024, 12, 29): None,
        date(2024, 12, 30): None,
        date(2024, 12, 31): None,
        date(2025, 1, 1): "holiday",
        date(2024, 7, 4): None,
    }
    no_calendar = generate_export(
        tmp_path / "none", start=date(2024, 12, 25), days=1, holiday_country=None, **quiet
    )
    assert no_calendar.days[0].status == "open"


def test_random_closures_follow_the_rate(tmp_path: Path) -> None:
    always = generate_export(
        tmp_path / "a", start=START, days=5, orders_per_day=5, random_closure_rate=1.0
    )
    never = generate_export(
        tmp_path / "n", start=START, days=5, orders_per_day=5, random_closure_rate=0.0
    )

    assert {d.closure_kind for d in always.days} == {"emergency"}
    assert {d.status for d in never.days} == {"open"}


def test_closed_deliveries_are_written_as_described(closed: SampleExport) -> None:
    assert {d.delivery for d in closed.days} == set(CLOSED_DELIVERIES)
    for day in closed.days:
        path = folder(closed, day)
        assert day.status == "closed" and day.damage is None
        present = {p.name for p in path.iterdir()} if path.exists() else set()
        assert present == set(day.files)
        delivered = present & SPEC_FILES
        if day.delivery == "no_folder":
            assert not path.exists() and day.rows == {} and day.files == []
        elif day.delivery == "header_only":
            # Six header-only files beside a full AllItemsReport: the whole menu, nothing sold.
            assert delivered == SPEC_FILES
            for name in delivered - {ALL_ITEMS_REPORT.file_name}:
                assert (path / name).read_bytes().count(b"\n") == 1
                assert read(path / name) == ([c.header for c in SPECS_BY_FILE[name].columns], [])
            report = read(path / ALL_ITEMS_REPORT.file_name)[1]
            assert len(report) == day.rows[ALL_ITEMS_REPORT.table] > 400
            assert {r["Item Qty"] for r in report} == {"0.0"}
        elif day.delivery == "stray_rows":
            assert delivered == SPEC_FILES
            assert 0 < sum(n for t, n in day.rows.items() if t != ALL_ITEMS_REPORT.table) < 10
            assert day.orders <= 1 and day.net_sales < 30
        else:
            assert 1 <= len(delivered) <= 3
            for name in delivered - {ALL_ITEMS_REPORT.file_name}:
                assert len(read(path / name)[1]) <= 2
        if day.delivery != "no_folder":
            assert {
                "ModifiersSelectionDetails.csv",
                "TimeEntries.csv",
                "AccountingReport.xls",
            } <= present
        if day.delivery != "stray_rows":
            assert (day.orders, day.net_sales) == (0, Decimal("0.00"))


def test_stray_rows_are_a_drawer_opening_or_one_small_order(tmp_path: Path) -> None:
    when = [START + timedelta(days=i) for i in range(12)]
    sample = generate_export(
        tmp_path,
        start=START,
        days=12,
        seed=2,
        holiday_country=None,
        closure_deliveries={d: "stray_rows" for d in when},
    )
    shapes = set()
    for day in sample.days:
        assert (day.status, day.closure_kind, day.delivery) == ("closed", "emergency", "stray_rows")
        if day.orders:
            orders = table(sample, day, ORDER_DETAILS)
            assert len(orders) == 1 and money(orders[0]["Total"]) < 30
            assert day.rows[ORDER_DETAILS.table] == day.rows[PAYMENT_DETAILS.table] == 1
            shapes.add("order")
        else:
            assert set(k for k, v in day.rows.items() if v) == {"cash_entries", "all_items_report"}
            assert day.rows["cash_entries"] in (1, 2)
            shapes.add("drawer")

    assert shapes == {"order", "drawer"}


def test_a_catering_closure_is_one_big_take_out_order(tmp_path: Path) -> None:
    sample = generate_export(
        tmp_path,
        start=START,
        days=1,
        seed=4,
        holiday_country=None,
        closure_deliveries={START: "catering"},
    )
    [day] = sample.days
    assert (day.status, day.delivery, day.orders) == ("closed", "catering", 1)
    [order] = table(sample, day, ORDER_DETAILS)
    assert order["Dining Options"] == "Take Out" and money(order["Amount"]) == day.net_sales
    assert sum(day.rows.values()) >= 10 and day.net_sales >= 50  # what the seed's rules let through
    assert day.rows["cash_entries"] == 0


def test_volume_factors_scale_open_days_and_change_nothing_else(tmp_path: Path) -> None:
    quiet = {
        "start": START,
        "days": 3,
        "seed": 5,
        "orders_per_day": 60,
        "holiday_country": None,
        "random_closure_rate": 0.0,
    }
    normal = generate_export(tmp_path / "n", **quiet)
    storm = generate_export(
        tmp_path / "s", **quiet, volume_factors={START + timedelta(days=1): 0.25}
    )
    assert [d.orders for d in storm.days][::2] == [d.orders for d in normal.days][::2]
    assert abs(storm.days[1].orders - normal.days[1].orders * 0.25) <= 1  # both rounded


def test_each_damage_kind_is_in_its_file_as_described(export: SampleExport) -> None:
    damaged = {d.damage: d for d in export.days if d.damage}
    assert set(damaged) == set(DAMAGE_KINDS)
    for kind, day in damaged.items():
        assert day.business_date in DAMAGED and DAMAGED[day.business_date] == kind
        assert day.damage_file in (ORDER_DETAILS.file_name, PAYMENT_DETAILS.file_name)
        spec = SPECS_BY_FILE[day.damage_file]
        data = (folder(export, day) / day.damage_file).read_bytes()
        lines = data.split(b"\n")
        header = lines[0].decode().split(",")
        bad_line = lines[day.damage_line - 1]
        if kind == "missing_key_column":
            assert day.damage_line == 1 and day.damage_column == spec.key_columns[0].header
            assert day.damage_column not in header
        else:
            assert day.damage_line >= 3  # never the first data row
        if kind == "unterminated_quote":
            assert data.count(b'"') % 2 == 1 and b',"Smith, John,' in bad_line
        if kind == "nul_byte":
            assert data.count(b"\x00") == 1 and b"\x00" in bad_line
        if kind == "latin1":
            assert b"Ren\xe9e Dupr\xe9" in bad_line
        if kind == "cut_short":
            assert data.endswith(bad_line) and len(bad_line.split(b",")) < len(header)
        if kind == "bad_value":
            value = next(csv.reader([bad_line.decode()]))[header.index(day.damage_column)]
            assert value.endswith("x") or ":9" in value
        with pytest.raises(ExportParseError) as error:
            parse_file(spec, data, day.damage_file)
        assert error.value.line == day.damage_line


def test_files_are_stamped_after_the_next_closeout(export: SampleExport) -> None:
    zone = ZoneInfo(export.timezone)
    for day in export.days:
        for name in day.files:
            stamped = datetime.fromtimestamp((folder(export, day) / name).stat().st_mtime, zone)
            closeout = datetime.combine(day.business_date + timedelta(days=1), time(4), zone)
            assert closeout < stamped < closeout + timedelta(hours=1)


def test_manifest_round_trips(tmp_path: Path, export: SampleExport) -> None:
    manifest = tmp_path / "manifest.json"
    export.write_manifest(manifest)
    again = SampleExport.read_manifest(manifest)

    assert again.days == export.days
    assert again.location_dir.resolve() == export.location_dir.resolve()
    assert '"net_sales": "' in manifest.read_text()


def test_command_line_writes_export_and_manifest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [
        str(tmp_path),
        "--days",
        "3",
        "--start",
        "2024-03-01",
        "--seed",
        "7",
        "--orders-per-day",
        "10",
    ]
    assert main(argv) == 0

    sample = SampleExport.read_manifest(tmp_path / "manifest.json")
    assert [d.business_date for d in sample.days] == [
        date(2024, 3, 1),
        date(2024, 3, 2),
        date(2024, 3, 3),
    ]
    assert sample.location_dir == (tmp_path / "185129").resolve()
    for day in sample.days:
        assert (sample.location_dir / day.folder_name).is_dir() == (day.delivery != "no_folder")
    assert "3 business dates" in capsys.readouterr().out


@pytest.mark.parametrize(
    "kwargs",
    [
        {"days": -1},
        {"orders_per_day": 0},
        {"closed_weekdays": (7,)},
        {"random_closure_rate": 1.5},
        {"damaged_dates": {START: "torn"}},
        {"closure_deliveries": {START: "full"}},
        {"volume_factors": {START: 0.0}},
    ],
)
def test_rejects_arguments_it_cannot_honour(tmp_path: Path, kwargs: dict) -> None:
    with pytest.raises(ValueError):
        generate_export(tmp_path, **{"start": START, "days": 1, **kwargs})


# --- faithfulness to a real export day ---------------------------------------------------------

REAL_DAY = (
    Path(__file__).resolve().parent.parent / "fixtures" / "real-export" / "57138" / "20250521"
)
OTHER_CSVS = ("ModifiersSelectionDetails.csv", "TimeEntries.csv")
# A value's shape: the first pattern it matches (so "0.5" is dec1, "0.25" dec2, "0.125" double).
SHAPES = (
    ("empty", r""),
    ("digits", r"-?\d+"),
    ("dec1", r"-?\d+\.\d"),
    ("dec2", r"-?\d+\.\d{2}"),
    ("dec8", r"-?\d+\.\d{8}"),
    ("zero_e8", r"0E-8"),
    ("double", r"-?\d+\.\d+"),
    ("e_double", r"-?\d\.\d+E-?\d+"),
    ("timestamp", r"\d{1,2}/\d{1,2}/\d{2} \d{1,2}:\d{2} [AP]M"),
    ("date", r"\d{1,2}/\d{1,2}/\d{2}"),
    ("time", r"\d{1,2}:\d{2} [AP]M"),
    ("hms", r"\d{2,}:\d{2}:\d{2}"),
    ("negative_hms", r"(-\d{2,}|00):(-\d{2}|00):(-\d{2}|00)"),
    ("boolean", r"true|false"),
    ("yes_no", r"Yes|No"),
    ("guid", r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"),
)
DOUBLE_SHAPES = {"dec1", "dec2", "double", "e_double"}
# Shapes the real export takes that this one day happens not to show (a bakery without tables,
# no voids, refunds, pay-outs or gift cards that day), each documented for real exports.
EXTRA_SHAPES = {
    ("OrderDetails.csv", "Duration (Opened to Paid)"): {"negative_hms"},  # paid before opened
    ("OrderDetails.csv", "Checks"): {"text"},  # a split order lists its check numbers: "3, 4"
    ("OrderDetails.csv", "Paid"): {"empty"},  # a voided order was never paid
    ("PaymentDetails.csv", "Void User"): {"text"},
    ("PaymentDetails.csv", "Void Approver"): {"text"},
    ("PaymentDetails.csv", "Void Date"): {"timestamp"},
    ("PaymentDetails.csv", "Refund Date"): {"timestamp"},
    ("PaymentDetails.csv", "Refund Amount"): {"dec2"},
    ("PaymentDetails.csv", "Refund Tip Amount"): {"dec2"},
    ("PaymentDetails.csv", "Last 4 Gift Card Digits"): {"digits"},
    ("PaymentDetails.csv", "First 5 Gift Card Digits"): {"digits"},
    ("KitchenTimings.csv", "Fulfilled Date"): {"empty"},  # a ticket never bumped
    ("KitchenTimings.csv", "Fulfillment Time"): {"empty"},
    ("KitchenTimings.csv", "Fulfilled By"): {"empty"},
    ("CashEntries.csv", "Payout Reason"): {"text"},
    ("CashEntries.csv", "Employee 2"): {"text"},
    **{
        (file, column): {"digits", "text"}
        for file in (
            "OrderDetails.csv",
            "PaymentDetails.csv",
            "ItemSelectionDetails.csv",
            "KitchenTimings.csv",
            "ModifiersSelectionDetails.csv",
        )
        for column in ("Table", "Dining Area")
    },
}


def shape(value: str) -> str:
    for name, pattern in SHAPES:
        if re.fullmatch(pattern, value):
            return name
    return "text"


def column_shapes(path: Path) -> tuple[list[str], dict[str, set[str]]]:
    header, rows = read(path)
    return header, {h: {shape(r[h]) for r in rows} for h in header}


def allowed(file: str, column: str, real: set[str]) -> set[str]:
    """The real shapes; a column Toast writes doubles in may take any rendering of a double."""
    extra = DOUBLE_SHAPES if "double" in real or "e_double" in real else set()
    return real | extra | EXTRA_SHAPES.get((file, column), set())


def test_the_real_fixture_is_the_real_day() -> None:
    names = sorted(p.name for p in REAL_DAY.iterdir())
    assert names == sorted([*SPEC_FILES, *OTHER_CSVS, "AccountingReport.xls"])
    assert (REAL_DAY / "AccountingReport.xls").read_bytes()[:8] == bytes.fromhex("D0CF11E0A1B11AE1")
    assert len(read(REAL_DAY / ALL_ITEMS_REPORT.file_name)[1]) == 615


def test_generated_files_have_the_real_headers_and_value_shapes(plain: SampleExport) -> None:
    mismatches = []
    for name in sorted(SPEC_FILES | set(OTHER_CSVS)):
        real_header, real_shapes = column_shapes(REAL_DAY / name)
        for day in undamaged_open_days(plain):
            path = folder(plain, day) / name
            raw = path.read_bytes()
            assert raw.endswith(b"\r\n") and raw.count(b"\r\n") == raw.count(b"\n"), name  # CRLF
            header, shapes = column_shapes(path)
            assert header == real_header, name
            if name in OTHER_CSVS and name == "TimeEntries.csv":
                continue  # its values are checked below
            for column in header:
                unexpected = shapes[column] - allowed(name, column, real_shapes[column])
                if unexpected:
                    mismatches.append(
                        (name, column, sorted(unexpected), sorted(real_shapes[column]))
                    )
    assert mismatches == []


def test_time_entries_take_the_real_shapes(plain: SampleExport) -> None:
    real_header, real_shapes = column_shapes(REAL_DAY / "TimeEntries.csv")
    for day in undamaged_open_days(plain):
        header, shapes = column_shapes(folder(plain, day) / "TimeEntries.csv")
        assert header == real_header
        for column in header:
            assert shapes[column] <= real_shapes[column] | {"empty"}, column
        assert shapes["Auto Clock-out"] <= {"yes_no"}


def test_real_shares_and_averages_are_java_doubles_of_the_figures() -> None:
    """The conventions the generator copies, checked on the real report: sold item rows write
    `Avg Price` as the double gross / qty and `% Qty (All)` as qty / the day's qty."""
    rows = read(REAL_DAY / ALL_ITEMS_REPORT.file_name)[1]
    total = next(r for r in rows if level(r) == "total")
    sold = [r for r in rows if level(r) == "item" and r["Item Qty"] != "0.0"]
    assert len(sold) == 89
    for row in sold:
        qty = float(row["Item Qty (incl voids)"])
        assert row["Avg Price"] == java_double(float(row["Gross Amount (incl voids)"]) / qty)
        assert row["% Qty (All)"] == java_double(float(row["Item Qty"]) / float(total["Item Qty"]))


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (2 / 187, "0.0106951871657754"),
        (2.0 / 2856.82, "7.000791089393101E-4"),
        (7e-05, "7.0E-5"),
        (0.0, "0.0"),
        (16.47 / 3, "5.489999999999999"),
        (1.0, "1.0"),
    ],
)
def test_doubles_are_written_as_java_writes_them(value: float, text: str) -> None:
    assert java_double(value) == text


def report_sums(rows: list[dict[str, str]]) -> dict[str, Decimal]:
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        sums[level(row)] += money(row["Net Amount"])
    return dict(sums)


def test_the_real_report_adds_up_the_same_at_every_level() -> None:
    sums = report_sums(read(REAL_DAY / ALL_ITEMS_REPORT.file_name)[1])
    assert sums == {
        "total": Decimal("2827.85"),
        "menu": Decimal("2827.85"),
        "group": Decimal("2827.85"),
        "item": Decimal("2827.85"),
        "empty": Decimal("0.00"),
    }


def test_all_items_report_is_the_nested_product_mix(plain: SampleExport) -> None:
    for day in undamaged_open_days(plain):
        rows = table(plain, day, ALL_ITEMS_REPORT)
        levels = [level(r) for r in rows]
        assert day.rows[ALL_ITEMS_REPORT.table] == len(rows)
        assert levels[0] == "total" and levels.count("total") == 1
        assert (rows[0]["Master ID"], rows[0]["Item ID"], rows[0]["Menu Item"]) == ("", "", "")
        group = None
        for previous, row, this in zip(levels, rows[1:], levels[1:]):
            if this == "item":
                assert previous in ("group", "item") and row["Parent ID"] == group["Master ID"]
                assert (row["Menu Name"], row["Menu Group"]) == (
                    group["Menu Name"],
                    group["Menu Group"],
                )
            elif this == "group":
                assert row["Parent ID"] == "" and row["Menu Item"] == "" and row["Item ID"]
                group = row
            else:  # a menu's total row opens each menu; an unsold menu's is written empty
                assert this in ("menu", "empty") and previous != "menu"
        sums = report_sums(rows)
        assert sums["total"] == sums["menu"] == sums["group"] == sums["item"] == day.net_sales
        unsold = [r for r in rows if level(r) == "item" and r["Item Qty (incl voids)"] == "0.0"]
        items = [r for r in rows if level(r) == "item"]
        assert len(unsold) > len(items) / 2
        assert {
            (r["Avg Price"], r["% Qty (All)"], r["% of Ttl Qty (incl voids)"]) for r in unsold
        } == {("0.00", "0", "0.0")}
        assert rows[0]["% of Ttl Qty (incl voids)"] == "0.0" and rows[0]["% Net Amt (All)"] == "0"


def test_all_items_report_keeps_the_real_quirks(export: SampleExport) -> None:
    open_items, pairs = [], Counter()
    for day in undamaged_open_days(export):
        rows = table(export, day, ALL_ITEMS_REPORT)
        gift_cards = [r for r in rows if r["Menu Name"] == "Gift Cards"]
        assert [(r["Master ID"], r["Item ID"]) for r in gift_cards] == [("", ""), ("-1", "-1")]
        groups = {
            r["Menu Group"]: r
            for r in rows
            if level(r) == "group" and r["Menu Name"] == "Open Items"
        }
        assert set(groups) == {"Open Item", "Open Catering Item"}
        assert all(
            r["Master ID"].startswith("-") and r["Item ID"].startswith("-") for r in groups.values()
        )
        for row in rows:
            if level(row) == "item" and row["Menu Name"] == "Open Items":
                assert (row["Master ID"], row["Item ID"]) == ("-1", "4611686018427387903")
                assert row["Parent ID"] == groups["Open Item"]["Master ID"]
                open_items.append(row)
            elif level(row) == "item":
                pairs[(row["Master ID"], row["Item ID"])] += 1
    assert open_items
    assert (
        max(pairs.values()) >= 2
    )  # the same item under two menus: (Master ID, Item ID) not unique


def test_a_closed_day_report_lists_the_whole_menu_unsold(
    plain: SampleExport, closed: SampleExport
) -> None:
    open_day = undamaged_open_days(plain)[0]
    open_rows = table(plain, open_day, ALL_ITEMS_REPORT)
    menu_items = {
        (r["Menu Name"], r["Menu Group"], r["Menu Item"]) for r in open_rows if level(r) == "item"
    }
    menu_items = {k for k in menu_items if k[0] != "Open Items"}
    for day in closed.days:
        if day.delivery != "header_only":
            continue
        rows = table(closed, day, ALL_ITEMS_REPORT)
        listed = {
            (r["Menu Name"], r["Menu Group"], r["Menu Item"]) for r in rows if level(r) == "item"
        }
        assert listed == menu_items
        assert report_sums(rows)["total"] == 0
        # Every menu sold nothing, so its total row is empty; only Gift Cards stays named.
        assert {level(r) for r in rows} == {"total", "empty", "group", "item", "menu"}
        assert [r["Menu Name"] for r in rows if level(r) == "menu"] == ["Gift Cards"]


def test_some_orders_are_paid_before_they_were_opened(tmp_path: Path) -> None:
    sample = generate_export(
        tmp_path,
        start=START,
        days=6,
        seed=8,
        orders_per_day=120,
        random_closure_rate=0,
        quirks=False,
    )
    negative = []
    for day in sample.days:
        for order in table(sample, day, ORDER_DETAILS):
            duration = order["Duration (Opened to Paid)"]
            if duration.startswith("-") or ":-" in duration:
                assert NEGATIVE_HMS.match(duration)
                assert stamp(order["Paid"]) < stamp(order["Opened"])
                hours, minutes, seconds = (int(p) for p in duration.split(":"))
                signed = hours * 3600 + minutes * 60 + seconds
                early = (
                    stamp(order["Opened"]) - stamp(order["Paid"])
                ).total_seconds()  # to the minute
                assert signed < 0 and abs(-signed - early) < 60
                negative.append(duration)
            elif duration:
                assert HMS.match(duration)
    assert 0 < len(negative) < 0.05 * sum(d.orders for d in sample.days)


def test_a_catering_order_is_prepaid_without_a_duration(tmp_path: Path) -> None:
    sample = generate_export(
        tmp_path,
        start=START,
        days=1,
        seed=4,
        holiday_country=None,
        closure_deliveries={START: "catering"},
    )
    [order] = table(sample, sample.days[0], ORDER_DETAILS)
    assert order["Duration (Opened to Paid)"] == ""
    assert stamp(order["Paid"]) < stamp(order["Opened"]) - timedelta(days=1)


def test_tax_exempt_items_write_zero_tax_as_0e8(export: SampleExport) -> None:
    exempt = 0
    for day in undamaged_open_days(export):
        orders = {o["Order Id"]: o for o in table(export, day, ORDER_DETAILS)}
        tax = defaultdict(Decimal)
        for item in table(export, day, ITEM_SELECTION_DETAILS):
            assert ITEM_TAX.match(item["Tax"])
            if item["Tax Exempt"].lower() == "true":
                assert item["Tax"] == "0E-8"
                exempt += 1
            assert (item["Tax"] == "0E-8") == (Decimal(item["Tax"]) == 0)
            tax[item["Order Id"]] += Decimal(item["Tax"])
        assert all(money(o["Tax"]) == tax[i] for i, o in orders.items())
    assert exempt


def test_modifiers_link_to_the_menu_item_of_a_selection(plain: SampleExport) -> None:
    header = read(REAL_DAY / "ModifiersSelectionDetails.csv")[0]
    for day in undamaged_open_days(plain):
        items = table(plain, day, ITEM_SELECTION_DETAILS)
        path = folder(plain, day) / "ModifiersSelectionDetails.csv"
        mod_header, modifiers = read(path)
        assert mod_header == header and modifiers
        by_order = defaultdict(set)
        for item in items:
            by_order[item["Order Id"]].add((item["Item Id"], item["Menu Item"]))
        selections = {i["Item Selection Id"] for i in items}
        for modifier in modifiers:
            parent = (modifier["Parent Menu Selection Item ID"], modifier["Parent Menu Selection"])
            assert parent in by_order[modifier["Order Id"]]
            assert modifier["Item Selection Id"] not in selections  # its own selection ID
            assert MONEY.match(modifier["Gross Price"]) and re.match(r"^\d+\.0$", modifier["Qty"])


def test_other_files_of_a_folder(plain: SampleExport, closed: SampleExport) -> None:
    for sample in (plain, closed):
        for day in sample.days:
            if day.delivery == "no_folder":
                continue
            path = folder(sample, day)
            accounting = (path / "AccountingReport.xls").read_bytes()
            assert accounting[:8] == bytes.fromhex("D0CF11E0A1B11AE1") and len(accounting) < 64_000
            entries = read(path / "TimeEntries.csv")
            assert entries[0] == read(REAL_DAY / "TimeEntries.csv")[0]
            if day.status == "open":
                assert entries[1] and {e["Auto Clock-out"] for e in entries[1]} <= {"Yes", "No"}
            for name in day.files:
                if name.startswith("MenuExport_"):
                    assert MENU_EXPORT.match(name)
                    menu = json.loads((path / name).read_text(encoding="utf-8"))
                    assert "Food" in {m["name"] for m in menu["menus"]}


def test_a_lean_account_never_receives_checks_cash_or_kitchen(tmp_path: Path) -> None:
    lean = [s for s in TABLE_SPECS if s.file_name not in LEAN_ACCOUNT_OMITS]
    sample = generate_export(
        tmp_path,
        start=START,
        days=24,
        seed=6,
        orders_per_day=15,
        closed_weekdays=(0, 1, 2),
        damaged_dates={date(2024, 11, 21): "bad_value"},
        quirk_rate=0.3,
        account_files=LEAN_ACCOUNT_FILES,
    )
    deliveries = set()
    for day in sample.days:
        deliveries.add(day.delivery)
        present = {p.name for p in folder(sample, day).iterdir()} if day.files else set()
        assert present == set(day.files)
        assert not present & set(LEAN_ACCOUNT_OMITS)
        assert set(day.rows) <= {s.table for s in lean}
        if day.delivery in ("full", "header_only", "stray_rows"):
            assert set(day.rows) == {s.table for s in lean}
        assert all(q.split(":")[1] not in LEAN_ACCOUNT_OMITS for q in day.quirks)
    assert {"full", "header_only", "stray_rows", "few_files"} <= deliveries
    assert (
        set(LEAN_ACCOUNT_FILES) == SPEC_FILES - set(LEAN_ACCOUNT_OMITS)
        and len(LEAN_ACCOUNT_FILES) == 4
    )


def test_the_command_line_writes_a_lean_account(tmp_path: Path) -> None:
    assert main([str(tmp_path), "--days", "2", "--start", "2024-03-01", "--lean-account"]) == 0
    sample = SampleExport.read_manifest(tmp_path / "manifest.json")
    files = {name for day in sample.days for name in day.files}
    assert files & SPEC_FILES == set(LEAN_ACCOUNT_FILES)


def test_account_files_must_be_toast_files(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        generate_export(tmp_path, start=START, days=1, account_files=("Orders.csv",))
    with pytest.raises(ValueError):
        generate_export(tmp_path, start=START, days=1, account_files=())
