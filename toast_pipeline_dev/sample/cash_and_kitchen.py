"""KitchenTimings and CashEntries: the kitchen's tickets for a day's checks, and what happened at
the cash drawers (opening banks, no-sales, pay-outs, the close-out; on a closed day a stray
no-sale)."""

from __future__ import annotations

import random
from datetime import date

import polars as pl

from toast_pipeline.toast.specs import CASH_ENTRIES, Kind
from toast_pipeline_dev.sample.formats import duration_words
from toast_pipeline_dev.sample.frames import at
from toast_pipeline_dev.sample.ids import daily_ids
from toast_pipeline_dev.sample.restaurant import (
    BAR_STATION,
    KITCHEN_STAFF,
    LOCATION_NAME,
    MANAGERS,
    SERVERS,
)


def kitchen_timings(rng: random.Random, business_date: date, items: pl.DataFrame) -> pl.DataFrame:
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
    words = {s: duration_words(s) for s in set(took) if s is not None}
    tickets = tickets.with_columns(
        ticket_id=pl.Series(daily_ids(5, business_date, rng, k)),
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
        at(business_date, pl.col("opened_s")).alias("Check Opened"),
        pl.col("station").alias("Station"),
        at(business_date, pl.col("fired_s")).alias("Fired Date"),
        at(business_date, pl.col("fired_s") + pl.col("took")).alias("Fulfilled Date"),
        pl.col("took_text").alias("Fulfillment Time"),
        pl.when(done).then(pl.col("bumped_by")).alias("Fulfilled By"),
    )


def cash_entries(rng: random.Random, business_date: date, *, stray: bool = False) -> pl.DataFrame:
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
        pl.Series("Entry Id", daily_ids(6, business_date, rng, frame.height), dtype=pl.Int64),
        at(business_date, pl.col("seconds")).alias("Created Date"),
        pl.exclude("seconds"),
    )
