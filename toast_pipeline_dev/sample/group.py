"""`generate_group`: a restaurant group's export, one numbered folder per location under one root.

A group login sees every store's folder side by side, and the stores differ: in size, menu,
closing days, time zone and the files their accounts are configured to receive. Each location
is written by `generate_export` with its own options, so a store's files are exactly what a
single-location export with the same options would hold.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from toast_pipeline_dev.sample.export import LEAN_ACCOUNT_FILES, generate_export
from toast_pipeline_dev.sample.manifest import SampleExport


@dataclass(frozen=True)
class GroupLocation:
    """One store of the group and the options its export is generated with.

    `account_files` is None for an account receiving all seven Toast files; `menu` names a menu
    `generate_export` knows (`"full"` or `"cafe"`).
    """

    location_id: str
    name: str
    code: str
    timezone: str
    orders_per_day: int = 80
    closed_weekdays: tuple[int, ...] = ()
    menu: str = "full"
    account_files: tuple[str, ...] | None = None
    holiday_country: str | None = "US"
    random_closure_rate: float = 0.03
    quirks: bool = True

    def to_json(self) -> dict:
        return {
            "location_id": self.location_id,
            "name": self.name,
            "code": self.code,
            "timezone": self.timezone,
            "orders_per_day": self.orders_per_day,
            "closed_weekdays": list(self.closed_weekdays),
            "menu": self.menu,
            "account_files": None if self.account_files is None else list(self.account_files),
            "holiday_country": self.holiday_country,
            "random_closure_rate": self.random_closure_rate,
            "quirks": self.quirks,
        }

    @classmethod
    def from_json(cls, data: Mapping) -> GroupLocation:
        files = data["account_files"]
        return cls(
            location_id=data["location_id"],
            name=data["name"],
            code=data["code"],
            timezone=data["timezone"],
            orders_per_day=data["orders_per_day"],
            closed_weekdays=tuple(data["closed_weekdays"]),
            menu=data["menu"],
            account_files=None if files is None else tuple(files),
            holiday_country=data["holiday_country"],
            random_closure_rate=data["random_closure_rate"],
            quirks=data["quirks"],
        )


@dataclass(frozen=True)
class SampleGroup:
    """A generated group export: each location's options beside the truth of its export."""

    root: Path
    locations: tuple[GroupLocation, ...]
    exports: tuple[SampleExport, ...]

    def export(self, location_id: str) -> SampleExport:
        for export in self.exports:
            if export.location_id == location_id:
                return export
        raise KeyError(location_id)

    def location(self, location_id: str) -> GroupLocation:
        for location in self.locations:
            if location.location_id == location_id:
                return location
        raise KeyError(location_id)

    def write_manifest(self, path: Path) -> None:
        """JSON truth; `root` is stored relative to the manifest so the pair can be moved."""
        path = Path(path)
        data = {
            "root": Path(os.path.relpath(self.root.resolve(), path.parent.resolve())).as_posix(),
            "locations": [
                {"location": location.to_json(), "export": export.to_json(path.parent)}
                for location, export in zip(self.locations, self.exports)
            ],
        }
        path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")

    @classmethod
    def read_manifest(cls, path: Path) -> SampleGroup:
        path = Path(path)
        data = json.loads(path.read_text(encoding="utf-8"))
        entries = data["locations"]
        return cls(
            root=(path.parent / data["root"]).resolve(),
            locations=tuple(GroupLocation.from_json(e["location"]) for e in entries),
            exports=tuple(SampleExport.from_json(e["export"], path.parent) for e in entries),
        )


def generate_group(
    root: Path,
    locations: Sequence[GroupLocation],
    *,
    start: date,
    days: int,
    seed: int = 0,
    damaged: Mapping[str, Mapping[date, str]] | None = None,
) -> SampleGroup:
    """Write every location's export under `root/<location_id>/` for the same dates.

    The seed is shared: a date's random streams already depend on the location, so stores never
    repeat each other's sales. The same arguments give the same bytes. `damaged` gives a location
    damaged dates (a damage kind per date, as `generate_export`'s `damaged_dates`).
    """
    ids = [location.location_id for location in locations]
    if not ids:
        raise ValueError("a group needs at least one location")
    if len(set(ids)) != len(ids):
        raise ValueError(f"location IDs must be distinct, got {ids}")
    exports = tuple(
        generate_export(
            root,
            location_id=location.location_id,
            start=start,
            days=days,
            seed=seed,
            orders_per_day=location.orders_per_day,
            timezone=location.timezone,
            closed_weekdays=location.closed_weekdays,
            holiday_country=location.holiday_country,
            random_closure_rate=location.random_closure_rate,
            quirks=location.quirks,
            account_files=location.account_files,
            location_name=location.name,
            location_code=location.code,
            menu=location.menu,
            damaged_dates=(damaged or {}).get(location.location_id),
        )
        for location in locations
    )
    return SampleGroup(root=Path(root), locations=tuple(locations), exports=exports)


# Two stores of one owner: a busy bistro on the full menu with every file, closed Mondays, and a
# smaller café an hour west on the café menu, on a lean account, closed Sundays and Mondays.
DEMO_GROUP = (
    GroupLocation(
        location_id="185129",
        name="Smoke & Barrel Bistro",
        code="300",
        timezone="America/Chicago",
        orders_per_day=90,
        closed_weekdays=(0,),
    ),
    GroupLocation(
        location_id="185342",
        name="Barrel Café",
        code="301",
        timezone="America/Denver",
        orders_per_day=30,
        closed_weekdays=(6, 0),
        menu="cafe",
        account_files=LEAN_ACCOUNT_FILES,
    ),
)
