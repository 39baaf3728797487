"""How well closure detection works, measured on labelled sample exports.

Two very different businesses (a busy bistro open every day, a small café closed on Mondays) get
exports with public-holiday closures, random closures delivered every way Toast delivers them
(catering-only days included), storms at 20-30 % of normal, half days and one delivery outage.
Every date is summarised by the pipeline's own parsing code and judged by the seed's fixed rules
and by the learnt rules; the score compares the verdicts with the generator's truth.
"""

from __future__ import annotations

import random
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from toast_pipeline.toast.baselines import ClosureRules, judge_dates, public_holidays
from toast_pipeline.toast.closures import DaySummary, Verdict, judge
from toast_pipeline.toast.daily_load import build_day_load
from toast_pipeline_dev.sample import (
    CATERING_DELIVERY,
    CLOSED_DELIVERIES,
    SampleExport,
    generate_export,
)

OUTAGE_DAYS = 5
STORM = (0.2, 0.3)
HALF_DAY = 0.5


@dataclass(frozen=True)
class Business:
    name: str
    orders_per_day: int
    closed_weekdays: tuple[int, ...] = ()
    closure_rate: float = 0.04  # random closures
    storm_rate: float = 0.03
    half_day_rate: float = 0.03


BISTRO = Business("bistro", orders_per_day=160)
CAFE = Business("cafe", orders_per_day=22, closed_weekdays=(0,))
BUSINESSES = (BISTRO, CAFE)


@dataclass(frozen=True)
class LabelledExport:
    business: Business
    export: SampleExport
    labels: dict[date, str]  # open, storm, half_day, closed, outage (open, folder never delivered)
    scored: list[date]  # the dates whose following days are in the export too


@dataclass
class Score:
    rules: str
    true_closed: int = 0
    false_closed: list[date] = field(default_factory=list)  # open days called closed
    missed: list[date] = field(default_factory=list)  # closed days not called closed
    gaps: dict[str, int] = field(default_factory=dict)  # delivery_gap verdicts by true label

    @property
    def precision(self) -> float:
        called = self.true_closed + len(self.false_closed)
        return self.true_closed / called if called else 1.0

    @property
    def recall(self) -> float:
        closed = self.true_closed + len(self.missed)
        return self.true_closed / closed if closed else 1.0


def labelled_export(
    root: Path, business: Business, *, seed: int, start: date, days: int, settle_days: int = 5
) -> LabelledExport:
    """Generate `days` scored dates (plus `settle_days` after them) with labelled events."""
    rng = random.Random(f"closure-labels:{business.name}:{seed}")
    total = days + settle_days
    dates = [start + timedelta(days=i) for i in range(total)]
    outage_start = rng.randrange(total // 3, 2 * total // 3)
    outage = set(dates[outage_start : outage_start + OUTAGE_DAYS])
    closures: dict[date, str] = {}
    factors: dict[date, float] = {}
    for d in dates:
        if d in outage or d.weekday() in business.closed_weekdays:
            continue
        u = rng.random()
        if u < business.closure_rate:
            closures[d] = rng.choice((*CLOSED_DELIVERIES, CATERING_DELIVERY))
        elif u < business.closure_rate + business.storm_rate:
            factors[d] = rng.uniform(*STORM)
        elif u < business.closure_rate + business.storm_rate + business.half_day_rate:
            factors[d] = HALF_DAY
    export = generate_export(
        root / business.name,
        start=start,
        days=total,
        seed=seed,
        orders_per_day=business.orders_per_day,
        closed_weekdays=business.closed_weekdays,
        holiday_country="US",
        random_closure_rate=0.0,
        closure_deliveries=closures,
        volume_factors=factors,
    )
    labels = {}
    for day in export.days:
        d = day.business_date
        folder = export.location_dir / day.folder_name
        if d in outage and folder.exists():  # nothing is delivered during an outage
            shutil.rmtree(folder)
        if day.status == "closed":
            labels[d] = "closed"
        elif d in outage:
            labels[d] = "outage"
        elif d in factors:
            labels[d] = "half_day" if factors[d] == HALF_DAY else "storm"
        else:
            labels[d] = "open"
    return LabelledExport(business, export, labels, dates[:days])


def summaries(export: SampleExport) -> dict[date, DaySummary]:
    """Each date's facts exactly as the pipeline computes them from the folder's files."""
    out = {}
    for day in export.days:
        folder = export.location_dir / day.folder_name
        files = {p.name: p.read_bytes() for p in folder.iterdir()} if folder.exists() else {}
        load = build_day_load(
            export.location_id,
            day.business_date,
            files,
            loaded_at=datetime.now(UTC),
            timezone=export.timezone,
        )
        out[day.business_date] = load.summary
    return out


def seed_verdicts(facts: Mapping[date, DaySummary]) -> dict[date, Verdict]:
    return {d: judge(s) for d, s in facts.items()}


def learnt_verdicts(
    facts: Mapping[date, DaySummary], rules: ClosureRules = ClosureRules()
) -> dict[date, Verdict]:
    return judge_dates(facts, facts, rules, public_holidays("US"))


def score(labelled: LabelledExport, verdicts: Mapping[date, Verdict], rules: str) -> Score:
    result = Score(rules)
    for d in labelled.scored:
        label, verdict = labelled.labels[d], verdicts[d]
        if verdict.is_gap:
            result.gaps[label] = result.gaps.get(label, 0) + 1
        if label == "closed":
            if verdict.is_closed:
                result.true_closed += 1
            else:
                result.missed.append(d)
        elif verdict.is_closed:
            result.false_closed.append(d)
    return result


def measure(
    root: Path, business: Business, *, seed: int, start: date, days: int
) -> tuple[LabelledExport, Score, Score]:
    """Seed rules and learnt rules scored on one labelled export."""
    labelled = labelled_export(root, business, seed=seed, start=start, days=days)
    facts = summaries(labelled.export)
    return (
        labelled,
        score(labelled, seed_verdicts(facts), "seed"),
        score(labelled, learnt_verdicts(facts), "learnt"),
    )
