"""IDs as Toast writes them, made up so that none repeats anywhere in an export.

A day's rows get 18-digit IDs that grow with random gaps (`daily_ids`); what lives across days
(menu items, groups, customers, staff) keeps a fixed one (`static_id`); newer records carry
version-4 GUIDs (`guid`). Each kind of record counts in its own space:

- daily: 1 orders, 2 checks, 3 payments, 4 item selections, 5 kitchen tickets, 6 cash entries,
  7 modifier selections, 8 time entries;
- static: 1 menu items, 3 menu groups, 4 customers, 5 open-item groups, 6 modifier options,
  7 option groups, 8 employees, 9 jobs.
"""

from __future__ import annotations

import itertools
import random
import uuid
from datetime import date

_IDS_PER_DAY = 10**9


def daily_ids(space: int, business_date: date, rng: random.Random, count: int) -> list[int]:
    """18-digit IDs, increasing with random gaps; unique across spaces, dates and the export."""
    base = space * 10**17 + business_date.toordinal() * _IDS_PER_DAY
    if count * 1000 >= _IDS_PER_DAY:
        raise ValueError(f"too many rows for one day: {count}")
    return list(
        itertools.accumulate((int(rng.random() * 999) + 1 for _ in range(count)), initial=base)
    )[1:]


def static_id(space: int, index: int) -> int:
    """IDs of things that live across days (menu items, groups, customers)."""
    return 9 * 10**17 + space * 10**15 + 7919 * (index + 1)


def guid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))
