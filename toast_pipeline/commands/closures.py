"""`toast-pipeline closures`: the closure report in the terminal, location by location."""

from __future__ import annotations

from collections.abc import Mapping

import dagster as dg
from rich.console import Console

from toast_pipeline.defs.factories import warehouse_from_env
from toast_pipeline.settings import GroupSettings
from toast_pipeline.toast import analysis
from toast_pipeline.toast.baselines import public_holidays


def print_closures(env: Mapping[str, str], location_id: str | None, console: Console) -> int:
    """The report over the warehouse the code location writes to: one location, or every loaded
    location of the group followed by the group's table."""
    settings = GroupSettings.from_env(env)
    warehouse = warehouse_from_env(settings, env, bind_by_name=False)
    with dg.build_resources({"warehouse": warehouse}) as resources:
        loaded = [i for i in resources.warehouse.locations() if settings.accepts(i)]
        wanted = [location_id] if location_id else loaded
        days_by_location = {i: resources.warehouse.business_days(i) for i in wanted}
    if not any(days.height for days in days_by_location.values()):
        which = f"location {location_id}" if location_id else "any location"
        console.print(f"No dates of {which} are loaded yet.")
        return 1
    summaries = {}
    for location_id, days in days_by_location.items():
        location = settings.location(location_id)
        calendar = public_holidays(location.holiday_country, location.holiday_subdivision)
        summaries[location.display_name] = analysis.closure_summary(days, calendar)
        analysis.print_closure_report(
            summaries[location.display_name], console, location.display_name
        )
    if len(summaries) > 1:
        analysis.print_group_closures(analysis.group_closures(summaries), console)
    return 0
