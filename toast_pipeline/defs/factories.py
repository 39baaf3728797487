"""Dagster objects built from the group's settings and the TOAST_* environment.

Which source and warehouse to build comes from the parsed `GroupSettings`; the connection
details each resource needs are read here, their only home. In the code location, secrets are
bound by name with `dagster.EnvVar` and read only when a run starts; a command using a resource in
its own process takes the values from the environment it was given (`bind_by_name=False`).
Nothing here is decided at import time.
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
from toast_pipeline.resources.duckdb_warehouse import DEFAULT_DUCKDB_PATH, DuckDBWarehouse
from toast_pipeline.resources.sftp import SFTPExportSource
from toast_pipeline.resources.source import ExportSource
from toast_pipeline.resources.warehouse import Warehouse
from toast_pipeline.settings import GroupSettings, SettingsError


def _named(
    env: Mapping[str, str], name: str, *, bind_by_name: bool, required: bool = False
) -> str | dg.EnvVar | None:
    """A variable bound by name, read only when a run starts (so the code location never holds a
    secret); or, for a command using the resource in its own process, its value from `env`.

    An optional variable that is not set is None either way.
    """
    if not required and not env.get(name):
        return None
    if bind_by_name:
        return dg.EnvVar(name)
    if not env.get(name):
        raise SettingsError(f"{name} is not set")
    return env[name]


def sftp_source_from_env(env: Mapping[str, str], *, bind_by_name: bool = True) -> SFTPExportSource:
    def named(name: str, required: bool = False) -> str | dg.EnvVar | None:
        return _named(env, name, bind_by_name=bind_by_name, required=required)

    return SFTPExportSource(
        host=named("TOAST_SFTP_HOST", required=True),
        port=int(env.get("TOAST_SFTP_PORT", "22")),
        username=named("TOAST_SFTP_USERNAME", required=True),
        private_key_path=env.get("TOAST_SFTP_PRIVATE_KEY_PATH"),
        private_key_passphrase=named("TOAST_SFTP_PRIVATE_KEY_PASSPHRASE"),
        password=named("TOAST_SFTP_PASSWORD"),
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


def source_from_env(
    settings: GroupSettings,
    env: Mapping[str, str],
    archive: RawArchive,
    *,
    bind_by_name: bool = True,
) -> ExportSource:
    """Toast's SFTP server, or with TOAST_SOURCE=archive the raw archive (to rebuild from it)."""
    if settings.source == "archive":
        return ArchiveExportSource(archive=archive)
    return sftp_source_from_env(env, bind_by_name=bind_by_name)


def warehouse_from_env(
    settings: GroupSettings, env: Mapping[str, str], *, bind_by_name: bool = True
) -> Warehouse:
    if settings.warehouse == "bigquery":
        # Imported here: Google's client libraries add about 150 MB to every process (the code
        # server, each run, the commands) that a DuckDB warehouse does not need.
        from toast_pipeline.resources.bigquery_warehouse import BigQueryWarehouse

        if not env.get("TOAST_BIGQUERY_PROJECT"):
            raise SettingsError("TOAST_WAREHOUSE=bigquery needs TOAST_BIGQUERY_PROJECT")
        return BigQueryWarehouse(
            project=env["TOAST_BIGQUERY_PROJECT"],
            dataset=env.get("TOAST_BIGQUERY_DATASET", "toast"),
            location=env.get("TOAST_BIGQUERY_LOCATION"),
            gcp_credentials=_named(env, "TOAST_GCP_CREDENTIALS", bind_by_name=bind_by_name),
        )
    return DuckDBWarehouse(path=env.get("TOAST_DUCKDB_PATH", DEFAULT_DUCKDB_PATH))
