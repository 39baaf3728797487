"""Was the restaurant open on a business date? The verdict type and the seed's fixed rules.

The seed's rules judge a date from its own delivery alone; `baselines.py` judges it against the
location's learnt normal and falls back to these rules (as floors) while history is short. A verdict
carries the numbers it was reached from so the check can show them.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from toast_pipeline.toast.specs import TABLE_SPECS, TRANSACTION_SPECS

ALL_TABLES = frozenset(spec.table for spec in TABLE_SPECS)
TRANSACTION_TABLES = frozenset(spec.table for spec in TRANSACTION_SPECS)


class ClosureReason(enum.StrEnum):
    NO_FILES = "no_files"
    INSUFFICIENT_FILES = "insufficient_files"
    LOW_ACTIVITY = "low_activity"
    LOW_SALES = "low_sales"
    # Not a closure: the folder is missing or partial on a day that was probably open.
    DELIVERY_GAP = "delivery_gap"


@dataclass(frozen=True)
class ClosureThresholds:
    """A date is closed below any of these (the seed's values by default).

    `min_files` is out of all seven Toast files; a location that normally receives fewer needs
    the same share of its own set (`required_files`).
    """

    min_files: int = 4
    min_records: int = 10
    min_net_sales: Decimal = Decimal("50")

    def required_files(self, expected: int) -> int:
        return math.ceil(self.min_files * expected / len(ALL_TABLES))


@dataclass(frozen=True)
class DaySummary:
    """What one date's delivery amounted to.

    `delivered` names the Toast tables whose file came (None for dates stored before that was
    recorded); `expected` the ones the location normally receives, learnt from its history. Only
    the transactional files count as activity: AllItemsReport lists the whole menu every day.
    """

    files_found: int
    rows: dict[str, int] = field(default_factory=dict)
    orders: int = 0
    net_sales: Decimal = Decimal("0")
    delivered: frozenset[str] | None = None
    expected: frozenset[str] = ALL_TABLES

    @property
    def records(self) -> int:
        """Data rows of the transactional files (orders, checks, payments, items, cash, kitchen)."""
        return sum(n for table, n in self.rows.items() if table in TRANSACTION_TABLES)

    @property
    def expected_found(self) -> int:
        """Files of the expected set that came (all found files when the set is unknown)."""
        if self.delivered is None:
            return self.files_found
        return len(self.delivered & self.expected)

    @property
    def missing(self) -> tuple[str, ...]:
        """Expected tables whose file did not come."""
        return () if self.delivered is None else tuple(sorted(self.expected - self.delivered))

    def too_few_files(self, thresholds: ClosureThresholds) -> bool:
        return self.expected_found < thresholds.required_files(len(self.expected))


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
    if summary.too_few_files(t):
        expected = len(summary.expected)
        return Verdict(
            ClosureReason.INSUFFICIENT_FILES,
            f"{summary.expected_found} of the {expected} Toast files the location receives delivered, "
            f"fewer than {t.required_files(expected)}",
        )
    if summary.records < t.min_records:
        return Verdict(
            ClosureReason.LOW_ACTIVITY,
            f"{summary.records} records in the transactional files, fewer than {t.min_records}",
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
