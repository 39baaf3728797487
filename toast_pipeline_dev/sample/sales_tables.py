"""The rows of OrderDetails, CheckDetails, PaymentDetails and ItemSelectionDetails.

Each builder selects a day's typed orders, checks or item lines (see `sales`) into its file's
columns, named by their headers and still typed; `formats.render` writes them as text.
PaymentDetails also draws what only a payment has (card, split, refund) from the sales stream.
"""

from __future__ import annotations

import random
from datetime import date

import polars as pl

from toast_pipeline_dev.sample.formats import hms_text, tax_text
from toast_pipeline_dev.sample.frames import at, expand, take
from toast_pipeline_dev.sample.ids import daily_ids
from toast_pipeline_dev.sample.restaurant import (
    CARD_TYPES,
    DELIVERY_PARTNERS,
    LOCATION_CODE,
    LOCATION_NAME,
    MANAGERS,
)


def order_details(business_date: date, orders: pl.DataFrame) -> pl.DataFrame:
    return orders.select(
        pl.lit(LOCATION_NAME).alias("Location"),
        pl.col("order_id").alias("Order Id"),
        pl.col("order_no").alias("Order #"),
        pl.col("checks_text").alias("Checks"),
        at(business_date, pl.col("opened_s")).alias("Opened"),
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
        at(business_date, pl.col("paid_s")).alias("Paid"),
        at(business_date, pl.col("closed_s")).alias("Closed"),
        pl.when(~pl.col("prepaid"))
        .then(hms_text(pl.col("paid_s") - pl.col("opened_s")))
        .alias("Duration (Opened to Paid)"),
        pl.col("source").alias("Order Source"),
    )


def check_details(business_date: date, checks: pl.DataFrame) -> pl.DataFrame:
    opened = at(business_date, pl.col("opened_s"))
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


def payment_details(
    rng: random.Random, business_date: date, checks: pl.DataFrame, orders: pl.DataFrame
) -> pl.DataFrame:
    """One payment per check, two when the table split it (card first, then cash)."""
    r = rng.random
    payment_check = expand(checks["n_payments"].to_list())
    p = len(payment_check)
    position = [i for k in checks["n_payments"].to_list() for i in range(k)]
    frame = pl.concat(
        [
            pl.DataFrame(
                {
                    "position": position,
                    "payment_id": daily_ids(3, business_date, rng, p),
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
            take(checks, payment_check),
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
    opened = at(business_date, pl.col("opened_s"))
    return frame.select(
        pl.lit(LOCATION_NAME).alias("Location"),
        pl.col("payment_id").alias("Payment Id"),
        pl.col("order_id").alias("Order Id"),
        pl.col("order_no").alias("Order #"),
        at(business_date, pl.col("paid_at")).alias("Paid Date"),
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
        .then(at(business_date, pl.col("paid_at") + pl.col("refund_after")))
        .alias("Refund Date"),
        pl.when(refund).then(pl.col("part") // 4).alias("Refund Amount"),
        pl.when(refund).then(pl.lit(0)).alias("Refund Tip Amount"),
        pl.when(pl.col("voided")).then(pl.col("server")).alias("Void User"),
        pl.when(pl.col("voided")).then(pl.col("manager")).alias("Void Approver"),
        pl.when(pl.col("voided")).then(at(business_date, pl.col("paid_at"))).alias("Void Date"),
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


def item_selection_details(business_date: date, items: pl.DataFrame) -> pl.DataFrame:
    return items.select(
        pl.lit(LOCATION_NAME).alias("Location"),
        pl.col("order_id").alias("Order Id"),
        pl.col("order_no").alias("Order #"),
        at(business_date, pl.col("opened_s") + pl.col("sent_after")).alias("Sent Date"),
        at(business_date, pl.col("opened_s")).alias("Order Date"),
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
        tax_text(pl.col("item_tax")).alias("Tax"),
        pl.col("voided").alias("Void?"),
        pl.lit(False).alias("Deferred"),
        pl.col("tax_exempt").alias("Tax Exempt"),
        pl.lit("Tax Not Included").alias("Tax Inclusion Option"),
        pl.when(~pl.col("open_item")).then(pl.lit("No Effect")).alias("Dining Option Tax"),
        pl.col("tab").alias("Tab Name"),
    )
