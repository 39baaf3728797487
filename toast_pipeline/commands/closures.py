"""`toast-pipeline closures`: the closure report in the terminal."""

from __future__ import annotations

from collections.abc import Mapping

import dagster as dg
from rich.console import Console

from toast_pipeline.defs.factories import warehouse_from_env
from toast_pipeline.settings import LocationSettings
from toast_pipeline.toast import analysis
from toast_pipeline.toast.baselines import public_holidays


def print_closures(env: Mapping[str, str], location_id: str | None, console: Console) -> int:
    """`toast-pipeline closures`: the report over the warehouse the code location writes to."""
    settings = LocationSettings.from_env(env)
    location = location_id or settings.location_id
    if not location:
        console.print("[red]Which location? Give --location or set TOAST_LOCATION_ID.[/red]")
        return 2
    warehouse = warehouse_from_env(settings, env, bind_by_name=False)
    with dg.build_resources({"warehouse": warehouse}) as resources:
        days = resources.warehouse.business_days(location)
    if days.is_empty():
        console.print(f"No dates of location {location} are loaded yet.")
        return 1
    calendar = public_holidays(settings.holiday_country, settings.holiday_subdivision)
    analysis.print_closure_report(analysis.closure_summary(days, calendar), console, location)
    return 0
