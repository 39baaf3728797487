"""`closure_summary` and `daily_trends`: analysis over the warehouse, refreshed when the tables change.

Both read through the `Warehouse` interface (so they run on any implementation), store their result
as an analysis table, and put what people look at in the materialization's metadata: Markdown
tables and, for the closures, a calendar picture. Declarative automation re-materializes them
whenever a date of an upstream table is (re)written, verdict rewrites included.
"""

from __future__ import annotations

import dagster as dg
import polars as pl

from toast_pipeline.defs.assets import BUSINESS_DAYS_KEY, asset_key, writer_pool
from toast_pipeline.resources.warehouse import Warehouse
from toast_pipeline.settings import GroupSettings, LocationSettings
from toast_pipeline.toast import analysis
from toast_pipeline.toast.baselines import public_holidays

ANALYSIS_GROUP = "toast_analysis"
CLOSURE_SUMMARY_KEY = dg.AssetKey("closure_summary")
DAILY_TRENDS_KEY = dg.AssetKey("daily_trends")
AUTOMATION_SENSOR = "toast_analysis_automation"
# Calendars are pictures embedded in the metadata: past this many locations, only the tables.
MAX_CALENDARS = 12
# The location_id of the group's own rows in `group_daily_trends`.
GROUP_ROWS = "group"


def refresh_condition() -> dg.AutomationCondition:
    """Run once any upstream date was written since the last request, after loads in flight end.

    Not `eager()`: it also waits for every upstream partition to exist, which a daily table with
    unloaded or failed dates never satisfies.
    """
    return (
        (
            dg.AutomationCondition.any_deps_updated() | dg.AutomationCondition.missing()
        ).since_last_handled()
        & ~dg.AutomationCondition.any_deps_in_progress()
        & ~dg.AutomationCondition.in_progress()
    ).with_label("refresh when the Toast tables change")


def build_analysis_assets(settings: GroupSettings) -> list[dg.AssetsDefinition]:
    kinds = {"polars", settings.warehouse}

    def locations(warehouse: Warehouse) -> list[LocationSettings]:
        return [settings.location(i) for i in warehouse.locations() if settings.accepts(i)]

    def left_out(warehouse: Warehouse) -> list[str]:
        """Loaded locations the group no longer lists: their analysis rows are removed, so the
        tables describe the same locations as the group totals."""
        return [i for i in warehouse.locations() if not settings.accepts(i)]

    @dg.asset(
        key=CLOSURE_SUMMARY_KEY,
        deps=[BUSINESS_DAYS_KEY],
        group_name=ANALYSIS_GROUP,
        kinds=kinds,
        automation_condition=refresh_condition(),
        pool=writer_pool(settings),
        description="Per location: closures by reason (with share), month and weekday, holiday "
        "closures named, and a calendar of the year with closures and delivery gaps marked; and "
        "the group's closures location by location.",
    )
    def closure_summary(warehouse: Warehouse) -> dg.MaterializeResult:
        summaries: dict[str, analysis.ClosureSummary] = {}
        sections, calendars, rows = [], [], 0
        group = locations(warehouse)
        for location in group:
            days = warehouse.business_days(location.location_id)
            calendar = public_holidays(location.holiday_country, location.holiday_subdivision)
            summary = analysis.closure_summary(days, calendar)
            table = summary.table(location.location_id)
            warehouse.replace_analysis("closure_summary", location.location_id, table)
            rows += table.height
            summaries[location.display_name] = summary
            sections.append(f"### {location.display_name}\n\n{summary.markdown()}")
            if len(group) <= MAX_CALENDARS:
                png = analysis.calendar_heatmap_png(
                    days, calendar, f"Business days of {location.display_name}"
                )
                calendars.append(analysis.png_markdown(png, f"{location.display_name} calendar"))
        for location_id in left_out(warehouse):
            empty = analysis.closure_summary(warehouse.business_days(location_id), {})
            warehouse.replace_analysis(
                "closure_summary", location_id, empty.table(location_id).clear()
            )
        return dg.MaterializeResult(
            metadata={
                "group": dg.MetadataValue.md(
                    analysis.group_closures_markdown(analysis.group_closures(summaries))
                ),
                "summary": dg.MetadataValue.md("\n\n".join(sections) or "nothing loaded yet"),
                "calendar": dg.MetadataValue.md(
                    "\n\n".join(calendars)
                    or f"a calendar per location is drawn for up to {MAX_CALENDARS} locations"
                ),
                "locations": len(group),
                "closed_dates": sum(s.closed for s in summaries.values()),
                "delivery_gaps": dg.MetadataValue.json(
                    {n: [d.isoformat() for d in s.gaps] for n, s in summaries.items() if s.gaps}
                ),
                "dates_loaded": sum(s.loaded for s in summaries.values()),
                "dagster/row_count": rows,
            }
        )

    @dg.asset(
        key=DAILY_TRENDS_KEY,
        deps=[asset_key("order_details"), asset_key("check_details"), BUSINESS_DAYS_KEY],
        group_name=ANALYSIS_GROUP,
        kinds=kinds,
        automation_condition=refresh_condition(),
        pool=writer_pool(settings),
        description="Per location and open date: orders, covers, net sales, average check (net "
        "sales per check), tip % of net sales, and averages over the last seven open days; the "
        "same for the whole group in `group_daily_trends`. Closure dates are left out.",
    )
    def daily_trends(warehouse: Warehouse) -> dg.MaterializeResult:
        totals, sections, rows = {}, [], 0
        for location in locations(warehouse):
            location_id = location.location_id
            totals[location_id] = warehouse.daily_totals(location_id)
            trends = analysis.daily_trends(totals[location_id])
            warehouse.replace_analysis(
                "daily_trends", location_id, trends.with_columns(location_id=pl.lit(location_id))
            )
            rows += trends.height
            sections.append(f"### {location.display_name}\n\n{analysis.trend_markdown(trends)}")
        for location_id in left_out(warehouse):
            empty = analysis.daily_trends(pl.DataFrame()).with_columns(
                location_id=pl.lit(location_id)
            )
            warehouse.replace_analysis("daily_trends", location_id, empty)
        group_totals = analysis.group_daily_totals(totals)
        group = analysis.daily_trends(group_totals).with_columns(
            open_locations=group_totals.get_column("open_locations"),
            location_id=pl.lit(GROUP_ROWS),
        )
        warehouse.replace_analysis("group_daily_trends", GROUP_ROWS, group)
        return dg.MaterializeResult(
            metadata={
                "group_last_two_weeks": dg.MetadataValue.md(analysis.trend_markdown(group)),
                "last_two_weeks": dg.MetadataValue.md(
                    "\n\n".join(sections) or "nothing loaded yet"
                ),
                "open_dates": rows,
                "locations": len(totals),
                "dagster/row_count": rows,
            }
        )

    return [closure_summary, daily_trends]


def analysis_automation_sensor() -> dg.AutomationConditionSensorDefinition:
    """Evaluates the analysis assets' conditions; running by default so a new deployment refreshes."""
    return dg.AutomationConditionSensorDefinition(
        AUTOMATION_SENSOR,
        target=dg.AssetSelection.groups(ANALYSIS_GROUP),
        default_status=dg.DefaultSensorStatus.RUNNING,
    )
