"""The menu as Toast sells and reports it: every item placed under a menu and group, with IDs.

`PLACEMENTS` lists each item under each menu and group it is on (an item on two menus is placed
twice, under the same IDs); `MENU_LAYOUT` is the order the AllItemsReport walks them in. The
tuples below are what an order draws its lines from, and `MENU_FRAME` is the same table as a
polars frame to join sold lines with. Built once at import, the same for every export.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import polars as pl

from toast_pipeline_dev.sample.ids import static_id
from toast_pipeline_dev.sample.menu_items import (
    CATERING_TAIL,
    GIFT_CARDS_MENU,
    HAND_MODIFIERS,
    MENU_ITEMS,
    MODIFIER_GROUPS,
    ONLINE_COPIES,
    OPEN_ITEM_GROUPS,
    OPEN_ITEM_NAMES,
    OPEN_ITEMS_MENU,
    SHARED_ITEMS,
    TAIL,
)

SMALL_ORDER_MAX_PRICE = 1600  # a stray order stays under $30 with tax and tip


@dataclass(frozen=True)
class Placement:
    """An item as listed under one menu and group: what a report row and a sold line carry."""

    name: str
    menu: str
    group: str
    category: str
    station: str
    price: int
    weight: float  # relative chance an ordinary order line is this placement
    item_id: int
    master_id: int
    tags: str | None = None
    plu: str | None = None
    sku: str | None = None
    modifiers: str | None = None  # a key of MODIFIER_GROUPS
    catering: bool = False
    open_item: bool = False


def _build_menu() -> tuple[tuple[Placement, ...], dict[str, dict[str, list[int]]]]:
    placements: list[Placement] = []
    layout: dict[str, dict[str, list[int]]] = {}

    def add(placement: Placement) -> None:
        layout.setdefault(placement.menu, {}).setdefault(placement.group, []).append(
            len(placements)
        )
        placements.append(placement)

    hand_ids = [static_id(1, i) for i in range(len(MENU_ITEMS))]
    by_name = {}
    for i, m in enumerate(MENU_ITEMS):
        master = hand_ids[i if m.master is None else m.master] + 1
        by_name[m.name] = Placement(
            m.name,
            m.menu,
            m.group,
            m.category,
            m.station,
            m.price,
            10.0 * m.popularity,
            hand_ids[i],
            master,
            m.tags,
            m.plu,
            None if i % 4 == 3 else f"0{7_300_100_000 + 37 * i}",
            HAND_MODIFIERS.get(m.group),
        )
    ordered = [*MENU_ITEMS]
    serial = len(MENU_ITEMS)
    tail_by_group: dict[tuple[str, str], list[Placement]] = {}
    for catering, table in ((False, TAIL), (True, CATERING_TAIL)):
        for menu, group, category, station, modifiers, (low, high), names in table:
            for k, name in enumerate(names):
                item_id = static_id(1, serial)
                serial += 1
                price = low + (7919 * (k + 1)) % (high - low + 1)
                price = price // 100 * 100 + 99 if price % 100 else price
                never = menu == "Holiday Specials"
                weight = 0.0 if never or catering else (0.3 if menu == "Merchandise" else 1.0)
                tail_by_group.setdefault((menu, group), []).append(
                    Placement(
                        name,
                        menu,
                        group,
                        category,
                        station,
                        price,
                        weight,
                        item_id,
                        item_id + 1,
                        modifiers=modifiers,
                        catering=catering,
                    )
                )
    # The hand-written items lead their groups; the tail follows, then the other menus.
    for m in ordered:
        add(by_name[m.name])
        for placement in tail_by_group.pop((m.menu, m.group), []):
            add(placement)
    for menu, group in list(tail_by_group):
        if menu in ("Food", "Drinks"):
            for placement in tail_by_group.pop((menu, group)):
                add(placement)
    for menu, group in list(tail_by_group):
        if menu == "Weekend Brunch":
            for placement in tail_by_group.pop((menu, group)):
                add(placement)
    for menu, group, names in SHARED_ITEMS:
        for name in names:
            base = by_name[name]
            add(
                Placement(
                    base.name,
                    menu,
                    group,
                    base.category,
                    base.station,
                    base.price,
                    base.weight / 8,
                    base.item_id,
                    base.master_id,
                    base.tags,
                    base.plu,
                    base.sku,
                    base.modifiers,
                )
            )
    for group, source in ONLINE_COPIES:
        for k in layout["Food"][source][:6]:
            base = placements[k]
            item_id = static_id(1, serial)
            serial += 1
            add(
                Placement(
                    f"{base.name}(OL)",
                    "Online Ordering",
                    group,
                    base.category,
                    base.station,
                    base.price,
                    max(base.weight / 6, 0.5),
                    item_id,
                    item_id + 1,
                    base.tags,
                    None,
                    None,
                    base.modifiers,
                )
            )
    for tail in tail_by_group.values():
        for placement in tail:
            add(placement)
    layout[GIFT_CARDS_MENU] = {GIFT_CARDS_MENU: []}
    layout[OPEN_ITEMS_MENU] = {group: [] for group in OPEN_ITEM_GROUPS}
    for name in OPEN_ITEM_NAMES:
        item_id, master_id = OPEN_GROUP_IDS[OPEN_ITEM_GROUPS[0]]
        add(
            Placement(
                name,
                OPEN_ITEMS_MENU,
                OPEN_ITEM_GROUPS[0],
                "Food",
                "Grill",
                0,
                0.0,
                -item_id,
                -master_id,
                open_item=True,
            )
        )
    return tuple(placements), layout


# Open Items' groups carry negative IDs in the report (positive ones on the item selections).
OPEN_GROUP_IDS = {
    group: (-(static_id(5, k) - 1), -static_id(5, k)) for k, group in enumerate(OPEN_ITEM_GROUPS)
}
PLACEMENTS, MENU_LAYOUT = _build_menu()
GROUP_IDS = {
    (menu, group): (static_id(3, k) - 1, static_id(3, k))
    for k, (menu, group) in enumerate((m, g) for m, groups in MENU_LAYOUT.items() for g in groups)
}
ORDINARY_PLACEMENTS = tuple(i for i, p in enumerate(PLACEMENTS) if p.weight > 0 and not p.open_item)
ORDINARY_CUM_WEIGHTS = tuple(
    itertools.accumulate(PLACEMENTS[i].weight for i in ORDINARY_PLACEMENTS)
)
CATERING_PLACEMENTS = tuple(i for i, p in enumerate(PLACEMENTS) if p.catering)
SMALL_ITEMS = tuple(
    i
    for i, p in enumerate(PLACEMENTS)
    if p.menu in ("Food", "Drinks") and p.weight >= 10 and p.price <= SMALL_ORDER_MAX_PRICE
)
OPEN_PLACEMENTS = tuple(i for i, p in enumerate(PLACEMENTS) if p.open_item)

MODIFIER_OPTIONS = tuple(
    (kind, g, o)
    for kind, groups in MODIFIER_GROUPS.items()
    for g in range(len(groups))
    for o in range(len(groups[g][2]))
)
MODIFIER_IDS = {key: static_id(6, k) for k, key in enumerate(MODIFIER_OPTIONS)}
OPTION_GROUP_IDS = {
    (kind, g): static_id(7, k)
    for k, (kind, g) in enumerate(
        (kind, g) for kind, groups in MODIFIER_GROUPS.items() for g in range(len(groups))
    )
}


MENU_FRAME = pl.DataFrame(
    {
        "menu_index": list(range(len(PLACEMENTS))),
        "item_name": [p.name for p in PLACEMENTS],
        "group": [p.group for p in PLACEMENTS],
        "menu_name": [p.menu for p in PLACEMENTS],
        # An open item's selection names no menu or group (the report files it under Open Items).
        "isd_group": [None if p.open_item else p.group for p in PLACEMENTS],
        "isd_menu": [None if p.open_item else p.menu for p in PLACEMENTS],
        "category": [p.category for p in PLACEMENTS],
        "price": [p.price for p in PLACEMENTS],
        "station": [p.station for p in PLACEMENTS],
        "tags": [p.tags for p in PLACEMENTS],
        "plu": [p.plu for p in PLACEMENTS],
        "sku": [p.sku for p in PLACEMENTS],
        "item_id": [p.item_id for p in PLACEMENTS],
        "master_id": [p.master_id for p in PLACEMENTS],
        "open_item": [p.open_item for p in PLACEMENTS],
    },
    schema_overrides={
        "tags": pl.String,
        "plu": pl.String,
        "sku": pl.String,
        "isd_group": pl.String,
        "isd_menu": pl.String,
    },
)


@dataclass(frozen=True, eq=False)
class MenuSelection:
    """The part of the menu one location lists and sells: its report layout and what orders draw.

    Placement indices stay those of `PLACEMENTS`, so a location on a smaller menu keeps the
    items' IDs and every table built from `MENU_FRAME`; only what is listed and sold changes.
    """

    name: str
    layout: dict[str, dict[str, list[int]]]
    ordinary: tuple[int, ...]
    ordinary_cum_weights: tuple[float, ...]
    catering: tuple[int, ...]
    small: tuple[int, ...]


def _select_menu(
    name: str, omit_menus: tuple[str, ...], omit_groups: tuple[tuple[str, str], ...]
) -> MenuSelection:
    def kept(menu: str, group: str) -> bool:
        return menu not in omit_menus and (menu, group) not in omit_groups

    layout = {
        menu: {group: list(members) for group, members in groups.items() if kept(menu, group)}
        for menu, groups in MENU_LAYOUT.items()
        if menu not in omit_menus
    }
    listed = {k for groups in layout.values() for members in groups.values() for k in members}
    ordinary = tuple(i for i in ORDINARY_PLACEMENTS if i in listed)
    return MenuSelection(
        name,
        layout,
        ordinary,
        tuple(itertools.accumulate(PLACEMENTS[i].weight for i in ordinary)),
        tuple(i for i in CATERING_PLACEMENTS if i in listed),
        tuple(i for i in SMALL_ITEMS if i in listed),
    )


FULL_MENU = MenuSelection(
    "full", MENU_LAYOUT, ORDINARY_PLACEMENTS, ORDINARY_CUM_WEIGHTS, CATERING_PLACEMENTS, SMALL_ITEMS
)
# A daytime café under the same owner: no bar, no dinner plates, no happy hour or holiday menu.
CAFE_MENU = _select_menu(
    "cafe",
    ("Happy Hour", "Holiday Specials"),
    (
        ("Food", "Entrees"),
        ("Drinks", "Beer"),
        ("Drinks", "Wine"),
        ("Drinks", "Cocktails"),
        ("Drinks", "Whiskey"),
        ("Drinks", "Tequila & Mezcal"),
        ("Online Ordering", "Entrees (OL)"),
    ),
)
MENUS = {m.name: m for m in (FULL_MENU, CAFE_MENU)}
