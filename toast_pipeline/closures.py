"""Was the restaurant open on a business date? The verdict type and the seed's fixed rules.

The seed's rules judge a date from its own delivery alone; `baselines.py` judges it against the
location's learnt normal and falls back to these rules (as floors) while history is short. A verdict
carries the numbers it was reached from so the check can show them.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal


class ClosureReason(enum.StrEnum):
    NO_FILES = "no_files"
    INSUFFICIENT_FILES = "insufficient_files"
    LOW_ACTIVITY = "low_activity"
    LOW_SALES = "low_sales"
    # Not a closure: the folder is missing or partial on a day that was probably open.
    DELIVERY_GAP = "delivery_gap"


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
    """Open, closed with a reason, or a probable delivery gap (neither: the data may be missing).

    `details` holds the numbers behind the verdict (baseline, thresholds, ratios) for the check.
    """

    reason: ClosureReason | None
    explanation: str
    details: Mapping[str, object] = field(default_factory=dict, compare=False)

    @property
    def is_open(self) -> bool:
        return self.reason is None

    @property
    def is_gap(self) -> bool:
        return self.reason is ClosureReason.DELIVERY_GAP

    @property
    def is_closed(self) -> bool:
        return not self.is_open and not self.is_gap

    @property
    def status(self) -> str:
        if self.is_gap:
            return "delivery_gap"
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
