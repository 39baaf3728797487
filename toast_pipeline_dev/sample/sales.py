"""One day's sales: orders, their checks and item lines, drawn and priced, and the tables they fill.

Random draws are made in plain lists, in a fixed order from the day's sales stream; discounts,
tax, tips, auto-gratuity and totals are polars arithmetic. `day_sales` returns the typed tables of
OrderDetails, CheckDetails, PaymentDetails, ItemSelectionDetails, KitchenTimings and the
AllItemsReport, the ModifiersSelectionDetails rows, and the day's truth for the manifest:
non-voided orders and the exact sum of their `Amount`.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import polars as pl

from toast_pipeline.toast.specs import (
    ALL_ITEMS_REPORT,
    CHECK_DETAILS,
    ITEM_SELECTION_DETAILS,
    KITCHEN_TIMINGS,
    ORDER_DETAILS,
    PAYMENT_DETAILS,
)
from toast_pipeline_dev.sample.all_items_report import all_items_report
from toast_pipeline_dev.sample.cash_and_kitchen import kitchen_timings
from toast_pipeline_dev.sample.frames import expand, take
from toast_pipeline_dev.sample.ids import daily_ids
from toast_pipeline_dev.sample.menu import (
    FULL_MENU,
    MENU_FRAME,
    OPEN_PLACEMENTS,
    PLACEMENTS,
    MenuSelection,
)
from toast_pipeline_dev.sample.menu_items import MODIFIER_GROUPS, OPEN_ITEM_PRICES
from toast_pipeline_dev.sample.other_files import modifiers_selection_details
from toast_pipeline_dev.sample.restaurant import (
    AREAS,
    AUTO_GRATUITY_GUESTS,
    AUTO_GRATUITY_PERCENT,
    CUSTOMER_EMAILS,
    CUSTOMER_IDS,
    CUSTOMERS,
    DINING_CUM_WEIGHTS,
    DINING_OPTIONS,
    DISCOUNTS,
    SERVERS,
    TIP_PERCENTS,
    tax,
)
from toast_pipeline_dev.sample.sales_tables import (
    check_details,
    item_selection_details,
    order_details,
    payment_details,
)

ITEMS_PER_CHECK_CUM = (38, 68, 84, 93, 98, 100)  # 1..6 items
VOID_RATE = 0.02
EARLY_PAID_RATE = 0.01  # orders paid before they were opened: a negative duration
EARLY_PAID_MAX_SECONDS = 72 * 3600
CATERING_PREPAID_SECONDS = 2 * 86_400  # a catering order is paid online days ahead
CATERING_ITEMS = (8, 16)  # lines on a catering order, each 2-6 portions: a few hundred dollars
OPEN_ITEM_RATE = 0.006  # of item lines on an ordinary order
TAX_EXEMPT_RATE = 0.03  # of orders (a school, a church): every item Tax Exempt, tax 0E-8


@dataclass(frozen=True)
class Sales:
    """What a day's sales fill, and what they amount to (non-voided orders, their net in cents)."""

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


def day_sales(
    rng: random.Random,
    business_date: date,
    n_orders: int,
    *,
    small: bool = False,
    catering: bool = False,
    selection: MenuSelection = FULL_MENU,
) -> Sales:
    """Orders -> checks -> payments / item selections / kitchen tickets, plus the item report.

    `small` makes the lone order rung in on a closed day: one take-out check, one cheap item.
    `catering` makes it a catering order instead: one take-out check of many items in bulk.
    `selection` is the part of the menu this location lists and sells.
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
    order_ids = daily_ids(1, business_date, rng, n)

    check_order = expand(n_checks)
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
    check_ids = daily_ids(2, business_date, rng, c)

    item_check = expand(n_items)
    i_count = len(item_check)
    if small:
        menu = [selection.small[int(r() * len(selection.small))]]
    elif catering:
        menu = [selection.catering[int(r() * len(selection.catering))] for _ in range(i_count)]
    else:
        menu = rng.choices(
            selection.ordinary, cum_weights=selection.ordinary_cum_weights, k=i_count
        )
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
    selection_ids = daily_ids(4, business_date, rng, i_count)

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
            take(orders, check_order),
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
                take(MENU_FRAME, menu),
                take(checks, item_check),
            ],
            how="horizontal",
        )
        .with_columns(gross=(pl.col("price") + pl.col("extra")) * pl.col("qty"))
        .with_columns(discount=pl.col("gross") * pl.col("discount_percent").fill_null(0) // 100)
        .with_columns(net=pl.col("gross") - pl.col("discount"))
        .with_columns(item_tax=pl.when(pl.col("tax_exempt")).then(0).otherwise(tax(pl.col("net"))))
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

    payments = payment_details(rng, business_date, checks, orders)
    kitchen = kitchen_timings(rng, business_date, items)
    modifiers = modifiers_selection_details(rng, business_date, items, chosen_modifiers)
    truth = orders.filter(~pl.col("voided"))
    tables = {
        ORDER_DETAILS.table: order_details(business_date, orders),
        CHECK_DETAILS.table: check_details(business_date, checks),
        PAYMENT_DETAILS.table: payments,
        ITEM_SELECTION_DETAILS.table: item_selection_details(business_date, items),
        KITCHEN_TIMINGS.table: kitchen,
        ALL_ITEMS_REPORT.table: all_items_report(items, selection),
    }
    return Sales(tables, truth.height, int(truth["amount"].sum()), modifiers)


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
