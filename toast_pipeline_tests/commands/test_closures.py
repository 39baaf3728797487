"""`toast-pipeline closures`: every loaded location of the group, then the group, from DuckDB."""

import os
from datetime import UTC, date, datetime, timedelta

import pytest

from toast_pipeline.commands.cli import main
from toast_pipeline.resources.duckdb_warehouse import DuckDBWarehouse
from toast_pipeline.toast.daily_load import build_day_load

START = date(2024, 4, 1)  # a Monday


def load(warehouse: DuckDBWarehouse, location_id: str, closed: set[int]) -> None:
    """A week of dates: 12 orders on open days, nothing delivered on the weekdays in `closed`."""
    for offset in range(7):
        day = START + timedelta(days=offset)
        if day.weekday() in closed:
            files: dict[str, bytes] = {}
        else:
            rows = "".join(f"{day:%Y%m%d}{i},{i}.25,false\n" for i in range(12))
            files = {"OrderDetails.csv": ("Order Id,Amount,Voided\n" + rows).encode()}
            files |= {
                n: b""
                for n in ("CheckDetails.csv", "PaymentDetails.csv", "ItemSelectionDetails.csv")
            }
        day_load = build_day_load(
            location_id, day, files, loaded_at=datetime.now(UTC), timezone="America/Chicago"
        )
        warehouse.replace_date(location_id, day, day_load.tables)


@pytest.fixture
def group_warehouse(tmp_path, monkeypatch) -> DuckDBWarehouse:
    for name in [k for k in os.environ if k.startswith("TOAST_")]:
        monkeypatch.delenv(name)
    path = tmp_path / "toast.duckdb"
    warehouse = DuckDBWarehouse(path=str(path))
    load(warehouse, "185129", closed={0})
    load(warehouse, "185342", closed={0, 6})
    names = tmp_path / "locations.toml"
    names.write_text('[locations."185342"]\nname = "Barrel Café"\n', encoding="utf-8")
    monkeypatch.setenv("TOAST_DUCKDB_PATH", str(path))
    monkeypatch.setenv("TOAST_LOCATIONS_FILE", str(names))
    monkeypatch.setenv("TOAST_HOLIDAY_COUNTRY", "none")
    return warehouse


def test_every_loaded_location_is_reported_then_the_group(group_warehouse, capsys):
    assert main(["closures"]) == 0
    out = capsys.readouterr().out
    assert out.index("location 185129") < out.index("location Barrel Café (185342)")
    assert "Total closure dates detected: 1 of 7 dates loaded" in out
    assert "Total closure dates detected: 2 of 7 dates loaded" in out
    group = out[out.index("THE GROUP") :]
    assert "• 185129: 1 of 7 dates closed (mostly no_files)" in group
    assert "• Barrel Café (185342): 2 of 7 dates closed (mostly no_files)" in group
    assert "• group: 3 of 14 dates closed" in group


def test_one_location_is_reported_alone(group_warehouse, capsys):
    assert main(["closures", "--location", "185342"]) == 0
    out = capsys.readouterr().out
    assert "Barrel Café (185342)" in out and "185129" not in out and "THE GROUP" not in out


def test_a_location_with_nothing_loaded_says_so(group_warehouse, capsys):
    assert main(["closures", "--location", "999"]) == 1
    assert "No dates of location 999 are loaded yet." in capsys.readouterr().out


def test_listed_locations_leave_out_the_others(group_warehouse, capsys, monkeypatch):
    monkeypatch.setenv("TOAST_LOCATIONS", "185342")
    assert main(["closures"]) == 0
    out = capsys.readouterr().out
    assert "185342" in out and "185129" not in out
