"""`closure_summary` and `daily_trends`: analysis over the warehouse, refreshed when the tables change.

Both read through the `Warehouse` interface (so they run on any implementation), store their result
as an analysis table, and put what people look at in the materialization's metadata: Markdown
tables and, for the closures, a calendar picture. Declarative automation re-materializes them
whenever a date of an upstream table is (re)written, verdict rewrites included.
"""

from __future__ import annotations

import dagster as dg
import polars as pl

from toast_pipeline.defs.assets import BUSINESS_DAYS_KEY, asset_key
from toast_pipeline.resources.warehouse import Warehouse
from toast_pipeline.settings import LocationSettings
from toast_pipeline.toast import analysis
from toast_pipeline.toast.baselines import public_holidays

ANALYSIS_GROUP = "toast_analysis"
CLOSURE_SUMMARY_KEY = dg.AssetKey("closure_summary")
DAILY_TRENDS_KEY = dg.AssetKey("daily_trends")
AUTOMATION_SENSOR = "toast_analysis_automation"


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


def build_analysis_assets(settings: LocationSettings) -> list[dg.AssetsDefinition]:
    kinds = {"polars", settings.warehouse}

    @dg.asset(
        key=CLOSURE_SUMMARY_KEY,
        deps=[BUSINESS_DAYS_KEY],
        group_name=ANALYSIS_GROUP,
        kinds=kinds,
        automation_condition=refresh_condition(),
        description="Closures by reason (with share), month and weekday, holiday closures named, and "
        "a calendar of the year with closures and delivery gaps marked.",
    )
    def closure_summary(warehouse: Warehouse) -> dg.MaterializeResult:
        days = warehouse.business_days(settings.location_id)
        calendar = public_holidays(settings.holiday_country, settings.holiday_subdivision)
        summary = analysis.closure_summary(days, calendar)
        table = summary.table(settings.location_id)
        warehouse.replace_analysis("closure_summary", settings.location_id, table)
        png = analysis.calendar_heatmap_png(
            days, calendar, f"Business days of location {settings.location_id}"
        )
        return dg.MaterializeResult(
            metadata={
                "summary": dg.MetadataValue.md(summary.markdown()),
                "calendar": dg.MetadataValue.md(analysis.png_markdown(png, "closure calendar")),
                "closed_dates": summary.closed,
                "delivery_gaps": dg.MetadataValue.json([d.isoformat() for d in summary.gaps]),
                "dates_loaded": summary.loaded,
                "dagster/row_count": table.height,
            }
        )

    @dg.asset(
        key=DAILY_TRENDS_KEY,
        deps=[asset_key("order_details"), asset_key("check_details"), BUSINESS_DAYS_KEY],
        group_name=ANALYSIS_GROUP,
        kinds=kinds,
        automation_condition=refresh_condition(),
        description="Per open date: orders, covers, net sales, average check (net sales per check), "
        "tip % of net sales, and averages over the last seven open days. Closure dates are left out.",
    )
    def daily_trends(warehouse: Warehouse) -> dg.MaterializeResult:
        trends = analysis.daily_trends(warehouse.daily_totals(settings.location_id))
        warehouse.replace_analysis(
            "daily_trends",
            settings.location_id,
            trends.with_columns(location_id=pl.lit(settings.location_id)),
        )
        return dg.MaterializeResult(
            metadata={
                "last_two_weeks": dg.MetadataValue.md(analysis.trend_markdown(trends)),
                "open_dates": trends.height,
                "dagster/row_count": trends.height,
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
