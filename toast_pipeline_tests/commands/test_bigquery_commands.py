"""The commands people run, with TOAST_WAREHOUSE=bigquery against the local emulator."""

import os
import shutil
import subprocess
import sys
import uuid
from datetime import date
from pathlib import Path

import pytest

from toast_pipeline.resources.bigquery_warehouse import BigQueryWarehouse
from toast_pipeline_dev.__main__ import parser
from toast_pipeline_dev.sample import SampleGroup
from toast_pipeline_tests.helpers import materialize_from_the_command_line
from toast_pipeline_tests.warehouses import REPO


@pytest.mark.e2e
def test_the_demo_loads_into_bigquery_on_its_own_emulator(tmp_path):
    """`make demo-bigquery`: the demo proper runs in a child process given the emulator's
    environment, so it is run here as a user runs it."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO / "dagster_home" / "dagster.yaml", home)
    venv = Path(os.environ.get("BIGQUERY_EMULATOR_VENV", REPO / ".bigquery-emulator"))
    command = [sys.executable, "-m", "toast_pipeline_dev", "demo", "--bigquery-emulator", str(venv)]
    command += ["--data-dir", str(tmp_path), "--start", "2024-03-01", "--days", "6"]
    command += ["--orders-per-day", "15"]
    untouched = dict(os.environ)
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        env={**os.environ, "DAGSTER_HOME": str(home), "COLUMNS": "200"},
        cwd=REPO,
        timeout=600,
    )
    assert dict(os.environ) == untouched
    text = result.stdout
    assert result.returncode == 0, text[-3000:] + result.stderr[-3000:]
    group = SampleGroup.read_manifest(tmp_path / "demo" / "manifest.json")
    closed = [d for export in group.exports for d in export.days if d.status == "closed"]
    assert (
        f"11 of 12 dates loaded ({11 - len(closed)} open, {len(closed)} closed), 1 failed" in text
    )
    [damaged] = [d for d in group.export("185342").days if d.damage]
    folder = f"185342/{damaged.folder_name}/{damaged.damage_file}"
    assert f"│ Barrel Café (185342) │ {damaged.business_date} │ {folder}" in text
    joined = " ".join(text.split())
    assert "✓ The warehouse matches the generator's ground truth in every location" in joined
    assert "Warehouse: BigQuery dataset local-project.toast" in text
    assert not (tmp_path / "toast.duckdb").exists()


@pytest.mark.e2e
def test_one_date_materializes_into_bigquery_from_the_dagster_command_line(
    tmp_path, sample_export, sample_env, bigquery_emulator
):
    dataset = f"cli_{uuid.uuid4().hex[:8]}"
    env = {**os.environ, **sample_env, **bigquery_emulator.warehouse_env(dataset)}
    result = materialize_from_the_command_line(date(2024, 4, 4), env, tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    truth = next(d for d in sample_export.days if d.business_date.isoformat() == "2024-04-04")
    warehouse = BigQueryWarehouse(project=bigquery_emulator.project, dataset=dataset)
    assert (
        warehouse.row_counts(sample_export.location_id)["order_details"]
        == truth.rows["order_details"]
    )
    assert warehouse.business_days(sample_export.location_id).get_column("status").to_list() == [
        "open"
    ]


def test_the_demo_option_defaults_to_the_venv_the_script_builds():
    assert parser().parse_args(["demo"]).bigquery_emulator is None
    args = parser().parse_args(["demo", "--bigquery-emulator"])
    assert args.bigquery_emulator == Path(".bigquery-emulator")
