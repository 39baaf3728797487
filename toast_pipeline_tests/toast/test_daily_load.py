from datetime import UTC, date, datetime
from decimal import Decimal

import polars as pl
import pytest

from toast_pipeline.toast.closures import ClosureReason
from toast_pipeline.toast.daily_load import BUSINESS_DAYS, WAREHOUSE_TABLES, build_day_load
from toast_pipeline.toast.parse import ExportParseError, frame_schema
from toast_pipeline.toast.specs import TABLE_SPECS

DAY = date(2024, 4, 4)
LOADED_AT = datetime(2024, 4, 5, 10, 0, tzinfo=UTC)


def header_only() -> dict[str, bytes]:
    return {
        s.file_name: ",".join(c.header for c in s.columns).encode() + b"\n" for s in TABLE_SPECS
    }


def load(files):
    return build_day_load("185129", DAY, files, loaded_at=LOADED_AT, timezone="America/Chicago")


def test_open_day_keeps_every_row_with_system_columns():
    files = header_only()
    orders = "".join(f"{i},{i}.00,false\n" for i in range(1, 12))
    files["OrderDetails.csv"] = ("Order Id,Amount,Voided\n" + orders + "99,500.00,true\n").encode()
    day = load(files)
    assert day.verdict.is_open
    assert day.summary.orders == 11
    assert day.summary.net_sales == Decimal("66.00")
    orders = day.tables["order_details"]
    assert orders.height == 12
    assert orders.select(
        "business_date", "location_id", "closure_indicator", "closure_reason", "source_file"
    ).unique().rows() == [(DAY, "185129", False, None, "185129/20240404/OrderDetails.csv")]
    assert all(day.tables[s.table].height == 0 for s in TABLE_SPECS if s.table != "order_details")


def test_every_frame_matches_its_warehouse_schema():
    day = load({})
    for table, fields in WAREHOUSE_TABLES.items():
        assert day.tables[table].schema == frame_schema(fields), table


def test_no_folder_gives_one_marker_row_per_table():
    day = load({})
    assert day.verdict.reason == ClosureReason.NO_FILES
    for spec in TABLE_SPECS:
        frame = day.tables[spec.table]
        assert frame.select(
            "business_date", "location_id", "closure_indicator", "closure_reason"
        ).rows() == [(DAY, "185129", True, "no_files")]
        assert frame.select(spec.column_names).null_count().sum_horizontal().item() == len(
            spec.columns
        )


def test_closed_day_keeps_its_stray_real_rows_unflagged():
    files = header_only()
    files["CashEntries.csv"] = b"Entry Id,Action,Amount\n77,CASH_IN,20.00\n"
    day = load(files)
    assert day.verdict.reason == ClosureReason.LOW_ACTIVITY
    cash = day.tables["cash_entries"]
    assert cash.select("entry_id", "amount", "closure_indicator", "closure_reason").rows() == [
        ("77", Decimal("20.00"), False, None)
    ]
    assert day.tables["order_details"].get_column("closure_indicator").to_list() == [True]


def test_business_day_row_summarises_the_delivery():
    files = header_only()
    files["CashEntries.csv"] = b"Entry Id,Amount\n1,5.00\n2,6.00\n"
    row = load(files).tables[BUSINESS_DAYS].to_dicts()
    assert row == [
        {
            "business_date": DAY,
            "location_id": "185129",
            "status": "closed",
            "closure_reason": "low_activity",
            "explanation": "2 records in the transactional files, fewer than 10",
            "files_found": 7,
            "files_delivered": ",".join(sorted(s.table for s in TABLE_SPECS)),
            "records": 2,
            "orders": 0,
            "net_sales": Decimal("0.00"),
            **{f"{s.table}_rows": (2 if s.table == "cash_entries" else 0) for s in TABLE_SPECS},
            "timezone": "America/Chicago",
            "loaded_at": LOADED_AT,
        }
    ]


def test_other_files_in_the_folder_are_ignored_and_listed():
    files = header_only()
    files["TimeEntries.csv"] = b"anything"
    files["AccountingReport.xls"] = b"\x00\x01"
    day = build_day_load(
        "185129", DAY, files, loaded_at=LOADED_AT, timezone="UTC", other_files=["menu.json"]
    )
    assert day.ignored_files == ["AccountingReport.xls", "TimeEntries.csv", "menu.json"]
    assert day.summary.files_found == 7


def test_source_files_carry_size_and_checksum():
    files = header_only()
    day = load(files)
    source = day.source_files["order_details"]
    assert source.size == len(files["OrderDetails.csv"])
    assert len(source.sha256) == 64


def test_one_malformed_file_fails_the_whole_date():
    files = header_only()
    files["PaymentDetails.csv"] = b'Payment Id,Amount\n1,"2.00\n'
    with pytest.raises(ExportParseError, match="185129/20240404/PaymentDetails.csv, line 2"):
        load(files)


def test_marker_rows_are_typed_like_real_rows():
    frame = load({}).tables["order_details"]
    assert frame.schema["amount"] == pl.Decimal(18, 2)
    assert frame.get_column("amount").to_list() == [None]


@pytest.mark.parametrize(
    "files",
    [
        {},
        {"OrderDetails.csv": b"Order Id,Amount,Voided\n"},
        {"OrderDetails.csv": b"Order Id,Amount,Voided\n1,0.00,false\n2,5.00,true\n"},
    ],
    ids=["no-order-file", "no-orders", "zero-sales"],
)
def test_regression_zero_net_sales_are_in_cents_as_stored(files):
    """A date with no sales summed to `0`, read back from the warehouse as `0.00`: the verdict's
    explanation changed, so every such date was re-judged and re-materialized on each load."""
    load = build_day_load(
        "185129", date(2024, 4, 4), files, loaded_at=datetime.now(UTC), timezone="America/Chicago"
    )
    assert str(load.summary.net_sales) == "0.00"
