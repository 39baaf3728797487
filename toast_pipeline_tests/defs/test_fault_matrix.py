"""The fault matrix: Dagster runs against a loopback SFTP server made to misbehave.

Each case asserts the outcome a restaurant needs: every row loaded once or a clear failure,
nothing read from a server that is not the right one, no secret anywhere. Cases that live
elsewhere: a file still growing (resources/test_sftp.py), the new-folder sensor waiting for a
folder to settle (test_sensors.py), a run killed mid-write and two runs writing at once
(resources/test_warehouse.py), each malformation's exact message (toast/test_parse.py).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import tracemalloc
from contextlib import ExitStack
from datetime import date
from pathlib import Path

import asyncssh
import dagster as dg
import pytest

from toast_pipeline.definitions import DAILY_JOB, build_definitions
from toast_pipeline.defs.assets import TOAST_FILES
from toast_pipeline.resources.archive import LocalRawArchive
from toast_pipeline.resources.duckdb_warehouse import DuckDBWarehouse
from toast_pipeline.resources.source import FileTooLarge
from toast_pipeline.settings import GroupSettings
from toast_pipeline_dev.local_sftp import LocalSFTPServer, generate_keys, write_known_hosts
from toast_pipeline_dev.sample import SampleExport, generate_export
from toast_pipeline_tests.faulty_sftp import Faults, read_journal, serve_faulty
from toast_pipeline_tests.helpers import expected_rows, real_rows, run_dates

pytestmark = pytest.mark.e2e

LOCATION = "185129"
START = date(2024, 5, 6)
DAYS = [date(2024, 5, 6 + i) for i in range(8)]
DAMAGE = {
    DAYS[1]: "unterminated_quote",
    DAYS[2]: "nul_byte",
    DAYS[3]: "cut_short",
    DAYS[4]: "latin1",
    DAYS[5]: "bad_value",
    DAYS[6]: "missing_key_column",
}
BIG_FILE = "ItemSelectionDetails.csv"  # over 32 KiB at this volume: several read requests


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> SampleExport:
    """Eight open dates at a busy restaurant's volume; six carry one malformation each."""
    return generate_export(
        tmp_path_factory.mktemp("faults"),
        location_id=LOCATION,
        start=START,
        days=len(DAYS),
        seed=29,
        orders_per_day=150,
        holiday_country=None,
        closed_weekdays=(),
        random_closure_rate=0.0,
        damaged_dates=DAMAGE,
    )


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("fault_keys")
    generate_keys(folder)
    return folder


@pytest.fixture
def faulty(export: SampleExport, keys: Path, tmp_path: Path):
    """Start a faulty server on the export; returns the server and its journal's path."""
    with ExitStack() as servers:

        def start(**faults) -> tuple[LocalSFTPServer, Path]:
            journal = tmp_path / "journal.jsonl"
            server = servers.enter_context(
                serve_faulty(export.root, keys, Faults(journal=str(journal), **faults))
            )
            return server, journal

        yield start


def job_for(
    source, tmp_path: Path, retries: int = 1
) -> tuple[dg.JobDefinition, DuckDBWarehouse, LocalRawArchive]:
    settings = GroupSettings(
        locations=(LOCATION,),
        start_date=START,
        holiday_country=None,
        run_retries=retries,
        run_retry_delay_seconds=0,
    )
    warehouse = DuckDBWarehouse(path=str(tmp_path / "toast.duckdb"))
    archive = LocalRawArchive(path=str(tmp_path / "raw"))
    definitions = build_definitions(settings, source=source, archive=archive, warehouse=warehouse)
    return definitions.resolve_job_def(DAILY_JOB), warehouse, archive


def step_attempts(result: dg.ExecuteInProcessResult) -> int:
    return 1 + sum(
        1 for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_RESTARTED
    )


def failure(result: dg.ExecuteInProcessResult):
    [event] = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    return event.step_failure_data


def failure_text(result: dg.ExecuteInProcessResult) -> str:
    """The step's error with its causes, as the UI shows it."""
    return failure(result).error.to_string()


def events(journal: Path, kind: str) -> list[dict]:
    return [e for e in read_journal(journal) if e["event"] == kind]


# -- the network -------------------------------------------------------------------------------


def test_a_connection_dropped_mid_transfer_is_retried_and_the_date_loaded_once(
    export, faulty, sftp_source_factory, tmp_path
):
    server, journal = faulty(drop_reads={BIG_FILE: 1})
    job, warehouse, _ = job_for(sftp_source_factory(server, max_attempts=3), tmp_path)
    with dg.DagsterInstance.ephemeral() as instance:
        result = run_dates(job, instance, DAYS[0])
    assert result.success
    assert [e["name"] for e in events(journal, "drop")] == [BIG_FILE]
    assert len(events(journal, "connection")) == 2
    assert real_rows(warehouse, DAYS[0]) == expected_rows(export, DAYS[0])


def test_a_network_down_longer_than_the_resource_waits_is_retried_by_dagster(
    export, faulty, sftp_source_factory, tmp_path
):
    """The resource gives up after 2 attempts; Dagster's retry policy runs the step again."""
    server, journal = faulty(drop_reads={BIG_FILE: 2})
    job, warehouse, _ = job_for(sftp_source_factory(server, max_attempts=2), tmp_path, retries=1)
    with dg.DagsterInstance.ephemeral() as instance:
        result = run_dates(job, instance, DAYS[0])
    assert result.success
    assert step_attempts(result) == 2
    assert len(events(journal, "drop")) == 2
    assert real_rows(warehouse, DAYS[0]) == expected_rows(export, DAYS[0])


def test_a_network_that_never_recovers_fails_with_a_clear_error_and_writes_nothing(
    faulty, sftp_source_factory, tmp_path
):
    server, journal = faulty(drop_reads={BIG_FILE: 100})
    job, warehouse, _ = job_for(sftp_source_factory(server, max_attempts=2), tmp_path, retries=1)
    with dg.DagsterInstance.ephemeral() as instance:
        result = run_dates(job, instance, DAYS[0])
    assert not result.success
    assert step_attempts(result) == 2
    assert f"/{LOCATION}/20240506 on 127.0.0.1:{server.port} failed 2 times" in failure_text(result)
    assert warehouse.row_counts(LOCATION) == dict.fromkeys(warehouse.row_counts(LOCATION), 0)


# -- who we talk to ----------------------------------------------------------------------------


@pytest.mark.parametrize("credential", ["wrong key", "wrong password"])
def test_refused_credentials_fail_at_once_without_a_retry_storm(
    faulty, sftp_source_factory, tmp_path, credential
):
    password_file = tmp_path / "server_password"
    password_file.write_text("the-right-one")
    server, journal = faulty(password_file=str(password_file))
    if credential == "wrong key":
        _, stranger = generate_keys(tmp_path / "stranger")
        source = sftp_source_factory(server, private_key_path=str(stranger))
    else:
        source = sftp_source_factory(server, private_key_path=None, password="not-the-right-one")
    job, _, _ = job_for(source, tmp_path, retries=3)
    with dg.DagsterInstance.ephemeral() as instance:
        result = run_dates(job, instance, DAYS[0], DAYS[-1])
    assert not result.success
    assert step_attempts(result) == 1
    assert len(events(journal, "connection")) == 1
    assert len(events(journal, "password")) == (1 if credential == "wrong password" else 0)
    assert "authentication failed for user 'ExportUser'" in failure_text(result)


@pytest.mark.parametrize("known", ["no entry", "another key"])
def test_an_unknown_or_changed_host_key_is_refused_before_anything_is_read(
    faulty, sftp_source_factory, tmp_path, known
):
    server, journal = faulty()
    known_hosts = tmp_path / "known_hosts"
    if known == "no entry":
        known_hosts.write_text("")
    else:
        impostor = asyncssh.generate_private_key("ssh-ed25519").export_public_key()
        write_known_hosts(known_hosts, server.host, server.port, impostor)
    job, warehouse, archive = job_for(
        sftp_source_factory(server, known_hosts_path=str(known_hosts)), tmp_path, retries=3
    )
    with dg.DagsterInstance.ephemeral() as instance:
        result = run_dates(job, instance, DAYS[0])
    assert not result.success and step_attempts(result) == 1
    expected = "is not in" if known == "no entry" else "has CHANGED"
    assert f"the host key of 127.0.0.1:{server.port} {expected}" in failure_text(result)
    assert events(journal, "login") == [] and events(journal, "open") == []
    assert archive.dates(LOCATION) == []


# -- what the server holds ---------------------------------------------------------------------


def test_a_folder_still_being_written_is_not_loaded_as_a_closed_day(
    export, sftp_server_factory, sftp_source_factory, tmp_path
):
    root = tmp_path / "export"
    shutil.copytree(export.root, root)
    partial = root / LOCATION / DAYS[7].strftime("%Y%m%d")
    for name in TOAST_FILES[3:]:
        (partial / name).unlink()
    moments_ago = time.time() - 600
    os.utime(partial / TOAST_FILES[0], (moments_ago, moments_ago))  # Toast wrote it 10 minutes ago
    job, warehouse, archive = job_for(sftp_source_factory(sftp_server_factory(root)), tmp_path)
    with dg.DagsterInstance.ephemeral() as instance:
        result = run_dates(job, instance, DAYS[7])
        assert not result.success
        assert (
            "the folder is still being written (3 of the 7 Toast files the location receives"
            in failure_text(result)
        )
        assert warehouse.row_counts(LOCATION)["business_days"] == 0
        assert archive.dates(LOCATION) == []

        shutil.copytree(
            export.root / LOCATION / DAYS[7].strftime("%Y%m%d"), partial, dirs_exist_ok=True
        )
        assert run_dates(job, instance, DAYS[7]).success  # the finished folder (stamped hours ago)
    assert real_rows(warehouse, DAYS[7]) == expected_rows(export, DAYS[7])


def test_each_malformed_file_fails_its_date_naming_file_and_line_and_the_others_load(
    export, faulty, sftp_source_factory, tmp_path
):
    server, _ = faulty()
    job, warehouse, _ = job_for(sftp_source_factory(server), tmp_path)
    with dg.DagsterInstance.ephemeral() as instance:
        result = run_dates(job, instance, DAYS[0], DAYS[-1])
        assert not result.success
        failed = failure(result).user_failure_data.metadata["failed_dates"].value
    assert sorted(failed) == sorted(f"{d.isoformat()}|{LOCATION}" for d in DAMAGE)
    for day, kind in DAMAGE.items():
        truth = export.day(day)
        message = failed[f"{day.isoformat()}|{LOCATION}"]
        assert (
            f"{LOCATION}/{day:%Y%m%d}/{truth.damage_file}, line {truth.damage_line}" in message
        ), (kind, message)
        if kind in ("bad_value", "cut_short"):
            assert f"column {truth.damage_column!r}" in message, (kind, message)
    for day in (DAYS[0], DAYS[7]):
        assert real_rows(warehouse, day) == expected_rows(export, day)
    assert warehouse.row_counts(LOCATION)["business_days"] == 2


HOSTILE = [
    "../../evil.csv",
    "/etc/evil.csv",
    "x" * 300 + ".csv",
    "sub/evil.csv",
    "..",
    "evil\n.csv",
]


def test_hostile_names_in_a_listing_are_ignored_and_nothing_is_written_outside(
    export, keys, sftp_source_factory, tmp_path
):
    root = tmp_path / "export"
    shutil.copytree(export.root, root)
    (tmp_path / "outside.csv").write_text("secret,outside\n")
    (root / LOCATION / DAYS[0].strftime("%Y%m%d") / "Escape.csv").symlink_to(
        tmp_path / "outside.csv"
    )
    journal = tmp_path / "journal.jsonl"
    work = tmp_path / "work"
    work.mkdir()
    with serve_faulty(root, keys, Faults(extra_names=HOSTILE, journal=str(journal))) as server:
        job, warehouse, archive = job_for(sftp_source_factory(server), work)
        with dg.DagsterInstance.ephemeral() as instance:
            assert run_dates(job, instance, DAYS[0]).success
    assert real_rows(warehouse, DAYS[0]) == expected_rows(export, DAYS[0])
    manifest = archive.latest(LOCATION, DAYS[0])
    assert sorted(f.name for f in manifest.files) == sorted(TOAST_FILES)
    assert not {f.name for f in manifest.listing} & {*HOSTILE, "Escape.csv"}
    opened = {Path(e["path"]).name for e in events(journal, "open")}
    assert opened == set(TOAST_FILES)
    written = {p.relative_to(work).parts[0] for p in work.rglob("*")}
    assert written <= {"toast.duckdb", "toast.duckdb.wal", "raw"}
    assert not list(tmp_path.rglob("evil*")) and not Path("/etc/evil.csv").exists()


# -- size --------------------------------------------------------------------------------------


def test_a_large_file_is_read_in_bounded_memory_and_an_oversized_one_refused(
    keys, sftp_source_factory, tmp_path
):
    """The bound: a download holds the file once, plus its 2 MiB window of pipelined reads in at
    most a few copies on their way through paramiko (52 MiB measured for 48 MiB, 56 under load).
    Reading the whole file at once held it three times over."""
    day = tmp_path / "big" / LOCATION / "20240506"
    day.mkdir(parents=True)
    row = b"1234567890,Kelly Ross,12.50,4/4/24 11:23 AM\n"
    large = row * (48 * 2**20 // len(row))
    (day / "OrderDetails.csv").write_bytes(large)
    (day / "PaymentDetails.csv").write_bytes(row * (3 * 2**20 // len(row)))
    journal = tmp_path / "journal.jsonl"
    with serve_faulty(tmp_path / "big", keys, Faults(journal=str(journal))) as server:
        source = sftp_source_factory(server)
        peaks = []
        for _ in range(2):
            files = None
            tracemalloc.start()
            try:
                files = source.fetch(LOCATION, DAYS[0], names=["OrderDetails.csv"]).files
                peaks.append(tracemalloc.get_traced_memory()[1])
            finally:
                tracemalloc.stop()
            assert files["OrderDetails.csv"] == large
        # The smaller of two downloads: on a machine busy with other work, paramiko's reader
        # thread and the collector's timing add a few MiB of noise to a single peak.
        peak = min(peaks)
        assert peak < len(large) + 16 * 2**20, (
            f"peak {peak / 2**20:.0f} MiB for a {len(large) / 2**20:.0f} MiB file"
        )

        strict = sftp_source_factory(server, max_file_mb=1)
        with pytest.raises(
            FileTooLarge, match=r"PaymentDetails.csv on .* is 3.0 MiB, more than max_file_mb=1"
        ):
            strict.fetch(LOCATION, DAYS[0], names=["PaymentDetails.csv"])
    # The oversized file was refused before it was opened.
    opened = [Path(e["path"]).name for e in events(journal, "open")]
    assert opened == ["OrderDetails.csv", "OrderDetails.csv"]


# -- secrets -----------------------------------------------------------------------------------


def test_no_secret_reaches_the_event_log_the_logs_or_any_file_written(
    export, keys, sample_env, tmp_path, monkeypatch
):
    """Runs through `dagster asset materialize` with EnvVar-bound secrets (an encrypted key and
    its passphrase, a password), succeeding, failing on a damaged file and failing to log in;
    then the event log, the command output and every byte written are searched for each secret."""
    password, passphrase, wrong = (
        "pw-7d1c-never-log",
        "pp-93ab-never-log",
        "pw-wrong-4e2f-never-log",
    )
    password_file = tmp_path / "server" / "password"
    password_file.parent.mkdir()
    password_file.write_text(password)
    client_key = asyncssh.read_private_key(keys / "client_ed25519_key")
    key_path = tmp_path / "client_key"
    key_path.write_bytes(client_key.export_private_key("openssh", passphrase=passphrase))
    key_path.chmod(0o600)
    home = Path(sample_env["DAGSTER_HOME"])
    outputs = []
    with serve_faulty(export.root, keys, Faults(password_file=str(password_file))) as server:
        env = {
            **os.environ,
            **sample_env,
            "TOAST_SFTP_PORT": str(server.port),
            "TOAST_SFTP_KNOWN_HOSTS": str(server.known_hosts_path),
            "TOAST_SFTP_PRIVATE_KEY_PATH": str(key_path),
            "TOAST_SFTP_PRIVATE_KEY_PASSPHRASE": passphrase,
            "TOAST_SFTP_PASSWORD": password,
            "TOAST_START_DATE": START.isoformat(),
            "TOAST_HOLIDAY_COUNTRY": "none",
            "TOAST_RUN_RETRIES": "0",
        }
        password_only = {k: v for k, v in env.items() if "PRIVATE_KEY" not in k} | {
            "TOAST_SFTP_PASSWORD": wrong
        }
        for day, run_env in ((DAYS[0], env), (DAYS[5], env), (DAYS[0], password_only)):
            command = [
                sys.executable,
                "-m",
                "dagster",
                "asset",
                "materialize",
                "-m",
                "toast_pipeline.definitions",
            ]
            command += ["--select", "key:toast/*", "--partition", f"{day.isoformat()}|{LOCATION}"]
            done = subprocess.run(command, env=run_env, capture_output=True, text=True, timeout=120)
            outputs.append(done.stdout + done.stderr)
    assert "RUN_SUCCESS" in outputs[0], outputs[0][-2000:]
    assert "185129/20240511/" in outputs[1] and "RUN_FAILURE" in outputs[1]
    assert "password was rejected" in outputs[2] and "RUN_FAILURE" in outputs[2]
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with dg.DagsterInstance.get() as instance:
        runs = instance.get_runs()
        logged = [repr(entry) for run in runs for entry in instance.all_logs(run.run_id)]
    assert len(runs) == 3 and any("password was rejected" in text for text in logged)
    written = [home, Path(sample_env["TOAST_ARCHIVE_PATH"])]
    written += Path(sample_env["TOAST_DUCKDB_PATH"]).parent.glob("toast.duckdb*")
    files = [
        p
        for folder in written
        for p in ([folder] if folder.is_file() else folder.rglob("*"))
        if p.is_file()
    ]
    assert len(files) > 10
    searched = [*outputs, *logged, *(p.read_bytes().decode("latin-1") for p in files)]
    for secret in (password, passphrase, wrong):
        assert not [text[:200] for text in searched if secret in text], secret
