import io
from datetime import date
from decimal import Decimal

import polars as pl
from polars.testing import assert_frame_equal
from rich.console import Console

from toast_pipeline.toast.analysis import (
    calendar_heatmap_png,
    closure_summary,
    daily_trends,
    print_closure_report,
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
