"""Was the restaurant open on a business date? A pure verdict from what was delivered.

The rules are the seed's fixed thresholds, kept in one config object so they can be tuned per
location; the verdict carries the numbers it was reached from so the check can show them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from decimal import Decimal


class ClosureReason(enum.StrEnum):
    NO_FILES = "no_files"
    INSUFFICIENT_FILES = "insufficient_files"
    LOW_ACTIVITY = "low_activity"
    LOW_SALES = "low_sales"


@dataclass(frozen=True)
class ClosureThresholds:
    """A date is closed below any of these (the seed's values by default)."""

    min_files: int = 4
    min_records: int = 10
    min_net_sales: Decimal = Decimal("50")


@dataclass(frozen=True)
class DaySummary:
    """What one date's delivery amounted to."""

    files_found: int
    rows: dict[str, int] = field(default_factory=dict)
    orders: int = 0
    net_sales: Decimal = Decimal("0")

    @property
    def records(self) -> int:
        return sum(self.rows.values())


@dataclass(frozen=True)
class Verdict:
    reason: ClosureReason | None
    explanation: str

    @property
    def is_open(self) -> bool:
        return self.reason is None

    @property
    def status(self) -> str:
        return "open" if self.is_open else "closed"


def judge(summary: DaySummary, thresholds: ClosureThresholds = ClosureThresholds()) -> Verdict:
    """Apply the rules in order of evidence: no delivery, a partial one, too little, too cheap."""
    t = thresholds
    if summary.files_found == 0:
        return Verdict(ClosureReason.NO_FILES, "no Toast files were delivered for the date")
    if summary.files_found < t.min_files:
        return Verdict(
            ClosureReason.INSUFFICIENT_FILES,
            f"{summary.files_found} of 7 Toast files delivered, fewer than {t.min_files}",
        )
    if summary.records < t.min_records:
        return Verdict(
            ClosureReason.LOW_ACTIVITY,
            f"{summary.records} records in all files, fewer than {t.min_records}",
        )
    if summary.net_sales < t.min_net_sales:
        return Verdict(
            ClosureReason.LOW_SALES,
            f"net sales {summary.net_sales} below {t.min_net_sales}",
        )
    return Verdict(
        None,
        f"{summary.files_found} files, {summary.records} records, {summary.orders} orders, "
        f"net sales {summary.net_sales}",
    )
