"""What the closure verdicts and the daily sales amount to, for people: tables, a calendar, a report.

Pure functions over frames the warehouse returns (`Warehouse.business_days`, `daily_totals`), so the
same analysis runs on any warehouse; the Dagster assets and the `toast-pipeline closures` command
are thin callers.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

import polars as pl
from rich.console import Console

from toast_pipeline.toast.baselines import WEEKDAYS
from toast_pipeline.toast.specs import CENT

if TYPE_CHECKING:
    from matplotlib.patches import Rectangle

TREND_WINDOW = 7  # open days in the moving averages
STATUS_COLOURS = {"closed": "#d62728", "delivery_gap": "#ff7f0e", "not loaded": "#eeeeee"}


@dataclass(frozen=True)
class ClosureSummary:
    """Closures by reason, month and weekday, and the holidays among them."""

    loaded: int
    closed: int
    gaps: list[date]
    by_reason: pl.DataFrame  # reason, closures, share
    by_month: pl.DataFrame  # month, closures, dates
    by_weekday: pl.DataFrame  # weekday, closures, dates, share
    holidays: pl.DataFrame  # business_date, holiday, status

    def table(self, location_id: str) -> pl.DataFrame:
        """One long table (section, label, closures, share) to store in the warehouse."""
        parts = [
            self.by_reason.select(
                pl.lit("reason").alias("section"),
                pl.col("reason").alias("label"),
                "closures",
                "share",
            ),
            self.by_month.select(
                pl.lit("month").alias("section"),
                pl.col("month").alias("label"),
                "closures",
                (pl.col("closures") / pl.col("dates")).alias("share"),
            ),
            self.by_weekday.select(
                pl.lit("weekday").alias("section"),
                pl.col("weekday").alias("label"),
                "closures",
                "share",
            ),
            self.holidays.filter(pl.col("status") == "closed").select(
                pl.lit("holiday").alias("section"),
                pl.format("{} {}", pl.col("business_date"), pl.col("holiday")).alias("label"),
                pl.lit(1, pl.Int64).alias("closures"),
                pl.lit(None, pl.Float64).alias("share"),
            ),
        ]
        schema = {
            "section": pl.String,
            "label": pl.String,
            "closures": pl.Int64,
            "share": pl.Float64,
        }
        return pl.concat([p.cast(schema) for p in parts]).with_columns(
            pl.lit(location_id).alias("location_id")
        )

    def markdown(self) -> str:
        lines = [
            f"**{self.closed} closed** of {self.loaded} dates loaded"
            + (
                f"; **{len(self.gaps)} probable delivery gaps**: {', '.join(map(str, self.gaps))}"
                if self.gaps
                else ""
            ),
            "",
            "| reason | closures | share |",
            "|---|---:|---:|",
            *(f"| {r} | {n} | {s:.1%} |" for r, n, s in self.by_reason.iter_rows()),
            "",
            "| weekday | closures | of dates |",
            "|---|---:|---:|",
            *(f"| {w} | {n} | {n}/{d} |" for w, n, d, _ in self.by_weekday.iter_rows()),
            "",
            "| month | closures | of dates |",
            "|---|---:|---:|",
            *(f"| {m} | {n} | {n}/{d} |" for m, n, d in self.by_month.iter_rows()),
        ]
        closed_holidays = self.holidays.filter(pl.col("status") == "closed")
        if closed_holidays.height:
            lines += ["", "| holiday closure | date |", "|---|---|"]
            lines += [f"| {name} | {day} |" for day, name, _ in closed_holidays.iter_rows()]
        return "\n".join(lines)


def closure_summary(business_days: pl.DataFrame, calendar: Mapping[date, str]) -> ClosureSummary:
    days = business_days.select("business_date", "status", "closure_reason").with_columns(
        closed=pl.col("status") == "closed"
    )
    closed = days.filter("closed")
    by_reason = (
        closed.group_by(pl.col("closure_reason").alias("reason"))
        .agg(pl.len().cast(pl.Int64).alias("closures"))
        .with_columns(share=pl.col("closures") / max(closed.height, 1))
        .sort(["closures", "reason"], descending=[True, False])
    )
    by_month = (
        days.group_by(pl.col("business_date").dt.strftime("%Y-%m").alias("month"))
        .agg(
            pl.col("closed").sum().cast(pl.Int64).alias("closures"),
            pl.len().cast(pl.Int64).alias("dates"),
        )
        .sort("month")
    )
    weekday_numbers = days.with_columns(number=pl.col("business_date").dt.weekday() - 1)
    by_weekday = (
        weekday_numbers.group_by("number")
        .agg(
            pl.col("closed").sum().cast(pl.Int64).alias("closures"),
            pl.len().cast(pl.Int64).alias("dates"),
        )
        .sort("number")
        .select(
            pl.col("number")
            .replace_strict(dict(enumerate(WEEKDAYS)), return_dtype=pl.String)
            .alias("weekday"),
            "closures",
            "dates",
            (pl.col("closures") / pl.col("dates")).alias("share"),
        )
    )
    holiday_rows = [
        (d, calendar[d], status)
        for d, status in days.select("business_date", "status").iter_rows()
        if d in calendar
    ]
    holidays = pl.DataFrame(
        holiday_rows,
        schema={"business_date": pl.Date, "holiday": pl.String, "status": pl.String},
        orient="row",
    )
    gaps = days.filter(pl.col("status") == "delivery_gap").get_column("business_date").to_list()
    return ClosureSummary(
        days.height, closed.height, gaps, by_reason, by_month, by_weekday, holidays
    )


def group_closures(summaries: Mapping[str, ClosureSummary]) -> pl.DataFrame:
    """One row per location (by display name): dates loaded, closed, delivery gaps, the most
    frequent reason; then the group's total."""
    rows = [
        (
            name,
            s.loaded,
            s.closed,
            len(s.gaps),
            s.by_reason.get_column("reason")[0] if s.by_reason.height else None,
        )
        for name, s in summaries.items()
    ]
    rows.append(
        (
            "group",
            sum(r[1] for r in rows),
            sum(r[2] for r in rows),
            sum(r[3] for r in rows),
            None,
        )
    )
    return pl.DataFrame(
        rows,
        schema={
            "location": pl.String,
            "dates_loaded": pl.Int64,
            "closed": pl.Int64,
            "delivery_gaps": pl.Int64,
            "main_reason": pl.String,
        },
        orient="row",
    )


def group_closures_markdown(group: pl.DataFrame) -> str:
    lines = [
        "| location | dates loaded | closed | delivery gaps | main closure reason |",
        "|---|---:|---:|---:|---|",
    ]
    lines += [f"| {n} | {d} | {c} | {g} | {r or ''} |" for n, d, c, g, r in group.iter_rows()]
    return "\n".join(lines)


def print_group_closures(group: pl.DataFrame, console: Console) -> None:
    console.print("\n🏢 [bold]THE GROUP[/bold]")
    for name, loaded, closed, gaps, reason in group.iter_rows():
        gap_note = f", {gaps} probable delivery gaps" if gaps else ""
        reason_note = f" (mostly {reason})" if reason else ""
        console.print(f"• {name}: {closed} of {loaded} dates closed{reason_note}{gap_note}")


def group_daily_totals(totals: Mapping[str, pl.DataFrame]) -> pl.DataFrame:
    """The group's per-date totals over its open locations (`Warehouse.daily_totals` of each),
    with how many locations were open; money summed exactly."""
    frames = [frame for frame in totals.values() if frame.height]
    columns = ["orders", "covers", "net_sales", "tips", "checks"]
    if not frames:
        # The types a sum gives: counts Int64, money Decimal (polars sums decimals at precision 38).
        empty = {"business_date": pl.Date, "open_locations": pl.Int64}
        money = {"net_sales", "tips"}
        return pl.DataFrame(
            schema={**empty, **{c: pl.Decimal(38, 2) if c in money else pl.Int64 for c in columns}}
        )
    return (
        pl.concat([f.select("business_date", *columns) for f in frames], how="vertical_relaxed")
        .group_by("business_date")
        .agg(pl.len().cast(pl.Int64).alias("open_locations"), *[pl.col(c).sum() for c in columns])
        .sort("business_date")
    )


def print_closure_report(summary: ClosureSummary, console: Console, location: str) -> None:
    """The seed's "Business closure analysis" report, from the warehouse's verdicts."""
    console.print(f"\n🏢 [bold]BUSINESS CLOSURE ANALYSIS[/bold] — location {location}")
    console.print("=" * 38)
    console.print(
        f"📊 Total closure dates detected: {summary.closed} of {summary.loaded} dates loaded"
    )
    if summary.gaps:
        console.print(
            f"⚠️  Probable delivery gaps (not closures): {', '.join(map(str, summary.gaps))}"
        )
    console.print("\nClosure Reasons:")
    for reason, count, share in summary.by_reason.iter_rows():
        console.print(f"• {reason}: {count} dates ({share:.1%})")
    console.print("\nSeasonal Patterns:")
    for month, count, _ in summary.by_month.filter(pl.col("closures") > 0).iter_rows():
        label = date.fromisoformat(f"{month}-01").strftime("%B %Y")
        console.print(f"• {label}: {count} closure dates")
    closed_holidays = summary.holidays.filter(pl.col("status") == "closed")
    console.print(f"• Holiday periods: {closed_holidays.height} closure dates")
    for day, name, _ in closed_holidays.iter_rows():
        console.print(f"    {day} {name}")
    weekend = summary.by_weekday.filter(pl.col("weekday").is_in(["Saturday", "Sunday"]))
    console.print(f"• Weekends: {int(weekend.get_column('closures').sum())} closure dates")
    console.print("\nBy weekday:")
    for weekday, count, dates, _ in summary.by_weekday.iter_rows():
        console.print(f"• {weekday}: {count} of {dates} dates closed")


def daily_trends(totals: pl.DataFrame) -> pl.DataFrame:
    """Per open date: orders, covers, net sales, average check, tip %, and 7-open-day averages.

    `totals` is `Warehouse.daily_totals` (closure dates already left out). Money stays Decimal;
    averages are rounded to the cent.
    """
    rows = sorted(totals.iter_rows(named=True), key=lambda r: r["business_date"])
    out = []
    for i, row in enumerate(rows):
        window = rows[max(0, i - TREND_WINDOW + 1) : i + 1]
        net = row["net_sales"] or Decimal("0")
        out.append(
            {
                "business_date": row["business_date"],
                "orders": row["orders"],
                "covers": row["covers"],
                "checks": row["checks"],
                "net_sales": net,
                "tips": row["tips"],
                "average_check": _cents(net / row["checks"]) if row["checks"] else None,
                "tip_pct": round(float(row["tips"] / net * 100), 2) if net else None,
                "orders_7d_avg": round(sum(r["orders"] for r in window) / len(window), 2),
                "covers_7d_avg": round(sum(r["covers"] for r in window) / len(window), 2),
                "net_sales_7d_avg": _cents(
                    sum((r["net_sales"] for r in window), Decimal("0")) / len(window)
                ),
            }
        )
    money = pl.Decimal(18, 2)
    return pl.DataFrame(
        out,
        schema={
            "business_date": pl.Date,
            "orders": pl.Int64,
            "covers": pl.Int64,
            "checks": pl.Int64,
            "net_sales": money,
            "tips": money,
            "average_check": money,
            "tip_pct": pl.Float64,
            "orders_7d_avg": pl.Float64,
            "covers_7d_avg": pl.Float64,
            "net_sales_7d_avg": money,
        },
    )


def _cents(value: Decimal) -> Decimal:
    return Decimal(value).quantize(CENT, ROUND_HALF_UP)


def calendar_heatmap_png(
    business_days: pl.DataFrame, calendar: Mapping[date, str], title: str
) -> bytes:
    """A year-per-row calendar: open days shaded by net sales, closures and gaps marked, holidays
    dotted. Drawn on matplotlib's Agg canvas, so no display is needed; matplotlib is imported
    here, not with the module, because loading the code location should not pay for it."""
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    days = {r["business_date"]: r for r in business_days.iter_rows(named=True)}
    years = sorted({d.year for d in days}) or [date.today().year]
    top = (
        max(
            (float(r["net_sales"] or 0) for r in days.values() if r["status"] == "open"),
            default=1.0,
        )
        or 1.0
    )
    figure = Figure(figsize=(13, 2.1 * len(years) + 0.6), dpi=80)
    axes = figure.subplots(len(years), 1, squeeze=False)[:, 0]
    for ax, year in zip(axes, years):
        _draw_year(ax, year, days, calendar, top)
    figure.suptitle(title, fontsize=12)
    figure.legend(
        handles=[
            Patch(color="#2ca02c", label="open (darker: more net sales)"),
            Patch(color=STATUS_COLOURS["closed"], label="closed"),
            Patch(color=STATUS_COLOURS["delivery_gap"], label="delivery gap"),
            Patch(color=STATUS_COLOURS["not loaded"], label="not loaded"),
            Patch(facecolor="white", edgecolor="black", label="• public holiday"),
        ],
        loc="lower center",
        ncol=5,
        frameon=False,
        fontsize=9,
    )
    figure.subplots_adjust(
        left=0.05, right=0.99, top=0.86, bottom=0.12 + 0.02 / len(years), hspace=0.5
    )
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _draw_year(
    ax, year: int, days: Mapping[date, dict], calendar: Mapping[date, str], top: float
) -> None:
    first = date(year, 1, 1)
    offset = first.weekday()
    d = first
    while d.year == year:
        column, row = (offset + (d - first).days) // 7, d.weekday()
        info = days.get(d)
        if info is None:
            colour = STATUS_COLOURS["not loaded"]
        elif info["status"] == "open":
            share = min(float(info["net_sales"] or 0) / top, 1.0)
            colour = (0.85 - 0.7 * share, 0.95 - 0.4 * share, 0.85 - 0.7 * share)
        else:
            colour = STATUS_COLOURS.get(info["status"], STATUS_COLOURS["closed"])
        ax.add_patch(_square(column, row, colour))
        if d in calendar:
            ax.plot(column + 0.5, row + 0.5, marker="o", markersize=3, color="black")
        d += timedelta(days=1)
    ax.set_xlim(0, 54)
    ax.set_ylim(7, 0)
    ax.set_yticks([i + 0.5 for i in range(7)], [w[:3] for w in WEEKDAYS], fontsize=7)
    months = [date(year, m, 1) for m in range(1, 13)]
    ax.set_xticks(
        [(offset + (m - first).days) // 7 + 0.5 for m in months],
        [m.strftime("%b") for m in months],
        fontsize=7,
    )
    ax.set_title(str(year), fontsize=9, loc="left")
    ax.set_aspect("equal")
    for side in ("top", "right", "bottom", "left"):
        ax.spines[side].set_visible(False)
    ax.tick_params(length=0)


def _square(column: int, row: int, colour) -> Rectangle:
    from matplotlib.patches import Rectangle

    return Rectangle((column + 0.05, row + 0.05), 0.9, 0.9, color=colour)


def png_markdown(png: bytes, alt: str) -> str:
    """An image embedded in Markdown metadata, so the UI shows it with no file server."""
    return f"![{alt}](data:image/png;base64,{base64.b64encode(png).decode('ascii')})"


def trend_markdown(trends: pl.DataFrame, last: int = 14) -> str:
    lines = [
        "| date | orders | covers | net sales | average check | tip % | orders 7-day avg | net sales 7-day avg |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in trends.tail(last).iter_rows(named=True):
        lines.append(
            f"| {r['business_date']} | {r['orders']} | {r['covers']} | {r['net_sales']} | {r['average_check']} "
            f"| {r['tip_pct']} | {r['orders_7d_avg']} | {r['net_sales_7d_avg']} |"
        )
    return "\n".join(lines)
