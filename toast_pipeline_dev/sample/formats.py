"""Toast's value formats, and a typed table turned into the text of its CSV file.

Timestamps as real exports write them (`4/4/24 11:23 AM`; the docs' `04/04/2024 11:23:00` only
as a quirk), money as exact decimals, item tax to 8 decimals with `0E-8` for zero, signed
`H:MM:SS` durations, kitchen durations in words, report shares as Java doubles; files in UTF-8
with CRLF line ends. `render` writes each column by its `Kind` in the file's spec.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from decimal import Decimal

import polars as pl

from toast_pipeline.toast.parse import DURATION_UNITS
from toast_pipeline.toast.specs import Kind, TableSpec

TIMESTAMP_FORMAT = "%-m/%-d/%y %-I:%M %p"  # what real exports write: 4/4/24 11:23 AM
DOCS_TIMESTAMP_FORMAT = "%m/%d/%Y %H:%M:%S"  # what Toast's docs show
DATE_FORMAT = "%-m/%-d/%y"
TIME_FORMAT = "%-I:%M %p"


@dataclass(frozen=True)
class Style:
    """How one file writes timestamps and booleans (quirks change these per file)."""

    timestamp: str = TIMESTAMP_FORMAT
    true: str = "true"
    false: str = "false"


def fixed_text(units: pl.Expr, scale: int) -> pl.Expr:
    """An integer count of 10**-scale units as exact decimal text: (1234, 2) -> '12.34'."""
    step = 10**scale
    magnitude = units.abs()
    text = pl.format(
        "{}.{}", magnitude // step, (magnitude % step).cast(pl.String).str.zfill(scale)
    )
    return pl.when(units < 0).then(pl.lit("-") + text).otherwise(text)


def hms_text(seconds: pl.Expr) -> pl.Expr:
    """`00:00:41`, hours zero-padded (and past 24); a negative span signs every nonzero part:
    `-23:-39:-50`, `-69:-03:00`, as Toast writes an order paid before it was opened."""
    magnitude = seconds.abs()
    negative = seconds < 0

    def part(amount: pl.Expr) -> pl.Expr:
        text = amount.cast(pl.String).str.zfill(2)
        return pl.when(negative & (amount > 0)).then(pl.lit("-") + text).otherwise(text)

    return pl.format(
        "{}:{}:{}", part(magnitude // 3600), part(magnitude % 3600 // 60), part(magnitude % 60)
    )


def tax_text(cents: pl.Expr) -> pl.Expr:
    """ItemSelectionDetails `Tax`: 8 decimals on every row (`2.70000000`), zero as `0E-8`."""
    return pl.when(cents == 0).then(pl.lit("0E-8")).otherwise(fixed_text(cents * 10**6, 8))


def java_double(value: float) -> str:
    """A double as Java's Double.toString writes it: shortest digits, `E` notation below 1e-3."""
    if value == 0:
        return "0.0"
    text = repr(value)
    if 1e-3 <= abs(value) < 1e7:
        return text
    if "e" in text:
        mantissa, exponent = text.split("e")
        exponent_value = int(exponent)
    else:
        number = Decimal(text)
        digits = "".join(map(str, number.as_tuple().digits)).lstrip("0")
        exponent_value = number.adjusted()
        mantissa = ("-" if value < 0 else "") + digits[0] + "." + digits[1:]
    if "." not in mantissa or mantissa.endswith("."):
        mantissa = mantissa.rstrip(".") + ".0"
    return f"{mantissa}E{exponent_value}"


def cents_text(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole}.{part:02d}"


def duration_words(seconds: int) -> str:
    """Kitchen `Fulfillment Time` text: `1 day, 2 hours, 1 minute and 6 seconds`."""
    parts = []
    for unit, size in DURATION_UNITS.items():
        amount, seconds = divmod(seconds, size)
        if amount:
            parts.append(f"{amount} {unit}{'' if amount == 1 else 's'}")
    if not parts:
        return "0 seconds"
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def render(spec: TableSpec, frame: pl.DataFrame, style: Style) -> pl.DataFrame:
    """Typed columns named by their headers -> the file's text, in spec order, by column kind."""
    if frame.width == 0:
        return pl.DataFrame(schema={c.header: pl.String for c in spec.columns})
    unknown = set(frame.columns) - {c.header for c in spec.columns}
    if unknown:
        raise ValueError(f"{spec.file_name}: columns not in the spec: {sorted(unknown)}")
    schema = frame.schema
    exprs = []
    for column in spec.columns:
        if column.header not in schema:
            exprs.append(pl.lit(None, pl.String).alias(column.header))
            continue
        value, dtype = pl.col(column.header), schema[column.header]
        if dtype == pl.String:
            text = value
        elif dtype == pl.Boolean:
            text = pl.when(value).then(pl.lit(style.true)).when(~value).then(pl.lit(style.false))
        elif isinstance(dtype, pl.Datetime):
            text = value.dt.strftime(style.timestamp)
        elif dtype == pl.Date:
            text = value.dt.strftime(DATE_FORMAT)
        elif dtype == pl.Time:
            text = value.dt.strftime(TIME_FORMAT)
        elif column.kind is Kind.MONEY:
            text = fixed_text(value, 2)
        elif column.kind is Kind.QUANTITY:
            text = value.cast(pl.String) + pl.lit(
                ".0"
            )  # whole quantities as Toast writes them: 1.0
        elif column.kind is Kind.DURATION_HMS:
            text = hms_text(value)
        else:
            text = value.cast(pl.String)
        exprs.append(text.alias(column.header))
    return frame.select(exprs)


def csv_bytes(text: pl.DataFrame) -> bytes:
    """A text frame as Toast writes CSV: UTF-8, CRLF line ends, quotes only where needed."""
    buffer = io.BytesIO()
    text.write_csv(buffer, line_terminator="\r\n")
    return buffer.getvalue()
