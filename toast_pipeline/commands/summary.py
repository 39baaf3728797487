"""What a load amounted to, for people: dates loaded, closures by reason, failures, rows, time."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

import polars as pl
from rich.console import Console
from rich.table import Table


@dataclass
class LoadSummary:
    requested: list[str]
    business_days: pl.DataFrame  # the warehouse's business_days rows for the requested dates
    failures: dict[str, str] = field(default_factory=dict)
    row_counts: Mapping[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def loaded(self) -> list[str]:
        done = {d.isoformat() for d in self.business_days.get_column("business_date")}
        return [d for d in self.requested if d in done and d not in self.failures]

    @property
    def closures(self) -> dict[str, list[str]]:
        closed = self.business_days.filter(pl.col("status") == "closed")
        by_reason: dict[str, list[str]] = {}
        for day, reason in closed.select("business_date", "closure_reason").iter_rows():
            if day.isoformat() in self.failures:
                continue
            by_reason.setdefault(reason, []).append(day.isoformat())
        return by_reason

    @property
    def closure_count(self) -> int:
        return sum(len(days) for days in self.closures.values())

    def render(self, console: Console) -> None:
        total = len(self.requested)
        console.print(
            f"\n[bold]Toast load summary[/bold]: {len(self.loaded)} of {total} dates loaded "
            f"({len(self.loaded) - self.closure_count} open, {self.closure_count} closed), "
            f"{len(self.failures)} failed, in {self.seconds:.1f} s"
        )
        reasons = Table(title="Closure dates by reason")
        reasons.add_column("reason")
        reasons.add_column("dates", justify="right")
        reasons.add_column("which")
        counts = Counter({r: len(d) for r, d in self.closures.items()})
        for reason, count in counts.most_common():
            reasons.add_row(reason, str(count), ", ".join(self.closures[reason]))
        console.print(reasons)
        if self.failures:
            failed = Table(title="Failed dates (nothing of these dates was written)")
            failed.add_column("date")
            failed.add_column("error")
            for day, error in sorted(self.failures.items()):
                failed.add_row(day, error)
            console.print(failed)
        rows = Table(title="Rows per table (closure marker rows included)")
        rows.add_column("table")
        rows.add_column("rows", justify="right")
        for table, count in self.row_counts.items():
            rows.add_row(table, f"{count:,}")
        console.print(rows)
