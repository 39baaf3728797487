import io
from datetime import date

import polars as pl
from rich.console import Console

from toast_pipeline.commands.summary import LoadSummary


def summary() -> LoadSummary:
    days = pl.DataFrame(
        {
            "business_date": [
                date(2024, 4, 1),
                date(2024, 4, 2),
                date(2024, 4, 3),
                date(2024, 4, 4),
            ],
            "status": ["open", "closed", "closed", "closed"],
            "closure_reason": [None, "no_files", "low_activity", "no_files"],
        }
    )
    return LoadSummary(
        requested=["2024-04-01", "2024-04-02", "2024-04-03", "2024-04-04", "2024-04-05"],
        business_days=days,
        failures={"2024-04-05": "OrderDetails.csv, line 3: NUL byte at character 2"},
        row_counts={"order_details": 1234},
        seconds=2.5,
    )


def test_closures_are_grouped_by_reason():
    assert summary().closures == {
        "no_files": ["2024-04-02", "2024-04-04"],
        "low_activity": ["2024-04-03"],
    }
    assert summary().loaded == ["2024-04-01", "2024-04-02", "2024-04-03", "2024-04-04"]


def test_render_names_totals_failures_and_rows():
    output = io.StringIO()
    summary().render(Console(file=output, width=200))
    text = output.getvalue()
    assert "4 of 5 dates loaded (1 open, 3 closed), 1 failed, in 2.5 s" in text
    assert "OrderDetails.csv, line 3: NUL byte" in text
    assert "1,234" in text
