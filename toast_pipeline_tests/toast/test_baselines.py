"""The learnt rules' file set: what a location normally receives, from its own history."""

from datetime import date, timedelta
from decimal import Decimal

import polars as pl
import pytest

from toast_pipeline.toast.baselines import (
    ClosureRules,
    expected_files,
    judge_day,
    stored_file_set,
    summaries_from_business_days,
)
from toast_pipeline.toast.closures import ALL_TABLES, ClosureReason, DaySummary

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
