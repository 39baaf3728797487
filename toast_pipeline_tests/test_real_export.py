"""One real Toast export day (personal values replaced, every number, ID and format as Toast wrote
them) loaded end to end: loopback SFTP server -> Dagster run -> each warehouse.

Expected values are read from the files themselves with the standard library, never with the
pipeline's parser.
"""

import csv
import io
import os
import re
import uuid
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import dagster as dg
import pytest

from toast_pipeline.definitions import DAILY_JOB, build_definitions
from toast_pipeline.defs.assets import BUSINESS_DAYS_KEY
from toast_pipeline.resources.archive import LocalRawArchive
from toast_pipeline.resources.bigquery_warehouse import BigQueryWarehouse
from toast_pipeline.resources.duckdb_warehouse import DuckDBWarehouse
from toast_pipeline.settings import GroupSettings
from toast_pipeline.toast.parse import parse_file
from toast_pipeline.toast.specs import TABLE_SPECS, TRANSACTION_SPECS, Kind
from toast_pipeline_tests.warehouses import WAREHOUSES

REAL_DAY_DIR = Path(__file__).parent / "fixtures" / "real-export" / "57138" / "20250521"
LOCATION = "57138"
DAY = date(2025, 5, 21)
OTHER_FILES = ("AccountingReport.xls", "ModifiersSelectionDetails.csv", "TimeEntries.csv")
# Delivered the next morning, long settled.
DELIVERED_AT = datetime(2025, 5, 22, 5, 10).timestamp()


def records(name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO((REAL_DAY_DIR / name).read_text("utf-8"), newline="")))


def serve_folder(root: Path, files: dict[str, bytes], sftp_server_factory):
    folder = root / LOCATION / f"{DAY:%Y%m%d}"
    folder.mkdir(parents=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
        os.utime(folder / name, (DELIVERED_AT, DELIVERED_AT))
    return sftp_server_factory(root)


def run_day(server, sftp_source_factory, archive, warehouse):
    settings = GroupSettings(locations=(LOCATION,), start_date=DAY, timezone="America/New_York")
    definitions = build_definitions(
        settings, source=sftp_source_factory(server), archive=archive, warehouse=warehouse
    )
    with dg.instance_for_test() as instance:
        result = definitions.resolve_job_def(DAILY_JOB).execute_in_process(
            partition_key=f"{DAY.isoformat()}|{LOCATION}", instance=instance, raise_on_error=False
        )
    return result


def real_day_files() -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in REAL_DAY_DIR.iterdir()}


def loaded(warehouse, table: str, columns: str = "*"):
    """The date's real rows (closure markers left out)."""
    real = "" if table == "business_days" else " AND NOT closure_indicator"
    return warehouse.query(
        f"SELECT {columns} FROM {warehouse.table(table)} "
        f"WHERE location_id = '{LOCATION}' AND business_date = DATE '{DAY}'{real}"
    )


def load_into_fresh_warehouse(request, files: dict[str, bytes]):
    """Serve `files` as the real day's folder and load it into a warehouse of its own."""
    tmp = request.getfixturevalue("tmp_path_factory").mktemp("real")
    if request.param == "duckdb":
        warehouse = DuckDBWarehouse(path=str(tmp / "toast.duckdb"))
    else:
        emulator = request.getfixturevalue("bigquery_emulator")
        warehouse = BigQueryWarehouse(
            project=emulator.project, dataset=f"real_{uuid.uuid4().hex[:10]}"
        )
    server = serve_folder(tmp / "export", files, request.getfixturevalue("sftp_server_factory"))
    archive = LocalRawArchive(path=str(tmp / "raw"))
    return run_day(
        server, request.getfixturevalue("sftp_source_factory"), archive, warehouse
    ), warehouse


@pytest.fixture(scope="module", params=WAREHOUSES)
def real_day_result(request):
    """Loaded once per warehouse; the tests below only read."""
    return load_into_fresh_warehouse(request, real_day_files())


@pytest.fixture(scope="module", params=WAREHOUSES)
def closed_day_result(request):
    return load_into_fresh_warehouse(request, closed_day_files())


@pytest.mark.e2e
def test_every_data_row_of_the_seven_files_is_loaded(real_day_result):
    result, warehouse = real_day_result
    assert result.success
    for spec in TABLE_SPECS:
        assert loaded(warehouse, spec.table, "count(*)").item() == len(records(spec.file_name)), (
            spec.table
        )


@pytest.mark.e2e
def test_order_totals_to_the_cent(real_day_result):
    _, warehouse = real_day_result
    in_file = {
        r["Order Id"]: (Decimal(r["Amount"]), Decimal(r["Total"]))
        for r in records("OrderDetails.csv")
    }
    stored = {
        oid: (amount, total)
        for oid, amount, total in loaded(
            warehouse, "order_details", "order_id, amount, total"
        ).rows()
    }
    assert stored == in_file
    assert sum(t for _, t in stored.values()) == sum(
        Decimal(r["Total"]) for r in records("OrderDetails.csv")
    )


@pytest.mark.e2e
def test_eight_decimal_item_tax_is_exact(real_day_result):
    _, warehouse = real_day_result
    in_file = sum(Decimal(r["Tax"]) for r in records("ItemSelectionDetails.csv"))
    assert "0E-8" in {r["Tax"] for r in records("ItemSelectionDetails.csv")}
    assert Decimal(str(loaded(warehouse, "item_selection_details", "sum(tax)").item())) == in_file


@pytest.mark.e2e
def test_the_product_mix_report_keeps_its_levels_and_item_rows_add_up(real_day_result):
    _, warehouse = real_day_result
    report = records("AllItemsReport.csv")
    levels = dict(
        warehouse.query(
            f"SELECT row_level, count(*) FROM {warehouse.table('all_items_report')} "
            f"WHERE business_date = DATE '{DAY}' GROUP BY row_level"
        ).rows()
    )
    assert levels["total"] == 1
    assert levels["item"] == sum(1 for r in report if r["Menu Item"])
    assert sum(levels.values()) == len(report)
    grand_total = Decimal(report[0]["Net Amount"])
    item_net = warehouse.query(
        f"SELECT sum(net_amount) FROM {warehouse.table('all_items_report')} "
        f"WHERE business_date = DATE '{DAY}' AND row_level = 'item'"
    ).item()
    assert item_net == grand_total


@pytest.mark.e2e
def test_the_real_day_is_open_and_its_other_files_are_listed_as_ignored(real_day_result):
    result, warehouse = real_day_result
    assert loaded(warehouse, "business_days", "status, files_found").rows() == [("open", 7)]
    [evaluation] = result.get_asset_check_evaluations()
    assert evaluation.passed and evaluation.partition == "2025-05-21|57138"
    assert evaluation.metadata["records"].value == sum(
        len(records(s.file_name)) for s in TRANSACTION_SPECS
    )
    days = next(
        m
        for m in result.asset_materializations_for_node("toast_export")
        if m.asset_key == BUSINESS_DAYS_KEY
    )
    notes = days.metadata["drift_notes"].value
    assert [n for n in notes if n.startswith("other file ignored")] == [
        f"other file ignored: {n}" for n in OTHER_FILES
    ]


def closed_day_files() -> dict[str, bytes]:
    """The real day as a real closed day arrives: six header-only files beside the full menu
    listing with every quantity and amount zero."""
    files = real_day_files()
    for spec in TRANSACTION_SPECS:
        files[spec.file_name] = files[spec.file_name].split(b"\r\n", 1)[0] + b"\r\n"
    report = records("AllItemsReport.csv")
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(report[0]), lineterminator="\r\n")
    writer.writeheader()
    figures = [
        h
        for h in report[0]
        if h
        not in (
            "Master ID",
            "Item ID",
            "Parent ID",
            "Menu Name",
            "Menu Group",
            "Subgroup",
            "Menu Item",
            "Tags",
        )
    ]
    for row in report:
        writer.writerow({**row, **{h: "0" for h in figures}})
    files["AllItemsReport.csv"] = out.getvalue().encode()
    return files


@pytest.mark.e2e
def test_a_real_shaped_closed_day_is_closed_with_its_menu_listing_kept(closed_day_result):
    result, warehouse = closed_day_result
    assert result.success
    assert loaded(warehouse, "business_days", "status, closure_reason").rows() == [
        ("closed", "low_activity")
    ]
    assert loaded(warehouse, "all_items_report", "count(*)").item() == len(
        records("AllItemsReport.csv")
    )
    markers = {
        spec.table: warehouse.query(
            f"SELECT count(*) FROM {warehouse.table(spec.table)} WHERE business_date = DATE '{DAY}' AND closure_indicator"
        ).item()
        for spec in TABLE_SPECS
    }
    assert markers == {spec.table: int(spec in TRANSACTION_SPECS) for spec in TABLE_SPECS}


def test_the_fixture_is_the_real_day_byte_for_byte():
    """CRLF line ends and no BOM, as Toast writes them; a copy saved through an editor would not be."""
    for spec in TABLE_SPECS:
        data = (REAL_DAY_DIR / spec.file_name).read_bytes()
        assert not data.startswith(b"\xef\xbb\xbf") and data.count(b"\r\n") == data.count(b"\n"), (
            spec.file_name
        )


@pytest.mark.e2e
def test_prepaid_orders_have_no_duration_and_it_stays_null(real_day_result):
    """Catering orders paid days before they open (Paid 5/14, Opened 5/21) carry an empty
    `Duration (Opened to Paid)`, not a negative one."""
    _, warehouse = real_day_result
    in_file = {
        r["Order Id"] for r in records("OrderDetails.csv") if not r["Duration (Opened to Paid)"]
    }
    assert in_file
    stored = loaded(
        warehouse, "order_details", "order_id, paid < opened AS prepaid, duration_opened_to_paid"
    )
    assert {oid for oid, _, seconds in stored.rows() if seconds is None} == in_file
    assert all(prepaid for oid, prepaid, _ in stored.rows() if oid in in_file)


def test_money_and_counts_are_plain_digits_within_their_scale():
    """Fact checked on the real day: no `$`, thousands separator, parentheses or digits past a
    column's scale in any money, quantity or count column (E-notation zeros aside), the form the
    parser's fast first pass reads; other forms still load, through the slower second pass."""
    forms = {Kind.MONEY: "decimal", Kind.QUANTITY: "decimal", Kind.INTEGER: "integer"}
    checked = 0
    for spec in TABLE_SPECS:
        by_header = {h.lower(): c for c in spec.columns for h in c.headers}
        for row in records(spec.file_name):
            for header, value in row.items():
                column = by_header.get(header.strip().lower())
                if column is None or column.kind not in forms or not value.strip():
                    continue
                if forms[column.kind] == "integer":
                    plain = re.fullmatch(r"-?\d+", value)
                else:
                    digits = rf"-?\d+(\.\d{{1,{column.scale}}})?"
                    plain = re.fullmatch(digits, value) or re.fullmatch(r"0E-\d+", value)
                assert plain, f"{spec.file_name} {header}: {value!r}"
                checked += 1
    assert checked > 2000


def test_an_empty_last_column_is_a_whole_row_not_one_cut_short():
    """Fact checked on the real day: Toast leaves the last column empty in rows of four of the
    seven files (every `Employee 2` of CashEntries and `First 5 Gift Card Digits` of
    PaymentDetails, some `Link` of CheckDetails and `Tab Name` of ItemSelectionDetails), each
    such row still the header's width. Such a row loads whole, null there, and is not mistaken
    for a row cut off mid-write."""
    emptied = {}
    for spec in TABLE_SPECS:
        data = (REAL_DAY_DIR / spec.file_name).read_bytes()
        rows = records(spec.file_name)
        last = list(rows[0])[-1]
        empty = sum(not row[last].strip() for row in rows)
        parsed = parse_file(spec, data, spec.file_name)
        assert parsed.frame.height == len(rows)
        column = next(c for c in spec.columns if last.lower() in (h.lower() for h in c.headers))
        assert parsed.frame.get_column(column.name).null_count() == empty
        if empty:
            emptied[spec.file_name] = (last, empty, len(rows))
    assert emptied == {
        "CashEntries.csv": ("Employee 2", 6, 6),
        "CheckDetails.csv": ("Link", 1, 75),
        "ItemSelectionDetails.csv": ("Tab Name", 16, 145),
        "PaymentDetails.csv": ("First 5 Gift Card Digits", 72, 72),
    }
