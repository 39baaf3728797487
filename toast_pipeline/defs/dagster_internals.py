"""Dagster's private API, all in one place: what the project needs and Dagster 1.13 has no public
API for.

No other module imports `dagster._*` (an import-linter contract and a test enforce it). Each name
is listed in `PRIVATE_SYMBOLS` with its module and imported on first use: the daemon's modules take
seconds to import, and the runs, which need only the check-evaluation pointer, never pay for them.
A Dagster upgrade that moves or removes one fails `test_dagster_internals.py`, naming it.
"""

from __future__ import annotations

import importlib
from typing import Any

# (module, name) of every private symbol the project uses, each with why no public API does it.
PRIVATE_SYMBOLS: tuple[tuple[str, str], ...] = (
    # No public API creates an asset backfill outside the webserver's GraphQL mutation: the
    # backfill command creates it on the instance exactly as that mutation does.
    ("dagster._core.execution.backfill", "PartitionBackfill"),
    ("dagster._core.utils", "make_new_backfill_id"),
    # No public filter lists backfills by tag: `--retry-failed` finds the command's last one.
    ("dagster._core.execution.backfill", "BulkActionsFilter"),
    # No public API drives an asset backfill without a daemon: with none serving the instance, the
    # command does the daemon's two duties itself (turning the backfill into runs, and launching
    # queued runs)...
    ("dagster._daemon.backfill", "execute_backfill_iteration"),
    (
        "dagster._daemon.run_coordinator.queued_run_coordinator_daemon",
        "QueuedRunCoordinatorDaemon",
    ),
    # ...on the code location loaded in its own process, under the location name the daemon and
    # the UI give it...
    ("dagster._core.workspace.context", "WorkspaceProcessContext"),
    ("dagster._core.workspace.load_target", "InProcessWorkspaceLoadTarget"),
    ("dagster._core.remote_origin", "InProcessCodeLocationOrigin"),
    ("dagster._core.types.loadable_target_origin", "LoadableTargetOrigin"),
    # ...executing the runs it launches on threads of its own process, as a run worker executes
    # them (no public base class for a run launcher, nor a public way to execute a stored run)...
    ("dagster._core.launcher", "RunLauncher"),
    ("dagster._core.launcher", "LaunchRunContext"),
    ("dagster._serdes", "ConfigurableClass"),
    ("dagster._utils.hosted_user_process", "recon_job_from_origin"),
    ("dagster._grpc.impl", "core_execute_run"),
    # ...whose stdout and stderr are left alone: capturing them would redirect the command's own.
    ("dagster._core.storage.noop_compute_log_manager", "NoOpComputeLogManager"),
    # ...and only when no daemon is alive: no public API reads the daemons' heartbeats.
    ("dagster._daemon.controller", "get_daemon_statuses"),
    # None validates an instance's dagster.yaml without opening its storage: the deployment
    # files are checked with Dagster's own loader where no Postgres server or Docker runs.
    ("dagster._core.instance.config", "dagster_instance_config"),
    # None makes SQLite's event log keep its connections: it opens, commits and closes two per
    # event, most of a backfill run's time; toast_pipeline.event_log_storage subclasses it.
    ("dagster._core.storage.event_log.sqlite.sqlite_event_log", "SqliteEventLogStorage"),
    # None ties a ranged run's check result to its date: Dagster builds this pointer to the
    # evaluated materialization only in single-partition runs.
    (
        "dagster._core.definitions.asset_checks.asset_check_evaluation",
        "AssetCheckEvaluationTargetMaterializationData",
    ),
)

__all__ = [name for _, name in PRIVATE_SYMBOLS]

_MODULE_OF = {name: module for module, name in PRIVATE_SYMBOLS}


def __getattr__(name: str) -> Any:
    """Import a private symbol the first time it is asked for, then keep it."""
    if name not in _MODULE_OF:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_MODULE_OF[name]), name)
    globals()[name] = value
    return value
