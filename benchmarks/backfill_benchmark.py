"""The full `toast-pipeline backfill --all` against the bare floor for the same bytes, in one run.

Generates a busy restaurant's export with the project's generator, serves it on the loopback SFTP
server, then measures three things, each in its own process so each has its own peak memory:

1. the floor: paramiko download, polars parse (strings), DuckDB insert; no Dagster;
2. the backfill command exactly as a user runs it, on a fresh instance and warehouse;
3. the sensor path: a new date folder dropped on the server, two sensor ticks, the requested run.

Run on demand (not part of the test suite); see benchmarks/README.md for what each number means:

    python benchmarks/backfill_benchmark.py [--days 432] [--orders-per-day 260] [--workdir DIR]
        [--max-workers N] [--batch-size N] [--floor-connections 2] [--output FILE]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import posixpath
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
PROJECT_DAGSTER_YAML = PROJECT / "dagster_home" / "dagster.yaml"

START = date(2024, 3, 1)
SEED = 7
LOCATION_ID = "185129"
TIMEZONE = "America/Chicago"
# About 150 MB of Toast CSV for 432 dates with Mondays closed (235 gives 135 MB).
DEFAULT_ORDERS_PER_DAY = 260
# Dates generated after the backfilled ones; the first open one is dropped on the server later.
HELD_BACK_DAYS = 7
DAMAGED_DATES = 4

TARGET_WALL_SECONDS = 60.0
TARGET_WALL_DAYS = 432
TARGET_RATIO = 3.0
TARGET_MEMORY_BYTES = 1_000_000_000
TARGET_SENSOR_RUN_SECONDS = 10.0
# A group's cost per location-date may exceed one location's by this much (run-to-run noise).
TARGET_GROUP_TOLERANCE = 1.05

# Same transfer settings as the project's SFTP source.
SFTP_WINDOW_SIZE = 8 * 1024 * 1024
SFTP_MAX_PACKET_SIZE = 64 * 1024
MEMORY_SAMPLE_SECONDS = 0.2
# PSS is read every this many samples: reading smaps_rollup walks a process's page tables under
# its memory-map lock, which stalls the measured process (every 0.2 s it cost the backfill ~5 %).
PSS_EVERY_SAMPLES = 5
MB = 1_000_000


class BenchmarkError(RuntimeError):
    """A phase did not produce what the benchmark needs."""


# -- the export ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Export:
    root: Path  # the served folder
    first: date
    last: date
    toast_bytes: int  # the seven Toast files of the backfilled dates: what both sides read
    damaged: dict[str, str]
    closed: list[str]
    newcomer: date  # delivered after the backfill, for the sensor
    newcomer_folder: Path  # where it waits until then
    generate_seconds: float


def toast_file_names() -> tuple[str, ...]:
    from toast_pipeline.toast.specs import TABLE_SPECS

    return tuple(spec.file_name for spec in TABLE_SPECS)


def damaged_dates(days: int) -> dict[date, str]:
    """A few damaged dates spread over the range, one per kind, none on the weekly closed Monday."""
    from toast_pipeline_dev.sample import DAMAGE_KINDS

    count = min(DAMAGED_DATES, len(DAMAGE_KINDS), days // 5)
    chosen = {}
    for k in range(count):
        day = START + timedelta(days=round(days * (k + 1) / (count + 1)))
        if day.weekday() == 0:
            day += timedelta(days=1)
        chosen[day] = DAMAGE_KINDS[k]
    return chosen


def generate(workdir: Path, days: int, orders_per_day: int) -> Export:
    """The backfilled dates on the served folder; the next open date held back for the sensor."""
    from toast_pipeline_dev.sample import generate_export

    root = workdir / "export"
    held = workdir / "held_back"
    started = time.perf_counter()
    damaged = damaged_dates(days)
    export = generate_export(
        root,
        location_id=LOCATION_ID,
        start=START,
        days=days + HELD_BACK_DAYS,
        seed=SEED,
        orders_per_day=orders_per_day,
        timezone=TIMEZONE,
        closed_weekdays=(0,),
        damaged_dates=damaged,
    )
    seconds = time.perf_counter() - started
    export.write_manifest(workdir / "manifest.json")
    backfilled, later = export.days[:days], export.days[days:]
    newcomer = next((d for d in later if d.status == "open" and not d.damage), None)
    if newcomer is None:
        raise BenchmarkError(f"no open date among the {HELD_BACK_DAYS} after the range")
    held.mkdir()
    for day in later:
        folder = export.location_dir / day.folder_name
        if folder.exists():
            shutil.move(folder, held / day.folder_name)
    names = set(toast_file_names())
    toast_bytes = sum(
        path.stat().st_size for path in export.location_dir.glob("*/*") if path.name in names
    )
    return Export(
        root=root,
        first=backfilled[0].business_date,
        last=backfilled[-1].business_date,
        toast_bytes=toast_bytes,
        damaged={d.isoformat(): kind for d, kind in damaged.items()},
        closed=[d.business_date.isoformat() for d in backfilled if d.status == "closed"],
        newcomer=newcomer.business_date,
        newcomer_folder=held / newcomer.folder_name,
        generate_seconds=seconds,
    )


# -- peak memory ---------------------------------------------------------------------------------


class TreeMemory(threading.Thread):
    """Peak summed memory of a process and all its descendants, sampled from /proc (Linux only).

    Summing is what matters for a memory budget (the command and whatever it starts: a code
    server and run workers if its runs were processes; today they are threads of the command);
    the kernel's own high-water marks (getrusage) only give the largest single process. RSS counts shared pages once per process, so the summed RSS overstates;
    PSS (shared pages split among their sharers) is the honest total, read every
    `PSS_EVERY_SAMPLES` samples. Sampling can miss a spike shorter than the interval.
    """

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.available = os.path.isdir("/proc")
        self.peak_rss_bytes = 0
        self.peak_pss_bytes = 0
        self.peak_processes = 0
        self.at_peak: list[dict] = []
        self._stop_event = threading.Event()
        self._page = os.sysconf("SC_PAGE_SIZE") if self.available else 0
        self._samples = 0

    def run(self) -> None:
        while self.available and not self._stop_event.wait(MEMORY_SAMPLE_SECONDS):
            self.sample()

    def stop(self) -> None:
        self._stop_event.set()
        self.join()

    def sample(self) -> None:
        children: dict[int, list[int]] = {}
        rss: dict[int, int] = {}
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                with open(f"/proc/{entry.name}/stat", "rb") as handle:
                    text = handle.read()
            except OSError:
                continue
            fields = text[text.rindex(b")") + 2 :].split()
            pid = int(entry.name)
            children.setdefault(int(fields[1]), []).append(pid)
            rss[pid] = int(fields[21]) * self._page
        tree, pending = [], [self.pid]
        while pending:
            pid = pending.pop()
            tree.append(pid)
            pending.extend(children.get(pid, ()))
        total = sum(rss.get(pid, 0) for pid in tree)
        if total > self.peak_rss_bytes:
            self.peak_rss_bytes = total
            self.at_peak = [
                {"command": _command(pid), "rss_bytes": rss.get(pid, 0)} for pid in tree
            ]
        if self._samples % PSS_EVERY_SAMPLES == 0:
            self.peak_pss_bytes = max(self.peak_pss_bytes, sum(_pss(pid) for pid in tree))
        self._samples += 1
        self.peak_processes = max(self.peak_processes, len(tree))


def _command(pid: int) -> str:
    """A shortened command line: enough to tell the command, code server and runs apart."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            argv = handle.read().decode(errors="replace").split("\0")
    except OSError:
        return "?"
    argv[0] = os.path.basename(argv[0])
    return " ".join(a for a in argv if a)[:120]


def _pss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as handle:
            for line in handle:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


def own_peaks() -> dict[str, int]:
    """This process's and its reaped descendants' high-water marks (Linux reports KiB)."""
    scale = 1 if sys.platform == "darwin" else 1024
    return {
        "self_peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale,
        "largest_child_peak_rss_bytes": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        * scale,
    }


# -- phases: each runs in a fresh process ---------------------------------------------------------


def run_phase(name: str, config: dict, workdir: Path, env: dict[str, str]) -> dict:
    """Start this script as `--phase NAME`, watch its process tree, return what it reported."""
    config_path = workdir / f"{name}.config.json"
    result_path = workdir / f"{name}.result.json"
    log_path = workdir / f"{name}.log"
    config_path.write_text(json.dumps({**config, "result": str(result_path)}, indent=1))
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--phase",
        name,
        "--phase-config",
        str(config_path),
    ]
    with open(log_path, "wb") as log:
        started_at = time.time()
        started = time.perf_counter()
        process = subprocess.Popen(
            command, cwd=PROJECT, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT
        )
        memory = TreeMemory(process.pid)
        memory.start()
        code = process.wait()
        wall = time.perf_counter() - started
        memory.stop()
    if not result_path.exists():
        raise BenchmarkError(f"the {name} phase exited with {code} and no result; see {log_path}")
    result = json.loads(result_path.read_text())
    largest = max(result["self_peak_rss_bytes"], result["largest_child_peak_rss_bytes"])
    result.update(
        process_exit_code=code,
        wall_seconds=wall,
        started_at=started_at,
        ended_at=started_at + wall,
        log=str(log_path),
        tree_peak_rss_bytes=memory.peak_rss_bytes if memory.available else None,
        tree_peak_pss_bytes=memory.peak_pss_bytes if memory.available else None,
        tree_peak_processes=memory.peak_processes if memory.available else None,
        processes_at_peak=memory.at_peak,
        largest_process_peak_rss_bytes=largest,
        peak_rss_bytes=max(memory.peak_rss_bytes, largest),
    )
    return result


def phase_main(name: str, config_path: Path, entered_at: float) -> int:
    config = json.loads(config_path.read_text())
    phases = {
        "floor": phase_floor,
        "backfill": phase_backfill,
        "group": phase_backfill,
        "sensor": phase_sensor,
        "read_ahead": phase_read_ahead,
    }
    result = phases[name](config)
    result.update(own_peaks(), entered_at=entered_at, finished_at=time.time())
    Path(config["result"]).write_text(json.dumps(result, indent=1, default=str))
    return 0


def _sftp_connect(env: dict[str, str]):
    """One paramiko connection as the project's source opens it: TCP_NODELAY, big window."""
    import paramiko

    from toast_pipeline.resources.sftp import known_hosts_name

    host, port = env["TOAST_SFTP_HOST"], int(env["TOAST_SFTP_PORT"])
    sock = socket.create_connection((host, port), timeout=15)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    transport = paramiko.Transport(sock)
    transport.start_client(timeout=15)
    known = (
        paramiko.HostKeys(env["TOAST_SFTP_KNOWN_HOSTS"]).lookup(known_hosts_name(host, port)) or {}
    )
    offered = transport.get_remote_server_key()
    if known.get(offered.get_name()) != offered:
        transport.close()
        raise BenchmarkError(f"host key of {host}:{port} does not match known_hosts")
    transport.auth_publickey(
        env["TOAST_SFTP_USERNAME"], paramiko.PKey.from_path(env["TOAST_SFTP_PRIVATE_KEY_PATH"])
    )
    sftp = paramiko.SFTPClient.from_transport(
        transport, window_size=SFTP_WINDOW_SIZE, max_packet_size=SFTP_MAX_PACKET_SIZE
    )
    return transport, sftp


def _download_folders(
    env: dict[str, str], folders: list[str], names: set[str]
) -> list[tuple[str, str, bytes]]:
    transport, sftp = _sftp_connect(env)
    try:
        out = []
        for folder in folders:
            try:
                entries = sftp.listdir_attr(folder)
            except FileNotFoundError:
                continue
            for entry in entries:
                if entry.filename not in names:
                    continue
                with sftp.open(posixpath.join(folder, entry.filename), "rb") as handle:
                    if entry.st_size:
                        handle.prefetch(entry.st_size)
                    out.append((posixpath.basename(folder), entry.filename, handle.read()))
        return out
    finally:
        sftp.close()
        transport.close()


def phase_floor(config: dict) -> dict:
    """Download, parse and insert the same files with public tools only; each step timed alone."""
    import duckdb
    import polars as pl

    env = dict(os.environ)
    names = set(config["file_names"])
    first, last = date.fromisoformat(config["first"]), date.fromisoformat(config["last"])
    location = posixpath.join("/", env["TOAST_LOCATION_ID"])
    folders = [
        posixpath.join(location, (first + timedelta(days=i)).strftime("%Y%m%d"))
        for i in range((last - first).days + 1)
    ]
    connections = max(1, config["connections"])

    started = time.perf_counter()
    shares = [folders[i::connections] for i in range(connections)]
    with ThreadPoolExecutor(connections) as pool:
        files = [
            f for part in pool.map(lambda s: _download_folders(env, s, names), shares) for f in part
        ]
    download = time.perf_counter() - started

    started = time.perf_counter()
    frames: dict[str, list] = {}
    unreadable = []
    for folder, name, data in files:
        try:
            frame = pl.read_csv(io.BytesIO(data), infer_schema=False)
        except pl.exceptions.PolarsError as exc:
            unreadable.append(f"{folder}/{name}: {str(exc).splitlines()[0]}")
            continue
        frames.setdefault(name, []).append(
            frame.with_columns(pl.lit(folder).alias("export_folder"))
        )
    parse = time.perf_counter() - started

    started = time.perf_counter()
    rows = 0
    with duckdb.connect(config["duckdb"]) as conn:
        for name, parts in sorted(frames.items()):
            table = pl.concat(parts, how="diagonal")
            conn.register("incoming", table.to_arrow())
            conn.execute(f'CREATE TABLE "{name.removesuffix(".csv")}" AS SELECT * FROM incoming')
            conn.unregister("incoming")
            rows += table.height
        conn.execute("CHECKPOINT")
    insert = time.perf_counter() - started
    return {
        "files": len(files),
        "bytes": sum(len(data) for _, _, data in files),
        "rows": rows,
        "unreadable_files": unreadable,
        "connections": connections,
        "download_seconds": download,
        "parse_seconds": parse,
        "insert_seconds": insert,
        "work_seconds": download + parse + insert,
    }


def phase_backfill(config: dict) -> dict:
    """`toast-pipeline backfill --all`, through the console script's own entry point."""
    from toast_pipeline.commands.cli import console_script

    argv = ["backfill", "--all", "--log", config["log"]]
    if config.get("max_workers"):
        argv += ["--max-workers", str(config["max_workers"])]
    if config.get("batch_size"):
        argv += ["--batch-size", str(config["batch_size"])]
    started_at = time.time()
    code = console_script(argv)
    return {
        "exit_code": code,
        "command_started_at": started_at,
        "command_ended_at": time.time(),
        "argv": argv,
    }


def phase_read_ahead(config: dict) -> dict:
    """The source's downloads of the first dates across an added network latency, with one
    connection and with the read-ahead connections: what reading ahead buys against a distant
    server (on loopback a round trip costs microseconds, so the backfill above cannot show it)."""
    from toast_pipeline.defs.assets import TOAST_FILES
    from toast_pipeline.defs.factories import sftp_source_from_env
    from toast_pipeline_dev.latency_proxy import delayed
    from toast_pipeline_dev.local_sftp import LocalSFTPServer

    env = os.environ
    server = LocalSFTPServer(
        host=env["TOAST_SFTP_HOST"],
        port=int(env["TOAST_SFTP_PORT"]),
        username=env["TOAST_SFTP_USERNAME"],
        client_key_path=Path(env["TOAST_SFTP_PRIVATE_KEY_PATH"]),
        known_hosts_path=Path(env["TOAST_SFTP_KNOWN_HOSTS"]),
        host_key_path=Path(config["host_key_path"]),
        root=Path(config["root"]),
    )
    first = date.fromisoformat(config["first"])
    dates = [first + timedelta(days=i) for i in range(config["dates"])]
    seconds = {}
    with delayed(server, config["one_way_ms"]) as far:
        far_env = {
            **env,
            "TOAST_SFTP_PORT": str(far.port),
            "TOAST_SFTP_KNOWN_HOSTS": str(far.known_hosts_path),
        }
        for connections in config["connections"]:
            source = sftp_source_from_env(far_env, bind_by_name=False).model_copy(
                update={"read_ahead_connections": connections}
            )
            started = time.perf_counter()
            for fetched in source.fetch_many(env["TOAST_LOCATION_ID"], dates, TOAST_FILES):
                fetched.result()
            seconds[str(connections)] = time.perf_counter() - started
            source.close()
    return {
        "one_way_ms": config["one_way_ms"],
        "dates": len(dates),
        "seconds_by_connections": seconds,
    }


def phase_sensor(config: dict) -> dict:
    """Prime the sensor's cursor, drop a new folder, tick twice, run what it requests."""
    import dagster as dg

    from toast_pipeline.definitions import DAILY_JOB, build_definitions
    from toast_pipeline.defs.assets import BUSINESS_DAYS_KEY
    from toast_pipeline.defs.factories import (
        archive_from_env,
        sftp_source_from_env,
        warehouse_from_env,
    )
    from toast_pipeline.settings import GroupSettings

    warnings.filterwarnings("ignore", category=dg.PreviewWarning)
    warnings.filterwarnings("ignore", category=dg.BetaWarning)
    settings = GroupSettings.from_env(os.environ)
    source = sftp_source_from_env(os.environ)
    defs = build_definitions(
        settings,
        source=source,
        archive=archive_from_env(os.environ),
        warehouse=warehouse_from_env(settings, os.environ),
    )
    sensor = defs.resolve_sensor_def("toast_new_folders")
    instance = dg.DagsterInstance.get()

    def tick(cursor: str | None) -> tuple[list[dg.RunRequest], str | None, float]:
        started = time.perf_counter()
        with dg.build_sensor_context(
            cursor=cursor, instance=instance, definitions=defs, resources={"source": source}
        ) as context:
            result = sensor.evaluate_tick(context)
        return list(result.run_requests or []), result.cursor, time.perf_counter() - started

    first, cursor, first_seconds = tick(None)
    primed, cursor, second_seconds = tick(cursor)
    shutil.copytree(config["newcomer_folder"], config["drop_to"])
    seen, cursor, look_seconds = tick(cursor)
    requests, cursor, settle_seconds = tick(cursor)
    keys = [r.partition_key for r in requests]
    newcomer = f"{config['newcomer']}|{LOCATION_ID}"
    if keys != [newcomer]:
        raise BenchmarkError(f"the sensor requested {keys}, expected [{newcomer}]")

    job = defs.resolve_job_def(DAILY_JOB)
    started = time.perf_counter()
    result = job.execute_in_process(
        partition_key=requests[0].partition_key,
        instance=instance,
        tags=dict(requests[0].tags),
        raise_on_error=False,
    )
    run_seconds = time.perf_counter() - started
    record = instance.get_run_record_by_id(result.run_id)
    steps = _step_seconds(instance, result.run_id)
    materialization = (
        instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=BUSINESS_DAYS_KEY, asset_partitions=[newcomer]),
            limit=1,
        )
        .records[0]
        .asset_materialization
    )
    after, _, after_seconds = tick(cursor)
    return {
        "date": config["newcomer"],
        "priming_ticks": [first_seconds, second_seconds],
        "priming_requests": len(primed) + len(first),
        "new_folder_ticks": [look_seconds, settle_seconds],
        "requests_on_first_look": len(seen),
        "requests_after_run": len(after),
        "tick_after_run_seconds": after_seconds,
        "run_success": result.success,
        "run_wall_seconds": run_seconds,
        "run_recorded_seconds": (record.end_time or 0) - (record.start_time or 0),
        "step_seconds": steps,
        "day_status": materialization.metadata["day_status"].value,
        "rows": int(materialization.metadata["rows_loaded"].value),
    }


def _step_seconds(instance, run_id: str) -> float:
    """Time inside the asset step: the run minus process start, code load and resource setup."""
    import dagster as dg

    kinds = {
        dg.DagsterEventType.STEP_START,
        dg.DagsterEventType.STEP_SUCCESS,
        dg.DagsterEventType.STEP_FAILURE,
    }
    stamps = [entry.timestamp for entry in instance.all_logs(run_id, of_type=kinds)]
    return max(stamps) - min(stamps) if len(stamps) > 1 else 0.0


# -- what the backfill's runs did -----------------------------------------------------------------


def backfill_timeline(home: Path, phase: dict) -> dict:
    """Where the command's wall time went, from the instance's own run records."""
    import dagster as dg

    from toast_pipeline.commands.instance import open_instance

    with open_instance(home) as instance:
        [backfill] = instance.get_backfills()
        records = instance.get_run_records(
            filters=dg.RunsFilter(tags={"dagster/backfill": backfill.backfill_id})
        )
        runs = []
        for record in sorted(records, key=lambda r: r.create_timestamp):
            tags = record.dagster_run.tags
            start, end = record.start_time or 0.0, record.end_time or 0.0
            runs.append(
                {
                    "run_id": record.dagster_run.run_id,
                    "status": record.dagster_run.status.value,
                    "first_date": tags.get(
                        "dagster/asset_partition_range_start", tags.get("dagster/partition")
                    ),
                    "last_date": tags.get(
                        "dagster/asset_partition_range_end", tags.get("dagster/partition")
                    ),
                    "created": record.create_timestamp.timestamp(),
                    "started": start,
                    "ended": end,
                    "seconds": end - start,
                    "step_seconds": _step_seconds(instance, record.dagster_run.run_id),
                }
            )
    if not runs:
        return {"backfill_id": backfill.backfill_id, "runs": []}
    first_start = min(r["started"] for r in runs)
    last_end = max(r["ended"] for r in runs)
    done = backfill.backfill_end_timestamp or phase["command_ended_at"]
    return {
        "backfill_id": backfill.backfill_id,
        "backfill_status": backfill.status.value,
        "runs": runs,
        "phases_seconds": {
            "interpreter_and_imports": phase["command_started_at"] - phase["started_at"],
            "command_start_to_backfill_created": backfill.backfill_timestamp
            - phase["command_started_at"],
            "backfill_created_to_first_run_start": first_start - backfill.backfill_timestamp,
            "runs_first_start_to_last_end": last_end - first_start,
            "last_run_end_to_backfill_done": done - last_end,
            "backfill_done_to_command_return": phase["command_ended_at"] - done,
            "command_return_to_process_exit": phase["ended_at"] - phase["command_ended_at"],
        },
        "runs_window_seconds": last_end - first_start,
        "run_seconds_total": sum(r["seconds"] for r in runs),
        "step_seconds_total": sum(r["step_seconds"] for r in runs),
        "created_to_started_seconds_total": sum(r["started"] - r["created"] for r in runs),
    }


def check_backfill(log: dict, export: Export) -> list[str]:
    """The damaged dates must fail alone; every other date must load, closures as generated."""
    problems = []
    failed = {f["business_date"] for f in log["failed_date_list"]}
    if failed != set(export.damaged):
        problems.append(f"failed dates {sorted(failed)}, damaged dates {sorted(export.damaged)}")
    if log["dates_loaded"] != log["dates_requested"] - len(export.damaged):
        problems.append(f"{log['dates_loaded']} of {log['dates_requested']} dates loaded")
    dates = log["dates"][LOCATION_ID]
    closed = sorted(d for d, o in dates.items() if o["status"] == "closed")
    generated = sorted(d for d in export.closed if d in dates)
    if closed != generated:
        problems.append(f"{len(closed)} dates judged closed, {len(generated)} generated closed")
    return problems


# -- the report -----------------------------------------------------------------------------------


def verdict(value: float | None, limit: float, applies: bool = True) -> str:
    if value is None or not applies:
        return "n/a"
    return "PASS" if value <= limit else "MISS"


def build_report(
    args,
    export: Export,
    floor: dict,
    backfill: dict,
    log: dict,
    timeline: dict,
    sensor: dict,
    group: dict | None = None,
) -> dict:
    megabytes = export.toast_bytes / MB
    pipeline_seconds = backfill["wall_seconds"]
    floor_seconds = floor["work_seconds"]
    runs_window = timeline.get("runs_window_seconds")
    full_size = args.days == TARGET_WALL_DAYS
    ratio = pipeline_seconds / floor_seconds if floor_seconds else None
    work_ratio = runs_window / floor_seconds if floor_seconds and runs_window else None
    targets = [
        {
            "target": f"{TARGET_WALL_DAYS} dates <= {TARGET_WALL_SECONDS:.0f} s, daemon latency in",
            "value": pipeline_seconds,
            "unit": "s",
            "result": verdict(pipeline_seconds, TARGET_WALL_SECONDS, full_size),
        },
        {
            "target": f"whole command within {TARGET_RATIO:g}x of the floor",
            "value": ratio,
            "unit": "x",
            "result": verdict(ratio, TARGET_RATIO),
        },
        {
            "target": f"runs (first start to last end) within {TARGET_RATIO:g}x of the floor",
            "value": work_ratio,
            "unit": "x",
            "result": verdict(work_ratio, TARGET_RATIO),
        },
        {
            "target": f"peak memory <= {TARGET_MEMORY_BYTES / MB:.0f} MB",
            "value": backfill["peak_rss_bytes"] / MB,
            "unit": "MB",
            "result": verdict(backfill["peak_rss_bytes"], TARGET_MEMORY_BYTES),
        },
        {
            "target": f"sensor-requested date run <= {TARGET_SENSOR_RUN_SECONDS:.0f} s",
            "value": sensor["run_wall_seconds"],
            "unit": "s",
            "result": verdict(sensor["run_wall_seconds"], TARGET_SENSOR_RUN_SECONDS),
        },
    ]
    single_cost = pipeline_seconds / log["dates_requested"] if log["dates_requested"] else None
    if group is not None:
        group["seconds_per_location_date_one_location"] = single_cost
        group_ratio = (
            group["seconds_per_location_date"] / single_cost
            if group["seconds_per_location_date"] and single_cost
            else None
        )
        group["ratio_to_one_location"] = group_ratio
        targets.append(
            {
                "target": f"group: per location-date within {TARGET_GROUP_TOLERANCE - 1:.0%} "
                "of one location's",
                "value": group_ratio,
                "unit": "x",
                "result": verdict(group_ratio, TARGET_GROUP_TOLERANCE),
            }
        )
    return {
        "settings": {
            "days": args.days,
            "orders_per_day": args.orders_per_day,
            "first_date": export.first.isoformat(),
            "last_date": export.last.isoformat(),
            "max_workers": args.max_workers,
            "batch_size": args.batch_size,
            "floor_connections": args.floor_connections,
            "cpu_count": os.cpu_count(),
            "python": sys.version.split()[0],
        },
        "export": {
            "toast_csv_megabytes": megabytes,
            "damaged_dates": export.damaged,
            "closed_dates": len(export.closed),
            "generate_seconds": export.generate_seconds,
        },
        "pipeline": {
            "wall_seconds": pipeline_seconds,
            "rows": log["rows_loaded"],
            "rows_per_second": log["rows_loaded"] / pipeline_seconds,
            "megabytes": megabytes,
            "megabytes_per_second": megabytes / pipeline_seconds,
            "peak_rss_bytes": backfill["peak_rss_bytes"],
            "tree_peak_rss_bytes": backfill["tree_peak_rss_bytes"],
            "tree_peak_pss_bytes": backfill["tree_peak_pss_bytes"],
            "tree_peak_processes": backfill["tree_peak_processes"],
            "processes_at_peak": backfill["processes_at_peak"],
            "largest_process_peak_rss_bytes": backfill["largest_process_peak_rss_bytes"],
            "exit_code": backfill["exit_code"],
            "dates_requested": log["dates_requested"],
            "dates_loaded": log["dates_loaded"],
            "closure_dates": log["closure_dates"],
            "failed_dates": log["failed_date_list"],
            "problems": check_backfill(log, export),
            "timeline": timeline,
        },
        "floor": {
            "wall_seconds": floor_seconds,
            "process_wall_seconds": floor["wall_seconds"],
            "download_seconds": floor["download_seconds"],
            "parse_seconds": floor["parse_seconds"],
            "insert_seconds": floor["insert_seconds"],
            "rows": floor["rows"],
            "rows_per_second": floor["rows"] / floor_seconds,
            "megabytes": floor["bytes"] / MB,
            "megabytes_per_second": floor["bytes"] / MB / floor_seconds,
            "files": floor["files"],
            "unreadable_files": floor["unreadable_files"],
            "connections": floor["connections"],
            "peak_rss_bytes": floor["peak_rss_bytes"],
            "tree_peak_rss_bytes": floor["tree_peak_rss_bytes"],
            "tree_peak_pss_bytes": floor["tree_peak_pss_bytes"],
            "largest_process_peak_rss_bytes": floor["largest_process_peak_rss_bytes"],
        },
        "ratio_pipeline_to_floor": ratio,
        "ratio_run_work_to_floor": work_ratio,
        "sensor": sensor,
        "group": group,
        "targets": targets,
    }


def _num(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}" if digits else f"{value:,.0f}"


def _mb(value: int | None) -> str:
    return "-" if value is None else _num(value / MB, 0)


def _role(command: str) -> str:
    """Which part of the backfill a process is, from its command line."""
    for marker, role in (
        ("multiprocessing.spawn", "run worker"),
        ("api grpc", "code server"),
        ("--phase backfill", "command"),
        ("watch_orphans", "log watcher"),
        ("tail -F", "log tail"),
        ("resource_tracker", "resource tracker"),
    ):
        if marker in command:
            return role
    return command.split(" ")[0]


PHASE_LABELS = {
    "interpreter_and_imports": "python + imports",
    "command_start_to_backfill_created": "backfill created",
    "backfill_created_to_first_run_start": "first run started",
    "runs_first_start_to_last_end": "last run ended",
    "last_run_end_to_backfill_done": "backfill done",
    "backfill_done_to_command_return": "command returned",
    "command_return_to_process_exit": "process exit",
}


def print_report(report: dict) -> None:
    s, p, f = report["settings"], report["pipeline"], report["floor"]
    t, sensor = p["timeline"], report["sensor"]
    print(
        f"\nBackfill benchmark: {s['days']} dates {s['first_date']} .. {s['last_date']}, "
        f"{s['orders_per_day']} orders/day, "
        f"{report['export']['toast_csv_megabytes']:.1f} MB of Toast CSV, {s['cpu_count']} CPUs"
    )
    rows = [
        ("wall time (s)", _num(p["wall_seconds"]), _num(f["wall_seconds"])),
        ("rows", _num(p["rows"], 0), _num(f["rows"], 0)),
        ("rows/s", _num(p["rows_per_second"], 0), _num(f["rows_per_second"], 0)),
        ("MB", _num(p["megabytes"]), _num(f["megabytes"])),
        ("MB/s", _num(p["megabytes_per_second"], 2), _num(f["megabytes_per_second"], 2)),
        ("peak RSS, all processes (MB)", _mb(p["peak_rss_bytes"]), _mb(f["peak_rss_bytes"])),
        (
            "peak PSS, all processes (MB)",
            _mb(p["tree_peak_pss_bytes"]),
            _mb(f["tree_peak_pss_bytes"]),
        ),
        (
            "largest single process (MB)",
            _mb(p["largest_process_peak_rss_bytes"]),
            _mb(f["largest_process_peak_rss_bytes"]),
        ),
    ]
    print(f"{'':34}{'pipeline':>12}{'floor':>12}{'ratio':>8}")
    ratio = _num(report["ratio_pipeline_to_floor"], 2)
    for index, (label, pipeline, floor) in enumerate(rows):
        print(f"{label:34}{pipeline:>12}{floor:>12}{ratio if index == 0 else '':>8}")
    print(
        f"\nfloor: download {f['download_seconds']:.1f} s ({f['connections']} connections), "
        f"parse {f['parse_seconds']:.1f} s, insert {f['insert_seconds']:.1f} s; "
        f"{f['files']} files, {len(f['unreadable_files'])} unreadable"
    )
    failed = ", ".join(f["business_date"] for f in p["failed_dates"]) or "none"
    print(
        f"pipeline: {p['dates_loaded']} of {p['dates_requested']} dates loaded, "
        f"{p['closure_dates']} closures, {len(p['failed_dates'])} failed ({failed}); "
        f"exit {p['exit_code']}"
    )
    if t.get("runs"):
        runs = t["runs"]
        steps = [f"{PHASE_LABELS[k]} +{v:.1f}" for k, v in t["phases_seconds"].items()]
        print("  seconds: " + ", ".join(steps))
        print(
            f"  {len(runs)} runs, {t['run_seconds_total']:.1f} s of run time "
            f"({t['run_seconds_total'] / len(runs):.1f} s each), {t['step_seconds_total']:.1f} s "
            f"of it inside the asset step"
        )
    if p["processes_at_peak"]:
        at_peak = sorted(p["processes_at_peak"], key=lambda q: -q["rss_bytes"])
        shares = [f"{_role(q['command'])} {_mb(q['rss_bytes'])}" for q in at_peak]
        print("  at peak RSS (MB): " + ", ".join(shares))
    for problem in p["problems"]:
        print(f"  ! {problem}")
    priming, new = sensor["priming_ticks"], sensor["new_folder_ticks"]
    print(
        f"sensor: priming ticks {priming[0]:.2f} + {priming[1]:.2f} s "
        f"({sensor['priming_requests']} requests); new-folder ticks {new[0]:.2f} + {new[1]:.2f} s"
    )
    print(
        f"  run of {sensor['date']} ({sensor['day_status']}, {sensor['rows']:,} rows): "
        f"{sensor['run_wall_seconds']:.1f} s, {sensor['step_seconds']:.1f} s in the step, "
        f"{'succeeded' if sensor['run_success'] else 'FAILED'}; "
        f"peak RSS {_mb(sensor['peak_rss_bytes'])} MB"
    )
    ahead = report.get("read_ahead")
    if ahead:
        by = ahead["seconds_by_connections"]
        print(
            f"read-ahead across {ahead['one_way_ms']:g} ms one-way latency, {ahead['dates']} dates: "
            + ", ".join(
                f"{n} connection{'s' if n != '1' else ''} {t:.1f} s ({t / ahead['dates']:.2f} s/date)"
                for n, t in by.items()
            )
        )
    group = report.get("group")
    if group:
        print(
            f"group: {len(group['locations'])} locations x {group['dates_per_location']} dates, "
            f"{group['location_dates_loaded']} of {group['location_dates']} location-dates loaded, "
            f"{group['failed_dates']} failed, in {group['wall_seconds']:.1f} s: "
            f"{group['seconds_per_location_date']:.3f} s per location-date against "
            f"{group['seconds_per_location_date_one_location']:.3f} s for one location; "
            f"peak RSS {_mb(group['peak_rss_bytes'])} MB"
        )
    print("\ntargets")
    for target in report["targets"]:
        digits = 2 if target["unit"] == "x" else (0 if target["unit"] == "MB" else 1)
        value = f"{_num(target['value'], digits)} {target['unit']}"
        print(f"  {target['target']:66}{value:>12}  {target['result']}")
    if s["days"] != TARGET_WALL_DAYS:
        print(f"  (the wall-time target applies to {TARGET_WALL_DAYS} dates only)")


# -- the whole benchmark --------------------------------------------------------------------------


def fresh_workdir(requested: Path | None) -> tuple[Path, bool]:
    """A given work dir must be new or empty and is kept; otherwise a temporary one is removed."""
    if requested is None:
        return Path(tempfile.mkdtemp(prefix="toast-backfill-benchmark-")), False
    if requested.exists() and any(requested.iterdir()):
        raise BenchmarkError(f"--workdir {requested} is not empty; give a new or empty folder")
    requested.mkdir(parents=True, exist_ok=True)
    return requested.resolve(), True


def default_read_ahead_connections() -> int:
    from toast_pipeline.resources.sftp import SFTPExportSource

    return SFTPExportSource.model_fields["read_ahead_connections"].default


def benchmark_env(server, workdir: Path) -> dict[str, str]:
    """One restaurant, set as a single-location group sets it, on the loopback server."""
    from toast_pipeline_dev.demo import server_settings

    return {
        **server_settings(server),
        "TOAST_LOCATION_ID": LOCATION_ID,
        "TOAST_TIMEZONE": TIMEZONE,
        "TOAST_START_DATE": START.isoformat(),
        "TOAST_DUCKDB_PATH": str(workdir / "toast.duckdb"),
        "TOAST_ARCHIVE_PATH": str(workdir / "raw"),
    }


def group_export(export: Export, root: Path, locations: int, days: int) -> list[str]:
    """The benchmark restaurant's first `days` folders served as `locations` stores: the same
    files, hard-linked under each store's number. What a location-date costs depends on its size,
    not on whose it is, so this measures a group's cost per location-date without a second
    generation. Returns the location IDs."""
    ids = [str(int(LOCATION_ID) + n) for n in range(locations)]
    folders = sorted((export.root / LOCATION_ID).iterdir())[:days]
    for location_id in ids:
        for folder in folders:
            target = root / location_id / folder.name
            target.mkdir(parents=True)
            for file in folder.iterdir():
                os.link(file, target / file.name)
    return ids


def group_env(server, workdir: Path) -> dict[str, str]:
    """The group as a restaurant group's login sees it: no location named, each found on the
    server; its own instance, DuckDB file and archive."""
    from toast_pipeline_dev.demo import server_settings

    home = workdir / "group_dagster_home"
    home.mkdir()
    shutil.copy(PROJECT_DAGSTER_YAML, home / "dagster.yaml")
    return {
        **server_settings(server),
        "TOAST_TIMEZONE": TIMEZONE,
        "TOAST_START_DATE": START.isoformat(),
        "TOAST_DUCKDB_PATH": str(workdir / "group.duckdb"),
        "TOAST_ARCHIVE_PATH": str(workdir / "group_raw"),
        "DAGSTER_HOME": str(home),
    }


def run_group(args, workdir: Path, export: Export) -> dict | None:
    """`toast-pipeline backfill --all` over a group of `--group-locations` stores, as many
    location-dates in all as the one-location backfill."""
    from toast_pipeline_dev.local_sftp import serve

    if args.group_locations < 2:
        return None
    days = args.days // args.group_locations
    root = workdir / "group_export"
    ids = group_export(export, root, args.group_locations, days)
    print(f"Group: {len(ids)} locations x {days} dates through one backfill command...", flush=True)
    log_path = workdir / "group_backfill_log.json"
    with serve(root, workdir / "keys") as server:
        result = run_phase(
            "group",
            {"log": str(log_path), "max_workers": args.max_workers, "batch_size": args.batch_size},
            workdir,
            group_env(server, workdir),
        )
    log = json.loads(log_path.read_text()) if log_path.exists() else {}
    location_dates = log.get("dates_requested", 0)
    print(f"  {result['wall_seconds']:.1f} s (exit {result['exit_code']})", flush=True)
    return {
        "locations": ids,
        "dates_per_location": days,
        "location_dates": location_dates,
        "location_dates_loaded": log.get("dates_loaded"),
        "failed_dates": log.get("failed_dates"),
        "wall_seconds": result["wall_seconds"],
        "seconds_per_location_date": (
            result["wall_seconds"] / location_dates if location_dates else None
        ),
        "peak_rss_bytes": result["peak_rss_bytes"],
        "exit_code": result["exit_code"],
    }


def run_benchmark(args) -> dict:
    from toast_pipeline_dev.local_sftp import serve

    workdir, keep = fresh_workdir(args.workdir)
    try:
        print(f"Work dir: {workdir}")
        print(f"Generating {args.days} dates at {args.orders_per_day} orders/day...", flush=True)
        export = generate(workdir, args.days, args.orders_per_day)
        print(
            f"  {export.toast_bytes / MB:.1f} MB of Toast CSV in {export.generate_seconds:.1f} s; "
            f"damaged {', '.join(export.damaged) or 'none'}; {len(export.closed)} closed dates; "
            f"{export.newcomer} held back for the sensor",
            flush=True,
        )
        home = workdir / "dagster_home"
        home.mkdir()
        shutil.copy(PROJECT_DAGSTER_YAML, home / "dagster.yaml")
        with serve(export.root, workdir / "keys") as server:
            env = {**benchmark_env(server, workdir), "DAGSTER_HOME": str(home)}
            print("Floor: paramiko + polars + DuckDB, no Dagster...", flush=True)
            floor = run_phase(
                "floor",
                {
                    "first": export.first.isoformat(),
                    "last": export.last.isoformat(),
                    "file_names": list(toast_file_names()),
                    "connections": args.floor_connections,
                    "duckdb": str(workdir / "floor.duckdb"),
                },
                workdir,
                env,
            )
            print(f"  {floor['work_seconds']:.1f} s", flush=True)
            print("Pipeline: toast-pipeline backfill --all on a fresh instance...", flush=True)
            backfill_log = workdir / "backfill_log.json"
            backfill = run_phase(
                "backfill",
                {
                    "log": str(backfill_log),
                    "max_workers": args.max_workers,
                    "batch_size": args.batch_size,
                },
                workdir,
                env,
            )
            print(f"  {backfill['wall_seconds']:.1f} s (exit {backfill['exit_code']})", flush=True)
            if not backfill_log.exists():
                raise BenchmarkError(f"the backfill wrote no log; see {backfill['log']}")
            log = json.loads(backfill_log.read_text())
            timeline = backfill_timeline(home, backfill)
            print("Sensor: a new date folder dropped on the server...", flush=True)
            sensor = run_phase(
                "sensor",
                {
                    "newcomer": export.newcomer.isoformat(),
                    "newcomer_folder": str(export.newcomer_folder),
                    "drop_to": str(export.root / LOCATION_ID / export.newcomer_folder.name),
                },
                workdir,
                env,
            )
            print(f"  run {sensor['run_wall_seconds']:.1f} s", flush=True)
            print(
                f"Read-ahead: {args.latency_dates} dates across {args.latency_ms:g} ms of added "
                "one-way latency...",
                flush=True,
            )
            read_ahead = run_phase(
                "read_ahead",
                {
                    "first": export.first.isoformat(),
                    "dates": min(args.latency_dates, args.days),
                    "one_way_ms": args.latency_ms,
                    "connections": [1, default_read_ahead_connections()],
                    "host_key_path": str(server.host_key_path),
                    "root": str(server.root),
                },
                workdir,
                env,
            )
        group = run_group(args, workdir, export)
        report = build_report(args, export, floor, backfill, log, timeline, sensor, group)
        report["read_ahead"] = read_ahead
        report["workdir"] = str(workdir) if keep else None
        return report
    finally:
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--days", type=int, default=TARGET_WALL_DAYS, help="business dates to backfill"
    )
    parser.add_argument(
        "--orders-per-day",
        type=int,
        default=DEFAULT_ORDERS_PER_DAY,
        help="typical orders on an open day (260: about 150 MB of CSV for 432 dates)",
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        help="new or empty folder, kept afterwards (default: a temporary one)",
    )
    parser.add_argument(
        "--group-locations",
        type=int,
        default=3,
        help="stores of the group backfill, each with --days / N dates (default 3; 0: none)",
    )
    parser.add_argument("--max-workers", type=int, help="passed to the backfill command")
    parser.add_argument("--batch-size", type=int, help="passed to the backfill command")
    parser.add_argument(
        "--floor-connections",
        type=int,
        default=2,
        help="SFTP connections of the floor's download (default 2, as the instance runs 2 runs)",
    )
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=20.0,
        help="one-way latency added for the read-ahead measurement (default 20: a 40 ms round trip)",
    )
    parser.add_argument(
        "--latency-dates", type=int, default=30, help="dates downloaded across that latency"
    )
    parser.add_argument(
        "--output", type=Path, default=Path("data/backfill_benchmark.json"), help="JSON results"
    )
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--phase-config", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.days < 5:
        parser.error("--days must be at least 5")
    return args


def main(argv: list[str] | None = None) -> int:
    entered_at = time.time()
    args = parse_args(argv)
    if args.phase:
        return phase_main(args.phase, args.phase_config, entered_at)
    try:
        report = run_benchmark(args)
    except BenchmarkError as err:
        print(f"benchmark failed: {err}", file=sys.stderr)
        return 2
    print_report(report)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nResults: {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
