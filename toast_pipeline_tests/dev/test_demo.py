import io
import shutil
from datetime import date
from pathlib import Path

import pytest
from rich.console import Console

from toast_pipeline_dev.demo import DemoOptions, run_demo
from toast_pipeline_dev.sample import SampleExport

pytestmark = pytest.mark.e2e


def test_demo_backfills_every_date_and_matches_the_ground_truth(tmp_path, monkeypatch):
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(Path(__file__).parents[2] / "dagster_home" / "dagster.yaml", home)
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    output = io.StringIO()
    options = DemoOptions(data_dir=tmp_path, start=date(2024, 3, 1), days=12, orders_per_day=15)
    assert run_demo(options, Console(file=output, width=200)) == 0
    text = output.getvalue()
    export = SampleExport.read_manifest(tmp_path / "demo" / "manifest.json")
    closed = [d for d in export.days if d.status == "closed"]
    assert closed, "the demo export should have closed days"
    assert (
        f"11 of 12 dates loaded ({11 - len(closed)} open, {len(closed)} closed), 1 failed" in text
    )
    assert "│ 2024-03-10 │ 185129/20240310/OrderDetails.csv" in text
    assert "unterminated quoted field" in text
    assert "✓ The warehouse matches the generator's ground truth" in text
    assert (tmp_path / "toast.duckdb").exists()
    assert (tmp_path / "demo" / "backfill_log.json").exists()
    # What `make ui` sources so the UI shows the demo's location without a server configured.
    ui_env = (tmp_path / "demo" / "location.env").read_text().splitlines()
    assert "export TOAST_LOCATION_ID=185129" in ui_env
    assert "export TOAST_START_DATE=2024-03-01" in ui_env
    assert f"export TOAST_DUCKDB_PATH={tmp_path / 'toast.duckdb'}" in ui_env
