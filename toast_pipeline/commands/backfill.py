"""`toast-pipeline backfill`: a real Dagster asset backfill, driven to the end from the terminal.

The backfill is created on the instance exactly as the UI creates one, so it is listed on the
UI's backfills page. If a Dagster daemon serves the instance, it does the work and this only
watches; otherwise this process runs the daemon's two duties itself (the backfill iteration that
turns the backfill into runs, and the run queue that launches them) at a one-second cadence
instead of the daemon's thirty, for as long as the backfill lasts.

The command loads the code location in its own process, under the name the daemon and the UI
give it, with the environment it was given (`--from-archive` and `--batch-size` written into it as
the settings they stand for) set as the process's own while it works; the runs it launches execute
on threads of this process (`toast_pipeline.run_launcher`), so they read the same settings and
write to the same instance. The console script sets only Dagster's own switches in its
environment (`instance.DAGSTER_SWITCHES`), which Dagster reads there as this process creates runs.

For a group, one backfill covers every location (or those given): each location's dates run
from its own first to its last folder. Dagster's backfill policy puts several dates of one location
in a run; the asset writes, materializes, checks and fails each location-date on its own, and
Dagster's backfill counts a location-date of a failed ranged run as failed only if it was not
materialized, so one damaged date never fails its batch-mates or another location.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import dagster as dg

from toast_pipeline.commands.graphql_client import ACTIVE_BACKFILL_STATUSES
from toast_pipeline.defs.assets import BUSINESS_DAYS_KEY, GROUP
from toast_pipeline.defs.partitions import has_date, partition_key, split_key
from toast_pipeline.settings import GroupSettings, LocationSettings, SettingsError

BACKFILL_TAG = "toast/backfill_command"
LOCATION_NAME = "toast_pipeline"
DEFINITIONS_MODULE = "toast_pipeline.definitions"
POLL_SECONDS = 0.5
# While runs of the backfill are queued or running, its pass runs at most this often (it could
# still have runs to create after a failed run is retried).
BACKFILL_PASS_WHILE_RUNNING_SECONDS = 5.0
IN_FLIGHT_RUN_STATUSES = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]
# A location-date: the unit a backfill plans, runs and reports.
Key = tuple[str, date]


@dataclass(frozen=True)
class BackfillPlan:
    """Which dates a backfill would load, and how they would be batched into runs."""

    requested: list[date]
    on_server: set[date]
    loaded: set[date]
    to_run: list[date]
    batch_size: int

    @property
    def skipped(self) -> list[date]:
        return [d for d in self.requested if d not in set(self.to_run)]

    @property
    def batches(self) -> list[list[date]]:
        """Runs as Dagster's multi-run backfill policy forms them: contiguous dates, capped."""
        batches: list[list[date]] = []
        for day in self.to_run:
            last = batches[-1] if batches else None
            if last and len(last) < self.batch_size and (day - last[-1]).days == 1:
                last.append(day)
            else:
                batches.append([day])
        return batches


@dataclass(frozen=True)
class LocationPlan:
    location: LocationSettings
    plan: BackfillPlan
    outside: list[date]  # requested, but before the location's start or after yesterday


@dataclass(frozen=True)
class GroupPlan:
    """Each location's plan, and the locations that could not be read (with why)."""

    locations: list[LocationPlan]
    unreadable: dict[str, str] = field(default_factory=dict)

    @property
    def to_run(self) -> list[Key]:
        return [(p.location.location_id, d) for p in self.locations for d in p.plan.to_run]

    @property
    def runs(self) -> int:
        return sum(len(p.plan.batches) for p in self.locations)

    def describe(self) -> list[str]:
        lines = []
        for located in self.locations:
            plan, name = located.plan, located.location.display_name
            lines.append(
                f"{name}: {len(plan.on_server)} date folders on the server, {len(plan.loaded)} "
                f"dates loaded; {len(plan.requested)} requested, {len(plan.skipped)} already "
                f"loaded{' (--force reloads them)' if plan.skipped else ''}, {len(plan.to_run)} "
                f"to run in {len(plan.batches)} runs"
            )
            if located.outside:
                lines.append(
                    f"  ignored {len(located.outside)} dates before its start date or not yet "
                    f"partitions ({located.outside[0]} …)"
                )
        lines += [f"{i}: not read ({why})" for i, why in self.unreadable.items()]
        return lines


def plan_backfill(
    requested: Iterable[date],
    *,
    on_server: Iterable[date],
    loaded: Iterable[date],
    force: bool,
    batch_size: int,
) -> BackfillPlan:
    """Loaded dates are skipped unless forced; a date with no folder still runs (closure)."""
    requested = sorted(set(requested))
    loaded = set(loaded)
    to_run = [d for d in requested if force or d not in loaded]
    return BackfillPlan(requested, set(on_server), loaded, to_run, batch_size)


@dataclass(frozen=True)
class DateOutcome:
    location_id: str
    business_date: date
    status: str  # "open", "closed", "failed" or "pending"
    reason: str | None = None
    rows: int = 0
    error: str | None = None


@dataclass
class Progress:
    """What the watcher has seen so far, from the instance's event log."""

    keys: list[Key]
    outcomes: dict[Key, DateOutcome] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)

    @property
    def loaded(self) -> int:
        """Dates written with a verdict: open, closed, or a probable delivery gap."""
        return sum(o.status in ("open", "closed", "delivery_gap") for o in self.outcomes.values())

    @property
    def gaps(self) -> int:
        return sum(o.status == "delivery_gap" for o in self.outcomes.values())

    @property
    def closures(self) -> int:
        return sum(o.status == "closed" for o in self.outcomes.values())

    @property
    def failed(self) -> int:
        return sum(o.status == "failed" for o in self.outcomes.values())

    @property
    def rows(self) -> int:
        return sum(o.rows for o in self.outcomes.values())

    @property
    def done(self) -> int:
        return self.loaded + self.failed

    @property
    def locations(self) -> list[str]:
        return list(dict.fromkeys(location_id for location_id, _ in self.keys))

    @property
    def locations_done(self) -> int:
        pending = {k[0] for k in self.keys if k not in self.outcomes}
        return len(self.locations) - len(pending)

    def line(self) -> str:
        total = len(self.keys) or 1
        elapsed = time.monotonic() - self.started
        eta = "?" if not self.done else f"{elapsed / self.done * (total - self.done):.0f}s"
        return (
            f"📍 {self.locations_done}/{len(self.locations)} locations  "
            f"✅ {self.loaded} loaded  🏢 {self.closures} closures  ❌ {self.failed} failed  "
            f"📊 {self.rows:,} rows  {100 * self.done / total:.0f}%  ETA {eta}"
        )


def daemon_is_running(instance: dg.DagsterInstance) -> bool:
    """A live backfill daemon heartbeat means someone else will execute the backfill."""
    from toast_pipeline.defs.dagster_internals import get_daemon_statuses

    statuses = get_daemon_statuses(instance, ["BACKFILL"], heartbeat_tolerance_seconds=60)
    return statuses["BACKFILL"].healthy is True


@contextmanager
def process_environment(env: Mapping[str, str]) -> Iterator[None]:
    """`env` as this process's whole environment for the block, then the previous one again: the
    code location reads its settings, and the runs their secrets, from `os.environ`."""
    previous = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(previous)


@contextmanager
def workspace(instance: dg.DagsterInstance) -> Iterator:
    """The code location loaded in this process, under the name the daemon and the UI give it."""
    from toast_pipeline.defs.dagster_internals import (
        InProcessCodeLocationOrigin,
        InProcessWorkspaceLoadTarget,
        LoadableTargetOrigin,
        WorkspaceProcessContext,
    )

    origin = LoadableTargetOrigin(
        executable_path=sys.executable,
        module_name=DEFINITIONS_MODULE,
        working_directory=os.getcwd(),
    )
    target = InProcessWorkspaceLoadTarget(
        InProcessCodeLocationOrigin(origin, location_name=LOCATION_NAME)
    )
    with WorkspaceProcessContext(instance, target) as context:
        yield context


def _first_cause(error) -> str:
    """What went wrong in the definitions, not Dagster's wrapper saying they did not load."""
    while error.cause is not None:
        error = error.cause
    return error.message.strip()


def launch(context, keys: Sequence[Key], *, title: str, tags: dict[str, str]) -> str:
    """Create the asset backfill, as the UI's launchPartitionBackfill does."""
    from toast_pipeline.defs.dagster_internals import PartitionBackfill, make_new_backfill_id

    request = context.create_request_context()
    errors = [
        f"{name}: {_first_cause(entry.load_error) if entry.load_error else 'not loaded'}"
        for name, entry in request.get_code_location_entries().items()
        if entry.code_location is None
    ]
    if errors:
        raise RuntimeError("the code location did not load: " + "; ".join(errors))
    asset_graph = request.asset_graph
    assets = [k for k in asset_graph.get_all_asset_keys() if k.path[0] == GROUP]
    backfill = PartitionBackfill.from_asset_partitions(
        backfill_id=make_new_backfill_id(),
        asset_graph=asset_graph,
        partition_names=[str(partition_key(location_id, day)) for location_id, day in keys],
        asset_selection=assets,
        backfill_timestamp=time.time(),
        tags={BACKFILL_TAG: "true", **tags},
        dynamic_partitions_store=context.instance,
        all_partitions=False,
        title=title,
        description=None,
        # The command shows its own progress line; each run's full log stays in the instance.
        run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}},
    )
    context.instance.add_backfill(backfill)
    return backfill.backfill_id


class Driver:
    """Does the daemon's two duties in this process while a backfill lasts.

    The backfill iteration (turning the backfill into runs) and the run queue (launching them)
    run in separate threads, as in the daemon, so the first run starts as soon as it exists
    rather than after every run has been created. Each pass runs at least every `POLL_SECONDS`,
    and at once when there is work for it: the queue's after a backfill pass (runs to launch), both
    after a run of this process ends (a slot free, perhaps the backfill's end). `passed` is set
    after each backfill pass, for whoever waits to see the backfill end.
    """

    def __init__(self, context, backfill_id: str) -> None:
        from toast_pipeline.defs.dagster_internals import QueuedRunCoordinatorDaemon

        self._context = context
        self._backfill_id = backfill_id
        self._last_backfill_iteration = 0.0
        self._logger = logging.getLogger("toast_pipeline.commands.backfill")
        self._queue = QueuedRunCoordinatorDaemon(interval_seconds=1)
        self._stop = threading.Event()
        self._backfill_due, self._queue_due = threading.Event(), threading.Event()
        self.passed = threading.Event()
        self._threads = [
            threading.Thread(
                target=self._loop, args=(self._backfill_iteration, self._backfill_due), daemon=True
            ),
            threading.Thread(
                target=self._loop, args=(self._queue_iteration, self._queue_due), daemon=True
            ),
        ]

    def __enter__(self) -> Driver:
        self._context.instance.run_launcher.on_run_end = self._run_ended
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, exc_type, *exc_info) -> None:
        self._stop.set()
        self._backfill_due.set()
        self._queue_due.set()
        for thread in self._threads:
            thread.join()
        self._queue.__exit__(None, None, None)
        launcher = self._context.instance.run_launcher
        if exc_type is not None:  # Ctrl-C or an error: the runs still going are canceled
            for run_id in launcher.running():
                launcher.terminate(run_id)
        launcher.join()
        launcher.on_run_end = None

    def _run_ended(self) -> None:
        self._backfill_due.set()
        self._queue_due.set()

    def _loop(self, iteration: Callable[[], None], due: threading.Event) -> None:
        while not self._stop.is_set():
            try:
                iteration()
            except Exception:
                self._logger.exception("backfill driver iteration failed; retrying")
            due.wait(POLL_SECONDS)
            due.clear()

    def _backfill_iteration(self) -> None:
        """The daemon's backfill pass, skipped while the backfill's runs are all created and in
        flight: a pass then only re-reads what they materialized (0.2 of a core at this cadence,
        beside the runs it waits for). It runs as soon as none is in flight, to end the backfill."""
        from toast_pipeline.defs.dagster_internals import execute_backfill_iteration

        now = time.monotonic()
        if now - self._last_backfill_iteration < BACKFILL_PASS_WHILE_RUNNING_SECONDS and (
            self._runs_in_flight()
        ):
            return
        self._last_backfill_iteration = now
        for error in execute_backfill_iteration(self._context, self._logger):
            if error is not None:
                self._logger.warning("backfill iteration: %s", error.to_string())
        self._queue_due.set()
        self.passed.set()

    def _runs_in_flight(self) -> bool:
        return bool(
            self._context.instance.get_runs_count(
                dg.RunsFilter(
                    tags={"dagster/backfill": self._backfill_id},
                    statuses=IN_FLIGHT_RUN_STATUSES,
                )
            )
        )

    def _queue_iteration(self) -> None:
        for _ in self._queue.run_iteration(self._context):
            pass


def is_finished(instance: dg.DagsterInstance, backfill_id: str) -> bool:
    return instance.get_backfill(backfill_id).status.value not in ACTIVE_BACKFILL_STATUSES


class Watcher:
    """Reads per-location-date outcomes of one backfill from the event log, incrementally."""

    def __init__(
        self,
        instance: dg.DagsterInstance,
        backfill_id: str,
        keys: Sequence[Key],
        partitions_def: dg.MultiPartitionsDefinition,
    ) -> None:
        self.instance, self.backfill_id = instance, backfill_id
        self.partitions_def = partitions_def
        self.progress = Progress(list(keys))
        self._wanted = {str(partition_key(*k)): k for k in keys}
        self._cursor = 0
        self._ours: dict[str, bool] = {}

    def poll(self) -> Progress:
        while True:
            records = self.instance.fetch_materializations(
                dg.AssetRecordsFilter(
                    asset_key=BUSINESS_DAYS_KEY,
                    asset_partitions=sorted(self._wanted),
                    after_storage_id=self._cursor,
                ),
                limit=500,
                ascending=True,
            ).records
            if not records:
                break
            for record in records:
                self._cursor = max(self._cursor, record.storage_id)
                if not self._run_is_ours(record.run_id):
                    continue
                materialization = record.asset_materialization
                if materialization is None or materialization.partition not in self._wanted:
                    continue
                metadata = materialization.metadata
                key = self._wanted[materialization.partition]
                previous = self.progress.outcomes.get(key)
                # A re-judged date keeps the rows of its load; only its verdict changed.
                rows = (
                    metadata["rows_loaded"].value
                    if "rows_loaded" in metadata
                    else (previous.rows if previous else 0)
                )
                self.progress.outcomes[key] = DateOutcome(
                    *key,
                    metadata["day_status"].value,
                    metadata["closure_reason"].value if "closure_reason" in metadata else None,
                    int(rows),
                )
        return self.progress

    def _run_is_ours(self, run_id: str) -> bool:
        if run_id not in self._ours:
            run = self.instance.get_run_by_id(run_id)
            self._ours[run_id] = bool(run and run.tags.get("dagster/backfill") == self.backfill_id)
        return self._ours[run_id]

    def record_failures(self) -> None:
        """Location-dates of failed runs that were not materialized, with the error that stopped
        them."""
        failed_runs = self.instance.get_runs(
            filters=dg.RunsFilter(
                tags={"dagster/backfill": self.backfill_id},
                statuses=[dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED],
            )
        )
        for run in failed_runs:
            per_key, run_error = run_errors(self.instance, run.run_id)
            for partition in run_partition_keys(run, self.partitions_def, self.instance):
                key = self._wanted.get(partition)
                if key is None or key in self.progress.outcomes:
                    continue
                error = per_key.get(partition, run_error)
                self.progress.outcomes[key] = DateOutcome(*key, "failed", error=error)


def run_partition_keys(
    run: dg.DagsterRun, partitions_def: dg.PartitionsDefinition, instance: dg.DagsterInstance
) -> list[str]:
    """The partition keys a run covers: its one partition, or the rectangle its range tags span."""
    start = run.tags.get("dagster/asset_partition_range_start")
    end = run.tags.get("dagster/asset_partition_range_end")
    if start and end:
        return list(
            partitions_def.get_partition_keys_in_range(
                dg.PartitionKeyRange(start, end), dynamic_partitions_store=instance
            )
        )
    key = run.tags.get("dagster/partition")
    return [key] if key else []


def run_errors(instance: dg.DagsterInstance, run_id: str) -> tuple[dict[str, str], str]:
    """Per-date errors the asset reported, and the run's own error for everything else."""
    per_date: dict[str, str] = {}
    run_error = "the run failed before loading this date"
    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_FAILURE):
        data = entry.dagster_event.step_failure_data
        if data.user_failure_data and "failed_dates" in data.user_failure_data.metadata:
            per_date.update(data.user_failure_data.metadata["failed_dates"].value)
        elif data.error:
            run_error = data.error.message.strip().splitlines()[0]
    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.RUN_FAILURE):
        message = entry.dagster_event.message or ""
        if message and run_error.startswith("the run failed"):
            run_error = message.strip().splitlines()[0]
    return per_date, run_error


def write_log(path: Path, backfill_id: str, progress: Progress, seconds: float) -> None:
    """The machine-readable record of a backfill: totals, and one outcome per location and date."""
    outcomes = [progress.outcomes.get(k, DateOutcome(*k, "pending")) for k in progress.keys]
    failed = [
        {"location_id": o.location_id, "business_date": o.business_date.isoformat()}
        for o in outcomes
        if o.status == "failed"
    ]
    by_location: dict[str, dict[str, dict]] = {}
    for o in outcomes:
        entry = {"status": o.status, "reason": o.reason, "rows": o.rows, "error": o.error}
        by_location.setdefault(o.location_id, {})[o.business_date.isoformat()] = {
            k: v for k, v in entry.items() if v is not None
        }
    payload = {
        "backfill_id": backfill_id,
        "locations": progress.locations,
        "dates_requested": len(progress.keys),
        "dates_loaded": progress.loaded,
        "closure_dates": progress.closures,
        "delivery_gap_dates": progress.gaps,
        "failed_dates": len(failed),
        "failed_date_list": failed,
        "rows_loaded": progress.rows,
        "duration_seconds": round(seconds, 2),
        "success_rate": round(progress.loaded / len(progress.keys), 4) if progress.keys else 1.0,
        "dates": by_location,
    }
    path.write_text(json.dumps(payload, indent=2) + "\n")


def last_failed_keys(
    instance: dg.DagsterInstance, partitions_def: dg.MultiPartitionsDefinition
) -> tuple[str | None, list[Key]]:
    """The failed location-dates of the newest backfill this command created."""
    from toast_pipeline.defs.dagster_internals import BulkActionsFilter

    backfills = instance.get_backfills(
        filters=BulkActionsFilter(tags={BACKFILL_TAG: "true"}), limit=1
    )
    if not backfills:
        return None, []
    backfill = backfills[0]
    keys = [
        split_key(k)
        for k in backfill.asset_backfill_data.target_subset.get_partitions_subset(
            BUSINESS_DAYS_KEY
        ).get_partition_keys()
    ]
    watcher = Watcher(instance, backfill.backfill_id, keys, partitions_def)
    watcher.poll()
    watcher.record_failures()
    return backfill.backfill_id, [
        k for k, o in watcher.progress.outcomes.items() if o.status == "failed"
    ]


def drive(
    instance: dg.DagsterInstance,
    context,
    backfill_id: str,
    keys: Sequence[Key],
    partitions_def: dg.MultiPartitionsDefinition,
    *,
    run_daemon_duties: bool,
    on_progress: Callable[[Progress], None],
) -> Progress:
    """Until the backfill ends: run the daemon's duties if nobody else does, and report."""
    watcher = Watcher(instance, backfill_id, keys, partitions_def)
    with Driver(context, backfill_id) if run_daemon_duties else nullcontext() as driver:
        # With a driver, look again as soon as its backfill pass has run: it may have ended it.
        passed = driver.passed if driver else threading.Event()
        while not is_finished(instance, backfill_id):
            on_progress(watcher.poll())
            passed.wait(POLL_SECONDS)
            passed.clear()
    watcher.poll()
    watcher.record_failures()
    on_progress(watcher.progress)
    return watcher.progress


@dataclass(frozen=True)
class BackfillRequest:
    all_dates: bool = False
    start: date | None = None
    end: date | None = None
    dates: tuple[date, ...] = ()
    # Only these locations (default: the group's, listed or found on the server).
    locations: tuple[str, ...] = ()
    retry_failed: bool = False
    # Exactly these location-dates (what --retry-failed turns into).
    keys: tuple[Key, ...] = ()
    dry_run: bool = False
    force: bool = False
    max_workers: int | None = None
    batch_size: int | None = None
    from_archive: bool = False
    log_path: Path = Path("backfill_log.json")


def location_env(request: BackfillRequest, env: Mapping[str, str]) -> dict[str, str]:
    """The environment the code location is loaded with for this backfill: `env`, with the
    command's options written as the settings they stand for."""
    options = {}
    if request.from_archive:
        options["TOAST_SOURCE"] = "archive"
    if request.batch_size:
        options["TOAST_BACKFILL_BATCH_SIZE"] = str(request.batch_size)
    return {**env, **options}


def requested_dates(request: BackfillRequest, on_server: Sequence[date]) -> list[date]:
    """`--all` spans the first to the last folder on the server: a missing day inside is a closure."""
    if request.dates:
        return sorted(set(request.dates))
    if request.all_dates:
        if not on_server:
            return []
        first, last = min(on_server), max(on_server)
    else:
        if request.start is None or request.end is None:
            raise ValueError(
                "give --all, --dates, --retry-failed, or both --start-date and --end-date"
            )
        first, last = request.start, request.end
        if last < first:
            raise ValueError(f"--end-date {last} is before --start-date {first}")
    return [date.fromordinal(o) for o in range(first.toordinal(), last.toordinal() + 1)]


def describe_batches(plan: BackfillPlan) -> list[str]:
    return [
        f"{batch[0]}" if len(batch) == 1 else f"{batch[0]} → {batch[-1]} ({len(batch)} dates)"
        for batch in plan.batches
    ]


def group_locations(request: BackfillRequest, settings: GroupSettings, source) -> list[str]:
    """The locations to plan: those asked for, else the listed ones, else the server's folders."""
    if request.keys:
        return list(dict.fromkeys(location_id for location_id, _ in request.keys))
    if request.locations:
        refused = [i for i in request.locations if not settings.accepts(i)]
        if refused:
            allowed = ", ".join(settings.locations) or "numbered folders"
            raise SettingsError(
                f"--locations {' '.join(refused)}: not locations of this group ({allowed})"
            )
        return list(dict.fromkeys(request.locations))
    if settings.locations:
        return list(settings.locations)
    return [name for name in source.list_locations() if settings.accepts(name)]


def plan_group(
    request: BackfillRequest,
    settings: GroupSettings,
    partitions_def: dg.MultiPartitionsDefinition,
    source,
    warehouse,
) -> GroupPlan:
    """Each location's dates (its own first to last folder for --all), less what is loaded."""
    from toast_pipeline.resources.source import LocationNotFound

    plans, unreadable = [], {}
    for location_id in group_locations(request, settings, source):
        location = settings.location(location_id)
        try:
            on_server = source.list_dates(location_id)
        except LocationNotFound as exc:
            unreadable[location_id] = str(exc)
            continue
        if request.keys:
            wanted = [d for i, d in request.keys if i == location_id]
        else:
            wanted = requested_dates(request, on_server)
        outside = [d for d in wanted if d < location.start_date or not has_date(partitions_def, d)]
        wanted = [d for d in wanted if d not in set(outside)]
        days = warehouse.business_days(location_id)
        plan = plan_backfill(
            wanted,
            on_server=on_server,
            loaded=days.get_column("business_date").to_list(),
            force=request.force or bool(request.keys),
            batch_size=settings.batch_size,
        )
        plans.append(LocationPlan(location, plan, outside))
    return GroupPlan(plans, unreadable)


def run_backfill_command(request: BackfillRequest, console, env: Mapping[str, str]) -> int:
    """The whole command: plan from the server and the warehouse, launch, drive, summarise.

    `env` is the whole environment to work in (the TOAST_* settings, and DAGSTER_HOME if the
    instance is not the project's); the code location is loaded, and the runs execute, in it.
    """
    from toast_pipeline.commands.instance import dagster_home, open_instance

    started = time.monotonic()
    home = dagster_home(env)
    env = {**location_env(request, env), "DAGSTER_HOME": str(home)}
    settings = GroupSettings.from_env(env)
    if not settings.has_server:
        raise SettingsError(
            "no server to read dates from: set TOAST_SFTP_HOST (with TOAST_SFTP_USERNAME and "
            "TOAST_START_DATE), or use --from-archive"
        )
    with (
        process_environment(env),
        open_instance(
            home, max_concurrent_runs=request.max_workers, runs_in_process=True
        ) as instance,
    ):
        return _run_backfill(request, console, env, settings, instance, started)


def _run_backfill(
    request: BackfillRequest,
    console,
    env: Mapping[str, str],
    settings: GroupSettings,
    instance: dg.DagsterInstance,
    started: float,
) -> int:
    from rich.live import Live

    from toast_pipeline.commands.summary import LoadSummary
    from toast_pipeline.defs.assets import writer_pool
    from toast_pipeline.defs.factories import archive_from_env, source_from_env, warehouse_from_env
    from toast_pipeline.defs.partitions import add_locations, partitions_for

    partitions_def = partitions_for(settings)
    warehouse = warehouse_from_env(settings, env, bind_by_name=False)

    if request.retry_failed:
        previous, keys = last_failed_keys(instance, partitions_def)
        if previous is None:
            console.print("No earlier backfill of this command on the instance: nothing to retry.")
            return 0
        console.print(f"Retrying {len(keys)} failed location-dates of backfill {previous}.")
        if not keys:
            return 0
        request = BackfillRequest(**{**request.__dict__, "keys": tuple(keys)})
    source = source_from_env(settings, env, archive_from_env(env), bind_by_name=False)
    with dg.build_resources({"source": source, "warehouse": warehouse}) as resources:
        group = plan_group(request, settings, partitions_def, resources.source, resources.warehouse)
    to_run = group.to_run
    console.print(
        f"{len(group.locations)} location(s); {len(to_run)} location-dates to run in "
        f"{group.runs} runs of up to {settings.batch_size} dates."
    )
    for line in group.describe():
        console.print(f"  {line}", markup=False, highlight=False)
    if request.dry_run:
        for located in group.locations:
            plan = located.plan
            missing = [d for d in plan.to_run if d not in plan.on_server]
            console.print(
                f"Would run for {located.location.display_name}: "
                f"{', '.join(describe_batches(plan)) or 'nothing'}"
                + (
                    f"; {len(missing)} of them have no folder on the server and will load as closures."
                    if missing
                    else ""
                ),
                markup=False,
                highlight=False,
            )
        return 1 if group.unreadable else 0
    if not to_run:
        console.print("Nothing to do.")
        return 1 if group.unreadable else 0

    new = add_locations(instance, partitions_def, [p.location.location_id for p in group.locations])
    if new:
        console.print(f"New locations added to the instance's partitions: {', '.join(new)}")
    pool, storage = writer_pool(settings), instance.event_log_storage
    if pool is not None and pool not in {limit.name for limit in storage.get_pool_limits()}:
        # The run queue limits a pool only once its limit is stored; on a new instance the queue's
        # first pass would otherwise launch two DuckDB writers together. A stored limit is kept.
        storage.initialize_concurrency_limit_to_default(pool)
    with workspace(instance) as context:
        helper_needed = not daemon_is_running(instance)
        backfill_id = launch(
            context,
            to_run,
            title=f"toast-pipeline backfill: {len(to_run)} dates of {len(group.locations)} locations",
            tags={
                "toast/locations": ",".join(p.location.location_id for p in group.locations)[:200]
            },
        )
        console.print(
            f"Backfill {backfill_id} created "
            + (
                "(this command runs it: no Dagster daemon is serving the instance)."
                if helper_needed
                else "(the running Dagster daemon executes it; this command watches)."
            )
        )
        with Live(console=console, refresh_per_second=4, transient=False) as live:
            progress = drive(
                instance,
                context,
                backfill_id,
                to_run,
                partitions_def,
                run_daemon_duties=helper_needed,
                on_progress=lambda p: live.update(p.line()),
            )

    seconds = time.monotonic() - started
    write_log(request.log_path, backfill_id, progress, seconds)
    failures = {
        (o.location_id, o.business_date): o.error or "failed"
        for o in progress.outcomes.values()
        if o.status == "failed"
    }
    locations = {p.location.location_id: p.location.display_name for p in group.locations}
    with dg.build_resources({"warehouse": warehouse}) as resources:
        days = {i: resources.warehouse.business_days(i) for i in locations}
        row_counts = {i: resources.warehouse.row_counts(i) for i in locations}
    LoadSummary(
        requested=to_run,
        business_days=days,
        names=locations,
        failures=failures,
        row_counts=row_counts,
        seconds=seconds,
    ).render(console)
    success = progress.loaded / len(to_run)
    console.print(f"Success rate {success:.1%}. Per-date log: {request.log_path}")
    return 1 if failures or group.unreadable or progress.loaded < len(to_run) else 0
