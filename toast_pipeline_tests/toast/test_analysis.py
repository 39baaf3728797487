import io
from datetime import date
from decimal import Decimal

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from rich.console import Console

from toast_pipeline.toast.analysis import (
    calendar_heatmap_png,
    closure_summary,
    daily_trends,
    group_closures,
    group_closures_markdown,
    group_daily_totals,
    print_closure_report,
    print_group_closures,
)

CALENDAR = {date(2024, 12, 25): "Christmas Day"}


def business_days() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "business_date": [date(2024, 12, d) for d in (23, 24, 25, 30, 31)],
            "status": ["open", "open", "closed", "closed", "delivery_gap"],
            "closure_reason": [None, None, "no_files", "low_activity", "delivery_gap"],
            "net_sales": [Decimal("900.00"), Decimal("450.50"), None, None, None],
        }
    )


def test_closures_by_reason_month_weekday_and_holiday():
    summary = closure_summary(business_days(), CALENDAR)
    assert (summary.loaded, summary.closed, summary.gaps) == (5, 2, [date(2024, 12, 31)])
    assert summary.by_reason.rows() == [("low_activity", 1, 0.5), ("no_files", 1, 0.5)]
    assert summary.by_month.rows() == [("2024-12", 2, 5)]
    assert summary.by_weekday.rows() == [
        ("Monday", 1, 2, 0.5),
        ("Tuesday", 0, 2, 0.0),
        ("Wednesday", 1, 1, 1.0),
    ]
    assert summary.holidays.rows() == [(date(2024, 12, 25), "Christmas Day", "closed")]
    stored = summary.table("185129")
    assert stored.filter(pl.col("section") == "holiday").select("label", "closures").rows() == [
        ("2024-12-25 Christmas Day", 1)
    ]
    assert "| no_files | 1 | 50.0% |" in summary.markdown()


def test_the_report_has_the_seed_sections():
    output = io.StringIO()
    print_closure_report(
        closure_summary(business_days(), CALENDAR), Console(file=output, width=120), "185129"
    )
    text = output.getvalue()
    assert "BUSINESS CLOSURE ANALYSIS" in text
    assert "Total closure dates detected: 2 of 5 dates loaded" in text
    assert "• no_files: 1 dates (50.0%)" in text
    assert "• December 2024: 2 closure dates" in text
    assert "• Holiday periods: 1 closure dates" in text and "2024-12-25 Christmas Day" in text
    assert "Probable delivery gaps (not closures): 2024-12-31" in text


def test_daily_trends_exact_money_and_moving_averages():
    totals = pl.DataFrame(
        {
            "business_date": [date(2024, 4, 2), date(2024, 4, 1)],
            "orders": [3, 10],
            "covers": [4, 20],
            "net_sales": [Decimal("100.00"), Decimal("500.01")],
            "tips": [Decimal("15.00"), Decimal("50.00")],
            "checks": [3, 12],
        }
    )
    expected = pl.DataFrame(
        {
            "business_date": [date(2024, 4, 1), date(2024, 4, 2)],
            "orders": [10, 3],
            "covers": [20, 4],
            "checks": [12, 3],
            "net_sales": [Decimal("500.01"), Decimal("100.00")],
            "tips": [Decimal("50.00"), Decimal("15.00")],
            "average_check": [Decimal("41.67"), Decimal("33.33")],
            "tip_pct": [10.0, 15.0],
            "orders_7d_avg": [10.0, 6.5],
            "covers_7d_avg": [20.0, 12.0],
            "net_sales_7d_avg": [Decimal("500.01"), Decimal("300.01")],  # 300.005 rounds half up
        },
        schema_overrides={
            c: pl.Decimal(18, 2) for c in ("net_sales", "tips", "average_check", "net_sales_7d_avg")
        },
    )
    assert_frame_equal(daily_trends(totals), expected)


def test_the_calendar_is_a_png_drawn_without_a_display():
    png = calendar_heatmap_png(business_days(), CALENDAR, "Business days")
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 5000


# The group ------------------------------------------------------------------------------------

MONEY = pl.Decimal(18, 2)
SUMMED_MONEY = pl.Decimal(38, 2)  # what polars gives a sum of decimals
CLOSURES_SCHEMA = {
    "location": pl.String,
    "dates_loaded": pl.Int64,
    "closed": pl.Int64,
    "delivery_gaps": pl.Int64,
    "main_reason": pl.String,
}
TOTALS_SCHEMA = {
    "business_date": pl.Date,
    "orders": pl.Int64,
    "covers": pl.Int64,
    "net_sales": MONEY,
    "tips": MONEY,
    "checks": pl.Int64,
}
GROUP_TOTALS_SCHEMA = {
    "business_date": pl.Date,
    "open_locations": pl.Int64,
    "orders": pl.Int64,
    "covers": pl.Int64,
    "net_sales": SUMMED_MONEY,
    "tips": SUMMED_MONEY,
    "checks": pl.Int64,
}


def verdicts(*rows: tuple[int, str, str | None]) -> pl.DataFrame:
    """business_days of one location in April 2024."""
    return pl.DataFrame(
        [(date(2024, 4, d), status, reason) for d, status, reason in rows],
        schema={"business_date": pl.Date, "status": pl.String, "closure_reason": pl.String},
        orient="row",
    )


def group_summaries():
    """The bistro (a closure and a delivery gap), the café (closed mostly for low activity), a
    location whose two reasons tie (the first by name is its main one), and one with nothing
    loaded yet."""
    bistro = verdicts(
        (1, "closed", "no_files"), (2, "open", None), (3, "delivery_gap", "delivery_gap")
    )
    cafe = verdicts(
        (1, "closed", "low_activity"),
        (2, "closed", "no_files"),
        (3, "closed", "low_activity"),
        (4, "open", None),
    )
    tie = verdicts((1, "closed", "no_files"), (2, "closed", "low_activity"))
    return {
        "Bistro on Main (185129)": closure_summary(bistro, {}),
        "185342": closure_summary(cafe, {}),
        "185400": closure_summary(tie, {}),
        "185777": closure_summary(verdicts(), {}),
    }


def test_group_closures_have_a_row_per_location_and_the_group_s_total():
    expected = pl.DataFrame(
        [
            ("Bistro on Main (185129)", 3, 1, 1, "no_files"),
            ("185342", 4, 3, 0, "low_activity"),
            ("185400", 2, 2, 0, "low_activity"),
            ("185777", 0, 0, 0, None),
            ("group", 9, 6, 1, None),
        ],
        schema=CLOSURES_SCHEMA,
        orient="row",
    )
    assert_frame_equal(group_closures(group_summaries()), expected)


def test_a_group_with_nothing_loaded_has_only_its_zero_total():
    expected = pl.DataFrame([("group", 0, 0, 0, None)], schema=CLOSURES_SCHEMA, orient="row")
    assert_frame_equal(group_closures({}), expected)


def test_group_closures_as_markdown_and_for_the_console():
    group = group_closures(group_summaries())
    assert group_closures_markdown(group).splitlines() == [
        "| location | dates loaded | closed | delivery gaps | main closure reason |",
        "|---|---:|---:|---:|---|",
        "| Bistro on Main (185129) | 3 | 1 | 1 | no_files |",
        "| 185342 | 4 | 3 | 0 | low_activity |",
        "| 185400 | 2 | 2 | 0 | low_activity |",
        "| 185777 | 0 | 0 | 0 |  |",
        "| group | 9 | 6 | 1 |  |",
    ]
    output = io.StringIO()
    print_group_closures(group, Console(file=output, width=120))
    assert output.getvalue().splitlines()[1:] == [
        "🏢 THE GROUP",
        "• Bistro on Main (185129): 1 of 3 dates closed (mostly no_files), 1 probable delivery gaps",
        "• 185342: 3 of 4 dates closed (mostly low_activity)",
        "• 185400: 2 of 2 dates closed (mostly low_activity)",
        "• 185777: 0 of 0 dates closed",
        "• group: 6 of 9 dates closed, 1 probable delivery gaps",
    ]


def totals(*rows: tuple[int, int, int, str, str, int]) -> pl.DataFrame:
    """`Warehouse.daily_totals` of one location: (April day, orders, covers, net, tips, checks)."""
    return pl.DataFrame(
        [(date(2024, 4, d), o, c, Decimal(n), Decimal(t), k) for d, o, c, n, t, k in rows],
        schema=TOTALS_SCHEMA,
        orient="row",
    )


def test_group_daily_totals_sum_the_open_locations_of_each_date_exactly():
    """Cents that floats would lose (0.10 + 0.20) stay exact; a location closed on a date (no row)
    is not counted open; dates come out in order whatever the locations' order."""
    group = group_daily_totals(
        {
            "185129": totals((2, 5, 6, "0.10", "0.01", 5), (1, 10, 20, "100.10", "10.01", 12)),
            "185342": totals((2, 3, 4, "0.20", "1.99", 3), (3, 7, 9, "70.00", "7.00", 7)),
            "185777": totals(),  # closed throughout
        }
    )
    expected = pl.DataFrame(
        [
            (date(2024, 4, 1), 1, 10, 20, Decimal("100.10"), Decimal("10.01"), 12),
            (date(2024, 4, 2), 2, 8, 10, Decimal("0.30"), Decimal("2.00"), 8),
            (date(2024, 4, 3), 1, 7, 9, Decimal("70.00"), Decimal("7.00"), 7),
        ],
        schema=GROUP_TOTALS_SCHEMA,
        orient="row",
    )
    assert_frame_equal(group, expected)


@pytest.mark.parametrize("locations", [{}, {"185129": totals(), "185342": totals()}])
def test_group_daily_totals_of_no_open_date_are_empty_with_the_same_columns(locations):
    assert_frame_equal(group_daily_totals(locations), pl.DataFrame(schema=GROUP_TOTALS_SCHEMA))


def test_the_group_s_trends_follow_from_its_totals():
    """As the daily_trends asset stores them: the group's totals through the same trend maths."""
    group = group_daily_totals(
        {
            "185129": totals((1, 10, 20, "500.01", "50.00", 12)),
            "185342": totals((1, 2, 2, "20.00", "2.00", 1), (2, 3, 4, "100.00", "15.00", 3)),
        }
    )
    trends = daily_trends(group).select("business_date", "net_sales", "average_check")
    expected = pl.DataFrame(
        [
            (date(2024, 4, 1), Decimal("520.01"), Decimal("40.00")),
            (date(2024, 4, 2), Decimal("100.00"), Decimal("33.33")),
        ],
        schema={"business_date": pl.Date, "net_sales": MONEY, "average_check": MONEY},
        orient="row",
    )
    assert_frame_equal(trends, expected)
