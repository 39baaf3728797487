"""Polars plumbing the table builders share: rows picked by index, the parent of each child row,
and seconds after a business date's midnight as a wall-clock timestamp."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time

import polars as pl


def at(business_date: date, seconds: pl.Expr) -> pl.Expr:
    """Seconds after the business date's midnight -> a local wall-clock timestamp."""
    return pl.lit(datetime.combine(business_date, time())) + pl.duration(seconds=seconds)


def take(frame: pl.DataFrame, index: pl.Series | list[int]) -> pl.DataFrame:
    return frame.select(pl.all().gather(index))


def expand(counts: Sequence[int]) -> list[int]:
    """[2, 1, 3] -> [0, 0, 1, 2, 2, 2]: the parent index of each child row."""
    return [parent for parent, count in enumerate(counts) for _ in range(count)]
