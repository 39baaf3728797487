from decimal import Decimal

import pytest

from toast_pipeline.toast.closures import ClosureReason, ClosureThresholds, DaySummary, judge

BUSY_DAY = {"order_details": 80, "payment_details": 90, "check_details": 85, "cash_entries": 2}


@pytest.mark.parametrize(
    ("summary", "reason"),
    [
        (DaySummary(files_found=0), ClosureReason.NO_FILES),
        (
            DaySummary(files_found=3, rows=BUSY_DAY, orders=80, net_sales=Decimal("4000")),
            ClosureReason.INSUFFICIENT_FILES,
        ),
        (DaySummary(files_found=7, rows={"order_details": 0}), ClosureReason.LOW_ACTIVITY),
        (DaySummary(files_found=7, rows={"cash_entries": 9}), ClosureReason.LOW_ACTIVITY),
        (
            DaySummary(
                files_found=7,
                rows={"order_details": 4, "item_selection_details": 8},
                orders=4,
                net_sales=Decimal("49.99"),
            ),
            ClosureReason.LOW_SALES,
        ),
        (
            DaySummary(
                files_found=4, rows={"order_details": 10}, orders=10, net_sales=Decimal("50.00")
            ),
            None,
        ),
        (DaySummary(files_found=7, rows=BUSY_DAY, orders=80, net_sales=Decimal("4000")), None),
    ],
)
def test_seed_rules_in_order_of_evidence(summary, reason):
    verdict = judge(summary)
    assert verdict.reason == reason
    assert verdict.is_open == (reason is None)
    assert verdict.status == ("open" if reason is None else "closed")


def test_thresholds_are_configurable():
    quiet_cafe = DaySummary(
        files_found=7, rows={"order_details": 6}, orders=6, net_sales=Decimal("45")
    )
    assert judge(quiet_cafe).reason == ClosureReason.LOW_ACTIVITY
    relaxed = ClosureThresholds(min_files=4, min_records=5, min_net_sales=Decimal("40"))
    assert judge(quiet_cafe, relaxed).is_open


def test_explanation_carries_the_numbers():
    verdict = judge(
        DaySummary(files_found=7, rows={"order_details": 12}, orders=12, net_sales=Decimal("20.50"))
    )
    assert verdict.explanation == "net sales 20.50 below 50"


ALL = frozenset(BUSY_DAY) | {"all_items_report", "item_selection_details", "kitchen_timings"}
LEAN = ALL - {"check_details", "cash_entries", "kitchen_timings"}


def test_records_count_transactions_never_the_all_items_menu_listing():
    """A real closed day: six header-only files beside a 615-row AllItemsReport of zero sales."""
    closed = DaySummary(files_found=7, rows={"all_items_report": 615}, delivered=ALL)
    assert closed.records == 0
    assert judge(closed).reason == ClosureReason.LOW_ACTIVITY


@pytest.mark.parametrize(
    ("delivered", "expected", "reason"),
    [
        (LEAN, LEAN, None),  # the account's whole set: open
        (LEAN, ALL, None),  # before its set is learnt: four of seven is enough
        (LEAN - {"payment_details"}, LEAN, None),  # 3 of 4 still meets ceil(4 * 4 / 7) = 3
        (frozenset({"order_details", "all_items_report"}), LEAN, ClosureReason.INSUFFICIENT_FILES),
        (
            frozenset({"order_details", "all_items_report", "check_details"}),
            ALL,
            ClosureReason.INSUFFICIENT_FILES,
        ),
    ],
)
def test_too_few_files_is_judged_against_the_files_the_location_receives(
    delivered, expected, reason
):
    summary = DaySummary(
        files_found=len(delivered),
        rows={"order_details": 80},
        orders=80,
        net_sales=Decimal("4000"),
        delivered=delivered,
        expected=expected,
    )
    assert judge(summary).reason == reason


def test_missing_names_the_expected_files_that_did_not_come():
    summary = DaySummary(files_found=3, delivered=LEAN - {"payment_details"}, expected=LEAN)
    assert summary.missing == ("payment_details",)
    assert DaySummary(files_found=3).missing == ()  # stored before the set was recorded: unknown
