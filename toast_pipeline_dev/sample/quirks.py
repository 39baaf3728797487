"""Quirks: how a real export's files stray from the spec while staying readable.

A byte-order mark, `Discnt` for `Discount`, columns in another order, a column a newer export
adds, an optional column left out, timestamps as Toast's docs show them, `True`/`False` booleans.
Each kind shows up on a date with the caller's `quirk_rate`, in one file or a few, drawn from the
date's own quirk stream (switching quirks off changes the formatting, never the sales); the
manifest lists them as `kind:File.csv` or `kind:File.csv:Header`.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field

import polars as pl

from toast_pipeline.toast.specs import ITEM_SELECTION_DETAILS, Kind, TableSpec
from toast_pipeline_dev.sample.formats import DOCS_TIMESTAMP_FORMAT, Style

QUIRK_KINDS = (
    "bom",
    "discnt_header",
    "reordered_columns",
    "extra_column",
    "missing_optional_column",
    "docs_timestamps",
    "title_booleans",
)
# Schema drift: columns a newer export adds (None: the value is the folder's date, or empty).
EXTRA_COLUMNS = (("Business Date", None), ("Export Version", "2"), ("Restaurant External ID", None))
# The item discount's header as older exports write it: the alias the parser knows it by.
_DISCOUNT = next(c for c in ITEM_SELECTION_DETAILS.columns if c.header == "Discount")


@dataclass
class FileShape:
    """How one file deviates from the spec on this date (quirks and damage)."""

    style: Style = field(default_factory=Style)
    bom: bool = False
    rename: dict[str, str] = field(default_factory=dict)
    order: list[str] | None = None
    extra: tuple[str, str | None] | None = None
    drop: str | None = None


def choose_quirks(
    rng: random.Random, specs: Sequence[TableSpec], quirk_rate: float
) -> tuple[dict[str, FileShape], list[str]]:
    """A date's quirks among `specs`: each file's shape by file name, and the manifest notes."""
    shapes: dict[str, FileShape] = {}
    notes: list[str] = []

    def shape(spec: TableSpec) -> FileShape:
        return shapes.setdefault(spec.file_name, FileShape())

    for kind in QUIRK_KINDS:
        if rng.random() >= quirk_rate:
            continue
        if kind == "bom":
            for spec in rng.sample(specs, 1 + int(rng.random() * 3)):
                shape(spec).bom = True
                notes.append(f"bom:{spec.file_name}")
        elif kind == "discnt_header" and ITEM_SELECTION_DETAILS in specs:
            shape(ITEM_SELECTION_DETAILS).rename[_DISCOUNT.header] = _DISCOUNT.aliases[0]
            notes.append(f"discnt_header:{ITEM_SELECTION_DETAILS.file_name}")
        elif kind == "reordered_columns":
            spec = rng.choice(specs)
            order = [c.header for c in spec.columns]
            rng.shuffle(order)
            shape(spec).order = order
            notes.append(f"reordered_columns:{spec.file_name}")
        elif kind == "extra_column":
            spec = rng.choice(specs)
            header, value = rng.choice(EXTRA_COLUMNS)
            shape(spec).extra = (header, value)
            notes.append(f"extra_column:{spec.file_name}:{header}")
        elif kind == "missing_optional_column":
            spec = rng.choice(specs)
            optional = [
                c.header for c in spec.columns if c.kind is Kind.TEXT and not (c.key or c.required)
            ]
            shape(spec).drop = rng.choice(optional)
            notes.append(f"missing_optional_column:{spec.file_name}:{shape(spec).drop}")
        elif kind == "docs_timestamps":
            spec = rng.choice(
                [s for s in specs if any(c.kind is Kind.TIMESTAMP for c in s.columns)]
            )
            style = shape(spec).style
            shape(spec).style = Style(DOCS_TIMESTAMP_FORMAT, style.true, style.false)
            notes.append(f"docs_timestamps:{spec.file_name}")
        elif kind == "title_booleans":
            candidates = [s for s in specs if any(c.kind is Kind.BOOLEAN for c in s.columns)]
            if candidates:
                spec = rng.choice(candidates)
                shape(spec).style = Style(shape(spec).style.timestamp, "True", "False")
                notes.append(f"title_booleans:{spec.file_name}")
    return shapes, sorted(notes)


def reshape(text: pl.DataFrame, shape: FileShape, folder_name: str) -> pl.DataFrame:
    """A rendered file's columns as the shape has them: added, dropped, reordered, renamed."""
    if shape.extra is not None:
        header, value = shape.extra
        if header == "Business Date":
            value = folder_name
        text = text.with_columns(pl.lit(value, pl.String).alias(header))
    if shape.drop is not None:
        text = text.drop(shape.drop)
    if shape.order is not None:
        order = [h for h in shape.order if h in text.columns]
        text = text.select(order + [h for h in text.columns if h not in order])
    if shape.rename:
        text = text.rename(shape.rename)
    return text
