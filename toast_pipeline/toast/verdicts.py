"""Keeping stored verdicts true to the stored facts, whatever order dates are loaded in.

A learnt verdict reads the facts of a span of dates around its date, so writing one date can change
the verdict of its neighbours. The load judges each date it writes against the facts stored so far,
then asks this book which stored dates' verdicts no longer match their span of facts and rewrites
those. After every run each stored verdict is exactly `judge_day` over the stored facts, so loading
dates in reverse, in one batch or one by one ends with the same verdicts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime

import polars as pl

from toast_pipeline.toast.baselines import (
    ClosureRules,
    affected_dates,
    expected_files,
    judge_day,
    summaries_from_business_days,
)
from toast_pipeline.toast.closures import DaySummary, Verdict
from toast_pipeline.toast.daily_load import rejudged_tables


class VerdictBook:
    """One location's stored business_days rows, the facts in them, and a run's writes on top."""

    def __init__(
        self, business_days: pl.DataFrame, rules: ClosureRules, calendar: Mapping[date, str]
    ) -> None:
        self.rules, self.calendar = rules, calendar
        self.rows = {row["business_date"]: row for row in business_days.iter_rows(named=True)}
        self.facts = summaries_from_business_days(business_days)

    def verdict_for(self, business_date: date, summary: DaySummary) -> Verdict:
        """The verdict of a date about to be written, against the facts known now."""
        return judge_day(
            business_date, {**self.facts, business_date: summary}, self.rules, self.calendar
        )

    def expected_tables(self, business_date: date) -> frozenset[str]:
        """The Toast tables the location normally receives, learnt from the dates before this one."""
        return expected_files(business_date, self.facts, self.rules)

    def record(self, business_day: pl.DataFrame, summary: DaySummary) -> None:
        """A date just written: its business_days row and its facts."""
        row = business_day.row(0, named=True)
        self.rows[row["business_date"]] = row
        self.facts[row["business_date"]] = summary

    def stale(self, written: Iterable[date]) -> dict[date, Verdict]:
        """Stored dates, near the written ones, whose stored verdict differs from their facts'."""
        out = {}
        for d in sorted(affected_dates(written, self.rows, self.rules)):
            verdict = judge_day(d, self.facts, self.rules, self.calendar)
            row = self.rows[d]
            stored = (row["status"], row["closure_reason"], row["explanation"])
            reason = None if verdict.reason is None else str(verdict.reason)
            if stored != (verdict.status, reason, verdict.explanation):
                out[d] = verdict
        return out

    def rewrites(
        self, verdicts: Mapping[date, Verdict], loaded_at: datetime
    ) -> dict[date, dict[str, pl.DataFrame]]:
        """The frames `Warehouse.rewrite_verdicts` takes to store these verdicts."""
        return {d: rejudged_tables(self.rows[d], v, loaded_at) for d, v in verdicts.items()}
