"""Bytes of one Toast CSV file -> a typed polars frame, or an error that says where and why.

Columns are found by header name (Toast admins rename and reorder them), every value is parsed
strictly: a value that does not fit its column is an error naming the file, the line and the
column, never a silent null.
"""

from __future__ import annotations

import csv
import functools
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import polars as pl

from toast_pipeline.toast.all_items import with_report_levels
from toast_pipeline.toast.specs import (
    ALL_ITEMS_REPORT,
    MONEY_PRECISION,
    Column,
    Field,
    Kind,
    TableSpec,
)

BOM = b"\xef\xbb\xbf"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")

TIMESTAMP_FORMATS = (
    "%m/%d/%y %I:%M %p",  # what real exports write: 4/4/24 11:23 AM
    "%m/%d/%y %I:%M:%S %p",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %H:%M:%S",  # what Toast's docs show
    "%m/%d/%Y %H:%M",
    "%m/%d/%y %H:%M:%S",
    "%m/%d/%y %H:%M",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
)
DATE_FORMATS = ("%m/%d/%y", "%m/%d/%Y", "%Y-%m-%d")
TIME_FORMATS = ("%I:%M %p", "%I:%M:%S %p", "%H:%M:%S", "%H:%M")

EXPECTED = {
    Kind.ID: "an ID of digits or letters (not scientific notation)",
    Kind.INTEGER: "a whole number",
    Kind.SHARE: "a number (a fraction such as 0.0309 or 7.2E-4)",
    Kind.AVERAGE: "a number (a computed average such as 7.688253461128861)",
    Kind.BOOLEAN: "true or false (or yes/no, 1/0)",
    Kind.TIMESTAMP: "a date and time such as 4/4/24 11:23 AM or 04/04/2024 11:23:00",
    Kind.DATE: "a date such as 4/4/24",
    Kind.TIME: "a time such as 11:23 AM",
    Kind.DURATION_HMS: "a duration H:MM:SS (each part may carry a minus: -23:-39:-50)",
    Kind.DURATION_TEXT: "a duration such as '12 minutes and 5 seconds'",
}

DURATION_UNITS = {"week": 604_800, "day": 86_400, "hour": 3_600, "minute": 60, "second": 1}


class ExportParseError(ValueError):
    """A Toast file that cannot be loaded as it is, with where and what was expected."""

    def __init__(
        self,
        file: str,
        problem: str,
        *,
        line: int | None = None,
        column: str | None = None,
        position: int | None = None,
        value: str | None = None,
    ) -> None:
        self.file, self.problem, self.line, self.column = file, problem, line, column
        self.position, self.value = position, value
        where = [file]
        if line is not None:
            where.append(f"line {line}")
        if column is not None:
            where.append(f"column {column!r}" + (f" (#{position})" if position else ""))
        text = f"{', '.join(where)}: {problem}"
        if value is not None:
            text += f"; got {value[:80]!r}"
        super().__init__(text)


@dataclass(frozen=True)
class ParsedFile:
    """One file's rows in warehouse form, plus what differed from the spec."""

    spec: TableSpec
    source: str
    frame: pl.DataFrame
    missing_columns: tuple[str, ...] = ()
    extra_columns: tuple[str, ...] = ()
    aliased_columns: dict[str, str] = field(default_factory=dict)

    @property
    def drift_notes(self) -> list[str]:
        notes = [f"optional column {h!r} absent: loaded as null" for h in self.missing_columns]
        notes += [f"unknown column {h!r} ignored (schema drift)" for h in self.extra_columns]
        notes += [f"column {a!r} read as {h!r}" for h, a in self.aliased_columns.items()]
        return notes


def polars_dtype(kind: Kind, scale: int = 2) -> pl.DataType:
    """The frame type of a column kind; the warehouses map these to their own SQL types."""
    if kind in (Kind.MONEY, Kind.QUANTITY):
        return pl.Decimal(MONEY_PRECISION, scale)
    return {
        Kind.TEXT: pl.String(),
        Kind.ID: pl.String(),
        Kind.INTEGER: pl.Int64(),
        Kind.SHARE: pl.Float64(),
        Kind.AVERAGE: pl.Float64(),
        Kind.BOOLEAN: pl.Boolean(),
        Kind.TIMESTAMP: pl.Datetime("us"),
        Kind.DATE: pl.Date(),
        Kind.TIME: pl.Time(),
        Kind.DURATION_HMS: pl.Int64(),
        Kind.DURATION_TEXT: pl.Int64(),
        Kind.LOADED_AT: pl.Datetime("us", "UTC"),
    }[kind]


def frame_schema(fields: Sequence[Field]) -> pl.Schema:
    return pl.Schema(_frame_schema(tuple(fields)))


@functools.cache
def _frame_schema(fields: tuple[Field, ...]) -> pl.Schema:
    """Built once per table (every date asks for it), copied out since a schema is mutable."""
    return pl.Schema({f.name: polars_dtype(f.kind, f.scale) for f in fields})


def parse_file(spec: TableSpec, data: bytes, source: str) -> ParsedFile:
    """Parse one Toast CSV file; `source` names it in errors and in the warehouse."""
    if data.startswith(BOM):
        data = data[len(BOM) :]
    text = _check_bytes(data, source)
    if not data.strip():
        columns = {c.name: pl.Series(c.name, [], pl.String()) for c in spec.columns}
        frame = derive_columns(spec, _convert(pl.DataFrame(columns), spec, source, data))
        return ParsedFile(spec, source, frame, tuple(spec.column_names))
    blank_records = _check_row_widths(text, source)
    try:
        raw = pl.read_csv(io.BytesIO(data), infer_schema=False, has_header=True)
    except pl.exceptions.PolarsError as exc:
        first_line = str(exc).strip().splitlines()[0]
        raise ExportParseError(source, f"not a readable CSV file: {first_line}") from None
    if blank_records:
        raw = raw.filter(~pl.int_range(pl.len()).is_in(blank_records))

    by_header = {_normal(h): c for c in spec.columns for h in c.headers}
    found: dict[str, str] = {}
    extra, aliased = [], {}
    for header in raw.columns:
        column = by_header.get(_normal(header))
        if column is None or column.name in found:
            extra.append(header)
            continue
        found[column.name] = header
        if _normal(header) != _normal(column.header):
            aliased[column.header] = header
    for column in spec.required_columns:
        if column.name not in found:
            what = "key column" if column.key else "required column"
            raise ExportParseError(
                source,
                f"{what} {column.header!r} is missing; headers are {raw.columns}",
                line=1,
            )
    missing = tuple(c.header for c in spec.columns if c.name not in found)
    text = raw.select(_text_columns(spec, tuple(found.items())))
    frame = _convert(text, spec, source, data, headers=list(raw.columns), found=found)
    return ParsedFile(spec, source, derive_columns(spec, frame), missing, tuple(extra), aliased)


# Columns computed from a file's own rows (`TableSpec.derived`), by table.
DERIVATIONS: dict[str, Callable[[pl.DataFrame], pl.DataFrame]] = {
    ALL_ITEMS_REPORT.table: with_report_levels,
}


def derive_columns(spec: TableSpec, frame: pl.DataFrame) -> pl.DataFrame:
    derive = DERIVATIONS.get(spec.table)
    return frame if derive is None else derive(frame)


def _normal(header: str) -> str:
    return " ".join(header.split()).casefold()


def _check_bytes(data: bytes, source: str) -> str:
    """NUL bytes and anything but UTF-8 are refused before polars sees them, with their place."""
    if data.startswith(UTF16_BOMS):
        raise ExportParseError(
            source,
            "the file is UTF-16 (it starts with a UTF-16 byte order mark); Toast exports are UTF-8",
            line=1,
        )
    nul = data.find(b"\x00")
    if nul >= 0:
        line, col = _line_and_char(data, nul)
        raise ExportParseError(source, f"NUL byte at character {col}", line=line)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, col = _line_and_char(data, exc.start)
        raise ExportParseError(
            source, f"not valid UTF-8 at character {col} (byte 0x{data[exc.start]:02x})", line=line
        ) from None
    if data.count(b'"') % 2:
        line = _unterminated_quote_line(data)
        raise ExportParseError(
            source, "unterminated quoted field (a quote opens and never closes)", line=line
        )
    return text


def _check_row_widths(text: str, source: str) -> list[int]:
    """Every row must have the header's width; returns the data records that are blank lines.

    polars pads a short row with nulls without a word, so a file cut off mid-row (Toast still
    writing it, a transfer cut short) would load as complete; here it is an error naming the
    line and the first missing column.
    """
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, [])
    previous_end, blank = reader.line_num, []
    for index, record in enumerate(reader):
        if not record:
            blank.append(index)
        elif len(record) < len(header):
            raise ExportParseError(
                source,
                f"row has {len(record)} fields, the header has {len(header)} (cut short?)",
                line=previous_end + 1,
                column=header[len(record)],
                position=len(record) + 1,
            )
        elif len(record) > len(header):
            raise ExportParseError(
                source,
                f"row has {len(record)} fields, the header has {len(header)}",
                line=previous_end + 1,
            )
        previous_end = reader.line_num
    return blank


def _line_and_char(data: bytes, offset: int) -> tuple[int, int]:
    line_start = data.rfind(b"\n", 0, offset) + 1
    return data.count(b"\n", 0, offset) + 1, offset - line_start + 1


def _unterminated_quote_line(data: bytes) -> int | None:
    """The line where the field that swallows the rest of the file begins."""
    reader = csv.reader(io.StringIO(data.decode("utf-8"), newline=""), strict=True)
    last_line = 0
    try:
        for _ in reader:
            last_line = reader.line_num
    except csv.Error:
        return last_line + 1
    return last_line + 1


def _record_lines(data: bytes) -> list[int]:
    """First line of each data record, counting quoted line breaks (used only on the error path)."""
    reader = csv.reader(io.StringIO(data.decode("utf-8"), newline=""))
    starts, previous_end = [], 0
    for record in reader:
        if record:
            starts.append(previous_end + 1)
        previous_end = reader.line_num
    return starts[1:]


@functools.cache
def _text_columns(spec: TableSpec, found: tuple[tuple[str, str], ...]) -> list[pl.Expr]:
    """The spec's columns from the file's headers (`found`: column name -> header), stripped,
    empty text as null, an absent optional column all null; built once per table and headers."""
    by_name = dict(found)
    return [
        _non_empty(pl.col(by_name[c.name])).alias(c.name)
        if c.name in by_name
        else pl.lit(None, pl.String).alias(c.name)
        for c in spec.columns
    ]


def _non_empty(text: pl.Expr) -> pl.Expr:
    stripped = text.str.strip_chars()
    return pl.when(stripped.str.len_bytes() > 0).then(stripped)


def _convert(
    text: pl.DataFrame,
    spec: TableSpec,
    source: str,
    data: bytes,
    headers: list[str] | None = None,
    found: dict[str, str] | None = None,
) -> pl.DataFrame:
    """Cast every column (stripped text, empty as null) to its kind; a value that fails to parse
    is an error.

    The first pass tries only the format real exports use; a file with other formats (or bad
    values) pays for a second pass that tries every accepted format.
    """
    text = _plain_decimals(text, spec)
    for every_format in (False, True):
        parsed_exprs, failed_exprs = _expressions(spec, every_format)
        parsed = text.select(parsed_exprs)
        # A value failed where text was given and nothing was parsed; with as many nulls after
        # parsing as before, none did (null counts are kept with the columns: no pass over rows).
        if parsed.null_count().rows() == text.null_count().rows():
            return parsed
        failed = pl.concat([text, parsed.rename(lambda n: f"parsed:{n}")], how="horizontal").select(
            failed_exprs
        )
        if not failed.select(pl.any_horizontal(pl.all()).any()).item():
            return parsed
    _raise_first_bad_value(failed, text, spec, source, data, headers, found)


# Toast writes some decimals in scientific notation (`0E-8` for a zero tax); read them exactly.
_E_NOTATION = r"^[+-]?(\d+\.?\d*|\.\d+)[eE][+-]?\d{1,2}$"


def _plain_decimals(text: pl.DataFrame, spec: TableSpec) -> pl.DataFrame:
    """Exact decimals in E-notation rewritten as plain digits (`0E-8` -> `0.00000000`).

    Rare, so one pass finds the columns holding any, and only their distinct values that need
    it go through Python's `Decimal`.
    """
    names = [c.name for c in spec.columns if c.kind in (Kind.MONEY, Kind.QUANTITY)]
    if not names or not text.height:
        return text
    holding = text.select(pl.col(names).str.contains(_E_NOTATION).any()).row(0, named=True)
    rewrites = {}
    for name in (n for n, found in holding.items() if found):
        column = text.get_column(name)
        found = column.filter(column.str.contains(_E_NOTATION)).unique()
        if found.len():
            rewrites[name] = {value: format(Decimal(value), "f") for value in found}
    return (
        text.with_columns(pl.col(n).replace(m) for n, m in rewrites.items()) if rewrites else text
    )


@functools.cache
def _expressions(spec: TableSpec, every_format: bool) -> tuple[list[pl.Expr], list[pl.Expr]]:
    """Built once per table: building polars expressions costs more than running them."""
    parsed = [
        _CONVERTERS[c.kind](pl.col(c.name), c, every_format)
        .cast(polars_dtype(c.kind, c.scale))
        .alias(c.name)
        for c in spec.columns
    ]
    failed = [
        (pl.col(n).is_not_null() & pl.col(f"parsed:{n}").is_null()).alias(n)
        for n in spec.column_names
    ]
    return parsed, failed


def _raise_first_bad_value(failed, text, spec, source, data, headers, found) -> None:
    """The earliest bad row, and in it the leftmost bad column, as the file shows them."""
    row = failed.select(pl.any_horizontal(pl.all()).arg_true().first()).item()
    column = next(c for c in spec.columns if failed.get_column(c.name)[row])
    header = (found or {}).get(column.name, column.header)
    position = headers.index(header) + 1 if headers and header in headers else None
    lines = _record_lines(data)
    raise ExportParseError(
        source,
        f"expected {_expected(column)}",
        line=lines[row] if row < len(lines) else row + 2,
        column=header,
        position=position,
        value=text.get_column(column.name)[row],
    )


def _expected(column: Column) -> str:
    if column.kind in (Kind.MONEY, Kind.QUANTITY):
        return f"a number with at most {column.scale} decimal places"
    return EXPECTED.get(column.kind, column.kind.value)


def _valid(value: pl.Expr, pattern: str) -> pl.Expr:
    return pl.when(value.str.contains(pattern)).then(value)


def _text(text: pl.Expr, column: Column, every_format: bool) -> pl.Expr:
    return text


def _id(text: pl.Expr, column: Column, every_format: bool) -> pl.Expr:
    return _valid(text, r"^[0-9A-Za-z_-]+$")


def _integer(text: pl.Expr, column: Column, every_format: bool) -> pl.Expr:
    """Whole numbers; `1,200` and `2.0` are accepted (by the second pass), `2.5` is not."""
    if every_format:
        text = text.str.replace_all(",", "", literal=True).str.replace(r"\.0+$", "")
    return _valid(text, r"^[+-]?\d+$").cast(pl.Int64, strict=False)


def _decimal(text: pl.Expr, column: Column, every_format: bool) -> pl.Expr:
    """Exact decimals: `$` and thousands separators tolerated, never rounded.

    Zeros past the column's scale carry no value (`2.70000000` is 2.70), so they are dropped;
    any other digit past it would be lost, so the value is refused.
    """
    # Toast writes plain digits within the scale: the first pass checks only that, and the rare
    # file with other forms pays for the clean-up in the second (a third of the parse otherwise).
    if every_format:
        text = (
            text.str.replace_all(r"[$,\s]", "")
            .str.replace(r"^\((.*)\)$", "-$1")
            .str.replace(rf"^([^.]*\.\d{{{column.scale}}})0+$", "$1")
        )
    pattern = rf"^[+-]?(\d+(\.\d{{0,{column.scale}}})?|\.\d{{1,{column.scale}}})$"
    return _valid(text, pattern).cast(pl.Decimal(MONEY_PRECISION, column.scale), strict=False)


def _double(text: pl.Expr, column: Column, every_format: bool) -> pl.Expr:
    """Toast's computed ratios and averages, full double precision, E-notation included."""
    return _valid(text, r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$").cast(pl.Float64, strict=False)


BOOLEANS = {
    **dict.fromkeys(("true", "t", "yes", "y", "1"), True),
    **dict.fromkeys(("false", "f", "no", "n", "0"), False),
}


def _boolean(text: pl.Expr, column: Column, every_format: bool) -> pl.Expr:
    return text.str.to_lowercase().replace_strict(BOOLEANS, default=None, return_dtype=pl.Boolean)


def _timestamp(text: pl.Expr, column: Column, every_format: bool) -> pl.Expr:
    formats = TIMESTAMP_FORMATS if every_format else TIMESTAMP_FORMATS[:1]
    return pl.coalesce(
        text.str.to_datetime(fmt, strict=False, exact=True, time_unit="us") for fmt in formats
    )


def _date(text: pl.Expr, column: Column, every_format: bool) -> pl.Expr:
    formats = DATE_FORMATS if every_format else DATE_FORMATS[:1]
    return pl.coalesce(text.str.to_date(fmt, strict=False, exact=True) for fmt in formats)


def _time(text: pl.Expr, column: Column, every_format: bool) -> pl.Expr:
    formats = TIME_FORMATS if every_format else TIME_FORMATS[:1]
    return pl.coalesce(text.str.to_time(fmt, strict=False) for fmt in formats)


def _duration_hms(text: pl.Expr, column: Column, every_format: bool) -> pl.Expr:
    """`00:00:41` -> 41; hours may pass 24. An order paid before it was opened is written with a
    minus on every nonzero part (`-23:-39:-50`, `-69:-03:00`): the sign is kept."""
    parts = text.str.extract_groups(r"^(?:(\d+) days?,?\s*)?(-?\d+):(-?\d\d):(-?\d\d)$")
    days, hours, minutes, seconds = (
        parts.struct.field(str(i)).str.strip_prefix("-").cast(pl.Int64) for i in range(1, 5)
    )
    magnitude = days.fill_null(0) * 86_400 + hours * 3_600 + minutes * 60 + seconds
    sign = pl.when(text.str.contains("-", literal=True)).then(-1).otherwise(1)
    return pl.when((minutes < 60) & (seconds < 60)).then(magnitude * sign)


def _duration_text(text: pl.Expr, column: Column, every_format: bool) -> pl.Expr:
    """`2 weeks, 1 day, 22 hours, 1 minute and 6 seconds` -> seconds; anything else is invalid."""
    lowered = text.str.to_lowercase()
    total = pl.sum_horizontal(
        lowered.str.extract(rf"(\d+)\s*{unit}s?\b", 1).cast(pl.Int64).fill_null(0) * seconds
        for unit, seconds in DURATION_UNITS.items()
    )
    leftover = lowered.str.replace_all(
        r"(\d+)\s*(week|day|hour|minute|second)s?\b|,|\band\b|\s", ""
    )
    return pl.when((leftover == "") & lowered.str.contains(r"\d")).then(total)


_CONVERTERS: dict[Kind, Callable[[pl.Expr, Column, bool], pl.Expr]] = {
    Kind.TEXT: _text,
    Kind.ID: _id,
    Kind.INTEGER: _integer,
    Kind.MONEY: _decimal,
    Kind.QUANTITY: _decimal,
    Kind.SHARE: _double,
    Kind.AVERAGE: _double,
    Kind.BOOLEAN: _boolean,
    Kind.TIMESTAMP: _timestamp,
    Kind.DATE: _date,
    Kind.TIME: _time,
    Kind.DURATION_HMS: _duration_hms,
    Kind.DURATION_TEXT: _duration_text,
}
