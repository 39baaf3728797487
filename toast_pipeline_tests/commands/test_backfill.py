"""The backfill command: planning, and a real Dagster asset backfill driven to the end."""

import io
import json
import os
from datetime import date, timedelta
from pathlib import Path
from unittest.mock import ANY

import dagster as dg
import pytest
from rich.console import Console

from toast_pipeline.commands.backfill import (
    BACKFILL_TAG,
    BackfillRequest,
    launch,
    location_env,
    plan_backfill,
    process_environment,
    requested_dates,
    run_backfill_command,
    workspace,
)
from toast_pipeline.commands.cli import main
from toast_pipeline.commands.instance import DAGSTER_SWITCHES, open_instance
from toast_pipeline.defs.assets import BUSINESS_DAYS_KEY, CLOSURE_CHECK
from toast_pipeline.defs.partitions import partitions_for
from toast_pipeline.resources.duckdb_warehouse import DuckDBWarehouse
from toast_pipeline.settings import GroupSettings
from toast_pipeline.toast.specs import TABLE_SPECS
from toast_pipeline_tests.conftest import GROUP_DAMAGED
from toast_pipeline_tests.warehouses import every_row

D = date.fromisoformat
DAMAGED = {"location_id": "185129", "business_date": "2024-04-07"}
GAP_BEFORE_DAMAGE = (GROUP_DAMAGED[0], GROUP_DAMAGED[1] - timedelta(days=1))


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


def test_the_options_reach_the_code_location_as_the_settings_they_stand_for():
    env = {"TOAST_BACKFILL_BATCH_SIZE": "31", "PATH": "/bin"}
    request = BackfillRequest(all_dates=True, from_archive=True, batch_size=3)
    assert location_env(request, env) == {
        "TOAST_BACKFILL_BATCH_SIZE": "3",
        "TOAST_SOURCE": "archive",
        "PATH": "/bin",
    }
    assert env == {"TOAST_BACKFILL_BATCH_SIZE": "31", "PATH": "/bin"}
    assert location_env(BackfillRequest(all_dates=True), env) == env


def test_without_a_server_the_command_says_what_to_set(tmp_path, monkeypatch, capsys):
    for name in [k for k in os.environ if k.startswith("TOAST_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    assert main(["backfill", "--all", "--dry-run"]) == 2
    out = " ".join(capsys.readouterr().out.split())
    assert "no server to read dates from: set TOAST_SFTP_HOST" in out
    monkeypatch.setenv("TOAST_SFTP_HOST", "127.0.0.1")
    assert main(["backfill", "--all", "--dry-run"]) == 2
    out = " ".join(capsys.readouterr().out.split())
    assert "TOAST_START_DATE (the first business date to load, YYYY-MM-DD) must be set" in out


@pytest.fixture
def environment(tmp_path, sample_env) -> dict[str, str]:
    """The whole environment the command is given: this process's, with the sample's settings."""
    return {**os.environ, **sample_env}


def run(request: BackfillRequest, env: dict[str, str]) -> tuple[int, str]:
    output = io.StringIO()
    untouched = dict(os.environ)
    code = run_backfill_command(request, Console(file=output, width=200), env)
    assert dict(os.environ) == untouched
    return code, output.getvalue()


def instance(env: dict[str, str]) -> dg.DagsterInstance:
    return open_instance(Path(env["DAGSTER_HOME"]))


@pytest.mark.e2e
def test_dry_run_plans_without_creating_a_backfill(environment):
    code, text = run(BackfillRequest(all_dates=True, dry_run=True, batch_size=3), environment)
    assert code == 0
    assert "1 location(s); 8 location-dates to run in 3 runs of up to 3 dates" in text
    assert "185129: 7 date folders on the server, 0 dates loaded; 8 requested" in text
    assert "8 to run in 3 runs" in text
    assert "2024-04-01 → 2024-04-03 (3 dates)" in text
    assert "1 of them have no folder on the server and will load as closures" in text
    with instance(environment) as dagster:
        assert dagster.get_backfills() == []


@pytest.mark.e2e
def test_backfill_loads_every_date_fails_the_damaged_one_alone_then_retries_it(
    environment, sample_export, monkeypatch, tmp_path
):
    log = tmp_path / "backfill_log.json"
    code, text = run(BackfillRequest(all_dates=True, batch_size=3, log_path=log), environment)
    assert code == 1, text
    outcome = json.loads(log.read_text())
    assert outcome["failed_date_list"] == [DAMAGED]
    assert outcome["locations"] == ["185129"]
    assert outcome["dates_loaded"] == 7 and outcome["closure_dates"] == 4
    damage = sample_export.day(date(2024, 4, 7))
    dates = outcome["dates"]["185129"]
    assert f"{damage.damage_file}, line {damage.damage_line}" in dates["2024-04-07"]["error"]
    assert dates["2024-04-08"]["status"] == "open"  # the damaged date's batch-mate
    assert dates["2024-04-02"] == {"status": "closed", "reason": "no_files", "rows": 0}

    with instance(environment) as dagster:
        [backfill] = dagster.get_backfills()
        assert backfill.tags[BACKFILL_TAG] == "true"
        assert backfill.status.value == "COMPLETED_FAILED"
        runs = dagster.get_runs(
            filters=dg.RunsFilter(tags={"dagster/backfill": backfill.backfill_id})
        )
        assert len(runs) == 3  # --batch-size 3 reached the backfill policy of the code server
        state = dagster.event_log_storage.get_asset_check_state(
            [(dg.AssetCheckKey(BUSINESS_DAYS_KEY, CLOSURE_CHECK), backfill_partitions())]
        )
        statuses = {
            key: status.value
            for status, subset in next(iter(state.values())).subsets.items()
            for key in subset.subset_value.get_partition_keys()
        }
    assert statuses["2024-04-04|185129"] == "SUCCEEDED"
    assert statuses["2024-04-02|185129"] == "FAILED"
    assert statuses["2024-04-08|185129"] == "SUCCEEDED"

    code, text = run(BackfillRequest(all_dates=True, dry_run=True), environment)
    assert "7 already loaded" in text and "1 to run" in text

    code, text = run(BackfillRequest(retry_failed=True, log_path=log), environment)
    assert code == 1
    assert "Retrying 1 failed location-dates of backfill" in text
    assert json.loads(log.read_text())["failed_date_list"] == [DAMAGED]

    # The README's rebuild: the same command reading the raw archive, into an empty warehouse,
    # from the command line. The server's port is closed now, so the runs succeed only if they
    # read the archive too, though nothing set TOAST_SOURCE in any environment.
    for key, value in {
        **environment,
        "TOAST_DUCKDB_PATH": str(tmp_path / "rebuilt.duckdb"),
        "TOAST_SFTP_PORT": "1",
        "TOAST_RUN_RETRIES": "0",
    }.items():
        monkeypatch.setenv(key, value)
    for switch in DAGSTER_SWITCHES:  # unset, so the command's one change shows
        monkeypatch.delenv(switch, raising=False)
    untouched = dict(os.environ)
    assert main(["backfill", "--all", "--force", "--from-archive", "--log", str(log)]) == 1
    assert dict(os.environ) == {**untouched, **DAGSTER_SWITCHES}
    assert json.loads(log.read_text())["failed_date_list"] == [DAMAGED]
    rebuilt, original = (
        DuckDBWarehouse(path=str(tmp_path / name)) for name in ("rebuilt.duckdb", "toast.duckdb")
    )
    assert every_row(rebuilt) == every_row(original)


def backfill_partitions() -> dg.MultiPartitionsDefinition:
    return partitions_for(GroupSettings(start_date=date(2024, 4, 1), locations=("185129",)))


@pytest.mark.e2e
@pytest.mark.filterwarnings("ignore:Error loading repository location")
def test_the_code_location_loads_with_the_environment_it_is_given(environment):
    broken = {**environment, "TOAST_START_DATE": "April"}
    message = "did not load: toast_pipeline: .*TOAST_START_DATE must be YYYY-MM-DD .* got 'April'"
    with (
        instance(environment) as dagster,
        process_environment(broken),
        workspace(dagster) as context,
    ):
        with pytest.raises(RuntimeError, match=message):
            launch(context, [("185129", date(2024, 4, 1))], title="never created", tags={})
        assert dagster.get_backfills() == []


def test_the_process_environment_is_the_given_one_then_the_previous_one_again(monkeypatch):
    monkeypatch.setenv("TOAST_PREVIOUS", "kept")
    previous = dict(os.environ)
    with process_environment({"TOAST_GIVEN": "1", "PATH": "/bin"}):
        assert dict(os.environ) == {"TOAST_GIVEN": "1", "PATH": "/bin"}
    assert dict(os.environ) == previous
    with pytest.raises(KeyError), process_environment({}):
        raise KeyError("an error leaves it restored too")
    assert dict(os.environ) == previous


def stored(warehouse: DuckDBWarehouse, location_id: str) -> dict:
    """Per date: data rows per table (closure markers left out) and the orders' net sales."""
    found: dict = {}
    for spec in TABLE_SPECS:
        frame = warehouse.query(
            f"SELECT business_date, count(*) AS n FROM {warehouse.table(spec.table)} "
            f"WHERE location_id = '{location_id}' AND NOT closure_indicator GROUP BY 1"
        )
        for day, n in frame.iter_rows():
            found.setdefault(day, {})[spec.table] = n
    sales = warehouse.query(
        f"SELECT business_date, sum(amount) FROM {warehouse.table('order_details')} "
        f"WHERE location_id = '{location_id}' AND NOT closure_indicator "
        "AND NOT coalesce(voided, false) GROUP BY 1"
    )
    return found, dict(sales.iter_rows())


@pytest.mark.e2e
def test_a_group_backfill_loads_every_location_exactly_and_a_damaged_date_fails_alone(
    group_env, sample_group, tmp_path
):
    """No location named: both of the group's folders are found, each loaded from its own first
    to last folder, judged against its own history; the café's damaged date fails alone."""
    log = tmp_path / "backfill_log.json"
    code, text = run(BackfillRequest(all_dates=True, batch_size=7, log_path=log), group_env)
    assert code == 1, text
    damaged_location, damaged_day = GROUP_DAMAGED
    outcome = json.loads(log.read_text())
    assert outcome["locations"] == ["185129", "185342"]
    assert outcome["failed_date_list"] == [
        {"location_id": damaged_location, "business_date": damaged_day.isoformat()}
    ]
    assert outcome["dates_requested"] == 28 and outcome["dates_loaded"] == 27
    assert outcome["delivery_gap_dates"] == 1
    assert "📍 2/2 locations" in text and "185342" in text
    warehouse = DuckDBWarehouse(path=group_env["TOAST_DUCKDB_PATH"])
    for export in sample_group.exports:
        verdicts = {
            row["business_date"]: row["status"]
            for row in warehouse.business_days(export.location_id).iter_rows(named=True)
        }
        rows, sales = stored(warehouse, export.location_id)
        for day in export.days:
            if (export.location_id, day.business_date) == GROUP_DAMAGED:
                assert day.business_date not in verdicts  # nothing of it written
                continue
            # The café's Monday before its damaged date: nothing after it is loaded yet, so its
            # missing folder may be a delivery gap rather than its weekly closure.
            gap = (export.location_id, day.business_date) == GAP_BEFORE_DAMAGE
            expected = "delivery_gap" if gap else day.status
            assert verdicts[day.business_date] == expected, (export.location_id, day)
            logged = outcome["dates"][export.location_id][day.business_date.isoformat()]
            assert logged["status"] == expected
            if day.status == "open":
                expected = {t: n for t, n in day.rows.items() if n}
                assert rows[day.business_date] == expected, (export.location_id, day)
                assert sales[day.business_date] == day.net_sales  # to the cent
    # Mondays close the bistro; Sundays and Mondays the café: learnt per location.
    assert {d.weekday() for d, s in verdicts.items() if s == "closed"} >= {6, 0}

    step_kinds = {
        dg.DagsterEventType.STEP_START,
        dg.DagsterEventType.STEP_SUCCESS,
        dg.DagsterEventType.STEP_FAILURE,
    }
    with instance(group_env) as dagster:
        [backfill] = dagster.get_backfills()
        runs = dagster.get_run_records(
            dg.RunsFilter(tags={"dagster/backfill": backfill.backfill_id})
        )
        steps = {
            r.dagster_run.run_id: [
                e.timestamp for e in dagster.all_logs(r.dagster_run.run_id, of_type=step_kinds)
            ]
            for r in runs
        }
    # Dagster's multi-run policy splits per location: 2 locations × 14 dates in runs of 7.
    spans = sorted(
        (
            r.dagster_run.tags["dagster/asset_partition_range_start"],
            min(steps[r.dagster_run.run_id]),
            max(steps[r.dagster_run.run_id]),
        )
        for r in runs
    )
    assert len(spans) == 4
    assert {s[0].split("|")[1] for s in spans} == {"185129", "185342"}
    # On DuckDB the writer pool lets one run's step (where the file is open) in at a time, though
    # two runs may run at once. Dagster frees the slot as a step ends, so the next run may start
    # while the last one is still finishing: the steps are what must not overlap.
    windows = sorted((start, end) for _, start, end in spans)
    assert all(later[0] >= earlier[1] for earlier, later in zip(windows, windows[1:])), windows

    code, text = run(
        BackfillRequest(all_dates=True, locations=("185129",), dry_run=True), group_env
    )
    assert code == 0
    assert "1 location(s); 0 location-dates to run" in text
    assert "185342" not in text

    code, text = run(BackfillRequest(retry_failed=True, log_path=log), group_env)
    assert "Retrying 1 failed location-dates of backfill" in text
    retried = json.loads(log.read_text())
    assert retried["dates"] == {damaged_location: {damaged_day.isoformat(): ANY}}
    assert retried["failed_date_list"] == outcome["failed_date_list"]  # still damaged
