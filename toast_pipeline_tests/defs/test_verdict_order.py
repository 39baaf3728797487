"""A date's verdict does not depend on the order or the batches its dates were loaded in."""

from datetime import date, timedelta

import dagster as dg
import polars as pl
import pytest

from toast_pipeline.definitions import DAILY_JOB, build_definitions
from toast_pipeline.defs.assets import BUSINESS_DAYS_KEY, CLOSURE_CHECK
from toast_pipeline.resources.archive import LocalRawArchive
from toast_pipeline.resources.duckdb_warehouse import DuckDBWarehouse
from toast_pipeline.settings import GroupSettings
from toast_pipeline.toast.baselines import (
    ClosureRules,
    judge_dates,
    public_holidays,
    summaries_from_business_days,
)
from toast_pipeline.toast.specs import TABLE_SPECS
from toast_pipeline_dev.sample import generate_export

pytestmark = pytest.mark.e2e

LOCATION = "185129"
START = date(2024, 4, 1)
DAYS = 7
DATES = [START + timedelta(days=i) for i in range(DAYS)]
CHECK_KEY = dg.AssetCheckKey(BUSINESS_DAYS_KEY, CLOSURE_CHECK)


@pytest.fixture(scope="module")
def server(tmp_path_factory, sftp_server_factory):
    """A week: the first days judged by the floors, the later ones against the open days before."""
    export = generate_export(
        tmp_path_factory.mktemp("order_export"),
        location_id=LOCATION,
        start=START,
        days=DAYS,
        seed=21,
        orders_per_day=30,
        holiday_country=None,
        random_closure_rate=0.0,
        quirks=False,
        closure_deliveries={
            date(2024, 4, 2): "no_folder",
            date(2024, 4, 5): "catering",
            date(2024, 4, 7): "no_folder",  # nothing after it: a gap, however it is loaded
        },
        volume_factors={date(2024, 4, 6): 0.25},
    )
    return sftp_server_factory(export.root)


def load(server, sftp_source_factory, tmp_path, batches: list[list[date]]):
    """Load the dates run by run (each batch one ranged run); return verdicts, markers, checks."""
    warehouse = DuckDBWarehouse(path=str(tmp_path / f"order_{id(batches)}.duckdb"))
    settings = GroupSettings(locations=(LOCATION,), start_date=START, holiday_country=None)
    archive = LocalRawArchive(path=str(tmp_path / f"raw_{id(batches)}"))
    job = build_definitions(
        settings, source=sftp_source_factory(server), archive=archive, warehouse=warehouse
    ).resolve_job_def(DAILY_JOB)
    # In-memory storage: the runs' events need not outlive the test, and it is several times faster.
    with dg.DagsterInstance.ephemeral() as instance:
        for batch in batches:
            tags = {
                "dagster/asset_partition_range_start": f"{min(batch).isoformat()}|{LOCATION}",
                "dagster/asset_partition_range_end": f"{max(batch).isoformat()}|{LOCATION}",
            }
            assert job.execute_in_process(tags=tags, instance=instance).success
        evaluations = {}
        for record in instance.event_log_storage.get_asset_check_execution_history(
            CHECK_KEY, limit=1000
        ):
            evaluation = record.event.asset_check_evaluation
            evaluations.setdefault(
                evaluation.partition, (evaluation.passed, evaluation.metadata["reason"].value)
            )
    verdicts = warehouse.business_days(LOCATION).select(
        "business_date", "status", "closure_reason", "explanation"
    )
    markers = pl.concat(
        [
            warehouse.query(
                f"SELECT '{spec.table}' AS t, business_date, closure_reason FROM {warehouse.table(spec.table)} "
                "WHERE closure_indicator"
            )
            for spec in TABLE_SPECS
        ]
    ).sort("t", "business_date")
    facts = summaries_from_business_days(warehouse.business_days(LOCATION))
    return verdicts, markers, evaluations, facts


def test_reverse_one_by_one_batches_and_one_run_give_the_same_verdicts(
    server, sftp_source_factory, tmp_path
):
    one_run = load(server, sftp_source_factory, tmp_path, [DATES])
    reverse = load(server, sftp_source_factory, tmp_path, [[d] for d in reversed(DATES)])
    batches = load(server, sftp_source_factory, tmp_path, [DATES[3:], DATES[:3]])

    verdicts, markers, evaluations, facts = one_run
    for other in (reverse, batches):
        assert other[0].equals(verdicts)
        assert other[1].equals(markers)
        assert other[2] == evaluations
    # What is stored is exactly the learnt rules over the stored facts.
    expected = judge_dates(DATES, facts, ClosureRules(), public_holidays(None))
    assert verdicts.rows() == [
        (d, v.status, None if v.reason is None else str(v.reason), v.explanation)
        for d, v in expected.items()
    ]
    statuses = dict(
        zip(verdicts.get_column("business_date"), verdicts.get_column("closure_reason"))
    )
    assert statuses == {
        **{d: None for d in DATES},
        date(2024, 4, 2): "no_files",  # the export went on the day after
        date(2024, 4, 5): "low_activity",  # one catering order, against the days before
        date(2024, 4, 7): "delivery_gap",  # nothing delivered after it
    }
    assert set(evaluations) == {f"{d.isoformat()}|185129" for d in DATES}
    assert evaluations["2024-04-06|185129"] == (True, "open")  # the storm
    assert "quiet day (3 open days of any weekday before)" in expected[date(2024, 4, 5)].explanation
