"""The seven Toast export files, declared once.

Every other part of the project (parser, warehouse DDL, sample generator, asset metadata) reads
these specs instead of repeating header lists. Toast lets an admin rename and reorder columns, so a
column is found by its header (or a known alias), never by its position.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property


class Kind(enum.Enum):
    """How a Toast value is parsed and stored."""

    TEXT = "text"
    ID = "id"  # long integer IDs kept as text: never floats, never rounded
    INTEGER = "integer"
    MONEY = "money"  # exact decimal
    QUANTITY = "quantity"  # exact decimal (weighed items sell fractional quantities)
    SHARE = "share"  # a fraction of a whole as Toast computes it (0.0309 is 3.09 %): a double
    AVERAGE = "average"  # a computed average (AllItemsReport `Avg Price`): a double, not a price
    BOOLEAN = "boolean"
    TIMESTAMP = "timestamp"  # restaurant local wall-clock time, no zone in the file
    DATE = "date"
    TIME = "time"
    DURATION_HMS = "duration_hms"  # "H:MM:SS" -> whole seconds, negative when Toast signs it
    DURATION_TEXT = "duration_text"  # "1 day, 2 hours and 5 seconds" -> whole seconds
    LOADED_AT = "loaded_at"  # an instant (UTC), unlike the restaurant's local timestamps


MONEY_PRECISION = 18
# The smallest amount a restaurant sees: totals shown to people are rounded to it.
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Column:
    header: str
    kind: Kind
    aliases: tuple[str, ...] = ()
    scale: int = 2  # decimal places kept for MONEY and QUANTITY
    key: bool = False  # part of the row key: unique within a date, and required
    required: bool = False  # the file cannot be read without it (key columns always are)

    @cached_property
    def name(self) -> str:
        return warehouse_name(self.header)

    @property
    def headers(self) -> tuple[str, ...]:
        return (self.header, *self.aliases)


@dataclass(frozen=True)
class TableSpec:
    """One Toast file; `derived` are columns the parser computes from the file's own rows."""

    file_name: str
    table: str
    columns: tuple[Column, ...]
    description: str = ""
    derived: tuple[Field, ...] = ()
    derived_key: tuple[str, ...] = ()  # derived columns that identify a row when no column does

    @cached_property
    def row_key(self) -> tuple[str, ...]:
        """Warehouse columns unique within one location and date."""
        return tuple(c.name for c in self.key_columns) + self.derived_key

    @cached_property
    def key_columns(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.key)

    @cached_property
    def required_columns(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.key or c.required)

    @cached_property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @cached_property
    def fields(self) -> tuple[Field, ...]:
        """The warehouse table: the file's columns, then the pipeline's own."""
        own = tuple(Field(c.name, c.kind, c.scale, _describe(c)) for c in self.columns)
        return own + self.derived + SYSTEM_FIELDS


@dataclass(frozen=True)
class Field:
    """A warehouse column: what the DDL of either warehouse is generated from."""

    name: str
    kind: Kind
    scale: int = 2
    description: str = ""


SYSTEM_FIELDS: tuple[Field, ...] = (
    Field("business_date", Kind.DATE, description="Toast business date (the export folder's date)"),
    Field("location_id", Kind.TEXT, description="Toast location number (the export's top folder)"),
    Field("closure_indicator", Kind.BOOLEAN, description="True only on closure marker rows"),
    Field("closure_reason", Kind.TEXT, description="Why the date was judged closed, else null"),
    Field("source_file", Kind.TEXT, description="Remote path the row was read from"),
    Field("loaded_at", Kind.LOADED_AT, description="When the row was written (UTC)"),
)


KIND_NOTES = {
    Kind.SHARE: "a fraction, not a percentage: 0.0309 means 3.09 %",
    Kind.AVERAGE: "a computed average in double precision, not an exact price",
    Kind.DURATION_HMS: "seconds; negative when Toast signs it (paid before opened)",
    Kind.DURATION_TEXT: "seconds",
}


def _describe(column: Column) -> str:
    note = KIND_NOTES.get(column.kind)
    return f"Toast header: {column.header}" + (f" ({note})" if note else "")


def warehouse_name(header: str) -> str:
    """Toast header -> snake_case column name.

    `#` becomes `number`, `%` becomes `share` (Toast's percent columns hold fractions), `?` is
    dropped, other punctuation becomes `_`: `Order #` -> `order_number`, `# of Guests` ->
    `number_of_guests`, `Void?` -> `void`, `% Qty (Group)` -> `share_qty_group`.
    """
    text = header.replace("#", " number ").replace("%", " share ").replace("?", "")
    text = re.sub(r"[^0-9A-Za-z]+", "_", text).strip("_").lower()
    return re.sub(r"_+", "_", text)


def _c(header: str, kind: Kind = Kind.TEXT, **kwargs) -> Column:
    return Column(header, kind, **kwargs)


ID, INT, M, Q, P, B, TS, D, TM = (
    Kind.ID,
    Kind.INTEGER,
    Kind.MONEY,
    Kind.QUANTITY,
    Kind.SHARE,
    Kind.BOOLEAN,
    Kind.TIMESTAMP,
    Kind.DATE,
    Kind.TIME,
)

ORDER_DETAILS = TableSpec(
    "OrderDetails.csv",
    "order_details",
    (
        _c("Location"),
        _c("Order Id", ID, key=True),
        _c("Order #", INT),
        _c("Checks"),
        _c("Opened", TS),
        _c("# of Guests", INT),
        _c("Tab Names"),
        _c("Server"),
        _c("Table"),
        _c("Revenue Center"),
        _c("Dining Area"),
        _c("Service"),
        _c("Dining Options"),
        _c("Discount Amount", M),
        _c("Amount", M),
        _c("Tax", M, scale=5),
        _c("Tip", M),
        _c("Gratuity", M),
        _c("Total", M),
        _c("Voided", B),
        _c("Paid", TS),
        _c("Closed", TS),
        _c("Duration (Opened to Paid)", Kind.DURATION_HMS),
        _c("Order Source"),
    ),
    "One row per order. Amount is already net of Discount Amount.",
)

CHECK_DETAILS = TableSpec(
    "CheckDetails.csv",
    "check_details",
    (
        _c("Customer Id", ID),
        _c("Customer"),
        _c("Customer Phone"),
        _c("Customer Email"),
        _c("Location Code"),
        _c("Opened Date", D),
        _c("Opened Time", TM),
        _c("Item Description"),
        _c("Server"),
        _c("Tax", M, scale=5),
        _c("Tender"),
        _c("Check Id", ID, key=True),
        _c("Check #", INT),
        _c("Total", M),
        _c("Customer Family"),
        _c("Table Size", INT),
        _c("Discount", M),
        _c("Reason of Discount"),
        _c("Link"),
    ),
    "One row per check; Check Id is the only route from a check to its order.",
)

PAYMENT_DETAILS = TableSpec(
    "PaymentDetails.csv",
    "payment_details",
    (
        _c("Location"),
        _c("Payment Id", ID, key=True),
        _c("Order Id", ID),
        _c("Order #", INT),
        _c("Paid Date", TS),
        _c("Order Date", TS),
        _c("Check Id", ID),
        _c("Check #", INT),
        _c("Tab Name"),
        _c("Server"),
        _c("Table"),
        _c("Dining Area"),
        _c("Service"),
        _c("Dining Option"),
        _c("House Acct #"),
        _c("Amount", M),
        _c("Tip", M),
        _c("Gratuity", M),
        _c("Total", M),
        _c("Swiped Card Amount", M),
        _c("Keyed Card Amount", M),
        _c("Amount Tendered", M),
        _c("Refunded"),
        _c("Refund Date", TS),
        _c("Refund Amount", M),
        _c("Refund Tip Amount", M),
        _c("Void User"),
        _c("Void Approver"),
        _c("Void Date", TS),
        _c("Status"),
        _c("Type"),
        _c("Cash Drawer"),
        _c("Card Type"),
        _c("Other Type"),
        _c("Email"),
        _c("Phone"),
        _c("Last 4 Card Digits"),
        _c("V/MC/D Fees", M, scale=5),
        _c("Room Info"),
        _c("Receipt"),
        _c("Source"),
        _c("Last 4 Gift Card Digits"),
        _c("First 5 Gift Card Digits"),
    ),
    "One row per payment.",
)

ITEM_SELECTION_DETAILS = TableSpec(
    "ItemSelectionDetails.csv",
    "item_selection_details",
    (
        _c("Location"),
        _c("Order Id", ID),
        _c("Order #", INT),
        _c("Sent Date", TS),
        _c("Order Date", TS),
        _c("Check Id", ID),
        _c("Server"),
        _c("Table"),
        _c("Dining Area"),
        _c("Service"),
        _c("Dining Option"),
        _c("Item Selection Id", ID, key=True),
        _c("Item Id", ID),
        _c("Master Id", ID),
        _c("SKU"),
        _c("PLU"),
        _c("Menu Item"),
        _c("Menu Subgroup(s)"),
        _c("Menu Group"),
        _c("Menu"),
        _c("Sales Category"),
        _c("Gross Price", M),
        _c("Discount", M, aliases=("Discnt",)),
        _c("Net Price", M),
        _c("Qty", Q, scale=4),
        # Real files write 8 decimals on every row (`2.70000000`, zero as `0E-8`).
        _c("Tax", M, scale=8),
        _c("Void?", B),
        _c("Deferred", B),
        _c("Tax Exempt", B),
        _c("Tax Inclusion Option"),
        _c("Dining Option Tax"),
        _c("Tab Name"),
    ),
    "One row per item sold (a selection).",
)

KITCHEN_TIMINGS = TableSpec(
    "KitchenTimings.csv",
    "kitchen_timings",
    (
        _c("Location"),
        _c("ID", ID, key=True),
        _c("Server"),
        _c("Check #", INT),
        _c("Table"),
        _c("Check Opened", TS),
        _c("Station"),
        _c("Expediter Level", INT),
        _c("Fired Date", TS),
        _c("Fulfilled Date", TS),
        _c("Fulfillment Time", Kind.DURATION_TEXT),
        _c("Fulfilled By"),
    ),
    "One row per kitchen ticket; joins to checks by (date, Check #).",
)

CASH_ENTRIES = TableSpec(
    "CashEntries.csv",
    "cash_entries",
    (
        _c("Location"),
        _c("Entry Id", ID, key=True),
        _c("Created Date", TS),
        _c("Action"),
        _c("Amount", M),
        _c("Cash Drawer"),
        _c("Payout Reason"),
        _c("No Sale Reason"),
        _c("Comment"),
        _c("Employee"),
        _c("Employee 2"),
    ),
    "One row per cash drawer entry (pay in/out, no sale, ...).",
)

ALL_ITEMS_REPORT = TableSpec(
    "AllItemsReport.csv",
    "all_items_report",
    (
        # No row key: the report is a tree and lists an item under every menu and group it is in.
        _c("Master ID", ID, required=True),
        _c("Item ID", ID),
        _c("Parent ID", ID),
        _c("Menu Name", required=True),
        _c("Menu Group"),
        _c("Subgroup"),
        _c("Menu Item", required=True),
        _c("Tags"),
        _c("Avg Price", Kind.AVERAGE),
        _c("Item Qty (incl voids)", Q, scale=4),
        _c("% of Ttl Qty (incl voids)", P),
        _c("Gross Amount (incl voids)", M),
        _c("% of Ttl Amt (incl voids)", P),
        _c("Item Qty", Q, scale=4),
        _c("Gross Amount", M),
        _c("Void Qty", Q, scale=4),
        _c("Void Amount", M),
        _c("Discount Amount", M),
        _c("Net Amount", M),
        _c("# Orders", INT),
        _c("% of Ttl # Orders", P),
        _c("% Qty (Group)", P),
        _c("% Qty (Menu)", P),
        _c("% Qty (All)", P),
        _c("% Net Amt (Group)", P),
        _c("% Net Amt (Menu)", P),
        _c("% Net Amt (All)", P),
    ),
    "Toast's product-mix report, every row as delivered: a grand total, one total per menu, then "
    "each menu group and its items, sold or not. Filter row_level = 'item' for product mix; summing "
    "all rows counts each sale once per level.",
    derived=(
        Field(
            "row_level",
            Kind.TEXT,
            description="total (the whole day, Menu Name ALL MENUS), menu, group, item, or empty "
            "(no ID and no name, zero figures, as Toast writes for a menu that sold nothing)",
        ),
        Field(
            "report_row",
            Kind.INTEGER,
            description="The row's place in the report (1 = first data row)",
        ),
    ),
    derived_key=("report_row",),
)

# The files that record what happened during the day; AllItemsReport lists the whole menu every
# day, open or closed, so it says nothing about activity.
TRANSACTION_SPECS: tuple[TableSpec, ...] = (
    CHECK_DETAILS,
    CASH_ENTRIES,
    ITEM_SELECTION_DETAILS,
    KITCHEN_TIMINGS,
    ORDER_DETAILS,
    PAYMENT_DETAILS,
)

TABLE_SPECS: tuple[TableSpec, ...] = (ALL_ITEMS_REPORT, *TRANSACTION_SPECS)

SPECS_BY_TABLE: dict[str, TableSpec] = {s.table: s for s in TABLE_SPECS}
SPECS_BY_FILE: dict[str, TableSpec] = {s.file_name: s for s in TABLE_SPECS}
