import io
from datetime import date

import polars as pl
import pytest
from rich.console import Console

from toast_pipeline.commands.summary import LoadSummary

BISTRO, CAFE = "185129", "185342"
ERROR = "OrderDetails.csv, line 3: NUL byte at character 2"


def day(d: int) -> date:
    return date(2024, 4, d)


def business_days(*rows: tuple[int, str, str | None]) -> pl.DataFrame:
    return pl.DataFrame(
        [(day(d), status, reason) for d, status, reason in rows],
        schema={"business_date": pl.Date, "status": pl.String, "closure_reason": pl.String},
        orient="row",
    )


def one_location() -> LoadSummary:
    days = business_days(
        (1, "open", None), (2, "closed", "no_files"), (3, "closed", "low_activity")
    )
    return LoadSummary(
        requested=[(BISTRO, day(d)) for d in (1, 2, 3, 4)],
        business_days={BISTRO: days},
        failures={(BISTRO, day(4)): ERROR},
        row_counts={BISTRO: {"order_details": 1234}},
        seconds=2.5,
    )


def two_locations() -> LoadSummary:
    """The bistro loads three dates (one closed, and an older closure outside the request); the
    café two, its third failed although an earlier load left a verdict for it."""
    return LoadSummary(
        requested=[(location, day(d)) for location in (BISTRO, CAFE) for d in (1, 2, 3)],
        business_days={
            BISTRO: business_days(
                (1, "closed", "no_files"),
                (2, "open", None),
                (3, "open", None),
                (4, "closed", "no_files"),
            ),
            CAFE: business_days(
                (1, "closed", "low_activity"), (2, "closed", "no_files"), (3, "open", None)
            ),
        },
        names={BISTRO: "Bistro on Main (185129)"},
        failures={(CAFE, day(3)): ERROR},
        row_counts={
            BISTRO: {"order_details": 1234, "check_details": 10},
            CAFE: {"order_details": 66, "check_details": 0},
        },
        seconds=2.5,
    )


def rendered(summary: LoadSummary) -> tuple[str, list[list[str]]]:
    """The text, and the body rows of its tables as lists of cells."""
    output = io.StringIO()
    summary.render(Console(file=output, width=200))
    text = output.getvalue()
    rows = [[cell.strip() for cell in line.split("│")[1:-1]] for line in text.splitlines()]
    return text, [row for row in rows if row]


def test_closures_are_grouped_by_reason_per_location_date():
    assert two_locations().closures == {
        "no_files": [(BISTRO, day(1)), (CAFE, day(2))],
        "low_activity": [(CAFE, day(1))],
    }
    assert two_locations().closure_count == 3


def test_a_failed_location_date_is_not_loaded_even_with_an_earlier_verdict():
    assert two_locations().loaded == [
        (BISTRO, day(1)),
        (BISTRO, day(2)),
        (BISTRO, day(3)),
        (CAFE, day(1)),
        (CAFE, day(2)),
    ]


def test_a_date_of_one_location_is_not_taken_for_another_s():
    """The café's verdict for 2024-04-04 does not make the bistro's 2024-04-04 loaded."""
    summary = LoadSummary(
        requested=[(BISTRO, day(4))],
        business_days={BISTRO: business_days(), CAFE: business_days((4, "open", None))},
    )
    assert (summary.loaded, summary.closures) == ([], {})


def test_render_has_a_row_per_location_named_by_its_display_name():
    text, rows = rendered(two_locations())
    assert "5 of 6 dates loaded (2 open, 3 closed), 1 failed, in 2.5 s" in text
    assert ["Bistro on Main (185129)", "3", "3", "2", "1", "0", "1,244"] in rows
    assert [CAFE, "3", "2", "0", "2", "1", "66"] in rows


def test_render_lists_failures_by_location_and_date():
    _, rows = rendered(two_locations())
    assert [CAFE, "2024-04-03", ERROR] in rows
    _, rows = rendered(
        LoadSummary(
            requested=[(BISTRO, day(1))],
            business_days={BISTRO: business_days()},
            names={BISTRO: "Bistro on Main (185129)"},
            failures={(BISTRO, day(1)): ERROR},
        )
    )
    assert ["Bistro on Main (185129)", "2024-04-01", ERROR] in rows


def test_render_totals_rows_per_table_over_the_locations():
    _, rows = rendered(two_locations())
    assert [["order_details", "1,300"], ["check_details", "10"]] == [
        row for row in rows if row[0] in ("order_details", "check_details")
    ]


@pytest.mark.parametrize(
    ("summary", "expected"),
    [
        (one_location, [["no_files", "1", "2024-04-02"], ["low_activity", "1", "2024-04-03"]]),
        (
            two_locations,
            [
                ["no_files", "2", "185129 2024-04-01, 185342 2024-04-02"],
                ["low_activity", "1", "185342 2024-04-01"],
            ],
        ),
    ],
)
def test_closure_dates_are_labelled_with_the_location_only_in_a_group(summary, expected):
    _, rows = rendered(summary())
    assert [row for row in rows if row[0] in ("no_files", "low_activity")] == expected


def test_render_of_one_location_names_totals_failures_and_rows():
    text, rows = rendered(one_location())
    assert "3 of 4 dates loaded (1 open, 2 closed), 1 failed, in 2.5 s" in text
    assert [BISTRO, "4", "3", "1", "2", "1", "1,234"] in rows
    assert [BISTRO, "2024-04-04", ERROR] in rows
    assert ["order_details", "1,234"] in rows


def test_without_failures_there_is_no_failure_table():
    summary = LoadSummary(
        requested=[(BISTRO, day(1))], business_days={BISTRO: business_days((1, "open", None))}
    )
    text, _ = rendered(summary)
    assert "1 of 1 dates loaded (1 open, 0 closed), 0 failed" in text
    assert "Failed dates" not in text
