"""Warehouse fixtures: DuckDB files, and BigQuery on a real local emulator (never a mock).

The emulator starts once per test process. If it cannot start (no Python 3.13, venv not built),
every BigQuery test errors with the reason: a missing warehouse is a failure, never a skip.
"""

from __future__ import annotations

import importlib.util
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from google.cloud import bigquery

from toast_pipeline.resources.bigquery_warehouse import BigQueryWarehouse
from toast_pipeline.resources.duckdb_warehouse import DuckDBWarehouse
from toast_pipeline.resources.warehouse import Warehouse
from toast_pipeline.toast.daily_load import WAREHOUSE_TABLES
from toast_pipeline_dev.local_bigquery import EmulatorUnavailable, LocalBigQuery, serve

REPO = Path(__file__).resolve().parents[1]
# The implementations as test parameters; BigQuery runs on its emulator, so its cases are e2e.
WAREHOUSES = ("duckdb", pytest.param("bigquery", marks=pytest.mark.e2e))


@pytest.fixture(scope="session")
def bigquery_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalBigQuery]:
    """The emulator, with this process's Google client pointed at it for the whole session."""
    if importlib.util.find_spec("google.cloud.bigquery_storage") is not None:
        pytest.fail(
            "google-cloud-bigquery-storage is installed in the test environment: the client would "
            "send reads to Google instead of the emulator. Uninstall it.",
            pytrace=False,
        )
    venv = Path(os.environ.get("BIGQUERY_EMULATOR_VENV", REPO / ".bigquery-emulator"))
    try:
        with (
            serve(tmp_path_factory.mktemp("bigquery"), venv) as emulator,
            pytest.MonkeyPatch.context() as patch,
        ):
            for name, value in emulator.client_env.items():
                patch.setenv(name, value)
            yield emulator
            return
    except EmulatorUnavailable as exc:
        problem = str(exc)
    pytest.fail(f"BigQuery tests cannot run: {problem}", pytrace=False)


@pytest.fixture
def bigquery_warehouse_factory(
    bigquery_emulator: LocalBigQuery,
) -> Callable[..., BigQueryWarehouse]:
    """A BigQuery warehouse on a dataset of its own (created on first use)."""

    def build(dataset: str | None = None) -> BigQueryWarehouse:
        return BigQueryWarehouse(
            project=bigquery_emulator.project, dataset=dataset or f"test_{uuid.uuid4().hex[:10]}"
        )

    return build


@pytest.fixture(scope="session")
def _shared_bigquery_dataset(bigquery_emulator: LocalBigQuery) -> str:
    """One dataset per test process, emptied before each test: creating tables costs seconds."""
    dataset = f"shared_{uuid.uuid4().hex[:8]}"
    BigQueryWarehouse(project=bigquery_emulator.project, dataset=dataset).migrate()
    return dataset


def empty_bigquery_tables(warehouse: BigQueryWarehouse) -> None:
    client = bigquery.Client(project=warehouse.project)
    client.query(
        ";\n".join(f"DELETE FROM {warehouse.table(t)} WHERE TRUE" for t in WAREHOUSE_TABLES)
    ).result()


@pytest.fixture
def bigquery_warehouse(
    bigquery_emulator: LocalBigQuery, _shared_bigquery_dataset: str
) -> BigQueryWarehouse:
    """An empty BigQuery warehouse whose tables already exist."""
    warehouse = BigQueryWarehouse(
        project=bigquery_emulator.project, dataset=_shared_bigquery_dataset
    )
    empty_bigquery_tables(warehouse)
    return warehouse


@pytest.fixture(params=WAREHOUSES)
def warehouse(request: pytest.FixtureRequest, tmp_path: Path) -> Warehouse:
    """An empty warehouse, once per implementation: the same test proves both."""
    if request.param == "duckdb":
        return DuckDBWarehouse(path=str(tmp_path / "toast.duckdb"))
    return request.getfixturevalue("bigquery_warehouse")


def every_row(warehouse: DuckDBWarehouse) -> dict[str, list[tuple]]:
    """All tables as sorted rows, without the load time (the one column a reload must change)."""
    return {
        table: warehouse.query(
            f"SELECT * EXCLUDE (loaded_at) FROM {warehouse.table(table)} ORDER BY ALL"
        ).rows()
        for table in WAREHOUSE_TABLES
    }
