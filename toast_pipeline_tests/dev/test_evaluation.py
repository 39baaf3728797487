"""The target on labelled exports the rules were not tuned on: every closed day found, no open day
(storms and half days included) called closed, the outage reported as delivery gaps."""

from collections import Counter
from dataclasses import replace
from datetime import date

import pytest

from toast_pipeline_dev.evaluation import BISTRO, CAFE, OUTAGE_DAYS, measure

# More events than a normal year holds, over Thanksgiving, Christmas and New Year.
DENSE = {"closure_rate": 0.08, "storm_rate": 0.08, "half_day_rate": 0.05}


@pytest.mark.parametrize(("business", "seed"), [(BISTRO, 101), (CAFE, 202)], ids=["bistro", "cafe"])
def test_learnt_rules_find_every_closure_and_call_no_open_day_closed(tmp_path, business, seed):
    labelled, seed_rules, learnt = measure(
        tmp_path, replace(business, **DENSE), seed=seed, start=date(2025, 10, 20), days=75
    )
    labels = Counter(labelled.labels[d] for d in labelled.scored)
    assert labels["closed"] >= 5 and labels["storm"] >= 3 and labels["half_day"] >= 2
    assert labels["outage"] >= OUTAGE_DAYS - 1  # a café Monday inside it is a closure anyway
    assert (learnt.missed, learnt.false_closed) == ([], [])
    assert learnt.gaps == {"outage": labels["outage"]}
    assert learnt.recall == learnt.precision == 1.0
    # The seed's fixed rules call the outage closed.
    assert len(seed_rules.false_closed) >= labels["outage"]
