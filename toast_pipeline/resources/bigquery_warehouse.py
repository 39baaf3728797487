"""The BigQuery implementation of the warehouse, through dagster-gcp's `BigQueryResource`.

Tables are created from the same specs as DuckDB's, partitioned by `business_date` (DAY) and
clustered by `location_id`. A date is replaced without partition decorators: its frames are loaded
as Parquet into staging tables, then one multi-statement transaction deletes the date's old rows
and inserts the new ones in every table, so a failure at any point leaves the date as it was.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import date

import polars as pl
import pyarrow as pa
from dagster_gcp import BigQueryResource
from google.cloud import bigquery
from pydantic import Field as ConfigField
from pydantic import PrivateAttr

from toast_pipeline.resources.warehouse import Warehouse, marker_rows_only, rows_by_table
from toast_pipeline.resources.warehouse_schema import plan_schema
from toast_pipeline.resources.warehouse_sql import closure_free_view_sql
from toast_pipeline.toast.daily_load import WAREHOUSE_TABLES
from toast_pipeline.toast.polars_turn import POLARS_TURN
from toast_pipeline.toast.specs import MONEY_PRECISION, Field, Kind

# Toast's times carry no zone: they are the restaurant's wall clock, which is what DATETIME is.
# TIMESTAMP is an instant; storing wall-clock times in it would claim they are UTC.
BIGQUERY_TYPES = {
    Kind.TEXT: "STRING",
    Kind.ID: "STRING",
    Kind.INTEGER: "INT64",
    Kind.SHARE: "FLOAT64",
    Kind.AVERAGE: "FLOAT64",
    Kind.BOOLEAN: "BOOL",
    Kind.TIMESTAMP: "DATETIME",
    Kind.DATE: "DATE",
    Kind.TIME: "TIME",
    Kind.DURATION_HMS: "INT64",
    Kind.DURATION_TEXT: "INT64",
    Kind.LOADED_AT: "TIMESTAMP",
}
NUMERIC_MAX_SCALE = 9  # NUMERIC keeps 9 decimal places; beyond that only BIGNUMERIC is exact
PARTITION_COLUMN = "business_date"
CLUSTER_COLUMN = "location_id"
STAGING_PREFIX = "_staging_"


def schema_field(field: Field) -> bigquery.SchemaField:
    """A spec field as a BigQuery column: money keeps the spec's precision and scale exactly."""
    if field.kind in (Kind.MONEY, Kind.QUANTITY):
        kind = "NUMERIC" if field.scale <= NUMERIC_MAX_SCALE else "BIGNUMERIC"
        return bigquery.SchemaField(
            field.name,
            kind,
            precision=MONEY_PRECISION,
            scale=field.scale,
            description=field.description or None,
        )
    return bigquery.SchemaField(
        field.name, BIGQUERY_TYPES[field.kind], description=field.description or None
    )


def ddl_type(column: bigquery.SchemaField) -> str:
    if column.precision is not None:
        return f"{column.field_type}({column.precision}, {column.scale})"
    return column.field_type


def _ddl_column(field: Field) -> str:
    column = schema_field(field)
    options = f" OPTIONS(description={_string(field.description)})" if field.description else ""
    return f"`{field.name}` {ddl_type(column)}{options}"


def supertype(wanted: bigquery.SchemaField) -> str:
    """A type BigQuery can change a column to in place (only supertypes are allowed) that holds the
    spec's values exactly: a parameterized NUMERIC becomes plain NUMERIC (38 digits, 9 places),
    which holds any NUMERIC the specs use; others take the spec's type (NUMERIC -> FLOAT64)."""
    return wanted.field_type if wanted.precision is not None else ddl_type(wanted)


# The API still names some types the legacy way (a FLOAT64 column reads back as FLOAT).
LEGACY_TYPE_NAMES = {"FLOAT": "FLOAT64", "INTEGER": "INT64", "BOOLEAN": "BOOL"}


def _standard(sql_type: str) -> str:
    return LEGACY_TYPE_NAMES.get(sql_type, sql_type)


def _string(text: str) -> str:
    """A BigQuery string literal (the quote and backslash escaped)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _readable(table: pa.Table) -> pa.Table:
    """Arrow as polars reads it plainly: DATETIME's extension tag dropped, BIGNUMERIC narrowed.

    The client tags DATETIME columns (polars would keep them as an opaque extension type) and
    returns BIGNUMERIC as 256-bit decimals, which polars cannot read; every money column has
    precision 18, so 128-bit decimals with scale 18 hold them exactly (the cast fails otherwise).
    """
    untagged = pa.schema([pa.field(f.name, f.type, f.nullable) for f in table.schema])
    plain = pa.Table.from_arrays(table.columns, schema=untagged)
    if not any(pa.types.is_decimal256(f.type) for f in plain.schema):
        return plain
    return plain.cast(
        pa.schema(
            [
                pa.field(f.name, pa.decimal128(38, MONEY_PRECISION), f.nullable)
                if pa.types.is_decimal256(f.type)
                else f
                for f in plain.schema
            ]
        )
    )


def _location_parameter(location_id: str) -> bigquery.QueryJobConfig:
    return bigquery.QueryJobConfig(
        query_parameters=[bigquery.ScalarQueryParameter("location_id", "STRING", location_id)]
    )


class BigQueryWarehouse(Warehouse):
    """A BigQuery dataset; Google's usual credentials or dagster-gcp's `gcp_credentials`."""

    project: str = ConfigField(description="Google Cloud project holding the dataset")
    dataset: str = ConfigField(
        default="toast", description="Dataset holding the tables (created if missing)"
    )
    location: str | None = ConfigField(
        default=None, description="Dataset and job location, e.g. US or EU"
    )
    gcp_credentials: str | None = ConfigField(
        default=None,
        description="Base64 service-account key (secret); unset: Application Default Credentials",
    )
    _schema_ready: bool = PrivateAttr(default=False)

    def table(self, name: str) -> str:
        return f"`{self.project}.{self.dataset}.{name}`"

    def describe(self) -> str:
        return f"BigQuery dataset {self.project}.{self.dataset}"

    @contextmanager
    def _client(self) -> Iterator[bigquery.Client]:
        resource = BigQueryResource(
            project=self.project, location=self.location, gcp_credentials=self.gcp_credentials
        )
        with resource.get_client() as client:
            yield client

    def _ensure(self, client: bigquery.Client) -> list[str]:
        dataset = bigquery.Dataset(f"{self.project}.{self.dataset}")
        dataset.location = self.location
        client.create_dataset(dataset, exists_ok=True)
        existing: dict[str, dict[str, str]] = {}
        columns = f"`{self.project}.{self.dataset}`.INFORMATION_SCHEMA.COLUMNS"
        for name, column in client.query(f"SELECT table_name, column_name FROM {columns}").result():
            existing.setdefault(name, {})[column] = ""
        for table in WAREHOUSE_TABLES:
            if table in existing:
                # INFORMATION_SCHEMA may drop NUMERIC's precision and scale; the table's schema keeps them.
                schema = client.get_table(f"{self.project}.{self.dataset}.{table}").schema
                existing[table] = {column.name: _standard(ddl_type(column)) for column in schema}
        plan = plan_schema(existing, lambda f: ddl_type(schema_field(f)))
        statements = [
            f"CREATE TABLE IF NOT EXISTS {self.table(table)} "
            f"({', '.join(_ddl_column(f) for f in WAREHOUSE_TABLES[table])}) "
            f"PARTITION BY {PARTITION_COLUMN} CLUSTER BY {CLUSTER_COLUMN}"
            for table in plan.new_tables
        ]
        for table, renames in plan.renamed.items():
            for r in renames:
                statements.append(
                    f"ALTER TABLE {self.table(table)} RENAME COLUMN `{r.old}` TO `{r.field.name}`"
                )
                if r.rescale:
                    statements.append(
                        f"UPDATE {self.table(table)} SET `{r.field.name}` = `{r.field.name}`{r.rescale} WHERE TRUE"
                    )
        statements += [
            f"ALTER TABLE {self.table(table)} ALTER COLUMN `{f.name}` "
            f"SET DATA TYPE {supertype(schema_field(f))}"
            for table, fields in plan.retyped.items()
            for f in fields
        ]
        statements += [
            f"ALTER TABLE {self.table(table)} "
            + ", ".join(f"ADD COLUMN IF NOT EXISTS {_ddl_column(f)}" for f in fields)
            for table, fields in plan.new_columns.items()
        ]
        statements += [
            f"UPDATE {self.table(t)} SET `{column}` = {sql} WHERE TRUE"
            for t, column, sql in plan.fills
        ]
        statements += [closure_free_view_sql(self.table, table) for table in plan.views]
        if statements:
            client.query(";\n".join(statements)).result()
        self._schema_ready = True
        return plan.added + plan.changed

    def migrate(self) -> list[str]:
        with self._client() as client:
            return self._ensure(client)

    def _replace(
        self,
        location_id: str,
        tables_by_date: Mapping[date, Mapping[str, pl.DataFrame]],
        *,
        only_markers: bool,
    ) -> None:
        """Stage each table's new rows of all the dates, then one script: per table, one DELETE
        of the dates' rows and one INSERT from staging, in one transaction. With `only_markers`,
        a load table keeps its real rows and only closure marker rows are replaced (the verdict
        lives in business_days and in marker rows)."""
        replaced = rows_by_table(tables_by_date)
        if not replaced:
            return
        with self._client() as client:
            if not self._schema_ready:
                self._ensure(client)
            run = uuid.uuid4().hex[:12]
            staged = {
                table: f"{STAGING_PREFIX}{table}_{run}"
                for table, (_, rows) in replaced.items()
                if rows.height
            }
            try:
                self._stage(client, {staged[t]: (t, replaced[t][1]) for t in staged})
                statements = ["BEGIN TRANSACTION"]
                for table, (dates, rows) in replaced.items():
                    listed = ", ".join(f"DATE '{d.isoformat()}'" for d in dates)
                    statements.append(
                        f"DELETE FROM {self.table(table)} WHERE location_id = @location_id "
                        f"AND business_date IN ({listed}){marker_rows_only(table, only_markers)}"
                    )
                    if table in staged:
                        columns = ", ".join(f"`{name}`" for name in rows.columns)
                        statements.append(
                            f"INSERT INTO {self.table(table)} ({columns}) "
                            f"SELECT {columns} FROM {self.table(staged[table])}"
                        )
                statements.append("COMMIT TRANSACTION")
                # The staging tables go in the same request, once the dates are committed.
                client.query(
                    ";\n".join(statements) + ";\n" + self._drop_script(staged.values()),
                    job_config=_location_parameter(location_id),
                ).result()
            except BaseException:
                if staged:
                    client.query(self._drop_script(staged.values())).result()
                raise

    def replace_analysis(self, name: str, location_id: str, frame: pl.DataFrame) -> None:
        if name in WAREHOUSE_TABLES:
            raise ValueError(f"{name} is a load table, not an analysis table")
        with self._client() as client:
            staging = f"{STAGING_PREFIX}{name}_{uuid.uuid4().hex[:12]}"
            try:
                self._stage(client, {staging: (name, frame)})
                script = (
                    f"CREATE TABLE IF NOT EXISTS {self.table(name)} AS "
                    f"SELECT * FROM {self.table(staging)} LIMIT 0;\n"
                    "BEGIN TRANSACTION;\n"
                    f"DELETE FROM {self.table(name)} WHERE location_id = @location_id;\n"
                    f"INSERT INTO {self.table(name)} SELECT * FROM {self.table(staging)};\n"
                    "COMMIT TRANSACTION;\n"
                )
                client.query(
                    script + self._drop_script([staging]),
                    job_config=_location_parameter(location_id),
                ).result()
            except BaseException:
                client.query(self._drop_script([staging])).result()
                raise

    def _stage(
        self, client: bigquery.Client, staging: Mapping[str, tuple[str, pl.DataFrame]]
    ) -> None:
        """Load every frame as Parquet into its own staging table; the jobs run side by side.

        Load tables get the specs' explicit schema; analysis tables take Parquet's own.
        """
        jobs = []
        for name, (table, frame) in staging.items():
            buffer = io.BytesIO()
            with POLARS_TURN:
                frame.write_parquet(buffer)
            buffer.seek(0)
            schema = (
                [schema_field(f) for f in WAREHOUSE_TABLES[table] if f.name in frame.columns]
                if table in WAREHOUSE_TABLES
                else None
            )
            config = bigquery.LoadJobConfig(
                source_format=bigquery.SourceFormat.PARQUET,
                schema=schema,
                write_disposition=bigquery.WriteDisposition.WRITE_TRUNCATE,
            )
            destination = f"{self.project}.{self.dataset}.{name}"
            jobs.append(client.load_table_from_file(buffer, destination, job_config=config))
        for job in jobs:
            job.result()

    def _drop_script(self, names: Iterable[str]) -> str:
        return "".join(f"DROP TABLE IF EXISTS {self.table(name)};\n" for name in names)

    def query(self, sql: str) -> pl.DataFrame:
        with self._client() as client:
            if not self._schema_ready:
                self._ensure(client)
            rows = client.query(sql).result()
            return pl.from_arrow(_readable(rows.to_arrow(create_bqstorage_client=False)))
