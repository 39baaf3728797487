import io
import json
import re
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest
from rich.console import Console

from toast_pipeline.commands.instance import open_instance
from toast_pipeline.defs.partitions import LOCATIONS_PARTITIONS
from toast_pipeline.resources.duckdb_warehouse import DuckDBWarehouse
from toast_pipeline.settings import GroupSettings
from toast_pipeline_dev.__main__ import parser
from toast_pipeline_dev.demo import (
    DemoOptions,
    compare_with_truth,
    damaged_date,
    demo_arguments,
    run_demo,
)
from toast_pipeline_dev.sample import SampleGroup

BISTRO, CAFE = "185129", "185342"
NAMES = {BISTRO: "Smoke & Barrel Bistro (185129)", CAFE: "Barrel Café (185342)"}


def test_the_damaged_date_is_a_week_in_on_a_day_both_stores_open():
    # 2024-03-01 is a Friday; the bistro closes Mondays, the café Sundays and Mondays.
    assert damaged_date(DemoOptions(start=date(2024, 3, 1))) == date(2024, 3, 7)
    assert damaged_date(DemoOptions(start=date(2024, 3, 4))) == date(2024, 3, 12)  # not 10, 11


def test_the_bigquery_child_gets_the_same_options_back():
    for options in (DemoOptions(), DemoOptions(Path("d"), date(2024, 5, 2), 9, 3, 15)):
        args = parser().parse_args(["demo", *demo_arguments(options)])
        parsed = DemoOptions(args.data_dir, args.start, args.days, args.seed, args.orders_per_day)
        assert parsed == options


@pytest.mark.e2e
def test_demo_finds_the_group_backfills_every_location_date_and_matches_the_truth(
    tmp_path, monkeypatch
):
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(Path(__file__).parents[2] / "dagster_home" / "dagster.yaml", home)
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("TOAST_LOCATION_ID", "185129")  # a shell's setting: the demo ignores it
    output = io.StringIO()
    options = DemoOptions(data_dir=tmp_path, start=date(2024, 3, 1), days=12, orders_per_day=15)
    assert run_demo(options, Console(file=output, width=200)) == 0
    text = output.getvalue()
    flat = " ".join(text.split())  # long lines wrap at the console's width
    group = SampleGroup.read_manifest(tmp_path / "demo" / "manifest.json")
    assert [s.location_id for s in group.locations] == [BISTRO, CAFE]
    damaged = date(2024, 3, 7)
    truth = {
        e.location_id: {d.business_date: d for d in e.days if not d.damage} for e in group.exports
    }
    assert [
        (e.location_id, d.business_date) for e in group.exports for d in e.days if d.damage
    ] == [(CAFE, damaged)]
    assert group.export(BISTRO).day(damaged).status == "open"  # the same date, the other store

    # No location named: the backfill found both folders and added them to the instance.
    assert "no location named, so the backfill finds the stores' folders" in flat
    assert f"New locations added to the instance's partitions: {BISTRO}, {CAFE}" in text
    with open_instance(home) as instance:
        assert instance.get_dynamic_partitions(LOCATIONS_PARTITIONS) == [BISTRO, CAFE]

    log = json.loads((tmp_path / "demo" / "backfill_log.json").read_text())
    assert log["locations"] == [BISTRO, CAFE]
    assert log["failed_date_list"] == [{"location_id": CAFE, "business_date": "2024-03-07"}]
    # --all: each location from its first to its last folder; every one of these 12 dates.
    assert {i: sorted(days) for i, days in log["dates"].items()} == {
        i: [(date(2024, 3, 1) + timedelta(days=n)).isoformat() for n in range(12)]
        for i in (BISTRO, CAFE)
    }
    for location_id, days in truth.items():
        for day, sample in days.items():
            assert log["dates"][location_id][day.isoformat()]["status"] == sample.status

    # The backfill's own summary, then the demo's comparison, one row per location.
    closed = {i: sum(d.status == "closed" for d in days.values()) for i, days in truth.items()}
    opened = {i: len(days) - closed[i] for i, days in truth.items()}
    assert closed[BISTRO] and closed[CAFE], "each store should have closed dates"
    loaded = 23
    assert (
        f"{loaded} of 24 dates loaded ({loaded - sum(closed.values())} open, "
        f"{sum(closed.values())} closed), 1 failed" in text
    )
    cafe_damage = group.export(CAFE).day(damaged)
    assert (
        f"│ {NAMES[CAFE]} │ 2024-03-07 │ 185342/20240307/{cafe_damage.damage_file}, "
        f"line {cafe_damage.damage_line}: unterminated quoted field" in text
    )
    for location_id, failed in ((BISTRO, "none"), (CAFE, "2024-03-07")):
        row = (
            rf"│ {re.escape(NAMES[location_id])} +│ +12 │ +{opened[location_id]} │ "
            rf"+{closed[location_id]} │ +{failed} │ [\d,]+ │ +\$[\d,.]+ │ +0 │"
        )
        assert re.search(row, text), f"no comparison row {row!r} in:\n{text}"
    assert re.search(
        r"Backfill: 24 location-dates of 2 locations in \d+\.\d s, \d+\.\d\d s per location-date\.",
        flat,
    )
    assert "not requested by --all" not in flat  # both stores have folders on the first and last
    assert (
        "✓ The warehouse matches the generator's ground truth in every location" in flat
        and "the damaged date (Barrel Café (185342) 2024-03-07) failed alone." in flat
    )

    # What `make ui` sources so the UI shows the group without a server configured.
    ui_env = (tmp_path / "demo" / "location.env").read_text().splitlines()
    locations_file = tmp_path / "demo" / "locations.toml"
    assert ui_env == [
        "export TOAST_START_DATE=2024-03-01",
        f"export TOAST_LOCATIONS_FILE={locations_file}",
        f"export TOAST_DUCKDB_PATH={tmp_path / 'toast.duckdb'}",
        f"export TOAST_ARCHIVE_PATH={tmp_path / 'raw'}",
    ]
    settings = GroupSettings.from_env(
        dict(line.removeprefix("export ").split("=", 1) for line in ui_env)
    )
    assert settings.discovers_locations and not settings.has_server
    assert [(settings.location(i).name, settings.location(i).timezone) for i in (BISTRO, CAFE)] == [
        ("Smoke & Barrel Bistro", "America/Chicago"),
        ("Barrel Café", "America/Denver"),
    ]

    # The comparison is not vacuous: one lost row of one store's date is caught there only.
    warehouse = DuckDBWarehouse(path=str(tmp_path / "toast.duckdb"))
    day = next(d for d, s in truth[BISTRO].items() if s.status == "open")
    warehouse.query(
        f"DELETE FROM {warehouse.table('order_details')} WHERE location_id = '{BISTRO}' "
        f"AND business_date = DATE '{day}' AND order_id = (SELECT min(order_id) FROM "
        f"{warehouse.table('order_details')} WHERE location_id = '{BISTRO}' "
        f"AND business_date = DATE '{day}') RETURNING order_id"
    )
    results = {
        i: compare_with_truth(group.export(i), warehouse, log["dates"][i]) for i in (BISTRO, CAFE)
    }
    expected = truth[BISTRO][day].rows["order_details"]
    assert results[BISTRO].problems[0] == (
        f"{day}: order_details has {expected - 1} rows, expected {expected}"
    )
    assert results[CAFE].problems == []
    # A date inside the folders' span that the backfill did not ask for is a mismatch too.
    no_folder = next(d for d, s in truth[CAFE].items() if s.delivery == "no_folder")
    unasked = {k: v for k, v in log["dates"][CAFE].items() if k != no_folder.isoformat()}
    assert compare_with_truth(group.export(CAFE), warehouse, unasked).problems == [
        f"{no_folder}: not requested by the backfill"
    ]
