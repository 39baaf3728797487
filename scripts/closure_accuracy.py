"""Precision and recall of closure detection: the seed's fixed rules against the learnt ones.

Builds labelled sample exports for a busy bistro open every day and a small café closed on Mondays
(holidays, random closures delivered every way Toast delivers them, catering-only closed days,
storms at 20-30 % of normal, half days, a five-day delivery outage), judges every date both ways
and prints the scores. Run on demand: `.venv/bin/python scripts/closure_accuracy.py --seed 1`.
"""

from __future__ import annotations

import argparse
import tempfile
from collections import Counter
from datetime import date
from pathlib import Path

from toast_pipeline_dev.evaluation import BUSINESSES, Score, measure


def _line(score: Score) -> str:
    called = score.true_closed + len(score.false_closed)
    closed = score.true_closed + len(score.missed)
    line = (
        f"  {score.rules:<7} precision {score.precision:6.1%} ({score.true_closed}/{called})   "
        f"recall {score.recall:6.1%} ({score.true_closed}/{closed})"
    )
    if score.false_closed:
        line += f"\n          open days called closed: {', '.join(map(str, score.false_closed))}"
    if score.missed:
        line += f"\n          closed days missed: {', '.join(map(str, score.missed))}"
    if score.gaps:
        line += f"\n          delivery_gap verdicts by true label: {dict(score.gaps)}"
    return line


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--start", type=date.fromisoformat, default=date(2024, 1, 1))
    parser.add_argument("--days", type=int, default=366)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as root:
        for business in BUSINESSES:
            labelled, seed_score, learnt_score = measure(
                Path(root), business, seed=args.seed, start=args.start, days=args.days
            )
            labels = Counter(labelled.labels[d] for d in labelled.scored)
            print(
                f"{business.name} (seed {args.seed}, {len(labelled.scored)} dates from {args.start}): "
                + ", ".join(f"{n} {label}" for label, n in sorted(labels.items()))
            )
            print(_line(seed_score))
            print(_line(learnt_score))


if __name__ == "__main__":
    main()
