"""The learnt closure rules: the file set, the baseline and its fallbacks, missing folders."""

from datetime import date, timedelta
from decimal import Decimal

import polars as pl
import pytest

from toast_pipeline.toast.baselines import (
    ClosureRules,
    affected_dates,
    expected_files,
    judge_dates,
    judge_day,
    public_holidays,
    stored_file_set,
    summaries_from_business_days,
)
from toast_pipeline.toast.closures import ALL_TABLES, ClosureReason, ClosureThresholds, DaySummary

LEAN = ALL_TABLES - {"check_details", "cash_entries", "kitchen_timings"}
DAY = date(2025, 5, 21)


def open_day(delivered=LEAN, orders=70) -> DaySummary:
    rows = {t: orders for t in delivered}
    return DaySummary(
        len(delivered), rows, orders, Decimal(orders * 40), delivered=frozenset(delivered)
    )


def history(days: int, **kwargs) -> dict[date, DaySummary]:
    return {DAY - timedelta(days=i): open_day(**kwargs) for i in range(1, days + 1)}


def test_a_file_never_delivered_is_not_expected():
    assert expected_files(DAY, history(10)) == LEAN


def test_with_too_little_history_every_file_is_expected():
    assert expected_files(DAY, history(2)) == ALL_TABLES
    assert expected_files(DAY, history(ClosureRules().min_deliveries)) == LEAN


def test_a_file_delivered_on_most_days_stays_expected_and_one_seldom_delivered_does_not():
    facts = history(10, delivered=ALL_TABLES)
    for offset in (1, 2, 3):  # KitchenTimings missing three days of ten: still normal
        facts[DAY - timedelta(days=offset)] = open_day(ALL_TABLES - {"kitchen_timings"})
    assert expected_files(DAY, facts) == ALL_TABLES
    for offset in range(1, 8):  # missing seven of ten: the account changed
        facts[DAY - timedelta(days=offset)] = open_day(ALL_TABLES - {"kitchen_timings"})
    assert expected_files(DAY, facts) == ALL_TABLES - {"kitchen_timings"}


def test_folders_without_files_and_dates_without_a_recorded_set_teach_nothing():
    facts = history(3)
    facts[DAY - timedelta(days=4)] = DaySummary(files_found=0)
    facts[DAY - timedelta(days=5)] = DaySummary(files_found=5, delivered=None)
    assert expected_files(DAY, facts) == LEAN


def test_a_lean_account_open_day_is_open_and_its_verdict_names_the_expected_set():
    facts = {**history(21), DAY: open_day()}
    verdict = judge_day(DAY, facts)
    assert verdict.is_open, verdict.explanation
    assert verdict.details["expected_files"] == sorted(LEAN)
    assert verdict.details["missing_files"] == []


def test_a_real_closed_day_shape_is_closed_with_learnt_history():
    """Six header-only files beside a full AllItemsReport of zero quantities."""
    facts = {
        **history(21, delivered=ALL_TABLES),
        DAY: DaySummary(7, {"all_items_report": 615}, delivered=ALL_TABLES),
    }
    verdict = judge_day(DAY, facts)
    assert verdict.reason is ClosureReason.LOW_ACTIVITY
    assert "without a transaction" in verdict.explanation


def test_a_normally_delivered_file_that_is_absent_counts_as_missing():
    facts = {
        **history(21),
        DAY: open_day(LEAN - {"payment_details", "item_selection_details"}, orders=0),
    }
    verdict = judge_day(DAY, facts)
    assert verdict.reason is ClosureReason.INSUFFICIENT_FILES
    assert verdict.details["missing_files"] == ["item_selection_details", "payment_details"]
    assert "2 of the 4 Toast files the location receives" in verdict.explanation


@pytest.mark.parametrize(
    ("text", "files_found", "expected"),
    [
        ("order_details,payment_details", 2, frozenset({"order_details", "payment_details"})),
        ("", 0, frozenset()),
        (None, 7, ALL_TABLES),
        (None, 4, None),
    ],
)
def test_the_stored_file_set(text, files_found, expected):
    assert stored_file_set(text, files_found) == expected


def test_summaries_read_back_the_stored_file_set():
    frame = pl.DataFrame(
        {
            "business_date": [DAY],
            "files_found": [4],
            "files_delivered": [",".join(sorted(LEAN))],
            "orders": [3],
            "net_sales": [Decimal("12.00")],
            **{f"{t}_rows": [3 if t in LEAN else 0] for t in sorted(ALL_TABLES)},
        }
    )
    summary = summaries_from_business_days(frame)[DAY]
    assert summary.delivered == LEAN
    assert summary.records == 9  # orders, items, payments; the menu listing is not activity


# The learnt rules, one table each. DAY is a Wednesday; an offset counts days before it (7, 14, 21
# are the Wednesdays before; a negative offset is a day after it).

THREE = frozenset({"order_details", "payment_details", "item_selection_details"})
TWO = frozenset({"order_details", "payment_details"})
MISSING = DaySummary(files_found=0, delivered=frozenset())


def day(orders=100, net_sales=None, *, records=None, delivered=ALL_TABLES) -> DaySummary:
    """A delivered date: one transactional row an order unless `records` says otherwise, net sales
    40 an order unless given."""
    rows = {"order_details": orders if records is None else records}
    sales = Decimal(40 * orders) if net_sales is None else Decimal(net_sales)
    return DaySummary(len(delivered), rows, orders, sales, delivered=frozenset(delivered))


def on(offsets, summary: DaySummary) -> dict[date, DaySummary]:
    """`summary` on each date `offsets` days before DAY."""
    return {DAY - timedelta(days=offset): summary for offset in offsets}


def weeks(wednesdays, other: DaySummary | None = None) -> dict[date, DaySummary]:
    """One week before DAY for each Wednesday summary given (the nearest first), the other six
    days of each week `other` (an open day of 100 orders by default)."""
    other = day() if other is None else other
    facts = on((o for o in range(1, 7 * len(wednesdays) + 1) if o % 7), other)
    for week, summary in enumerate(wednesdays, start=1):
        facts |= on((7 * week,), summary)
    return facts


def verdict_for(facts, summary, rules=ClosureRules(), calendar=None):
    return judge_day(DAY, {**facts, DAY: summary}, rules, calendar)


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"closed_fraction": 0.0}, id="closed-fraction-0"),
        pytest.param({"closed_fraction": 1.0}, id="closed-fraction-1"),
        pytest.param({"closed_fraction": -0.1}, id="closed-fraction-negative"),
        pytest.param({"lookback_weeks": 0}, id="no-lookback"),
        pytest.param({"max_missing_run": 0}, id="no-missing-run"),
    ],
)
def test_rules_out_of_range_are_refused(overrides):
    with pytest.raises(ValueError, match=next(iter(overrides))):
        ClosureRules(**overrides)


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"closed_fraction": 0.001}, id="closed-fraction-just-above-0"),
        pytest.param({"closed_fraction": 0.999}, id="closed-fraction-just-below-1"),
        pytest.param({"lookback_weeks": 1}, id="one-week-lookback"),
        pytest.param({"max_missing_run": 1}, id="missing-run-of-1"),
    ],
)
def test_rules_at_the_edge_of_their_range_are_kept(overrides):
    rules = ClosureRules(**overrides)
    assert {k: getattr(rules, k) for k in overrides} == overrides


@pytest.mark.parametrize(
    ("rules", "offset", "affected"),
    [
        pytest.param(ClosureRules(), 56, True, id="56-days-after-reads-it-in-its-lookback"),
        pytest.param(ClosureRules(), 57, False, id="57-days-after-is-past-the-lookback"),
        pytest.param(ClosureRules(), -11, True, id="11-days-before-reads-it-after-a-missing-run"),
        pytest.param(ClosureRules(), -12, False, id="12-days-before-reads-no-further"),
        pytest.param(
            ClosureRules(lookback_weeks=1, max_missing_run=1), 7, True, id="1-week-7-days-after"
        ),
        pytest.param(
            ClosureRules(lookback_weeks=1, max_missing_run=1), 8, False, id="1-week-8-days-after"
        ),
        pytest.param(
            ClosureRules(lookback_weeks=1, max_missing_run=1), -9, True, id="run-of-1-9-days-before"
        ),
        pytest.param(
            ClosureRules(lookback_weeks=1, max_missing_run=1),
            -10,
            False,
            id="run-of-1-10-days-before",
        ),
    ],
)
def test_a_written_date_affects_exactly_the_dates_whose_span_holds_it(rules, offset, affected):
    other = DAY + timedelta(days=offset)
    assert affected_dates([DAY], [DAY, other], rules) == ({DAY, other} if affected else {DAY})


@pytest.mark.parametrize(
    ("expected", "required"),
    [(7, 4), (6, 4), (5, 3), (4, 3), (3, 2), (2, 2), (1, 1)],
    ids=lambda v: str(v),
)
def test_the_files_required_are_the_same_share_of_the_expected_set(expected, required):
    """Four of seven: the location's own set needs ceil(4 * n / 7) of its n files."""
    assert ClosureThresholds().required_files(expected) == required


@pytest.mark.parametrize(
    ("facts", "rules", "expected"),
    [
        pytest.param(
            on((1, 2), day(delivered=LEAN)), ClosureRules(), ALL_TABLES, id="2-deliveries"
        ),
        pytest.param(on((1, 2, 3), day(delivered=LEAN)), ClosureRules(), LEAN, id="3-deliveries"),
        pytest.param(
            on((1, 2, 3), day(delivered=LEAN)),
            ClosureRules(min_deliveries=4),
            ALL_TABLES,
            id="3-deliveries-of-4-needed",
        ),
        pytest.param(
            on((1, 2), day()) | on((3, 4), day(delivered=LEAN)),
            ClosureRules(),
            ALL_TABLES,
            id="delivered-on-half-is-expected",
        ),
        pytest.param(
            on((1, 2), day()) | on((3, 4, 5), day(delivered=LEAN)),
            ClosureRules(),
            LEAN,
            id="delivered-on-2-of-5-is-not",
        ),
        pytest.param(
            on((54, 55, 56), day(delivered=LEAN)), ClosureRules(), LEAN, id="lookback-last-day"
        ),
        pytest.param(
            on((55, 56, 57), day(delivered=LEAN)), ClosureRules(), ALL_TABLES, id="past-lookback"
        ),
        pytest.param(
            on((0, 1, 2), day(delivered=LEAN)), ClosureRules(), ALL_TABLES, id="not-the-date-itself"
        ),
        pytest.param(
            on((1, 2), day(delivered=LEAN)) | on((3,), MISSING),
            ClosureRules(),
            ALL_TABLES,
            id="a-missing-folder-is-no-delivery",
        ),
    ],
)
def test_the_expected_file_set(facts, rules, expected):
    assert expected_files(DAY, facts, rules) == expected


NO_HISTORY: dict[date, DaySummary] = {}
# Closed-looking days (files, no orders): they teach the file set but no baseline.
LEAN_CLOSED_DAYS = on((1, 2, 3), day(0, 0, delivered=LEAN))


@pytest.mark.parametrize(
    ("facts", "rules", "summary", "reason"),
    [
        pytest.param(NO_HISTORY, ClosureRules(), day(20, 800), None, id="open"),
        pytest.param(
            NO_HISTORY,
            ClosureRules(),
            day(20, 800, delivered=THREE),
            ClosureReason.INSUFFICIENT_FILES,
            id="3-of-7-files",
        ),
        pytest.param(NO_HISTORY, ClosureRules(), day(20, 800, delivered=LEAN), None, id="4-of-7"),
        pytest.param(
            LEAN_CLOSED_DAYS,
            ClosureRules(),
            day(20, 800, delivered=THREE),
            None,
            id="3-of-4-learnt",
        ),
        pytest.param(
            LEAN_CLOSED_DAYS,
            ClosureRules(),
            day(20, 800, delivered=TWO),
            ClosureReason.INSUFFICIENT_FILES,
            id="2-of-4-learnt",
        ),
        pytest.param(
            NO_HISTORY,
            ClosureRules(),
            day(20, 800, records=9),
            ClosureReason.LOW_ACTIVITY,
            id="9-records",
        ),
        pytest.param(NO_HISTORY, ClosureRules(), day(20, 800, records=10), None, id="10-records"),
        pytest.param(
            NO_HISTORY,
            ClosureRules(floors=ClosureThresholds(min_records=5)),
            day(20, 800, records=5),
            None,
            id="5-records-with-a-floor-of-5",
        ),
        pytest.param(
            NO_HISTORY,
            ClosureRules(),
            day(20, "49.99"),
            ClosureReason.LOW_SALES,
            id="net-sales-49.99",
        ),
        pytest.param(NO_HISTORY, ClosureRules(), day(20, "50.00"), None, id="net-sales-50.00"),
        pytest.param(
            NO_HISTORY,
            ClosureRules(),
            day(2, 800, records=10),
            ClosureReason.LOW_ACTIVITY,
            id="2-stray-orders",
        ),
        pytest.param(NO_HISTORY, ClosureRules(), day(3, 800, records=10), None, id="3-orders"),
        pytest.param(
            NO_HISTORY,
            ClosureRules(stray_orders=3),
            day(3, 800, records=10),
            ClosureReason.LOW_ACTIVITY,
            id="3-orders-with-3-stray",
        ),
    ],
)
def test_with_too_little_history_the_fixed_floors_judge(facts, rules, summary, reason):
    verdict = verdict_for(facts, summary, rules)
    assert verdict.reason is reason, verdict.explanation
    assert verdict.details["baseline"] == {"basis": "floors"}
    state = "open" if reason is None else "closed"
    assert verdict.explanation.startswith(f"{state} (too little history, fixed floors): ")


# The same date judged against different histories: by the floors its 9 transactional rows close
# it; against 100-order days its 20 orders and 800 of sales are well above a tenth.
QUIET = day(20, 800, records=9)


@pytest.mark.parametrize(
    ("facts", "rules", "basis", "reason"),
    [
        pytest.param(NO_HISTORY, ClosureRules(), "floors", ClosureReason.LOW_ACTIVITY, id="none"),
        pytest.param(
            on((1, 2), day()),
            ClosureRules(),
            "floors",
            ClosureReason.LOW_ACTIVITY,
            id="2-open-days",
        ),
        pytest.param(on((1, 2, 3), day()), ClosureRules(), "all_weekdays", None, id="3-open-days"),
        pytest.param(
            on((1, 2, 3), day()),
            ClosureRules(min_history_days=4),
            "floors",
            ClosureReason.LOW_ACTIVITY,
            id="3-open-days-of-4-needed",
        ),
        pytest.param(
            on((1, 2, 3), day(0, 0)),
            ClosureRules(),
            "floors",
            ClosureReason.LOW_ACTIVITY,
            id="3-closed-days",
        ),
        pytest.param(
            on((1, 7), day()),
            ClosureRules(),
            "floors",
            ClosureReason.LOW_ACTIVITY,
            id="1-same-weekday-and-1-other",
        ),
        pytest.param(
            on((1, 2, 7), day()), ClosureRules(), "all_weekdays", None, id="1-same-weekday-2-others"
        ),
        pytest.param(on((7, 14), day()), ClosureRules(), "same_weekday", None, id="2-same-weekday"),
        pytest.param(
            on((54, 55, 56), day()), ClosureRules(), "all_weekdays", None, id="lookback-last-day"
        ),
        pytest.param(
            on((55, 56, 57), day()),
            ClosureRules(),
            "floors",
            ClosureReason.LOW_ACTIVITY,
            id="past-lookback",
        ),
        pytest.param(
            on((6, 7, 8), day()),
            ClosureRules(lookback_weeks=1),
            "floors",
            ClosureReason.LOW_ACTIVITY,
            id="past-a-1-week-lookback",
        ),
        pytest.param(
            on((1, 2, 3, 7, 14), day()) | on((21, 28), MISSING),
            ClosureRules(),
            "all_weekdays",
            None,
            id="usually-closed-weekday-not-its-own-baseline",
        ),
        pytest.param(
            on((1, 2, 3, 7, 14), day()) | on((21,), MISSING),
            ClosureRules(),
            "same_weekday",
            None,
            id="usually-open-weekday-its-own-baseline",
        ),
    ],
)
def test_the_baseline_falls_back_while_history_is_short(facts, rules, basis, reason):
    verdict = verdict_for(facts, QUIET, rules)
    assert verdict.details["baseline"]["basis"] == basis
    assert verdict.reason is reason, verdict.explanation


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        pytest.param(
            on((7,), day(60)) | on((14,), day(100)) | on((21,), day(140)),
            {
                "basis": "same_weekday",
                "days": 3,
                "orders": 100.0,
                "net_sales": "4000.00",
                "orders_normal_range": [60, 140],
            },
            id="same-weekday-median",
        ),
        pytest.param(
            on((1,), day(40)) | on((2,), day(80)) | on((3,), day(120)) | on((4,), day(160)),
            {
                "basis": "all_weekdays",
                "days": 4,
                "orders": 40.0,
                "net_sales": "1600.00",
                "orders_normal_range": [40, 120],
            },
            id="all-weekdays-lower-quartile",
        ),
    ],
)
def test_the_baseline_is_learnt_from_the_open_days(facts, expected):
    assert verdict_for(facts, day()).details["baseline"] == expected


H100 = on((7, 14, 21), day(100, 4000))  # orders floor 10, sales floor 400.00
H20 = on((7, 14, 21), day(20, 800))  # a tenth is 2 orders: the stray-orders floor (3) rules
H4 = on((7, 14, 21), day(4, 160))  # a tiny business: half its normal (2) rules
QUARTILE40 = on((1,), day(40)) | on((2,), day(80)) | on((3,), day(120)) | on((4,), day(160))


@pytest.mark.parametrize(
    ("facts", "rules", "summary", "reason"),
    [
        pytest.param(H100, ClosureRules(), day(9), ClosureReason.LOW_ACTIVITY, id="9-of-100"),
        pytest.param(H100, ClosureRules(), day(10), None, id="10-of-100"),
        pytest.param(
            H100,
            ClosureRules(closed_fraction=0.2),
            day(19),
            ClosureReason.LOW_ACTIVITY,
            id="19-of-100-closed-below-a-fifth",
        ),
        pytest.param(H100, ClosureRules(closed_fraction=0.2), day(20), None, id="20-of-100-fifth"),
        pytest.param(H20, ClosureRules(), day(2, 800), ClosureReason.LOW_ACTIVITY, id="2-of-20"),
        pytest.param(H20, ClosureRules(), day(3, 800), None, id="3-of-20"),
        pytest.param(
            H20,
            ClosureRules(stray_orders=3),
            day(3, 800),
            ClosureReason.LOW_ACTIVITY,
            id="3-of-20-with-3-stray",
        ),
        pytest.param(H4, ClosureRules(), day(1, 160), ClosureReason.LOW_ACTIVITY, id="1-of-4"),
        pytest.param(H4, ClosureRules(), day(2, 160), None, id="2-of-4"),
        pytest.param(
            QUARTILE40, ClosureRules(), day(3, 4000), ClosureReason.LOW_ACTIVITY, id="3-of-q40"
        ),
        pytest.param(QUARTILE40, ClosureRules(), day(4, 4000), None, id="4-of-q40"),
        pytest.param(
            H100, ClosureRules(), day(100, "399.99"), ClosureReason.LOW_SALES, id="sales-399.99"
        ),
        pytest.param(H100, ClosureRules(), day(100, "400.00"), None, id="sales-400.00"),
        pytest.param(
            on((7, 14, 21), day(100, "4000.05")),
            ClosureRules(),
            day(100, "400.00"),
            ClosureReason.LOW_SALES,
            id="sales-floor-400.005-rounds-up",
        ),
        pytest.param(
            on((7, 14, 21), day(100, "4000.05")),
            ClosureRules(),
            day(100, "400.01"),
            None,
            id="sales-400.01-of-400.005",
        ),
        pytest.param(
            H100, ClosureRules(), day(9, 0), ClosureReason.LOW_ACTIVITY, id="orders-before-sales"
        ),
    ],
)
def test_closed_below_a_share_of_the_learnt_normal(facts, rules, summary, reason):
    verdict = verdict_for(facts, summary, rules)
    assert verdict.details["baseline"]["basis"] != "floors"
    assert verdict.reason is reason, verdict.explanation


@pytest.mark.parametrize(
    ("summary", "slow"),
    [
        pytest.param(day(59), True, id="below-the-normal-range"),
        pytest.param(day(60), False, id="at-its-low-end"),
    ],
)
def test_an_open_day_below_the_normal_range_is_slow_not_closed(summary, slow):
    facts = on((7,), day(60)) | on((14,), day(100)) | on((21,), day(140))
    verdict = verdict_for(facts, summary)
    assert verdict.is_open
    assert verdict.explanation.startswith("open (slow): " if slow else "open: ")


H100_LEAN = on((7, 14, 21), day(100, 4000, delivered=LEAN))


@pytest.mark.parametrize(
    ("facts", "summary", "reason"),
    [
        pytest.param(
            H100, day(10, delivered=THREE), ClosureReason.DELIVERY_GAP, id="3-of-7-with-10-orders"
        ),
        pytest.param(
            H100, day(9, delivered=THREE), ClosureReason.INSUFFICIENT_FILES, id="3-of-7-9-orders"
        ),
        pytest.param(
            H100, day(9, delivered=LEAN), ClosureReason.LOW_ACTIVITY, id="4-of-7-9-orders"
        ),
        pytest.param(
            H100_LEAN, day(9, delivered=THREE), ClosureReason.LOW_ACTIVITY, id="3-of-4-9-orders"
        ),
        pytest.param(
            H100_LEAN, day(9, delivered=TWO), ClosureReason.INSUFFICIENT_FILES, id="2-of-4-9-orders"
        ),
        pytest.param(
            H100_LEAN, day(100, delivered=TWO), ClosureReason.DELIVERY_GAP, id="2-of-4-100-orders"
        ),
        pytest.param(
            H100,
            day(0, 0, delivered=THREE),
            ClosureReason.INSUFFICIENT_FILES,
            id="header-only-3-of-7",
        ),
    ],
)
def test_a_partial_delivery_is_a_gap_when_its_numbers_look_open(facts, summary, reason):
    verdict = verdict_for(facts, summary)
    assert verdict.reason is reason, verdict.explanation
    assert verdict.is_gap == (reason is ClosureReason.DELIVERY_GAP)


@pytest.mark.parametrize(
    ("facts", "summary"),
    [
        pytest.param(NO_HISTORY, day(0, 0), id="no-history"),
        pytest.param(H100, day(0, 0), id="learnt-history"),
        pytest.param(H100, day(100, 4000, records=0), id="orders-but-no-transactional-rows"),
        pytest.param(LEAN_CLOSED_DAYS, day(0, 0, delivered=THREE), id="3-of-4-learnt-files"),
    ],
)
def test_files_without_a_transaction_are_closed_before_any_baseline(facts, summary):
    verdict = verdict_for(facts, summary)
    assert verdict.reason is ClosureReason.LOW_ACTIVITY
    assert "without a transaction" in verdict.explanation
    assert "baseline" not in verdict.details


@pytest.mark.parametrize(
    ("facts", "rules", "calendar", "reason", "pattern", "run"),
    [
        pytest.param(
            weeks([day()] * 3) | on((-1,), day()),
            ClosureRules(),
            {},
            ClosureReason.NO_FILES,
            "unscheduled",
            (0, 0),
            id="one-missing-day-then-a-delivery",
        ),
        pytest.param(
            weeks([day()] * 3),
            ClosureRules(),
            {},
            ClosureReason.DELIVERY_GAP,
            None,
            (0, 0),
            id="one-missing-day-nothing-after-yet",
        ),
        pytest.param(
            weeks([day()] * 3) | on((-1,), MISSING),
            ClosureRules(),
            {},
            ClosureReason.DELIVERY_GAP,
            None,
            (0, 1),
            id="two-missing-nothing-after-yet",
        ),
        pytest.param(
            weeks([day()] * 3) | on((1, -1), MISSING) | on((-2,), day()),
            ClosureRules(),
            {},
            ClosureReason.NO_FILES,
            "unscheduled",
            (-1, 1),
            id="three-missing-then-a-delivery",
        ),
        pytest.param(
            weeks([day()] * 3) | on((1, -1, -2), MISSING) | on((-3,), day()),
            ClosureRules(),
            {},
            ClosureReason.DELIVERY_GAP,
            None,
            (-1, 2),
            id="four-missing-an-outage",
        ),
        pytest.param(
            weeks([day()] * 3) | on((1, -1, -2), MISSING) | on((-3,), day()),
            ClosureRules(max_missing_run=4),
            {},
            ClosureReason.NO_FILES,
            "unscheduled",
            (-1, 2),
            id="four-missing-with-runs-of-4-allowed",
        ),
        pytest.param(
            weeks([day()] * 3) | on((8, 15), MISSING) | on((1, -1, -2), MISSING) | on((-3,), day()),
            ClosureRules(),
            {},
            ClosureReason.NO_FILES,
            "unscheduled",
            (-1, 2),
            id="four-missing-one-a-usual-closure",
        ),
        pytest.param(
            weeks([day()] * 3) | on((-1,), day()),
            ClosureRules(max_missing_run=1),
            {},
            ClosureReason.NO_FILES,
            "unscheduled",
            (0, 0),
            id="one-missing-runs-of-1",
        ),
        pytest.param(
            weeks([day()] * 3) | on((-1,), MISSING) | on((-2,), day()),
            ClosureRules(max_missing_run=1),
            {},
            ClosureReason.DELIVERY_GAP,
            None,
            (0, 1),
            id="two-missing-runs-of-1",
        ),
        pytest.param(
            weeks([day()] * 3),
            ClosureRules(),
            {DAY: "Whit Monday"},
            ClosureReason.NO_FILES,
            "holiday",
            (0, 0),
            id="holiday-nothing-after-yet",
        ),
        pytest.param(
            weeks([day()] * 3) | on((1, -1, -2), MISSING) | on((-3,), day()),
            ClosureRules(),
            {DAY: "Whit Monday"},
            ClosureReason.DELIVERY_GAP,
            None,
            (-1, 2),
            id="holiday-inside-an-outage",
        ),
        pytest.param(
            weeks([MISSING] * 3),
            ClosureRules(),
            {},
            ClosureReason.NO_FILES,
            "weekly",
            None,
            id="usually-closed-weekday-nothing-after-yet",
        ),
    ],
)
def test_a_missing_folder_is_a_closure_only_when_something_explains_it(
    facts, rules, calendar, reason, pattern, run
):
    verdict = verdict_for(facts, MISSING, rules, calendar)
    assert verdict.reason is reason, verdict.explanation
    assert verdict.details["pattern"] == pattern
    if run is not None:
        first, last = (DAY + timedelta(days=offset) for offset in run)
        assert verdict.details["missing_run"] == [first.isoformat(), last.isoformat()]
    if pattern == "unscheduled":
        after = date.fromisoformat(verdict.details["missing_run"][1]) + timedelta(days=1)
        assert verdict.details["delivered_after"] == after.isoformat()


def test_regression_a_missing_run_past_usual_closures_reads_only_dates_that_rejudge_it():
    """Thursdays and Sundays usually closed; Wednesday to Sunday missing, Monday delivered. The
    run passes both usual closures, so its verdict reads Monday; loading Monday must re-judge it,
    or the verdict would depend on the order the dates were loaded in."""
    usual = on((6, 13, 20, 3, 10, 17), MISSING)
    facts = weeks([day()] * 3) | usual | on((-1, -2, -3, -4), MISSING)
    monday = DAY + timedelta(days=5)
    assert verdict_for(facts, MISSING).reason is ClosureReason.DELIVERY_GAP
    closed = verdict_for(facts | {monday: day()}, MISSING)
    assert closed.reason is ClosureReason.NO_FILES, closed.explanation
    assert closed.details["delivered_after"] == monday.isoformat()
    assert DAY in affected_dates([monday], [DAY, monday], ClosureRules())


@pytest.mark.parametrize(
    ("facts", "rules", "closed", "weekly"),
    [
        pytest.param(weeks([MISSING, MISSING, day()]), ClosureRules(), "2 of 3", True, id="2-of-3"),
        pytest.param(weeks([MISSING, day(), day()]), ClosureRules(), "1 of 3", False, id="1-of-3"),
        pytest.param(
            weeks([MISSING, day(), MISSING, day()]), ClosureRules(), "2 of 4", True, id="2-of-4"
        ),
        pytest.param(
            weeks([MISSING, day(), MISSING, day()]),
            ClosureRules(weekly_closed_share=0.75),
            "2 of 4",
            False,
            id="2-of-4-needing-3-in-4",
        ),
        pytest.param(weeks([MISSING, MISSING]), ClosureRules(), "2 of 2", False, id="2-of-2-known"),
        pytest.param(
            weeks([MISSING, MISSING]),
            ClosureRules(min_same_weekday=2),
            "2 of 2",
            True,
            id="2-of-2-known-needing-2",
        ),
        pytest.param(
            weeks([MISSING] * 3) | on((56,), day()),
            ClosureRules(),
            "3 of 4",
            True,
            id="lookback-last-wednesday-counts",
        ),
        pytest.param(
            weeks([day()] * 3, other=day(0, 0)),
            ClosureRules(),
            "0 of 3",
            False,
            id="closed-other-weekdays-do-not-count",
        ),
        # Whether a Wednesday of the lookback looked open: busier than a tenth of a busy day (the
        # upper quartile of the lookback), and than the stray orders; any order when all are quiet.
        pytest.param(weeks([day(9)] * 3), ClosureRules(), "3 of 3", True, id="9-orders-of-100"),
        pytest.param(weeks([day(10)] * 3), ClosureRules(), "0 of 3", False, id="10-orders-of-100"),
        pytest.param(
            weeks([day(2)] * 3, other=day(20)), ClosureRules(), "3 of 3", True, id="2-orders-of-20"
        ),
        pytest.param(
            weeks([day(3)] * 3, other=day(20)), ClosureRules(), "0 of 3", False, id="3-orders-of-20"
        ),
        pytest.param(
            weeks([day(2)] * 3, other=day(5)), ClosureRules(), "3 of 3", True, id="2-orders-of-5"
        ),
        pytest.param(
            weeks([day(1)] * 3, other=day(4)), ClosureRules(), "0 of 3", False, id="1-order-of-4"
        ),
        pytest.param(
            weeks([day(0)] * 3, other=day(4)), ClosureRules(), "3 of 3", True, id="0-orders-of-4"
        ),
    ],
)
def test_a_weekday_closed_on_most_recent_weeks_is_a_weekly_closure(facts, rules, closed, weekly):
    """Seen on a missing Wednesday with nothing delivered after it: a weekly closure, else a gap."""
    verdict = verdict_for(facts, MISSING, rules)
    assert verdict.details["weekday_closed"] == f"{closed} recent Wednesdays"
    assert verdict.details["weekday_usually_closed"] is weekly
    assert verdict.reason is (ClosureReason.NO_FILES if weekly else ClosureReason.DELIVERY_GAP)


HEADER_ONLY = day(0, 0)


@pytest.mark.parametrize(
    ("facts", "calendar", "summary", "pattern", "words"),
    [
        pytest.param(weeks([day()] * 3), {}, HEADER_ONLY, "unscheduled", "", id="unscheduled"),
        pytest.param(
            weeks([MISSING] * 3),
            {},
            HEADER_ONLY,
            "weekly",
            "; regular weekly closure: 3 of the last 3 Wednesdays closed",
            id="weekly",
        ),
        pytest.param(
            weeks([day()] * 3),
            {DAY: "Whit Monday"},
            HEADER_ONLY,
            "holiday",
            "; public holiday: Whit Monday",
            id="holiday",
        ),
        pytest.param(
            weeks([MISSING] * 3),
            {DAY: "Whit Monday"},
            HEADER_ONLY,
            "holiday",
            "; public holiday: Whit Monday",
            id="holiday-on-a-weekly-closure",
        ),
        pytest.param(weeks([day()] * 3), {DAY: "Whit Monday"}, day(), None, "", id="open-holiday"),
        pytest.param(weeks([MISSING] * 3), {}, day(), None, "", id="open-on-a-closed-weekday"),
    ],
)
def test_a_closure_names_its_pattern(facts, calendar, summary, pattern, words):
    verdict = verdict_for(facts, summary, calendar=calendar)
    assert verdict.details["pattern"] == pattern
    assert verdict.is_open == (pattern is None)
    if pattern is not None:
        assert verdict.explanation.endswith(f"(header only, AllItemsReport aside){words}")


@pytest.mark.parametrize(
    ("country", "subdivision", "day_", "name"),
    [
        pytest.param("US", None, date(2025, 12, 25), "Christmas Day", id="us-christmas"),
        pytest.param("US", None, date(2026, 7, 4), "Independence Day", id="us-on-a-saturday"),
        pytest.param("US", None, date(2026, 7, 3), None, id="us-observed-friday-is-not-it"),
        pytest.param("DE", "BY", date(2025, 1, 6), "Epiphany", id="bavaria-epiphany"),
        pytest.param("DE", None, date(2025, 1, 6), None, id="germany-without-bavaria"),
        pytest.param(None, None, date(2025, 12, 25), None, id="no-country"),
    ],
)
def test_public_holidays(country, subdivision, day_, name):
    assert public_holidays(country, subdivision).get(day_) == name


def test_judge_dates_judges_each_date_from_the_same_facts_in_date_order():
    facts = weeks([day()] * 3) | on((0,), HEADER_ONLY) | on((-1,), day())
    dates = [DAY + timedelta(days=1), DAY, DAY - timedelta(days=1)]
    verdicts = judge_dates(dates, facts)
    assert list(verdicts) == sorted(dates)
    assert verdicts == {d: judge_day(d, facts) for d in dates}
    assert [v.status for v in verdicts.values()] == ["open", "closed", "open"]
