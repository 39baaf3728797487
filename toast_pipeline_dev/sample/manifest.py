"""The truth of a sample export: what each business date's folder holds, as generated.

`SampleExport` is what `generate_export` returns and what the manifest JSON stores, so tests,
the demo and the benchmark can check a load against exactly what the files contain.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path


@dataclass(frozen=True)
class SampleDay:
    """What one business date's folder holds, as generated.

    `orders` and `net_sales` describe what the day meant (non-voided orders, exact sum of their
    OrderDetails `Amount`), even on a damaged date whose file can no longer be read. `rows`
    counts data rows per delivered table (for AllItemsReport every report row: total, menus,
    groups and items, sold or not); a table whose file was not delivered is absent.
    """

    business_date: date
    status: str  # "open" or "closed"
    closure_kind: str | None
    delivery: str
    damage: str | None = None
    damage_file: str | None = None
    damage_line: int | None = None  # physical line of the defect, header = 1
    damage_column: str | None = None
    quirks: list[str] = field(default_factory=list)  # "kind:File.csv" or "kind:File.csv:Header"
    rows: dict[str, int] = field(default_factory=dict)
    orders: int = 0
    net_sales: Decimal = Decimal("0.00")
    files: list[str] = field(default_factory=list)

    @property
    def folder_name(self) -> str:
        return self.business_date.strftime("%Y%m%d")

    def to_json(self) -> dict:
        return {
            "business_date": self.business_date.isoformat(),
            "status": self.status,
            "closure_kind": self.closure_kind,
            "delivery": self.delivery,
            "damage": self.damage,
            "damage_file": self.damage_file,
            "damage_line": self.damage_line,
            "damage_column": self.damage_column,
            "quirks": list(self.quirks),
            "rows": dict(self.rows),
            "orders": self.orders,
            "net_sales": str(self.net_sales),
            "files": list(self.files),
        }

    @classmethod
    def from_json(cls, data: Mapping) -> SampleDay:
        return cls(
            business_date=date.fromisoformat(data["business_date"]),
            status=data["status"],
            closure_kind=data["closure_kind"],
            delivery=data["delivery"],
            damage=data["damage"],
            damage_file=data["damage_file"],
            damage_line=data["damage_line"],
            damage_column=data["damage_column"],
            quirks=list(data["quirks"]),
            rows=dict(data["rows"]),
            orders=data["orders"],
            net_sales=Decimal(data["net_sales"]),
            files=list(data["files"]),
        )


@dataclass(frozen=True)
class SampleExport:
    """A generated export and its truth; `root` is the folder that holds the location folder."""

    location_id: str
    root: Path
    days: list[SampleDay]
    timezone: str = "America/Chicago"

    @property
    def location_dir(self) -> Path:
        return self.root / self.location_id

    def day(self, business_date: date) -> SampleDay:
        for day in self.days:
            if day.business_date == business_date:
                return day
        raise KeyError(business_date)

    def write_manifest(self, path: Path) -> None:
        """JSON truth; `root` is stored relative to the manifest so the pair can be moved."""
        path = Path(path)
        data = self.to_json(path.parent)
        path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")

    @classmethod
    def read_manifest(cls, path: Path) -> SampleExport:
        path = Path(path)
        return cls.from_json(json.loads(path.read_text(encoding="utf-8")), path.parent)

    def to_json(self, base: Path) -> dict:
        """The truth as JSON, `root` relative to `base` (the folder the manifest is written to)."""
        root = Path(os.path.relpath(self.root.resolve(), Path(base).resolve()))
        return {
            "location_id": self.location_id,
            "root": root.as_posix(),
            "timezone": self.timezone,
            "days": [d.to_json() for d in self.days],
        }

    @classmethod
    def from_json(cls, data: Mapping, base: Path) -> SampleExport:
        return cls(
            location_id=data["location_id"],
            root=(Path(base) / data["root"]).resolve(),
            days=[SampleDay.from_json(d) for d in data["days"]],
            timezone=data["timezone"],
        )
