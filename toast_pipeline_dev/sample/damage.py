"""Damage: one broken file on a date the caller asks for, as real exports are now and then.

An unterminated quote, a NUL byte, a value that does not parse, the key column missing, a file
cut off mid-row, a Latin-1 name in a UTF-8 file. The break goes into OrderDetails or
PaymentDetails (whichever the account receives) at a row drawn from the date's plan stream; the
manifest records the file, the physical line and the column, so a test can check the error names
them. Breaks that polars cannot write as text are written as markers and swapped for their bytes.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import polars as pl

from toast_pipeline.toast.specs import ORDER_DETAILS, PAYMENT_DETAILS, TableSpec

DAMAGE_KINDS = (
    "unterminated_quote",
    "nul_byte",
    "bad_value",
    "missing_key_column",
    "cut_short",
    "latin1",
)
DAMAGEABLE_FILES = (ORDER_DETAILS.file_name, PAYMENT_DETAILS.file_name)

MARKER_OPEN_QUOTE = "ZZOPENQUOTEZZ"
MARKER_NUL = "ZZNULBYTEZZ"
MARKER_LATIN1 = "ZZLATIN1ZZ"
MARKER_CUT = "ZZCUTZZ"
MARKER_BYTES = {
    MARKER_OPEN_QUOTE: b'"Smith, John',
    MARKER_NUL: b"Kel\x00ly Ross",
    MARKER_LATIN1: "Renée Dupré".encode("latin-1"),
}


@dataclass(frozen=True)
class Damage:
    kind: str
    file: str
    row: int  # 0-based data row
    column: str


def choose_damage(
    plan: random.Random, kind: str, tables: Mapping[str, pl.DataFrame], specs: Sequence[TableSpec]
) -> Damage:
    """Where a date's damage goes: which damageable file the account receives, which data row
    (never the first), which column."""
    own = [f for f in DAMAGEABLE_FILES if f in {s.file_name for s in specs}]
    file = own[int(plan.random() * len(own))]
    spec = ORDER_DETAILS if file == ORDER_DETAILS.file_name else PAYMENT_DETAILS
    row = 1 + int(plan.random() * (tables[spec.table].height - 1))
    if kind == "unterminated_quote":
        column = "Tab Names" if spec is ORDER_DETAILS else "Tab Name"
    elif kind in ("nul_byte", "latin1", "cut_short"):
        column = "Server"
    elif kind == "bad_value":
        column = (
            "Amount"
            if plan.random() < 0.5
            else ("Opened" if spec is ORDER_DETAILS else "Paid Date")
        )
    else:
        column = spec.key_columns[0].header
    return Damage(kind, file, row, column)


def apply_damage(text: pl.DataFrame, damage: Damage) -> tuple[pl.DataFrame, int]:
    """Break one value (or drop the key column) in the rendered file; returns the line it is on."""
    if damage.kind == "missing_key_column":
        return text.drop(damage.column), 1
    original = text[damage.column][damage.row]
    if damage.kind == "unterminated_quote":
        value = MARKER_OPEN_QUOTE
    elif damage.kind == "nul_byte":
        value = MARKER_NUL
    elif damage.kind == "latin1":
        value = MARKER_LATIN1
    elif damage.kind == "cut_short":
        value = MARKER_CUT
    elif damage.column == "Amount":
        value = original[:-1] + "x"
    else:
        value = original.replace(":", ":9", 1)
    column = text[damage.column].scatter(damage.row, value)
    return text.with_columns(column), damage.row + 2


def marker_bytes(data: bytes) -> bytes:
    """A written file with every marker swapped for the bytes it stands for; a file cut off
    mid-row, as a half-written export is, ends just before the cut marker's column."""
    for marker, raw in MARKER_BYTES.items():
        data = data.replace(marker.encode(), raw)
    if MARKER_CUT.encode() in data:
        data = data[: data.index(b"," + MARKER_CUT.encode())]
    return data
