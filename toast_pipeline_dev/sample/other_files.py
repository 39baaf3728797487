"""The files Toast delivers beside the seven, which the pipeline lists and ignores.

ModifiersSelectionDetails (one row per modifier chosen on the day's item lines), TimeEntries (the
shifts worked), AccountingReport.xls (an OLE2 workbook, never read), now and then a
MenuExport_<guid>.json and, rarely, a house-account export: written as real folders hold them, so
that listing a folder meets them and loading a date must step over them.
"""

from __future__ import annotations

import functools
import json
import random
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from pathlib import Path

import polars as pl

from toast_pipeline_dev.sample.formats import TIMESTAMP_FORMAT, cents_text, csv_bytes, fixed_text
from toast_pipeline_dev.sample.frames import at, take
from toast_pipeline_dev.sample.ids import daily_ids, guid, static_id
from toast_pipeline_dev.sample.menu import (
    FULL_MENU,
    MODIFIER_IDS,
    OPTION_GROUP_IDS,
    PLACEMENTS,
    MenuSelection,
)
from toast_pipeline_dev.sample.menu_items import MODIFIER_GROUPS
from toast_pipeline_dev.sample.restaurant import (
    JOB_GUIDS,
    JOBS,
    LOCATION_CODE,
    LOCATION_NAME,
    STAFF,
    STAFF_GUIDS,
)

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
HOUSE_ACCOUNT_RATE = 0.1

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


def modifiers_selection_details(
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
    parents = take(items, lines)
    frame = parents.with_columns(
        selection=pl.Series(daily_ids(7, business_date, rng, len(picks))),
        modifier_id=pl.Series([MODIFIER_IDS[p] for p in picks]),
        option_group_id=pl.Series([OPTION_GROUP_IDS[(kind, g)] for kind, g, _ in picks]),
        option_group=pl.Series([MODIFIER_GROUPS[kind][g][0] for kind, g, _ in picks]),
        modifier=pl.Series(names),
        modifier_gross=pl.Series(prices) * pl.col("qty"),
    )
    sent = at(business_date, pl.col("opened_s") + pl.col("sent_after")).dt.strftime(
        TIMESTAMP_FORMAT
    )
    money = fixed_text(pl.col("modifier_gross"), 2)
    return frame.select(
        pl.lit(LOCATION_NAME).alias("Location"),
        pl.col("order_id").cast(pl.String).alias("Order Id"),
        pl.col("order_no").cast(pl.String).alias("Order #"),
        sent.alias("Sent Date"),
        at(business_date, pl.col("opened_s")).dt.strftime(TIMESTAMP_FORMAT).alias("Order Date"),
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


def time_entries(rng: random.Random, business_date: date) -> pl.DataFrame:
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
        hours = cents_text(payable * 100 // 60)
        tips = int(r() * 9000) if title == "Server" else 0
        pay = None if wage is None else cents_text(payable * wage // 60)
        rows.append(
            {
                "Location": LOCATION_NAME,
                "Location Code": LOCATION_CODE,
                "Id": None,
                "GUID": guid(rng),
                "Employee Id": str(static_id(8, staff)),
                "Employee GUID": STAFF_GUIDS[staff],
                "Employee External Id": str(1001 + staff),
                "Employee": person if ", " in person else ", ".join(reversed(person.split(" ", 1))),
                "Job Id": str(static_id(9, job)),
                "Job GUID": JOB_GUIDS[job],
                "Job Code": code,
                "Job Title": title,
                "In Date": datetime.combine(business_date, time()) + timedelta(seconds=start),
                "Out Date": datetime.combine(business_date, time())
                + timedelta(seconds=start + minutes * 60),
                "Auto Clock-out": "Yes" if auto else "No",
                "Total Hours": cents_text(minutes * 100 // 60),
                "Unpaid Break Time": cents_text(unpaid * 100 // 60),
                "Paid Break Time": "0.00",
                "Payable Hours": hours,
                "Cash Tips Declared": None,
                "Non Cash Tips": cents_text(tips),
                "Total Gratuity": "0.00",
                "Total Tips": cents_text(tips),
                "Tips Withheld": cents_text(tips * 35 // 1000),
                "Wage": None if wage is None else cents_text(wage),
                "Regular Hours": hours,
                "Overtime Hours": "0.00",
                "Regular Pay": pay,
                "Overtime Pay": None if wage is None else "0.00",
                "Total Pay": pay,
            }
        )
    rows.sort(key=lambda row: row["In Date"])
    ids = daily_ids(8, business_date, rng, len(rows))
    for row, entry_id in zip(rows, ids):
        row["Id"] = str(entry_id)
        for key in ("In Date", "Out Date"):
            row[key] = row[key].strftime(TIMESTAMP_FORMAT)
    return pl.DataFrame(rows, schema={h: pl.String for h in TIME_ENTRY_HEADERS})


def accounting_report(business_date: date, location_name: str = LOCATION_NAME) -> bytes:
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
    body = f"Accounting report {business_date:%m/%d/%Y} {location_name}".encode().ljust(
        1024, b"\x00"
    )
    return bytes(header) + body


def menu_export(
    rng: random.Random, selection: MenuSelection = FULL_MENU, location_name: str = LOCATION_NAME
) -> tuple[str, bytes]:
    """MenuExport_<guid>.json: the menu as JSON (Toast adds one on days the menu was published)."""
    return f"{MENU_EXPORT_PREFIX}{guid(rng)}.json", _menu_json(selection, location_name)


@functools.cache
def _menu_json(selection: MenuSelection, location_name: str) -> bytes:
    return json.dumps(
        {
            "restaurant": location_name,
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
                for menu, groups in selection.layout.items()
            ],
        },
        ensure_ascii=False,
    ).encode("utf-8")


def write_other_files(
    folder: Path,
    plan: random.Random,
    business_date: date,
    modifiers: pl.DataFrame | None,
    shifts: pl.DataFrame | None,
    *,
    selection: MenuSelection = FULL_MENU,
    location_name: str = LOCATION_NAME,
) -> list[str]:
    """Write the files beside the seven into `folder` and return their names: modifiers and time
    entries (header only without sales or shifts), the accounting workbook, now and then the menu
    as JSON, and rarely a house-account export."""
    folder.mkdir(parents=True, exist_ok=True)
    modifiers_name, time_entries_name, accounting_name, house = IGNORED_FILES
    empty_modifiers = pl.DataFrame(schema={h: pl.String for h in MODIFIER_HEADERS})
    empty_entries = pl.DataFrame(schema={h: pl.String for h in TIME_ENTRY_HEADERS})
    chosen = empty_modifiers if modifiers is None else modifiers
    (folder / modifiers_name).write_bytes(csv_bytes(chosen))
    entries = empty_entries if shifts is None else shifts
    (folder / time_entries_name).write_bytes(csv_bytes(entries))
    (folder / accounting_name).write_bytes(accounting_report(business_date, location_name))
    written = [modifiers_name, time_entries_name, accounting_name]
    if plan.random() < MENU_EXPORT_RATE:
        name, data = menu_export(plan, selection, location_name)
        (folder / name).write_bytes(data)
        written.append(name)
    if plan.random() < HOUSE_ACCOUNT_RATE:
        (folder / house).write_bytes(b"Location,House Account,Customer,Amount,Balance\r\n")
        written.append(house)
    return written
