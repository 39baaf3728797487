"""AllItemsReport, Toast's product-mix report, built as Toast writes it: a tree over the whole menu.

The grand total (`ALL MENUS`), then per menu its total row, and per group a group row followed by
every item on it, sold or not, so even a closed day's report lists the whole menu. Figures carry
Toast's text: quantities as `1.0`, money to the cent, shares and averages as Java doubles, and the
exact zeros the real file writes on unsold rows.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field

import polars as pl

from toast_pipeline.toast.all_items import GRAND_TOTAL_MENU
from toast_pipeline.toast.specs import ALL_ITEMS_REPORT
from toast_pipeline_dev.sample.formats import cents_text, java_double
from toast_pipeline_dev.sample.menu import (
    FULL_MENU,
    GROUP_IDS,
    OPEN_GROUP_IDS,
    PLACEMENTS,
    MenuSelection,
)
from toast_pipeline_dev.sample.menu_items import (
    GIFT_CARDS_MENU,
    OPEN_ITEM_ITEM_ID,
    OPEN_ITEM_MASTER_ID,
    OPEN_ITEM_NAMES,
    OPEN_ITEMS_MENU,
)

_REPORT_HEADERS = tuple(c.header for c in ALL_ITEMS_REPORT.columns)
# Figures of a row that sold nothing: what the real file writes on every unsold row.
_UNSOLD = (
    "0.00",
    "0.0",
    "0.0",
    "0.00",
    "0.0",
    "0.0",
    "0.00",
    "0.0",
    "0.00",
    "0.00",
    "0.00",
    "0",
    "0",
    "0",
    "0",
    "0",
    "0",
    "0",
    "0",
)
# The Gift Cards rows as the real file writes them (a few shares are 0.0 rather than 0).
_GIFT_CARDS_MENU_FIGURES = (*_UNSOLD[:12], "0.0", "0", "0", "0.0", "0", "0", "0.0")
_GIFT_CARDS_GROUP_FIGURES = (*_UNSOLD[:12], "0", "0", "0", "0.0", "0", "0", "0.0")


@dataclass
class _Tally:
    """Sales under one report row: (incl voids) figures, kept figures, and the orders."""

    qty_all: int = 0
    gross_all: int = 0  # cents
    qty: int = 0
    gross: int = 0
    discount: int = 0
    orders: set = field(default_factory=set)

    @property
    def net(self) -> int:
        return self.gross - self.discount

    def add(self, qty: int, gross: int, discount: int, voided: bool, order: int) -> None:
        self.qty_all += qty
        self.gross_all += gross
        if not voided:
            self.qty += qty
            self.gross += gross
            self.discount += discount
            self.orders.add(order)


def _share(part: float, whole: float, active: bool) -> str:
    if not active or whole == 0:
        return "0"
    return java_double(part / whole)


def _figures(
    level: int, row: _Tally, parents: Sequence[_Tally], *, group_rounding: bool
) -> tuple[str, ...]:
    """The 19 figures of a report row; `parents` are the total, menu and group rows above it.

    Shares are fractions written as Java doubles: the (incl voids) shares and `% of Ttl # Orders`
    are within the row's parent; `% Qty (Group)` etc. apply to the rows below that level only."""
    if row.qty_all == 0:
        return _UNSOLD
    up = parents[level - 1] if level else None
    total, menu, group = (list(parents) + [None, None, None])[:3]
    avg = row.gross_all / 100 / row.qty_all
    if group_rounding:
        avg_text = cents_text((2 * row.gross_all + row.qty_all) // (2 * row.qty_all))
    else:
        avg_text = java_double(avg)
    if up is None:
        shares = ("0.0", "0.0", "0")
    else:
        shares = (
            java_double(row.qty_all / up.qty_all) if up.qty_all else "0.0",
            java_double(row.gross_all / 100 / (up.gross_all / 100)) if up.gross_all else "0.0",
            _share(len(row.orders), len(up.orders), True),
        )
    net = row.net / 100

    def within(parent: _Tally | None, applies: bool, part: float, whole: float) -> str:
        return _share(part, whole, applies and parent is not None)

    return (
        avg_text,
        f"{row.qty_all}.0",
        shares[0],
        cents_text(row.gross_all),
        shares[1],
        f"{row.qty}.0",
        cents_text(row.gross),
        f"{row.qty_all - row.qty}.0",
        cents_text(row.gross_all - row.gross),
        cents_text(row.discount),
        cents_text(row.net),
        str(len(row.orders)),
        shares[2],
        within(group, level == 3, row.qty, group.qty if group else 0),
        within(menu, level >= 2, row.qty, menu.qty if menu else 0),
        within(total, level >= 1, row.qty, total.qty if total else 0),
        within(group, level == 3, net, group.net / 100 if group else 0),
        within(menu, level >= 2, net, menu.net / 100 if menu else 0),
        within(total, level >= 1, net, total.net / 100 if total else 0),
    )


def all_items_report(
    items: pl.DataFrame | None, selection: MenuSelection = FULL_MENU
) -> pl.DataFrame:
    """Toast's product mix as it writes it: the grand total (`ALL MENUS`), then per menu its total
    row, and per group a group row followed by every item on it, sold or not.

    A menu that sold nothing is written with an all-empty total row (as the real file has it); an
    open item (typed in by a server) is listed under Open Items only when it sold, with Master ID
    -1 and a synthetic Item ID. `Net Amount` adds up the same at every level."""
    if items is None:
        return zero_report(selection)
    tallies: dict[object, _Tally] = {}
    total = _Tally()
    columns = items.select("menu_index", "qty", "gross", "discount", "voided", "order")
    for placement, qty, gross, discount, voided, order in zip(
        *(c.to_list() for c in columns.get_columns())
    ):
        p = PLACEMENTS[placement]
        for key in (
            (p.menu,),
            (p.menu, p.group),
            (p.menu, p.group, p.name if p.open_item else placement),
        ):
            tallies.setdefault(key, _Tally()).add(qty, gross, discount, voided, order)
        total.add(qty, gross, discount, voided, order)
    rows = [
        (
            "",
            "",
            "",
            GRAND_TOTAL_MENU,
            "",
            "",
            "",
            "",
            *_figures(0, total, [], group_rounding=False),
        )
    ]
    for menu, groups in selection.layout.items():
        menu_tally = tallies.get((menu,), _Tally())
        if menu == GIFT_CARDS_MENU:
            rows.append(("", "", "", menu, "", "", "", "", *_GIFT_CARDS_MENU_FIGURES))
            rows.append(("-1", "-1", "", menu, menu, "", "", "", *_GIFT_CARDS_GROUP_FIGURES))
            continue
        name = menu if menu_tally.qty_all else ""
        figures = _figures(1, menu_tally, [total], group_rounding=False)
        rows.append(("", "", "", name, "", "", "", "", *figures))
        for group, members in groups.items():
            group_tally = tallies.get((menu, group), _Tally())
            if menu == OPEN_ITEMS_MENU:
                item_id, master_id = OPEN_GROUP_IDS[group]
            else:
                item_id, master_id = GROUP_IDS[(menu, group)]
            parent = str(master_id)
            figures = _figures(
                2, group_tally, [total, menu_tally], group_rounding=menu != OPEN_ITEMS_MENU
            )
            rows.append((parent, str(item_id), "", menu, group, "", "", "", *figures))
            line = [total, menu_tally, group_tally]
            if menu == OPEN_ITEMS_MENU:
                for open_name in OPEN_ITEM_NAMES:
                    tally = tallies.get((menu, group, open_name))
                    if tally is not None:
                        figures = _figures(3, tally, line, group_rounding=False)
                        rows.append(
                            (
                                OPEN_ITEM_MASTER_ID,
                                OPEN_ITEM_ITEM_ID,
                                parent,
                                menu,
                                group,
                                "",
                                open_name,
                                "",
                                *figures,
                            )
                        )
                continue
            for k in members:
                p = PLACEMENTS[k]
                tally = tallies.get((menu, group, k))
                figures = (
                    _UNSOLD if tally is None else _figures(3, tally, line, group_rounding=False)
                )
                rows.append(
                    (
                        str(p.master_id),
                        str(p.item_id),
                        parent,
                        menu,
                        group,
                        "",
                        p.name,
                        p.tags or "",
                        *figures,
                    )
                )
    return _report_frame(rows)


def _report_frame(rows: Sequence[Sequence[str]]) -> pl.DataFrame:
    columns = list(zip(*rows))
    return pl.DataFrame(
        {
            h: [v if v != "" else None for v in column]
            for h, column in zip(_REPORT_HEADERS, columns)
        },
        schema={h: pl.String for h in _REPORT_HEADERS},
    )


@functools.cache
def zero_report(selection: MenuSelection = FULL_MENU) -> pl.DataFrame:
    """A day without sales: the whole menu, every figure zero (built once, the same every day)."""
    return all_items_report(
        pl.DataFrame(
            schema={
                "menu_index": pl.Int64,
                "qty": pl.Int64,
                "gross": pl.Int64,
                "discount": pl.Int64,
                "voided": pl.Boolean,
                "order": pl.Int64,
            }
        ),
        selection,
    )
