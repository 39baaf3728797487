"""Dagster objects built from the location's settings and the TOAST_* environment.

Secrets are bound by name with `dagster.EnvVar` and read only when a run starts; nothing here is
decided at import time.
"""

from __future__ import annotations

from collections.abc import Mapping

import dagster as dg

from toast_pipeline.resources.archive import (
    DEFAULT_ARCHIVE_PATH,
    ArchiveExportSource,
    GCSRawArchive,
    LocalRawArchive,
    RawArchive,
)
from toast_pipeline.resources.bigquery_warehouse import BigQueryWarehouse
from toast_pipeline.resources.duckdb_warehouse import DuckDBWarehouse
from toast_pipeline.resources.sftp import SFTPExportSource
from toast_pipeline.resources.source import ExportSource
from toast_pipeline.resources.warehouse import Warehouse
from toast_pipeline.settings import DEFAULT_DUCKDB_PATH, LocationSettings


def partitions_for(settings: LocationSettings) -> dg.DailyPartitionsDefinition:
    """One partition per business date, in the restaurant's zone, up to yesterday."""
    return dg.DailyPartitionsDefinition(
        start_date=settings.start_date.isoformat(), timezone=settings.timezone
    )


def _secret(env: Mapping[str, str], name: str) -> dg.EnvVar | None:
    """Bind an optional secret by name only; its value is read when a run starts."""
    return dg.EnvVar(name) if env.get(name) else None


def sftp_source_from_env(env: Mapping[str, str]) -> SFTPExportSource:
    return SFTPExportSource(
        host=dg.EnvVar("TOAST_SFTP_HOST"),
        port=int(env.get("TOAST_SFTP_PORT", "22")),
        username=dg.EnvVar("TOAST_SFTP_USERNAME"),
        private_key_path=env.get("TOAST_SFTP_PRIVATE_KEY_PATH"),
        private_key_passphrase=_secret(env, "TOAST_SFTP_PRIVATE_KEY_PASSPHRASE"),
        password=_secret(env, "TOAST_SFTP_PASSWORD"),
        known_hosts_path=env.get("TOAST_SFTP_KNOWN_HOSTS"),
        root=env.get("TOAST_SFTP_ROOT", "/"),
    )


def archive_from_env(env: Mapping[str, str]) -> RawArchive:
    """A GCS bucket when TOAST_ARCHIVE_BUCKET is set, else a local folder."""
    if env.get("TOAST_ARCHIVE_BUCKET"):
        return GCSRawArchive(
            bucket=env["TOAST_ARCHIVE_BUCKET"],
            prefix=env.get("TOAST_ARCHIVE_PREFIX", "toast-raw"),
            project=env.get("TOAST_GCP_PROJECT") or env.get("TOAST_BIGQUERY_PROJECT"),
        )
    return LocalRawArchive(path=env.get("TOAST_ARCHIVE_PATH", DEFAULT_ARCHIVE_PATH))


def source_from_env(env: Mapping[str, str], archive: RawArchive) -> ExportSource:
    """Toast's SFTP server, or with TOAST_SOURCE=archive the raw archive (to rebuild from it)."""
    kind = env.get("TOAST_SOURCE", "sftp").lower()
    if kind == "archive":
        return ArchiveExportSource(archive=archive)
    if kind != "sftp":
        raise ValueError(f"TOAST_SOURCE must be 'sftp' or 'archive', got {kind!r}")
    return sftp_source_from_env(env)


def warehouse_from_env(env: Mapping[str, str]) -> Warehouse:
    if env.get("TOAST_WAREHOUSE", "duckdb").lower() == "bigquery":
        if not env.get("TOAST_BIGQUERY_PROJECT"):
            raise ValueError("TOAST_WAREHOUSE=bigquery needs TOAST_BIGQUERY_PROJECT")
        return BigQueryWarehouse(
            project=env["TOAST_BIGQUERY_PROJECT"],
            dataset=env.get("TOAST_BIGQUERY_DATASET", "toast"),
            location=env.get("TOAST_BIGQUERY_LOCATION"),
            gcp_credentials=_secret(env, "TOAST_GCP_CREDENTIALS"),
        )
    return DuckDBWarehouse(path=env.get("TOAST_DUCKDB_PATH", DEFAULT_DUCKDB_PATH))
