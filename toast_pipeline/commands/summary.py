"""What a load amounted to, for people: per location, dates loaded, closures by reason, failures,
rows, time; then the group's totals."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

import polars as pl
from rich.console import Console
from rich.table import Table

Key = tuple[str, date]  # a location-date


@dataclass
class LoadSummary:
    requested: list[Key]
    # Per location, the warehouse's business_days rows (only the requested dates are counted).
    business_days: Mapping[str, pl.DataFrame]
    names: Mapping[str, str] = field(default_factory=dict)  # location → display name
    failures: dict[Key, str] = field(default_factory=dict)
    row_counts: Mapping[str, Mapping[str, int]] = field(default_factory=dict)  # location → table
    seconds: float = 0.0

    def _verdicts(self) -> dict[Key, tuple[str, str | None]]:
        wanted = set(self.requested)
        found = {}
        for location_id, days in self.business_days.items():
            for day, status, reason in days.select(
                "business_date", "status", "closure_reason"
            ).iter_rows():
                key = (location_id, day)
                if key in wanted and key not in self.failures:
                    found[key] = (status, reason)
        return found

    @property
    def loaded(self) -> list[Key]:
        verdicts = self._verdicts()
        return [k for k in self.requested if k in verdicts]

    @property
    def closures(self) -> dict[str, list[Key]]:
        by_reason: dict[str, list[Key]] = {}
        for key, (status, reason) in sorted(self._verdicts().items()):
            if status == "closed":
                by_reason.setdefault(reason, []).append(key)
        return by_reason

    @property
    def closure_count(self) -> int:
        return sum(len(keys) for keys in self.closures.values())

    def _name(self, location_id: str) -> str:
        return self.names.get(location_id, location_id)

    def render(self, console: Console) -> None:
        total, loaded = len(self.requested), self.loaded
        console.print(
            f"\n[bold]Toast load summary[/bold]: {len(loaded)} of {total} dates loaded "
            f"({len(loaded) - self.closure_count} open, {self.closure_count} closed), "
            f"{len(self.failures)} failed, in {self.seconds:.1f} s"
        )
        verdicts = self._verdicts()
        locations = Table(title="Per location")
        for column in ("location", "requested", "loaded", "open", "closed", "failed", "rows"):
            locations.add_column(column, justify="left" if column == "location" else "right")
        for location_id in dict.fromkeys(i for i, _ in self.requested):
            keys = [k for k in self.requested if k[0] == location_id]
            statuses = Counter(verdicts[k][0] for k in keys if k in verdicts)
            locations.add_row(
                self._name(location_id),
                str(len(keys)),
                str(sum(k in verdicts for k in keys)),
                str(statuses["open"]),
                str(statuses["closed"]),
                str(sum(k in self.failures for k in keys)),
                f"{sum(self.row_counts.get(location_id, {}).values()):,}",
            )
        console.print(locations)
        reasons = Table(title="Closure dates by reason")
        reasons.add_column("reason")
        reasons.add_column("dates", justify="right")
        reasons.add_column("which")
        closures = self.closures
        for reason, count in Counter({r: len(k) for r, k in closures.items()}).most_common():
            reasons.add_row(reason, str(count), ", ".join(self._label(k) for k in closures[reason]))
        console.print(reasons)
        if self.failures:
            failed = Table(title="Failed dates (nothing of these dates was written)")
            failed.add_column("location")
            failed.add_column("date")
            failed.add_column("error")
            for (location_id, day), error in sorted(self.failures.items()):
                failed.add_row(self._name(location_id), day.isoformat(), error)
            console.print(failed)
        rows = Table(title="Rows per table, all locations (closure marker rows included)")
        rows.add_column("table")
        rows.add_column("rows", justify="right")
        totals: Counter[str] = Counter()
        for counts in self.row_counts.values():
            totals.update(counts)
        for table, count in totals.items():
            rows.add_row(table, f"{count:,}")
        console.print(rows)

    def _label(self, key: Key) -> str:
        location_id, day = key
        return day.isoformat() if len(self.business_days) == 1 else f"{location_id} {day}"
