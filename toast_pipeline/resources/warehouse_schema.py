"""What an existing warehouse lacks compared with the specs, whichever warehouse it is.

`plan_schema` compares the tables a warehouse reports with `toast.specs` and says what to create,
add, rename, retype or fill; each warehouse turns that plan into its own SQL.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from toast_pipeline.resources.warehouse_sql import CLOSURE_FREE_VIEWS
from toast_pipeline.toast.all_items import report_level_sql
from toast_pipeline.toast.daily_load import WAREHOUSE_TABLES
from toast_pipeline.toast.specs import SPECS_BY_TABLE, Field, Kind, warehouse_name

# Columns added to existing tables that are computed from the rows already stored.
COMPUTED_ON_MIGRATION: dict[tuple[str, str], Callable[[], str]] = {
    ("all_items_report", "row_level"): report_level_sql,
}

# Kinds whose stored type has changed since tables were first created: money scales widened to
# what Toast writes (ItemSelectionDetails `Tax` has 8 decimals), computed averages stored as doubles.
RETYPABLE_KINDS = frozenset({Kind.MONEY, Kind.QUANTITY, Kind.SHARE, Kind.AVERAGE})
_DECIMAL = re.compile(r"^(?:DECIMAL|NUMERIC|BIGNUMERIC)\((\d+),(\d+)\)$")


@dataclass(frozen=True)
class Rename:
    """A column stored under an earlier name; `rescale` turns its stored values into the new ones."""

    old: str
    field: Field
    rescale: str = ""  # SQL applied to the renamed column, e.g. " / 100"


def legacy_share_name(header: str) -> str:
    """The name a `%` column was stored under when it was read as a percentage (`pct_...`)."""
    return warehouse_name(header.replace("%", " pct "))


def renamed_columns(table: str) -> tuple[Rename, ...]:
    """Toast's `%` columns hold fractions; they were first stored as percentages named `pct_...`."""
    spec = SPECS_BY_TABLE.get(table)
    if spec is None:
        return ()
    return tuple(
        Rename(legacy_share_name(c.header), f, " / 100")
        for c, f in zip(spec.columns, spec.fields, strict=False)
        if c.kind is Kind.SHARE
    )


@dataclass(frozen=True)
class SchemaPlan:
    """What a warehouse lacks compared with the specs, whichever warehouse it is."""

    new_tables: tuple[str, ...]
    new_columns: dict[str, tuple[Field, ...]]
    views: tuple[str, ...]  # tables whose closure-free view must be (re)created
    renamed: dict[str, tuple[Rename, ...]] = field(default_factory=dict)
    retyped: dict[str, tuple[Field, ...]] = field(default_factory=dict)

    @property
    def added(self) -> list[str]:
        return [f"{table}.{f.name}" for table, fields in self.new_columns.items() for f in fields]

    @property
    def changed(self) -> list[str]:
        """Existing columns renamed or retyped, for people."""
        out = [
            f"{table}.{r.old} -> {r.field.name}" + (f" (values{r.rescale})" if r.rescale else "")
            for table, renames in self.renamed.items()
            for r in renames
        ]
        out += [
            f"{table}.{f.name} retyped" for table, fields in self.retyped.items() for f in fields
        ]
        return out

    @property
    def altered(self) -> tuple[str, ...]:
        """Existing tables whose stored values change (their views are dropped first)."""
        return tuple(dict.fromkeys([*self.renamed, *self.retyped, *(t for t, _, _ in self.fills)]))

    @property
    def fills(self) -> list[tuple[str, str, str]]:
        """(table, column, SQL) for added columns whose values follow from the stored rows."""
        return [
            (table, f.name, COMPUTED_ON_MIGRATION[(table, f.name)]())
            for table, fields in self.new_columns.items()
            for f in fields
            if (table, f.name) in COMPUTED_ON_MIGRATION
        ]


def needs_retype(stored: str, wanted: str) -> bool:
    """A stored decimal with fewer places than the spec keeps, or one the spec reads as a double.

    Other differences (a wider precision chosen by hand, say) are left alone.
    """
    stored_decimal = _DECIMAL.match("".join(stored.split()).upper())
    if stored_decimal is None:
        return False
    wanted_decimal = _DECIMAL.match("".join(wanted.split()).upper())
    if wanted_decimal is None:
        return True
    return int(stored_decimal.group(2)) < int(wanted_decimal.group(2))


def plan_schema(
    existing: Mapping[str, Mapping[str, str]], column_type: Callable[[Field], str]
) -> SchemaPlan:
    """Compare existing tables and views (name -> column name -> SQL type) with the specs;
    `column_type` is the warehouse's SQL type of a spec field, as its catalogue reports types."""
    new_tables = tuple(t for t in WAREHOUSE_TABLES if t not in existing)
    new_columns, renamed, retyped = {}, {}, {}
    for table, fields in WAREHOUSE_TABLES.items():
        if table not in existing:
            continue
        columns = existing[table]
        renames = tuple(
            r for r in renamed_columns(table) if r.old in columns and r.field.name not in columns
        )
        now = {**columns, **{r.field.name: columns[r.old] for r in renames}}
        missing = tuple(f for f in fields if f.name not in now)
        changed = tuple(
            f
            for f in fields
            if f.name in now
            and f.kind in RETYPABLE_KINDS
            and needs_retype(now[f.name], column_type(f))
        )
        if renames:
            renamed[table] = renames
        if missing:
            new_columns[table] = missing
        if changed:
            retyped[table] = changed
    touched = {*new_tables, *new_columns, *renamed, *retyped}
    views = tuple(
        table
        for table, view in CLOSURE_FREE_VIEWS.items()
        if view not in existing or table in touched
    )
    return SchemaPlan(new_tables, new_columns, views, renamed, retyped)
