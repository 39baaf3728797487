"""The backfill command: planning, and a real Dagster asset backfill driven to the end."""

import io
import json
from datetime import date

import dagster as dg
import pytest
from rich.console import Console

from toast_pipeline.commands.backfill import (
    BACKFILL_TAG,
    BackfillRequest,
    plan_backfill,
    requested_dates,
    run_backfill_command,
)
from toast_pipeline.commands.cli import main
from toast_pipeline.defs.assets import BUSINESS_DAYS_KEY, CLOSURE_CHECK
from toast_pipeline.resources.duckdb_warehouse import DuckDBWarehouse
from toast_pipeline_tests.warehouses import every_row

D = date.fromisoformat


def test_loaded_dates_are_skipped_unless_forced():
    days = [D("2024-04-01"), D("2024-04-02"), D("2024-04-03")]
    plan = plan_backfill(days, on_server=days, loaded={D("2024-04-02")}, force=False, batch_size=31)
    assert plan.to_run == [D("2024-04-01"), D("2024-04-03")]
    assert plan.skipped == [D("2024-04-02")]
    forced = plan_backfill(
        days, on_server=days, loaded={D("2024-04-02")}, force=True, batch_size=31
    )
    assert forced.to_run == days


def test_batches_are_contiguous_and_capped():
    days = [D(f"2024-04-0{i}") for i in (1, 2, 3, 4, 5, 7, 8)]
    plan = plan_backfill(days, on_server=days, loaded=set(), force=False, batch_size=2)
    assert plan.batches == [
        [D("2024-04-01"), D("2024-04-02")],
        [D("2024-04-03"), D("2024-04-04")],
        [D("2024-04-05")],
        [D("2024-04-07"), D("2024-04-08")],
    ]


def test_all_spans_the_first_to_the_last_folder_gaps_included():
    on_server = [D("2024-04-01"), D("2024-04-04")]
    assert requested_dates(BackfillRequest(all_dates=True), on_server) == [
        D("2024-04-01"),
        D("2024-04-02"),
        D("2024-04-03"),
        D("2024-04-04"),
    ]
    assert requested_dates(BackfillRequest(all_dates=True), []) == []


def test_a_reversed_range_is_refused():
    with pytest.raises(ValueError, match="before --start-date"):
        requested_dates(BackfillRequest(start=D("2024-04-05"), end=D("2024-04-01")), [])


@pytest.fixture
def environment(tmp_path, monkeypatch, sample_env):
    for key, value in sample_env.items():
        monkeypatch.setenv(key, value)
    return tmp_path


def run(request: BackfillRequest) -> tuple[int, str]:
    output = io.StringIO()
    code = run_backfill_command(request, Console(file=output, width=200))
    return code, output.getvalue()


def test_dry_run_plans_without_creating_a_backfill(environment):
    code, text = run(BackfillRequest(all_dates=True, dry_run=True, batch_size=3))
    assert code == 0
    assert "7 date folders on the server, 0 dates loaded; 8 requested" in text
    assert "8 to run in 3 runs of up to 3 dates" in text
    assert "2024-04-01 → 2024-04-03 (3 dates)" in text
    assert "1 of them have no folder on the server and will load as closures" in text
    with dg.DagsterInstance.get() as instance:
        assert instance.get_backfills() == []


def test_backfill_loads_every_date_fails_the_damaged_one_alone_then_retries_it(
    environment, sample_export, monkeypatch
):
    log = environment / "backfill_log.json"
    code, text = run(BackfillRequest(all_dates=True, batch_size=3, log_path=log))
    assert code == 1, text
    outcome = json.loads(log.read_text())
    assert outcome["failed_date_list"] == ["2024-04-07"]
    assert outcome["dates_loaded"] == 7 and outcome["closure_dates"] == 4
    damage = sample_export.day(date(2024, 4, 7))
    assert (
        f"{damage.damage_file}, line {damage.damage_line}"
        in outcome["dates"]["2024-04-07"]["error"]
    )
    assert outcome["dates"]["2024-04-08"]["status"] == "open"  # the damaged date's batch-mate
    assert outcome["dates"]["2024-04-02"] == {"status": "closed", "reason": "no_files", "rows": 0}

    with dg.DagsterInstance.get() as instance:
        [backfill] = instance.get_backfills()
        assert backfill.tags[BACKFILL_TAG] == "true"
        assert backfill.status.value == "COMPLETED_FAILED"
        runs = instance.get_runs(
            filters=dg.RunsFilter(tags={"dagster/backfill": backfill.backfill_id})
        )
        assert len(runs) == 3
        state = instance.event_log_storage.get_asset_check_state(
            [(dg.AssetCheckKey(BUSINESS_DAYS_KEY, CLOSURE_CHECK), backfill_partitions())]
        )
        statuses = {
            key: status.value
            for status, subset in next(iter(state.values())).subsets.items()
            for key in subset.subset_value.get_partition_keys()
        }
    assert statuses["2024-04-04"] == "SUCCEEDED" and statuses["2024-04-02"] == "FAILED"
    assert statuses["2024-04-08"] == "SUCCEEDED"

    code, text = run(BackfillRequest(all_dates=True, dry_run=True))
    assert "7 already loaded" in text and "1 to run" in text

    code, text = run(BackfillRequest(retry_failed=True, log_path=log))
    assert code == 1
    assert "Retrying 1 failed dates of backfill" in text
    assert json.loads(log.read_text())["failed_date_list"] == ["2024-04-07"]

    # The README's rebuild: the same command reading the raw archive, into an empty warehouse.
    monkeypatch.setenv("TOAST_SOURCE", "sftp")  # restored after the test; the command changes it
    monkeypatch.setenv("TOAST_DUCKDB_PATH", str(environment / "rebuilt.duckdb"))
    assert main(["backfill", "--all", "--force", "--from-archive", "--log", str(log)]) == 1
    assert json.loads(log.read_text())["failed_date_list"] == ["2024-04-07"]
    rebuilt, original = (
        DuckDBWarehouse(path=str(environment / name)) for name in ("rebuilt.duckdb", "toast.duckdb")
    )
    assert every_row(rebuilt) == every_row(original)


def backfill_partitions() -> dg.DailyPartitionsDefinition:
    return dg.DailyPartitionsDefinition(start_date="2024-04-01", timezone="America/Chicago")
