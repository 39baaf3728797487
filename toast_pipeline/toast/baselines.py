"""Closure verdicts learnt from the location's own history, so one rule fits any business size.

A date is judged against what is normal for its weekday: the median orders and net sales of the
open-looking same-weekday dates of the weeks before it. It is closed when its activity is a small
fraction of that. A weekday that is usually closed (a café's Monday) and public holidays are
recognised; while history is short the judgement falls back to all weekdays, then to the seed's
fixed floors. A missing folder is a closure only when something explains it (a holiday, the
weekday's pattern, deliveries on the days after it); otherwise it is a probable delivery gap.

The verdict is a pure function of the stored per-date facts inside a fixed span of dates around the
date (`ClosureRules.span`), never of the order in which dates were loaded: the caller re-judges the
dates whose span holds a date it has just written.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import holidays
import polars as pl

from toast_pipeline.toast.closures import (
    ALL_TABLES,
    ClosureReason,
    ClosureThresholds,
    DaySummary,
    Verdict,
    judge,
)
from toast_pipeline.toast.specs import CENT, TABLE_SPECS

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class ClosureRules:
    """How a date is judged; every number can be overridden (run config of the load)."""

    closed_fraction: float = 0.1  # closed below this share of the weekday's normal orders or sales
    stray_orders: int = (
        2  # at most this many orders is a handful of stray rows, whatever the normal
    )
    lookback_weeks: int = 8  # history a baseline is learnt from
    min_same_weekday: int = 3  # same-weekday dates needed before the weekday's own pattern is used
    min_history_days: int = 3  # open days needed for an all-weekday baseline; fewer: the floors
    min_deliveries: int = (
        3  # delivered folders needed to learn the location's file set; fewer: all seven
    )
    weekly_closed_share: float = (
        0.5  # a weekday closed this often in the lookback is a weekly closure
    )
    max_missing_run: int = 3  # more missing folders in a row than this looks like an outage
    floors: ClosureThresholds = field(default_factory=ClosureThresholds)

    def __post_init__(self) -> None:
        if not 0 < self.closed_fraction < 1:
            raise ValueError(f"closed_fraction must be within (0, 1), got {self.closed_fraction}")
        if self.lookback_weeks < 1 or self.max_missing_run < 1:
            raise ValueError("lookback_weeks and max_missing_run must be at least 1")

    @property
    def lookback_days(self) -> int:
        return 7 * self.lookback_weeks

    @property
    def span(self) -> tuple[int, int]:
        """Days before and after a date whose facts its verdict may read.

        After: a run of missing folders, which may also pass a week's usual closures, and the
        day after it. The walk along a run stops at the span, so a verdict never reads a date
        whose load would not re-judge it.
        """
        return self.lookback_days, self.max_missing_run + 1 + 7

    def as_metadata(self) -> dict[str, object]:
        return {
            "closed_fraction": self.closed_fraction,
            "stray_orders": self.stray_orders,
            "lookback_weeks": self.lookback_weeks,
            "min_same_weekday": self.min_same_weekday,
            "min_history_days": self.min_history_days,
            "min_deliveries": self.min_deliveries,
            "weekly_closed_share": self.weekly_closed_share,
            "max_missing_run": self.max_missing_run,
            "floor_min_files": self.floors.min_files,
            "floor_min_records": self.floors.min_records,
            "floor_min_net_sales": str(self.floors.min_net_sales),
        }


def public_holidays(country: str | None, subdivision: str | None = None) -> Mapping[date, str]:
    """The location's public holidays by date (English names); actual days, not observed ones."""
    if not country:
        return {}
    return holidays.country_holidays(country, subdiv=subdivision, observed=False, language="en_US")


def summaries_from_business_days(frame: pl.DataFrame) -> dict[date, DaySummary]:
    """The stored per-date facts (a `business_days` frame) as the summaries verdicts read."""
    summaries = {}
    for row in frame.iter_rows(named=True):
        rows = {spec.table: row[f"{spec.table}_rows"] or 0 for spec in TABLE_SPECS}
        summaries[row["business_date"]] = DaySummary(
            files_found=row["files_found"],
            rows={table: n for table, n in rows.items() if n},
            orders=row["orders"],
            net_sales=row["net_sales"],
            delivered=stored_file_set(row.get("files_delivered"), row["files_found"]),
        )
    return summaries


def stored_file_set(text: str | None, files_found: int) -> frozenset[str] | None:
    """The tables a stored date received; a date stored before the set was recorded is known only
    when all seven came."""
    if text is not None:
        return frozenset(t for t in text.split(",") if t)
    return ALL_TABLES if files_found == len(ALL_TABLES) else None


def expected_files(
    business_date: date, facts: Mapping[date, DaySummary], rules: ClosureRules = ClosureRules()
) -> frozenset[str]:
    """The Toast files the location normally receives: those delivered on at least half of the
    delivered folders in the lookback before the date. Accounts are configured per location (one
    real account never gets CheckDetails, CashEntries or KitchenTimings), so a file it never
    receives is not missing. With fewer than `min_deliveries` known folders: all seven."""
    delivered = [
        s.delivered
        for offset in range(1, rules.lookback_days + 1)
        if (s := facts.get(business_date - timedelta(days=offset))) is not None
        and s.files_found
        and s.delivered is not None
    ]
    if len(delivered) < rules.min_deliveries:
        return ALL_TABLES
    return frozenset(t for t in ALL_TABLES if 2 * sum(t in d for d in delivered) >= len(delivered))


def affected_dates(
    written: Iterable[date], known: Iterable[date], rules: ClosureRules
) -> set[date]:
    """Known dates whose verdict reads any written date (the written ones included)."""
    before, after = rules.span
    written = set(written)
    return {
        d
        for d in known
        if any(w - timedelta(days=after) <= d <= w + timedelta(days=before) for w in written)
    }


@dataclass(frozen=True)
class Baseline:
    """What a normal day looks like, learnt from `days` earlier dates (`basis` says which)."""

    basis: str  # "same_weekday" or "all_weekdays"
    days: int
    orders: float
    net_sales: Decimal
    orders_low: int  # the middle half of those days: the normal range
    orders_high: int

    def as_metadata(self) -> dict[str, object]:
        return {
            "basis": self.basis,
            "days": self.days,
            "orders": self.orders,
            "net_sales": str(self.net_sales),
            "orders_normal_range": [self.orders_low, self.orders_high],
        }


def judge_day(
    business_date: date,
    facts: Mapping[date, DaySummary],
    rules: ClosureRules = ClosureRules(),
    calendar: Mapping[date, str] | None = None,
) -> Verdict:
    """The verdict for a date whose summary is in `facts`, from the facts of its span only."""
    calendar = {} if calendar is None else calendar
    summary = dataclasses.replace(
        facts[business_date], expected=expected_files(business_date, facts, rules)
    )
    weekday = WEEKDAYS[business_date.weekday()]
    holiday = calendar.get(business_date)
    history = _History(business_date, facts, rules)
    usually_closed = history.weekday_usually_closed()
    pattern = "holiday" if holiday else ("weekly" if usually_closed else "unscheduled")
    details: dict[str, object] = {
        "weekday": weekday,
        "holiday": holiday,
        "weekday_closed": f"{history.weekday_closed} of {history.weekday_known} recent {weekday}s",
        "weekday_usually_closed": usually_closed,
        "files_found": summary.files_found,
        "expected_files": sorted(summary.expected),
        "missing_files": list(summary.missing),
        "records": summary.records,
        "orders": summary.orders,
        "net_sales": str(summary.net_sales),
    }
    why = _pattern_words(holiday, usually_closed, history, weekday)

    if summary.files_found == 0:
        return _judge_missing(business_date, facts, rules, history, holiday, why, details)
    if summary.records == 0 and not summary.too_few_files(rules.floors):
        details["pattern"] = pattern
        return Verdict(
            ClosureReason.LOW_ACTIVITY,
            f"closed: {summary.files_found} Toast files without a transaction (header only, "
            f"AllItemsReport aside){why}",
            details,
        )

    baseline = history.baseline(usually_closed)
    if baseline is None:
        return _judge_by_floors(summary, rules, pattern, why, details)
    orders_floor = max(
        rules.closed_fraction * baseline.orders, min(rules.stray_orders + 1, baseline.orders / 2)
    )
    sales_floor = (Decimal(str(rules.closed_fraction)) * baseline.net_sales).quantize(
        CENT, ROUND_HALF_UP
    )
    details.update(
        baseline=baseline.as_metadata(),
        threshold={"orders_below": round(orders_floor, 2), "net_sales_below": str(sales_floor)},
        ratio={
            "orders": round(summary.orders / baseline.orders, 3) if baseline.orders else None,
            "net_sales": round(float(summary.net_sales / baseline.net_sales), 3)
            if baseline.net_sales
            else None,
        },
    )
    normal = (
        f"normal {_basis_words(baseline, weekday)} {baseline.orders:g} orders "
        f"({baseline.orders_low}-{baseline.orders_high}), net sales {baseline.net_sales}"
    )
    numbers = f"{summary.orders} orders, net sales {summary.net_sales}"
    if summary.too_few_files(rules.floors):
        files = f"{summary.expected_found} of the {len(summary.expected)} Toast files the location receives"
        if summary.orders >= orders_floor:
            details["pattern"] = None
            return Verdict(
                ClosureReason.DELIVERY_GAP,
                f"delivery gap: only {files} but {numbers} against {normal}: an incomplete delivery "
                "of an open day",
                details,
            )
        details["pattern"] = pattern
        return Verdict(
            ClosureReason.INSUFFICIENT_FILES,
            f"closed: {files}, {numbers}{why}",
            details,
        )
    if summary.orders < orders_floor:
        details["pattern"] = pattern
        return Verdict(
            ClosureReason.LOW_ACTIVITY,
            f"closed: {numbers} against {normal}; below {orders_floor:.1f} orders is closed{why}",
            details,
        )
    if summary.net_sales < sales_floor:
        details["pattern"] = pattern
        return Verdict(
            ClosureReason.LOW_SALES,
            f"closed: {numbers} against {normal}; net sales below {sales_floor} is closed{why}",
            details,
        )
    details["pattern"] = None
    slow = " (slow)" if summary.orders < baseline.orders_low else ""
    return Verdict(None, f"open{slow}: {numbers} against {normal}", details)


def judge_dates(
    dates: Iterable[date],
    facts: Mapping[date, DaySummary],
    rules: ClosureRules = ClosureRules(),
    calendar: Mapping[date, str] | None = None,
) -> dict[date, Verdict]:
    return {d: judge_day(d, facts, rules, calendar) for d in sorted(dates)}


def _judge_missing(
    business_date: date,
    facts: Mapping[date, DaySummary],
    rules: ClosureRules,
    history: _History,
    holiday: str | None,
    why: str,
    details: dict[str, object],
) -> Verdict:
    """No folder: a closure on a weekday that is usually closed; an outage if many folders in a row
    are missing on days normally open; else a closure on a holiday or when the export delivered the
    day after; else a gap that may still fill."""
    if history.usually_closed(business_date.weekday()):
        details["pattern"] = "weekly"
        return Verdict(
            ClosureReason.NO_FILES, f"closed: no Toast files were delivered{why}", details
        )
    run, unexplained = [business_date], 1
    before, after_span = rules.span
    for step, reach in ((-1, before), (1, after_span - 1)):
        d = business_date + timedelta(days=step)
        while (
            d in facts
            and facts[d].files_found == 0
            and unexplained <= rules.max_missing_run
            and abs((d - business_date).days) <= reach
        ):
            run.append(d)
            unexplained += not history.usually_closed(d.weekday())
            d += timedelta(days=step)
    run.sort()
    after = run[-1] + timedelta(days=1)
    details["missing_run"] = [run[0].isoformat(), run[-1].isoformat()]
    if unexplained > rules.max_missing_run:
        details["pattern"] = None
        return Verdict(
            ClosureReason.DELIVERY_GAP,
            f"delivery gap: no Toast files, one of more than {rules.max_missing_run} missing folders in "
            f"a row from {run[0]} on days normally open: looks like an outage, not a closure",
            details,
        )
    if holiday:
        details["pattern"] = "holiday"
        return Verdict(
            ClosureReason.NO_FILES, f"closed: no Toast files were delivered{why}", details
        )
    if after in facts and facts[after].files_found > 0:
        details["pattern"] = "unscheduled"
        details["delivered_after"] = after.isoformat()
        return Verdict(
            ClosureReason.NO_FILES,
            f"closed: no Toast files, on a day normally open, while the export delivered {after}: "
            "a probable closure",
            details,
        )
    details["pattern"] = None
    return Verdict(
        ClosureReason.DELIVERY_GAP,
        "delivery gap: no Toast files on a day normally open and nothing delivered after it yet: "
        "the folder may still appear",
        details,
    )


def _judge_by_floors(
    summary: DaySummary, rules: ClosureRules, pattern: str, why: str, details: dict[str, object]
) -> Verdict:
    """Too little history to learn from: the seed's fixed rules, plus the stray-orders floor."""
    verdict = judge(summary, rules.floors)
    details.update(baseline={"basis": "floors"}, threshold=rules.as_metadata())
    if verdict.is_open and summary.orders <= rules.stray_orders:
        verdict = Verdict(
            ClosureReason.LOW_ACTIVITY,
            f"{summary.orders} orders, at most {rules.stray_orders}: a handful of stray rows",
        )
    details["pattern"] = None if verdict.is_open else pattern
    prefix = "open" if verdict.is_open else "closed"
    return Verdict(
        verdict.reason,
        f"{prefix} (too little history, fixed floors): {verdict.explanation}{why if not verdict.is_open else ''}",
        details,
    )


def _pattern_words(
    holiday: str | None, usually_closed: bool, history: _History, weekday: str
) -> str:
    if holiday:
        return f"; public holiday: {holiday}"
    if usually_closed:
        return (
            f"; regular weekly closure: {history.weekday_closed} of the last {history.weekday_known} "
            f"{weekday}s closed"
        )
    return ""


def _basis_words(baseline: Baseline, weekday: str) -> str:
    if baseline.basis == "same_weekday":
        return f"{weekday} ({baseline.days} open {weekday}s before)"
    return f"quiet day ({baseline.days} open days of any weekday before)"


class _History:
    """The lookback window of a date: which earlier dates look open, and what they amounted to."""

    def __init__(
        self, business_date: date, facts: Mapping[date, DaySummary], rules: ClosureRules
    ) -> None:
        self.rules = rules
        window = [
            (d, facts[d])
            for offset in range(1, rules.lookback_days + 1)
            if (d := business_date - timedelta(days=offset)) in facts
        ]
        # Any day busier than a small share of a busy day (the upper quartile) looks open: with
        # fewer than three closed days in four, that quartile is an open day of some weekday.
        busy = _quantile(sorted(s.orders for _, s in window), 0.75) if window else 0
        floor = (
            max(rules.closed_fraction * busy, rules.stray_orders + 1)
            if busy > 2 * rules.stray_orders
            else 1
        )
        self.open = [(d, s) for d, s in window if s.files_found > 0 and s.orders >= floor]
        weekday = business_date.weekday()
        self.same_open = [(d, s) for d, s in self.open if d.weekday() == weekday]
        self.known = [sum(d.weekday() == w for d, _ in window) for w in range(7)]
        self.closed = [
            self.known[w] - sum(d.weekday() == w for d, _ in self.open) for w in range(7)
        ]
        self.weekday_known, self.weekday_closed = self.known[weekday], self.closed[weekday]
        self.weekday = weekday

    def usually_closed(self, weekday: int) -> bool:
        """Closed on most of the weekday's dates in the lookback: a regular weekly closure."""
        return (
            self.known[weekday] >= self.rules.min_same_weekday
            and self.closed[weekday] >= self.rules.weekly_closed_share * self.known[weekday]
        )

    def weekday_usually_closed(self) -> bool:
        return self.usually_closed(self.weekday)

    def baseline(self, usually_closed: bool) -> Baseline | None:
        if not usually_closed and len(self.same_open) >= 2:
            return _baseline("same_weekday", [s for _, s in self.same_open], statistics.median)
        if len(self.open) >= self.rules.min_history_days:
            # Weekdays differ; the lower quartile is a quiet normal day, so a slow day is not closed.
            return _baseline(
                "all_weekdays", [s for _, s in self.open], lambda v: _quantile(v, 0.25)
            )
        return None


def _baseline(basis: str, days: list[DaySummary], centre) -> Baseline:
    orders = sorted(s.orders for s in days)
    sales = sorted(s.net_sales for s in days)
    return Baseline(
        basis=basis,
        days=len(days),
        orders=float(centre(orders)),
        net_sales=Decimal(centre(sales)).quantize(CENT, ROUND_HALF_UP),
        orders_low=_quantile(orders, 0.25),
        orders_high=_quantile(orders, 0.75),
    )


def _quantile(sorted_values: list, q: float):
    """Nearest-rank quantile: always an observed value, so money stays exact."""
    return sorted_values[max(math.ceil(q * len(sorted_values)) - 1, 0)]
