"""The code location end to end: loopback SFTP server -> Dagster run -> each warehouse."""

import hashlib
import shutil
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

import dagster as dg
import pytest

from toast_pipeline.definitions import DAILY_JOB, build_definitions
from toast_pipeline.defs.assets import (
    BUSINESS_DAYS_KEY,
    CLOSURE_CHECK,
    asset_key,
    build_toast_assets,
    describe,
)
from toast_pipeline.defs.partitions import partitions_for
from toast_pipeline.resources.archive import ArchiveExportSource
from toast_pipeline.resources.duckdb_warehouse import DuckDBWarehouse
from toast_pipeline.resources.warehouse import Warehouse
from toast_pipeline.settings import GroupSettings
from toast_pipeline.toast.baselines import (
    ClosureRules,
    judge_dates,
    public_holidays,
    summaries_from_business_days,
)
from toast_pipeline.toast.closures import ClosureReason, Verdict
from toast_pipeline.toast.specs import TABLE_SPECS
from toast_pipeline_dev.sample import (
    LEAN_ACCOUNT_FILES,
    SampleExport,
    SampleGroup,
    generate_export,
)
from toast_pipeline_tests.conftest import GROUP_DAMAGED
from toast_pipeline_tests.helpers import expected_rows, real_rows, run_dates, truth
from toast_pipeline_tests.warehouses import every_row

LOCATION = "185129"
START = date(2024, 4, 1)
DAMAGED = date(2024, 4, 7)
CHECK_KEY = dg.AssetCheckKey(BUSINESS_DAYS_KEY, CLOSURE_CHECK)
SETTINGS = GroupSettings(locations=(LOCATION,), start_date=START, timezone="America/Chicago")

pytestmark = pytest.mark.e2e


@pytest.fixture
def export(sample_export) -> SampleExport:
    return sample_export


@pytest.fixture
def server(sample_server):
    return sample_server


@pytest.fixture
def instance():
    with dg.instance_for_test() as instance:
        yield instance


@pytest.fixture
def job(server, sftp_source_factory, archive, warehouse) -> dg.JobDefinition:
    definitions = build_definitions(
        SETTINGS, source=sftp_source_factory(server), archive=archive, warehouse=warehouse
    )
    return definitions.resolve_job_def(DAILY_JOB)


def marker_reasons(warehouse: Warehouse, day: date) -> dict[str, str]:
    reasons = {}
    for spec in TABLE_SPECS:
        frame = warehouse.query(
            f"SELECT closure_reason FROM {warehouse.table(spec.table)} "
            f"WHERE business_date = DATE '{day}' AND closure_indicator"
        )
        if frame.height:
            assert frame.height == 1, spec.table
            reasons[spec.table] = frame.item()
    return reasons


def net_sales(warehouse: Warehouse, day: date) -> Decimal:
    return warehouse.query(
        f"SELECT coalesce(sum(amount), 0) FROM {warehouse.table('order_details')} "
        f"WHERE business_date = DATE '{day}' AND NOT closure_indicator AND NOT coalesce(voided, false)"
    ).item()


def check_statuses(
    instance: dg.DagsterInstance, settings: GroupSettings = SETTINGS
) -> dict[str, str]:
    """Per location-date check status exactly as the UI resolves it from the instance."""
    state = instance.event_log_storage.get_asset_check_state(
        [(CHECK_KEY, partitions_for(settings))]
    )[CHECK_KEY]
    return {
        partition: status.value
        for status, subset in state.subsets.items()
        for partition in subset.subset_value.get_partition_keys()
    }


def test_an_open_date_loads_exactly_with_a_passing_check(export, job, instance, warehouse):
    day = date(2024, 4, 4)
    result = run_dates(job, instance, day)
    assert result.success
    assert real_rows(warehouse, day) == expected_rows(export, day)
    assert net_sales(warehouse, day) == truth(export, day).net_sales
    assert marker_reasons(warehouse, day) == {}
    assert check_statuses(instance) == {"2024-04-04|185129": "SUCCEEDED"}
    [evaluation] = result.get_asset_check_evaluations()
    assert evaluation.passed and evaluation.partition == "2024-04-04|185129"
    assert evaluation.metadata["net_sales"].value == str(truth(export, day).net_sales)


def test_materializations_carry_rows_and_checksummed_sources_the_assets_their_schema(
    export, job, instance
):
    """The column schema is the asset's, declared once; each date's materialization would repeat
    it (serialising it cost about a tenth of a date's load)."""
    day = date(2024, 4, 4)
    result = run_dates(job, instance, day)
    materializations = {
        m.asset_key: m for m in result.asset_materializations_for_node("toast_export")
    }
    assert set(materializations) == {asset_key(s.table) for s in TABLE_SPECS} | {BUSINESS_DAYS_KEY}
    orders = materializations[asset_key("order_details")]
    assert orders.partition == "2024-04-04|185129"
    assert orders.metadata["dagster/row_count"].value == truth(export, day).rows["order_details"]
    assert "dagster/column_schema" not in orders.metadata
    declared = build_toast_assets(SETTINGS, partitions_for(SETTINGS)).metadata_by_key
    schema = declared[asset_key("order_details")]["dagster/column_schema"]
    columns = [c.name for c in schema.columns]
    assert (
        columns[:3] == ["location", "order_id", "order_number"] and "closure_indicator" in columns
    )
    [source] = orders.metadata["source_files"].value
    data = (export.root / LOCATION / "20240404" / "OrderDetails.csv").read_bytes()
    assert source == {
        "path": "185129/20240404/OrderDetails.csv",
        "size_bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }


@pytest.mark.parametrize(
    ("day", "reason"),
    [
        (date(2024, 4, 3), "low_activity"),
        (date(2024, 4, 5), "low_activity"),
        (date(2024, 4, 6), "insufficient_files"),
    ],
    ids=["header_only", "stray_rows", "few_files"],
)
def test_closed_dates_are_flagged_with_their_real_rows_kept(
    export, job, instance, warehouse, day, reason
):
    result = run_dates(job, instance, day)
    assert result.success
    rows = real_rows(warehouse, day)
    assert rows == expected_rows(export, day)
    assert marker_reasons(warehouse, day) == {t: reason for t, n in rows.items() if n == 0}
    assert check_statuses(instance) == {f"{day.isoformat()}|185129": "FAILED"}
    [evaluation] = result.get_asset_check_evaluations()
    assert evaluation.severity == dg.AssetCheckSeverity.WARN
    assert evaluation.metadata["reason"].value == reason
    business_day = warehouse.business_days(LOCATION).row(0, named=True)
    assert (business_day["status"], business_day["closure_reason"]) == ("closed", reason)


def test_a_missing_folder_is_a_delivery_gap_until_the_day_after_is_delivered(
    job, instance, warehouse
):
    missing = date(2024, 4, 2)
    alone = run_dates(job, instance, missing)
    assert alone.success
    [gap] = alone.get_asset_check_evaluations()
    assert (gap.metadata["reason"].value, gap.severity) == (
        "delivery_gap",
        dg.AssetCheckSeverity.ERROR,
    )
    assert (
        marker_reasons(warehouse, missing) == {}
    )  # no closure rows over a day that may have had sales
    assert warehouse.business_days(LOCATION).select("status", "closure_reason").row(0) == (
        "delivery_gap",
        "delivery_gap",
    )

    after = run_dates(job, instance, date(2024, 4, 3))
    assert after.success
    evaluations = {e.partition: e for e in after.get_asset_check_evaluations()}
    rejudged = evaluations["2024-04-02|185129"]
    assert (rejudged.metadata["reason"].value, rejudged.severity) == (
        "no_files",
        dg.AssetCheckSeverity.WARN,
    )
    assert "the export delivered 2024-04-03" in rejudged.metadata["explanation"].value
    assert marker_reasons(warehouse, missing) == {spec.table: "no_files" for spec in TABLE_SPECS}
    assert check_statuses(instance) == {
        "2024-04-02|185129": "FAILED",
        "2024-04-03|185129": "FAILED",
    }
    rows = (
        warehouse.business_days(LOCATION).select("business_date", "status", "closure_reason").rows()
    )
    assert rows == [(missing, "closed", "no_files"), (date(2024, 4, 3), "closed", "low_activity")]


def test_rerunning_a_date_never_duplicates(export, job, instance, warehouse):
    day = date(2024, 4, 5)
    for _ in range(2):
        assert run_dates(job, instance, day).success
    assert real_rows(warehouse, day) == expected_rows(export, day)
    assert warehouse.row_counts(LOCATION)["business_days"] == 1


def test_a_damaged_date_fails_alone_and_its_batch_mates_load(export, job, instance, warehouse):
    result = run_dates(job, instance, date(2024, 4, 6), date(2024, 4, 8))
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    damage = truth(export, DAMAGED)
    message = failure.step_failure_data.user_failure_data.description
    assert (
        f"2024-04-07|185129 not loaded: 185129/20240407/{damage.damage_file}, line {damage.damage_line}"
        in message
    )
    assert f"column {damage.damage_column!r}" in message
    failed = failure.step_failure_data.user_failure_data.metadata["failed_dates"].value
    assert list(failed) == ["2024-04-07|185129"]
    assert sum(real_rows(warehouse, DAMAGED).values()) == 0
    assert marker_reasons(warehouse, DAMAGED) == {}
    loaded = warehouse.business_days(LOCATION).get_column("business_date").to_list()
    assert loaded == [date(2024, 4, 6), date(2024, 4, 8)]
    assert real_rows(warehouse, date(2024, 4, 8)) == expected_rows(export, date(2024, 4, 8))
    assert check_statuses(instance) == {
        "2024-04-06|185129": "FAILED",
        "2024-04-07|185129": "EXECUTION_FAILED",
        "2024-04-08|185129": "SUCCEEDED",
    }


def test_a_ranged_run_records_a_check_result_for_every_date(export, job, instance):
    result = run_dates(job, instance, date(2024, 4, 1), date(2024, 4, 5))
    assert result.success
    assert check_statuses(instance) == {
        "2024-04-01|185129": "SUCCEEDED",
        "2024-04-02|185129": "FAILED",
        "2024-04-03|185129": "FAILED",
        "2024-04-04|185129": "SUCCEEDED",
        "2024-04-05|185129": "FAILED",
    }
    materialized = instance.get_materialized_partitions(asset_key("order_details"))
    assert materialized == {f"2024-04-0{i}|185129" for i in range(1, 6)}


def test_a_subset_run_writes_only_the_selected_table(
    export, server, sftp_source_factory, archive, warehouse, instance
):
    settings = GroupSettings(locations=(LOCATION,), start_date=START)
    result = dg.materialize(
        [build_toast_assets(settings, partitions_for(settings))],
        selection=[asset_key("order_details")],
        partition_key="2024-04-04|185129",
        instance=instance,
        resources={
            "source": sftp_source_factory(server),
            "archive": archive,
            "warehouse": warehouse,
        },
    )
    assert result.success
    counts = warehouse.row_counts(LOCATION)
    assert counts["order_details"] == truth(export, date(2024, 4, 4)).rows["order_details"]
    assert counts["business_days"] == 0 and counts["payment_details"] == 0


# -- the raw archive ---------------------------------------------------------------------------


@pytest.fixture
def own_server(export, sftp_server_factory, tmp_path):
    """The sample export on a server of the test's own, so the test may delete folders."""
    root = tmp_path / "export"
    shutil.copytree(export.root, root, symlinks=True)
    return root, sftp_server_factory(root)


def duckdb_job(source, archive, path) -> tuple[dg.JobDefinition, DuckDBWarehouse]:
    warehouse = DuckDBWarehouse(path=str(path))
    definitions = build_definitions(SETTINGS, source=source, archive=archive, warehouse=warehouse)
    return definitions.resolve_job_def(DAILY_JOB), warehouse


def test_files_are_archived_before_parsing_even_when_the_date_fails(export, job, instance, archive):
    assert not run_dates(job, instance, DAMAGED).success
    kept = archive.latest(LOCATION, DAMAGED)
    folder = export.root / LOCATION / DAMAGED.strftime("%Y%m%d")
    assert {f.name: f.sha256 for f in kept.files} == {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in folder.iterdir()
        if path.name in {spec.file_name for spec in TABLE_SPECS}
    }


def test_a_folder_gone_from_the_server_is_loaded_from_the_archive(
    own_server, sftp_source_factory, archive, tmp_path
):
    root, server = own_server
    job, warehouse = duckdb_job(sftp_source_factory(server), archive, tmp_path / "w.duckdb")
    day = date(2024, 4, 4)
    with dg.DagsterInstance.ephemeral() as instance:
        assert run_dates(job, instance, day).success
        before = every_row(warehouse)
        shutil.rmtree(root / LOCATION / day.strftime("%Y%m%d"))  # Toast's retention ran
        assert run_dates(job, instance, day).success
    assert every_row(warehouse) == before
    assert marker_reasons(warehouse, day) == {}


def test_the_warehouse_rebuilt_from_the_archive_alone_is_identical(
    export, own_server, sftp_source_factory, archive, tmp_path
):
    root, server = own_server
    last = export.days[-1].business_date
    loaded, original = duckdb_job(
        sftp_source_factory(server), archive, tmp_path / "original.duckdb"
    )
    with dg.DagsterInstance.ephemeral() as instance:
        assert not run_dates(loaded, instance, START, last).success  # the damaged date fails
    shutil.rmtree(root)  # the server's copy is gone: only the archive is left

    rebuilt_job, rebuilt = duckdb_job(
        ArchiveExportSource(archive=archive), archive, tmp_path / "rebuilt.duckdb"
    )
    with dg.DagsterInstance.ephemeral() as instance:
        assert not run_dates(rebuilt_job, instance, START, last).success
    assert every_row(rebuilt) == every_row(original)
    assert sum(len(rows) for rows in every_row(original).values()) > 500


def test_an_account_without_three_of_the_files_loads_every_day_without_calling_them_missing(
    tmp_path, sftp_server_factory, sftp_source_factory, archive
):
    """A real account never receives CheckDetails, CashEntries or KitchenTimings: its open days are
    open, its header-only closed day is closed for its activity, never for missing files."""
    closed = date(2024, 4, 9)
    lean = generate_export(
        tmp_path / "lean",
        location_id=LOCATION,
        start=START,
        days=10,
        seed=5,
        orders_per_day=30,
        holiday_country=None,
        random_closure_rate=0.0,
        account_files=LEAN_ACCOUNT_FILES,
        closure_deliveries={closed: "header_only"},
    )
    job, warehouse = duckdb_job(
        sftp_source_factory(sftp_server_factory(lean.root)), archive, tmp_path / "w.duckdb"
    )
    with dg.DagsterInstance.ephemeral() as instance:
        result = run_dates(job, instance, START, lean.days[-1].business_date)
    assert result.success
    verdicts = dict(
        warehouse.query(
            f"SELECT business_date, coalesce(closure_reason, status) FROM {warehouse.table('business_days')}"
        ).rows()
    )
    assert verdicts == {
        d.business_date: "low_activity" if d.business_date == closed else "open" for d in lean.days
    }
    evaluations = {e.partition: e for e in result.get_asset_check_evaluations() if e.partition}
    lean_tables = sorted(s.table for s in TABLE_SPECS if s.file_name in LEAN_ACCOUNT_FILES)
    assert (
        evaluations[f"{closed.isoformat()}|185129"].metadata["expected_files"].value == lean_tables
    )
    assert evaluations["2024-04-01|185129"].metadata["expected_files"].value == sorted(
        s.table for s in TABLE_SPECS
    )
    for day in lean.days:
        assert real_rows(warehouse, day.business_date) == expected_rows(lean, day.business_date)


# -- a restaurant group ------------------------------------------------------------------------

BISTRO, CAFE = "185129", "185342"
GROUP_SETTINGS = GroupSettings(
    locations=(BISTRO, CAFE),
    start_date=START,
    timezone="America/Chicago",
    overrides={CAFE: {"timezone": "America/Denver"}},
)


def rows_by_location_date(warehouse: Warehouse) -> dict[tuple[str, str, date], int]:
    """Real rows (closure markers left out) per table, location and date."""
    counts = {}
    for spec in TABLE_SPECS:
        frame = warehouse.query(
            f"SELECT location_id, business_date, count(*) FROM {warehouse.table(spec.table)} "
            "WHERE NOT closure_indicator GROUP BY location_id, business_date"
        )
        counts |= {(spec.table, loc, day): n for loc, day, n in frame.rows()}
    return counts


def test_a_ranged_run_over_two_locations_loads_and_judges_each_location_on_its_own(
    sample_group: SampleGroup, group_server, sftp_source_factory, archive, instance, tmp_path
):
    """One run over 2024-04-02..10 of both stores: every location-date is its own partition, judged
    against its own store's history only; the café's damaged 04-09 fails alone, the bistro's
    04-09 loads. DuckDB only: both warehouses scope writes and reads by location the same way."""
    warehouse = DuckDBWarehouse(path=str(tmp_path / "group.duckdb"))
    job = build_definitions(
        GROUP_SETTINGS,
        source=sftp_source_factory(group_server),
        archive=archive,
        warehouse=warehouse,
    ).resolve_job_def(DAILY_JOB)
    result = job.execute_in_process(
        tags={
            "dagster/asset_partition_range_start": "2024-04-02|185129",
            "dagster/asset_partition_range_end": "2024-04-10|185342",
        },
        instance=instance,
        raise_on_error=False,
    )
    dates = [date(2024, 4, 2) + timedelta(days=i) for i in range(9)]
    keys = {f"{d.isoformat()}|{loc}": (loc, d) for loc in (BISTRO, CAFE) for d in dates}
    damaged_key = f"{GROUP_DAMAGED[1].isoformat()}|{GROUP_DAMAGED[0]}"
    assert damaged_key == "2024-04-09|185342"
    loaded = {k: v for k, v in keys.items() if k != damaged_key}

    # The café's damaged date is the run's only failure; nothing of it is stored.
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure).step_failure_data
    assert list(failure.user_failure_data.metadata["failed_dates"].value) == [damaged_key]
    damage = sample_group.export(CAFE).day(GROUP_DAMAGED[1])
    assert (
        f"2024-04-09|185342 not loaded: 185342/20240409/{damage.damage_file}, "
        f"line {damage.damage_line}" in failure.user_failure_data.description
    )

    # Each loaded location-date: one materialization per table, with that store's own rows.
    materializations = result.asset_materializations_for_node("toast_export")
    for spec in TABLE_SPECS:
        counted = {
            m.partition: m.metadata["dagster/row_count"].value
            for m in materializations
            if m.asset_key == asset_key(spec.table)
        }
        assert counted == {
            k: sample_group.export(loc).day(d).rows.get(spec.table, 0)
            for k, (loc, d) in loaded.items()
        }, spec.table
        assert Counter(
            m.partition for m in materializations if m.asset_key == asset_key(spec.table)
        ) == dict.fromkeys(loaded, 1)
    assert {m.partition for m in materializations if m.asset_key == BUSINESS_DAYS_KEY} == set(
        loaded
    )
    stored_rows = rows_by_location_date(warehouse)
    assert stored_rows == {
        (table, loc, d): n
        for loc, d in loaded.values()
        for table, n in sample_group.export(loc).day(d).rows.items()
        if n
    }
    assert {loc for _, loc, d in stored_rows if d == GROUP_DAMAGED[1]} == {BISTRO}

    # Each location's verdicts: exactly the learnt rules over its own stored facts.
    calendar = public_holidays("US")
    verdicts, explanations = {}, {}
    for loc in (BISTRO, CAFE):
        days = warehouse.business_days(loc)
        assert set(days.get_column("location_id")) == {loc}
        own = [d for other, d in loaded.values() if other == loc]
        assert days.get_column("business_date").to_list() == own
        expected = judge_dates(own, summaries_from_business_days(days), ClosureRules(), calendar)
        assert days.select("business_date", "status", "closure_reason", "explanation").rows() == [
            (d, v.status, None if v.reason is None else str(v.reason), v.explanation)
            for d, v in expected.items()
        ]
        for d, v in expected.items():
            key = f"{d.isoformat()}|{loc}"
            verdicts[key] = v.status if v.reason is None else str(v.reason)
            explanations[key] = v.explanation
    assert verdicts == {
        **dict.fromkeys(loaded, "open"),
        "2024-04-08|185129": "insufficient_files",  # the bistro's weekly Monday, few files
        "2024-04-07|185342": "insufficient_files",  # the café's Sunday, few files
        # No folder, and the day after it (the damaged date) was never stored.
        "2024-04-08|185342": "delivery_gap",
    }

    # One check result per location-date, keyed by it, with its own store's numbers; the first
    # (as the date was written) already judged against its own store's dates before it.
    evaluations = result.get_asset_check_evaluations()
    first = {}
    for evaluation in evaluations:
        first.setdefault(evaluation.partition, evaluation)
    latest = {e.partition: e for e in evaluations}
    assert set(first) == set(latest) == set(loaded)
    for k, (loc, d) in loaded.items():
        for evaluation in (first[k], latest[k]):
            assert evaluation.metadata["reason"].value == verdicts[k], k
            assert evaluation.metadata["orders"].value == sample_group.export(loc).day(d).orders
        if verdicts[k] == "open":
            assert first[k].metadata["explanation"].value == explanations[k], k
    # The café's lean file set is learnt from the café's deliveries alone.
    assert latest["2024-04-10|185342"].metadata["expected_files"].value == sorted(
        s.table for s in TABLE_SPECS if s.file_name in LEAN_ACCOUNT_FILES
    )
    assert latest["2024-04-10|185129"].metadata["expected_files"].value == sorted(
        s.table for s in TABLE_SPECS
    )
    assert check_statuses(instance, GROUP_SETTINGS) == {
        **{k: "SUCCEEDED" if verdicts[k] == "open" else "FAILED" for k in loaded},
        damaged_key: "EXECUTION_FAILED",
    }


@pytest.mark.parametrize(
    ("reason", "explanation", "description"),
    [
        (None, "open: 24 orders", "open: 24 orders"),
        (ClosureReason.NO_FILES, "closed: no Toast files", "closed: no Toast files"),
        (ClosureReason.LOW_SALES, "net sales 12.00 below 50", "closed: net sales 12.00 below 50"),
        (
            ClosureReason.DELIVERY_GAP,
            "delivery gap: no Toast files",
            "delivery gap: no Toast files",
        ),
    ],
)
def test_regression_a_check_description_names_its_status_once(reason, explanation, description):
    """It read "closed: closed: …" when the explanation already began with the status."""
    assert describe(Verdict(reason, explanation)) == description
