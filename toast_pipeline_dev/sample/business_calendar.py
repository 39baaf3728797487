"""The business calendar: which dates the restaurant closes, how Toast delivers a closed date,
and how busy an open one is.

A date closes every week on the caller's weekdays, on the three public holidays the restaurant
closes for, now and then for an emergency, or when the caller asks (`closure_deliveries`). Toast
delivers a closed date in one of a few ways (no folder, header-only files, a few stray rows, only
a couple of files) or, on request, with one big catering order. Every date draws from its own
random streams (`DayStreams`), so a date's files depend only on the seed, the location and the
date, and one decision never shifts another.
"""

from __future__ import annotations

import random
from collections.abc import Collection
from datetime import date, timedelta

from toast_pipeline.toast.baselines import public_holidays

OPEN_DELIVERY = "full"
CLOSED_DELIVERIES = ("no_folder", "header_only", "stray_rows", "few_files")
# Only on request (`closure_deliveries`): a closed day on which a manager rang in one catering order,
# big enough in records and sales to pass the seed's fixed rules.
CATERING_DELIVERY = "catering"
REQUESTABLE_DELIVERIES = (*CLOSED_DELIVERIES, CATERING_DELIVERY)
DELIVERIES = (OPEN_DELIVERY, *REQUESTABLE_DELIVERIES)
CLOSED_DELIVERY_WEIGHTS = (35, 25, 25, 15)
CLOSURE_KINDS = ("holiday", "weekly", "emergency")
# A restaurant stays open on most public holidays (they are busy days); these three it closes for.
# Names as the holidays package spells them in English; observed (shifted) days are not closures.
CLOSING_HOLIDAY_NAMES = ("New Year's Day", "Thanksgiving", "Christmas Day")
# Open-day volume: weekends busier; the mean over a week is 1.
WEEKDAY_FACTORS = tuple(f / 1.043 for f in (0.8, 0.8, 0.9, 1.0, 1.3, 1.4, 1.1))
SLOW_DAY_RATE = 0.03  # storms, half days: open, but quiet
MIN_OPEN_ORDERS = 3


class DayStreams:
    """Independent random streams for one date, so one decision never shifts another."""

    def __init__(self, seed: int, location_id: str, business_date: date) -> None:
        stem = f"toast-sample:{seed}:{location_id}:{business_date.isoformat()}"
        self.plan = random.Random(f"{stem}:plan")
        self.sales = random.Random(f"{stem}:sales")
        self.quirks = random.Random(f"{stem}:quirks")


def closing_holidays(country: str | None, start: date, end: date) -> set[date]:
    """The dates from `start` to `end` on which the restaurant closes for a public holiday."""
    if country is None:
        return set()
    calendar = public_holidays(country)
    dates = (start + timedelta(days=n) for n in range((end - start).days + 1))
    return {
        when
        for when in dates
        if any(
            closing in part
            for part in calendar.get(when, "").split("; ")
            for closing in CLOSING_HOLIDAY_NAMES
        )
    }


def plan_date(
    plan: random.Random,
    business_date: date,
    *,
    damaged: bool,
    forced: str | None,
    closed_weekdays: Collection[int],
    holiday_closures: Collection[date],
    random_closure_rate: float,
) -> tuple[str | None, str]:
    """The date's closure kind (None when open) and how it is delivered.

    A damaged date is always open (the caller asked for its files); a `forced` delivery closes the
    date as an emergency unless a rule closes it anyway. Both draws are made on every date, so the
    plan stream stays aligned whatever the date turns out to be.
    """
    emergency = plan.random() < random_closure_rate
    drawn = plan.choices(CLOSED_DELIVERIES, weights=CLOSED_DELIVERY_WEIGHTS)[0]
    if damaged:
        closure_kind = None
    elif business_date.weekday() in closed_weekdays:
        closure_kind = "weekly"
    elif business_date in holiday_closures:
        closure_kind = "holiday"
    elif emergency or forced is not None:
        closure_kind = "emergency"
    else:
        closure_kind = None
    if closure_kind is None:
        return None, OPEN_DELIVERY
    return closure_kind, drawn if forced is None else forced


def open_orders(
    plan: random.Random, business_date: date, orders_per_day: int, volume: float = 1.0
) -> int:
    """How many orders an open date takes: the weekday's share of the week, a day-to-day wobble,
    the caller's `volume` factor and, now and then, a slow day of the generator's own."""
    factor = WEEKDAY_FACTORS[business_date.weekday()] * plan.lognormvariate(0, 0.15) * volume
    # A caller's volume factor replaces the generator's own slow-day draw (still drawn, so the
    # plan stream stays aligned).
    if plan.random() < SLOW_DAY_RATE and volume == 1.0:
        factor *= 0.35
    return max(MIN_OPEN_ORDERS, round(orders_per_day * factor))
