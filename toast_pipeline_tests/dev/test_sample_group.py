"""A sample restaurant group: one folder per store, the stores differing as configured."""

from __future__ import annotations

import csv
import dataclasses
import hashlib
from datetime import date
from pathlib import Path

import pytest

from toast_pipeline_dev.sample import (
    DEMO_GROUP,
    LEAN_ACCOUNT_OMITS,
    SampleGroup,
    generate_export,
    generate_group,
    main,
)
from toast_pipeline_dev.sample.menu_items import OPEN_ITEM_NAMES

START = date(2024, 3, 1)  # a Friday: a week covers every weekday
DAYS = 8
SEED = 7
LOCATIONS = tuple(dataclasses.replace(loc, orders_per_day=12) for loc in DEMO_GROUP)
BISTRO, CAFE = (loc.location_id for loc in LOCATIONS)


@pytest.fixture(scope="module")
def group(tmp_path_factory: pytest.TempPathFactory) -> SampleGroup:
    root = tmp_path_factory.mktemp("group")
    return generate_group(root, LOCATIONS, start=START, days=DAYS, seed=SEED)


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def _digests(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _report_items(group: SampleGroup, location_id: str) -> set[str]:
    names = set()
    for day in group.export(location_id).days:
        report = group.root / location_id / day.folder_name / "AllItemsReport.csv"
        if report.exists():
            names |= {r["Menu Item"] for r in _rows(report) if r["Menu Item"]}
    return names


def test_demo_group_stores_differ_as_described() -> None:
    bistro, cafe = DEMO_GROUP
    assert bistro.location_id != cafe.location_id
    assert bistro.timezone != cafe.timezone and bistro.name != cafe.name
    assert bistro.orders_per_day > cafe.orders_per_day
    assert bistro.closed_weekdays == (0,) and set(cafe.closed_weekdays) == {6, 0}
    assert bistro.account_files is None and cafe.account_files is not None
    assert bistro.menu != cafe.menu


def test_each_store_has_its_own_folder_and_dates(group: SampleGroup) -> None:
    assert sorted(p.name for p in group.root.iterdir()) == sorted([BISTRO, CAFE])
    for export in group.exports:
        assert [d.business_date for d in export.days] == [
            date.fromordinal(START.toordinal() + k) for k in range(DAYS)
        ]
        delivered = {d.folder_name for d in export.days if d.delivery != "no_folder"}
        assert {p.name for p in export.location_dir.iterdir()} == delivered
    assert group.export(CAFE).timezone == "America/Denver"
    assert group.export(BISTRO).timezone == "America/Chicago"


def test_the_lean_store_never_gets_the_three_omitted_files(group: SampleGroup) -> None:
    cafe_files = {p.name for p in (group.root / CAFE).rglob("*.csv")}
    assert cafe_files and not cafe_files & set(LEAN_ACCOUNT_OMITS)
    assert set(LEAN_ACCOUNT_OMITS) <= {p.name for p in (group.root / BISTRO).rglob("*.csv")}


def test_weekly_closures_follow_each_store(group: SampleGroup) -> None:
    for location in LOCATIONS:
        for day in group.export(location.location_id).days:
            if day.business_date.weekday() in location.closed_weekdays:
                assert day.status == "closed" and day.closure_kind == "weekly"
    sundays = [d for d in group.export(CAFE).days if d.business_date.weekday() == 6]
    assert sundays and all(d.status == "closed" for d in sundays)
    bistro_sundays = [d for d in group.export(BISTRO).days if d.business_date.weekday() == 6]
    assert any(d.closure_kind != "weekly" for d in bistro_sundays)


def test_the_menus_differ_in_the_product_mix(group: SampleGroup) -> None:
    bistro, cafe = _report_items(group, BISTRO), _report_items(group, CAFE)
    assert cafe and cafe < bistro
    assert "Old Fashioned" in bistro - cafe and "Half Rack Ribs" in bistro - cafe
    sold = {
        r["Menu Item"]
        for p in (group.root / CAFE).rglob("ItemSelectionDetails.csv")
        for r in _rows(p)
    }
    assert sold and sold - set(OPEN_ITEM_NAMES) <= cafe


def test_the_location_column_carries_each_store_name(group: SampleGroup) -> None:
    for location in LOCATIONS:
        seen = set()
        for path in (group.root / location.location_id).rglob("*.csv"):
            rows = _rows(path)
            if rows and "Location" in rows[0]:
                seen |= {r["Location"] for r in rows}
            if rows and "Location Code" in rows[0]:
                assert {r["Location Code"] for r in rows} == {location.code}
        assert seen == {location.name}


def test_the_group_manifest_round_trips(group: SampleGroup, tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    group.write_manifest(path)
    back = SampleGroup.read_manifest(path)
    assert back.locations == group.locations
    assert back.root == group.root.resolve()
    for mine, theirs in zip(group.exports, back.exports):
        assert theirs.days == mine.days and theirs.location_id == mine.location_id
        assert theirs.root == mine.root.resolve() and theirs.timezone == mine.timezone


def test_the_same_seed_writes_the_same_bytes(tmp_path: Path) -> None:
    for name in ("a", "b"):
        generate_group(tmp_path / name, LOCATIONS, start=START, days=4, seed=SEED)
    assert _digests(tmp_path / "a") == _digests(tmp_path / "b")


def test_a_single_store_export_is_unchanged_by_the_default_options(tmp_path: Path) -> None:
    options = dict(start=START, days=5, seed=3, orders_per_day=15, closed_weekdays=(0,))
    generate_export(tmp_path / "plain", **options)
    generate_export(
        tmp_path / "explicit",
        **options,
        location_name="Smoke & Barrel",
        location_code="300",
        menu="full",
    )
    assert _digests(tmp_path / "plain") == _digests(tmp_path / "explicit")


def test_a_group_store_matches_its_single_store_export(tmp_path: Path) -> None:
    cafe = LOCATIONS[1]
    generate_group(tmp_path / "group", LOCATIONS, start=START, days=3, seed=SEED)
    generate_export(
        tmp_path / "alone",
        location_id=cafe.location_id,
        start=START,
        days=3,
        seed=SEED,
        orders_per_day=cafe.orders_per_day,
        timezone=cafe.timezone,
        closed_weekdays=cafe.closed_weekdays,
        account_files=cafe.account_files,
        location_name=cafe.name,
        location_code=cafe.code,
        menu=cafe.menu,
    )
    assert _digests(tmp_path / "group" / CAFE) == _digests(tmp_path / "alone" / CAFE)


def test_duplicate_location_ids_and_unknown_menus_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="distinct"):
        generate_group(tmp_path, (LOCATIONS[0], LOCATIONS[0]), start=START, days=1)
    with pytest.raises(ValueError, match="unknown menu"):
        generate_export(tmp_path / "x", start=START, days=1, menu="diner")


def test_cli_writes_the_demo_group(tmp_path: Path) -> None:
    assert main([str(tmp_path), "--group", "--days", "2", "--start", "2024-03-01"]) == 0
    group = SampleGroup.read_manifest(tmp_path / "manifest.json")
    assert [loc.location_id for loc in group.locations] == [loc.location_id for loc in DEMO_GROUP]
    assert all((tmp_path / loc.location_id).is_dir() for loc in DEMO_GROUP)
