"""AllItemsReport is Toast's product-mix report laid out as a tree, not a table of items.

Each day it lists the whole menu, sold or not: a grand-total row (`Menu Name` = `ALL MENUS`, no
IDs), one total row per menu (no IDs), then per menu group a row with the group's IDs and no
`Menu Item`, followed by the group's items (`Menu Item` set, `Parent ID` = the group's
`Master ID`). Summing `Net Amount` over every row counts each sale once per level, so every row
is kept as delivered and labelled with its level; product-mix analysis reads `item` rows only.
"""

from __future__ import annotations

import enum

import polars as pl

GRAND_TOTAL_MENU = "ALL MENUS"
NAMING_COLUMNS = (
    "master_id",
    "item_id",
    "parent_id",
    "menu_name",
    "menu_group",
    "subgroup",
    "menu_item",
)


class ReportLevel(enum.StrEnum):
    TOTAL = "total"
    MENU = "menu"
    GROUP = "group"
    ITEM = "item"
    # No ID and no name, all figures zero: Toast writes one for a menu that sold nothing. Kept as
    # delivered; it adds nothing to any sum.
    EMPTY = "empty"


def report_level_sql() -> str:
    """The same rule in SQL that DuckDB and BigQuery both run: labels rows stored before levels."""
    unnamed = " AND ".join(f"{c} IS NULL" for c in NAMING_COLUMNS)
    return (
        f"CASE WHEN {unnamed} THEN '{ReportLevel.EMPTY}' "
        f"WHEN menu_item IS NOT NULL THEN '{ReportLevel.ITEM}' "
        f"WHEN master_id IS NOT NULL OR item_id IS NOT NULL THEN '{ReportLevel.GROUP}' "
        f"WHEN menu_name = '{GRAND_TOTAL_MENU}' THEN '{ReportLevel.TOTAL}' "
        f"ELSE '{ReportLevel.MENU}' END"
    )


def with_report_levels(frame: pl.DataFrame) -> pl.DataFrame:
    """Add `row_level` (a `ReportLevel`) and `report_row` (1 = the first data row) to a parsed
    AllItemsReport frame (warehouse column names)."""
    has_ids = pl.col("master_id").is_not_null() | pl.col("item_id").is_not_null()
    level = (
        pl.when(pl.all_horizontal(pl.col(NAMING_COLUMNS).is_null()))
        .then(pl.lit(ReportLevel.EMPTY.value))
        .when(pl.col("menu_item").is_not_null())
        .then(pl.lit(ReportLevel.ITEM.value))
        .when(has_ids)
        .then(pl.lit(ReportLevel.GROUP.value))
        .when(pl.col("menu_name") == GRAND_TOTAL_MENU)
        .then(pl.lit(ReportLevel.TOTAL.value))
        .otherwise(pl.lit(ReportLevel.MENU.value))
    )
    return frame.with_columns(
        level.alias("row_level"), pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("report_row")
    )
