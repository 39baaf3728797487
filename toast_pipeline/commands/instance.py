"""Which Dagster instance the commands use: DAGSTER_HOME, or the project's own `dagster_home/`.

The instance is opened from its folder, so nothing needs DAGSTER_HOME in the environment: the
runs the backfill command launches execute on this very instance.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import dagster as dg
import yaml

from toast_pipeline.event_log_storage import pooled_event_log_override

PROJECT_HOME = Path("dagster_home")

# Dagster switches read from the environment of whichever process creates runs (this command when
# no daemon serves the instance, the daemon, the webserver), not from dagster.yaml.
# One "planned" event per asset per run instead of one per asset and date: a 31-date run started
# 3 s later without it. Its cost: the dates of a failed ranged run show as missing, not failed, in
# an asset's partition bar (the backfill and the run still list them as failed).
DAGSTER_SWITCHES = {"DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS": "1"}


def with_dagster_switches(env: Mapping[str, str]) -> dict[str, str]:
    """`env` with the project's Dagster switches, unless it sets them itself."""
    return {**DAGSTER_SWITCHES, **env}


def dagster_home(env: Mapping[str, str]) -> Path:
    """The instance folder: DAGSTER_HOME when the user chose one, else the project's own."""
    if env.get("DAGSTER_HOME"):
        return Path(env["DAGSTER_HOME"]).absolute()
    if not (PROJECT_HOME / "dagster.yaml").exists():
        raise RuntimeError(
            "DAGSTER_HOME is not set and there is no dagster_home/dagster.yaml here: run from "
            "the project root, or set DAGSTER_HOME to a folder holding a dagster.yaml"
        )
    return PROJECT_HOME.absolute()


def open_instance(
    home: Path, *, max_concurrent_runs: int | None = None, runs_in_process: bool = False
) -> dg.DagsterInstance:
    """The persistent instance stored in `home` (its dagster.yaml and SQLite files).

    `local_temp` is Dagster's public constructor for an instance in a given folder (the folder is
    kept; only a folder it creates itself is temporary). On Dagster's default SQLite storage the
    events go through the pooled event log (same files; see `toast_pipeline.event_log_storage`).
    `max_concurrent_runs` overrides the run queue limit of dagster.yaml for this process's queue;
    `runs_in_process` executes the runs this instance launches on threads of this process.
    """
    config = instance_config(home)
    overrides = pooled_event_log_override(str(home), config)
    if max_concurrent_runs:
        overrides |= run_limit_override(config, max_concurrent_runs)
    if runs_in_process:
        overrides |= in_process_runs_override()
    return dg.DagsterInstance.local_temp(str(home), overrides=overrides or None)


def in_process_runs_override() -> dict[str, object]:
    """The run launcher of `toast_pipeline.run_launcher`, with no compute logs: capturing a run's
    stdout and stderr would redirect the whole process's, the command's console included."""
    from toast_pipeline.defs.dagster_internals import NoOpComputeLogManager
    from toast_pipeline.run_launcher import InProcessRunLauncher

    return {
        "run_launcher": _class_config(InProcessRunLauncher),
        "compute_logs": _class_config(NoOpComputeLogManager),
    }


def _class_config(cls: type) -> dict[str, str]:
    return {"module": cls.__module__, "class": cls.__name__}


def instance_config(home: Path) -> dict[str, object]:
    """The instance's dagster.yaml as written (empty when there is none)."""
    path = home / "dagster.yaml"
    return (yaml.safe_load(path.read_text()) if path.exists() else None) or {}


def run_limit_override(config: Mapping[str, object], max_concurrent_runs: int) -> dict[str, object]:
    """The dagster.yaml section holding the run limit, with the limit replaced.

    Dagster merges overrides one top-level key deep, so the whole section is given, its other
    settings (the pools) kept; the limit lives under `concurrency: runs:` or, in older files,
    `run_queue:`.
    """
    if "max_concurrent_runs" in (config.get("run_queue") or {}):
        return {"run_queue": {**config["run_queue"], "max_concurrent_runs": max_concurrent_runs}}
    concurrency = dict(config.get("concurrency") or {})
    concurrency["runs"] = {
        **(concurrency.get("runs") or {}),
        "max_concurrent_runs": max_concurrent_runs,
    }
    return {"concurrency": concurrency}
