"""SFTPExportSource against the loopback server: real SSH, real files, no fakes."""

from __future__ import annotations

import logging
import os
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import asyncssh
import dagster as dg
import paramiko
import pytest

from toast_pipeline.resources.sftp import (
    AuthenticationFailed,
    HostKeyRejected,
    SFTPConfigError,
    SFTPExportSource,
)
from toast_pipeline.resources.source import (
    ExportSource,
    ExportSourceUnavailable,
    FileTooLarge,
    IncompleteFileError,
    LocationNotFound,
)
from toast_pipeline.toast.delivery import RemoteFile, is_safe_name
from toast_pipeline_dev.local_sftp import LocalSFTPServer, generate_keys, serve, write_known_hosts
from toast_pipeline_tests.helpers import free_port

LOCATION = "185129"
DAY = date(2024, 4, 4)
ORDERS = '\ufeffOrder Id,Server\r\n1001,"Smith, John"\r\n'.encode()
MTIME = datetime(2024, 4, 5, 9, 30, 15, tzinfo=UTC)
SECRET = "s3cret-do-not-log-7f2a"

SourceFactory = Callable[..., SFTPExportSource]


@pytest.fixture(scope="module")
def export_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A location folder with good date folders and everything a listing must skip."""
    base = tmp_path_factory.mktemp("export")
    (base / "outside.csv").write_text("secret,outside\n")
    location = base / "root" / LOCATION
    day = location / "20240404"
    day.mkdir(parents=True)
    (day / "OrderDetails.csv").write_bytes(ORDERS)
    (day / "CheckDetails.csv").write_bytes(b"")
    (day / "AccountingReport.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    (day / "line\nbreak.csv").write_bytes(b"x")
    (day / "escape.csv").symlink_to(base / "outside.csv")
    (day / "nested").mkdir()
    os.utime(day / "OrderDetails.csv", (MTIME.timestamp(), MTIME.timestamp()))
    for folder in ("20240405", "20240407", "notadate", "2024-04-06", "20241399", "202404040"):
        (location / folder).mkdir()
    (location / "20240408").write_text("a file, not a folder")
    (location / "20240409").symlink_to(day)
    return base / "root"


@pytest.fixture(scope="module")
def server(
    export_root: Path, sftp_server_factory: Callable[[Path], LocalSFTPServer]
) -> LocalSFTPServer:
    return sftp_server_factory(export_root)


@pytest.fixture
def source(server: LocalSFTPServer, sftp_source_factory: SourceFactory) -> SFTPExportSource:
    return sftp_source_factory(server)


def fingerprint(private_key: Path) -> str:
    return paramiko.PKey.from_path(private_key).fingerprint


# -- reading ---------------------------------------------------------------------------------


@pytest.mark.e2e
def test_lists_date_folders_only(source: SFTPExportSource) -> None:
    assert source.list_dates(LOCATION) == [date(2024, 4, 4), date(2024, 4, 5), date(2024, 4, 7)]


@pytest.mark.e2e
def test_lists_regular_files_with_sizes_and_utc_mtimes(source: SFTPExportSource) -> None:
    listing = source.list_files(LOCATION, DAY)

    assert listing is not None
    names = ["AccountingReport.xls", "CheckDetails.csv", "OrderDetails.csv"]
    assert [f.name for f in listing] == names
    assert listing[2] == RemoteFile("OrderDetails.csv", len(ORDERS), MTIME)
    assert all(f.mtime.tzinfo is UTC for f in listing)


@pytest.mark.e2e
def test_fetches_every_csv_byte_for_byte(source: SFTPExportSource) -> None:
    delivery = source.fetch(LOCATION, DAY)

    assert delivery.folder_found
    assert (delivery.location_id, delivery.business_date) == (LOCATION, DAY)
    assert delivery.files == {"OrderDetails.csv": ORDERS, "CheckDetails.csv": b""}
    assert len(delivery.listing) == 3


@pytest.mark.e2e
def test_fetches_only_the_named_files_that_exist(source: SFTPExportSource) -> None:
    delivery = source.fetch(LOCATION, DAY, names=["AccountingReport.xls", "TimeEntries.csv"])

    assert delivery.files == {"AccountingReport.xls": b"\xd0\xcf\x11\xe0"}


@pytest.mark.e2e
def test_a_missing_date_folder_is_an_outcome_not_an_error(source: SFTPExportSource) -> None:
    assert source.list_files(LOCATION, date(2024, 4, 6)) is None
    delivery = source.fetch(LOCATION, date(2024, 4, 6))
    assert (delivery.folder_found, delivery.files, delivery.listing) == (False, {}, [])


@pytest.mark.e2e
def test_a_missing_location_folder_is_an_error(source: SFTPExportSource) -> None:
    with pytest.raises(LocationNotFound, match="/999999"):
        source.list_dates("999999")


@pytest.mark.e2e
@pytest.mark.parametrize("name", ["../20240404", "/etc", "a/b", ""])
def test_refuses_unsafe_names_from_the_caller(source: SFTPExportSource, name: str) -> None:
    with pytest.raises(ValueError, match="not a plain"):
        source.fetch(LOCATION, DAY, names=[name])
    with pytest.raises(ValueError, match="not a plain"):
        source.list_dates(name)


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("OrderDetails.csv", True),
        ("Menu (export) 2024-04-04.json", True),
        ("..", False),
        (".", False),
        ("../../x.csv", False),
        ("/etc/passwd", False),
        ("a\\b.csv", False),
        ("bad\nname.csv", False),
        ("bad\rname.csv", False),
        ("nul\x00.csv", False),
        ("", False),
        ("x" * 255, True),
        ("x" * 256, False),
    ],
)
def test_name_validator(name: str, safe: bool) -> None:
    assert is_safe_name(name) is safe


# -- one connection ----------------------------------------------------------------------------


@pytest.mark.e2e
def test_reuses_one_connection_across_calls(source: SFTPExportSource) -> None:
    source.list_dates(LOCATION)
    source.list_files(LOCATION, DAY)
    source.fetch(LOCATION, DAY)
    assert source.connect_attempts == 1 and source.is_connected

    source.close()
    assert not source.is_connected
    source.list_dates(LOCATION)
    assert source.connect_attempts == 2


# -- reading ahead -------------------------------------------------------------------------------

AHEAD_DATES = [DAY, date(2024, 4, 5), date(2024, 4, 6), date(2024, 4, 7)]


def read_ahead_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("sftp-read-ahead")]


@pytest.mark.e2e
def test_reads_ahead_in_order_on_connections_of_its_own(source: SFTPExportSource) -> None:
    expected = [source.fetch(LOCATION, d) for d in AHEAD_DATES]
    source.close()
    used_before = source.connect_attempts

    ahead = [f.result() for f in source.fetch_many(LOCATION, AHEAD_DATES)]

    assert ahead == expected
    assert not source.is_connected, "the read-ahead must not use the caller's connection"
    assert 1 <= source.connect_attempts - used_before <= source.read_ahead_connections
    assert read_ahead_threads() == []


@pytest.mark.e2e
def test_a_date_that_cannot_be_read_ahead_fails_alone(
    server: LocalSFTPServer, sftp_source_factory: SourceFactory
) -> None:
    source = sftp_source_factory(server, max_file_mb=0)  # 2024-04-04 has a non-empty file

    futures = list(source.fetch_many(LOCATION, AHEAD_DATES))

    with pytest.raises(FileTooLarge, match="OrderDetails.csv"):
        futures[0].result()
    assert [f.result().folder_found for f in futures[1:]] == [True, False, True]


@pytest.mark.e2e
def test_refused_credentials_cost_one_attempt_not_one_per_read_ahead_connection(
    server: LocalSFTPServer, sftp_source_factory: SourceFactory, tmp_path: Path
) -> None:
    _, stranger = generate_keys(tmp_path / "stranger")
    source = sftp_source_factory(server, private_key_path=str(stranger))

    futures = list(source.fetch_many(LOCATION, AHEAD_DATES))

    assert len(futures) == len(AHEAD_DATES)
    for future in futures:
        with pytest.raises(AuthenticationFailed):
            future.result()
    assert source.connect_attempts == 1


@pytest.mark.e2e
def test_stopping_early_ends_the_read_ahead(source: SFTPExportSource) -> None:
    deliveries = source.fetch_many(LOCATION, AHEAD_DATES * 3)
    assert next(deliveries).result().files["OrderDetails.csv"] == ORDERS

    deliveries.close()

    assert read_ahead_threads() == []


@pytest.mark.e2e
def test_without_read_ahead_one_connection_fetches_in_turn(
    server: LocalSFTPServer, sftp_source_factory: SourceFactory
) -> None:
    source = sftp_source_factory(server, read_ahead_connections=1)

    ahead = [f.result() for f in source.fetch_many(LOCATION, AHEAD_DATES)]

    assert [d.business_date for d in ahead] == AHEAD_DATES
    assert source.connect_attempts == 1 and source.is_connected


@pytest.mark.e2e
def test_dagster_teardown_closes_the_connection(source: SFTPExportSource) -> None:
    with source.yield_for_execution(dg.build_init_resource_context()) as live:
        live.list_dates(LOCATION)
        assert live.is_connected
    assert not live.is_connected


@pytest.mark.e2e
def test_works_as_a_resource_in_a_dagster_run(
    server: LocalSFTPServer, sftp_source_factory: SourceFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOAST_TEST_SFTP_KEY", str(server.client_key_path))

    @dg.asset
    def delivered(source: ExportSource) -> list[str]:
        return sorted(source.fetch(LOCATION, DAY).files)

    source = sftp_source_factory(server, private_key_path=dg.EnvVar("TOAST_TEST_SFTP_KEY"))
    result = dg.materialize([delivered], resources={"source": source})
    assert result.output_for_node("delivered") == ["CheckDetails.csv", "OrderDetails.csv"]


@pytest.mark.e2e
def test_reconnects_after_the_server_restarts(
    export_root: Path, tmp_path: Path, sftp_source_factory: SourceFactory
) -> None:
    with serve(export_root, tmp_path) as first:
        source = sftp_source_factory(first)
        assert source.list_dates(LOCATION)
    with serve(export_root, tmp_path, port=first.port):
        assert source.list_dates(LOCATION)
    assert source.connect_attempts == 2


@pytest.mark.e2e
def test_retries_transient_errors_then_names_the_host(
    server: LocalSFTPServer, sftp_source_factory: SourceFactory
) -> None:
    closed = free_port()
    source = sftp_source_factory(server, port=closed, max_attempts=3)
    with pytest.raises(ExportSourceUnavailable, match=f"127.0.0.1:{closed} failed 3 times"):
        source.list_dates(LOCATION)
    assert source.connect_attempts == 3


# -- files still being written -----------------------------------------------------------------


@pytest.fixture
def growing_file(export_root: Path) -> Iterator[Callable[[float], threading.Event]]:
    """Append to a file in a date folder of its own, as Toast does while writing an export."""
    folder = export_root / "growing" / "20240404"
    folder.mkdir(parents=True)
    path = folder / "OrderDetails.csv"
    path.write_bytes(ORDERS)
    stop = threading.Event()
    threads: list[threading.Thread] = []

    def grow(seconds: float) -> threading.Event:
        def append() -> None:
            deadline = time.monotonic() + seconds
            with path.open("ab") as handle:
                while not stop.is_set() and time.monotonic() < deadline:
                    handle.write(b"1002,Ann\r\n")
                    handle.flush()
                    # Slow enough for a download to catch up, fast enough to outpace a fetch.
                    time.sleep(0.0005)

        thread = threading.Thread(target=append, daemon=True)
        thread.start()
        threads.append(thread)
        while path.stat().st_size == len(ORDERS):
            time.sleep(0.001)
        return stop

    yield grow
    stop.set()
    for thread in threads:
        thread.join()
    for child in folder.iterdir():
        child.unlink()
    folder.rmdir()
    folder.parent.rmdir()


@pytest.mark.e2e
def test_a_file_still_growing_is_retried_then_named(
    server: LocalSFTPServer, sftp_source_factory: SourceFactory, growing_file: Callable
) -> None:
    source = sftp_source_factory(server, max_attempts=2)
    growing_file(30.0)
    expected = "/growing/20240404/OrderDetails.csv on .* still being written"
    with pytest.raises(IncompleteFileError, match=expected):
        source.fetch("growing", DAY)
    assert source.connect_attempts == 1


@pytest.mark.e2e
def test_a_file_that_stops_growing_is_read_on_retry(
    server: LocalSFTPServer,
    sftp_source_factory: SourceFactory,
    growing_file: Callable,
    export_root: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    source = sftp_source_factory(server, retry_initial_wait=0.5, retry_max_wait=0.5)
    growing_file(0.2)
    with caplog.at_level(logging.WARNING):
        delivery = source.fetch("growing", DAY)
    final = (export_root / "growing" / "20240404" / "OrderDetails.csv").read_bytes()
    assert delivery.files["OrderDetails.csv"] == final
    assert len(final) > len(ORDERS)
    assert any("attempt 1 failed (IncompleteFileError" in r.getMessage() for r in caplog.records)


# -- credentials -------------------------------------------------------------------------------


@pytest.mark.e2e
def test_a_wrong_key_fails_once_with_a_clear_message(
    server: LocalSFTPServer, sftp_source_factory: SourceFactory, tmp_path: Path
) -> None:
    _, stranger = generate_keys(tmp_path)
    source = sftp_source_factory(server, private_key_path=str(stranger), retry_initial_wait=5.0)
    started = time.monotonic()
    with pytest.raises(AuthenticationFailed) as failed:
        source.list_dates(LOCATION)
    assert time.monotonic() - started < 2.0
    assert source.connect_attempts == 1
    assert str(failed.value) == (
        f"authentication failed for user 'ExportUser' at 127.0.0.1:{server.port}: "
        "publickey was rejected"
    )


@pytest.mark.e2e
def test_a_password_against_a_key_only_server_fails_without_leaking_it(
    server: LocalSFTPServer, sftp_source_factory: SourceFactory
) -> None:
    source = sftp_source_factory(server, private_key_path=None, password=SECRET)
    with pytest.raises(AuthenticationFailed, match="password is not accepted .*allows publickey"):
        source.list_dates(LOCATION)
    assert source.connect_attempts == 1
    with pytest.raises(AuthenticationFailed) as failed:
        source.list_dates(LOCATION)
    shown = [str(source), repr(source), *traceback.format_exception(failed.value)]
    assert not [text for text in shown if SECRET in text]


@pytest.mark.e2e
def test_needs_a_key_or_a_password(
    server: LocalSFTPServer, sftp_source_factory: SourceFactory
) -> None:
    source = sftp_source_factory(server, private_key_path=None)
    with pytest.raises(SFTPConfigError, match="needs private_key_path or password"):
        with source.yield_for_execution(dg.build_init_resource_context()):
            pass


@pytest.mark.e2e
def test_an_encrypted_key_needs_its_passphrase_which_is_never_shown(
    server: LocalSFTPServer, sftp_source_factory: SourceFactory, tmp_path: Path
) -> None:
    encrypted = tmp_path / "encrypted_key"
    # Few KDF rounds keep the test fast; the format is the same.
    asyncssh.read_private_key(server.client_key_path).write_private_key(
        str(encrypted), passphrase=SECRET, rounds=1, ignore_few_rounds=True
    )
    good = sftp_source_factory(
        server, private_key_path=str(encrypted), private_key_passphrase=SECRET
    )
    assert good.list_dates(LOCATION)

    wrong = sftp_source_factory(
        server, private_key_path=str(encrypted), private_key_passphrase=SECRET[::-1]
    )
    with pytest.raises(SFTPConfigError, match="wrong passphrase") as failed:
        wrong.list_dates(LOCATION)
    missing = sftp_source_factory(server, private_key_path=str(encrypted))
    with pytest.raises(SFTPConfigError, match="encrypted and private_key_passphrase is not set"):
        missing.list_dates(LOCATION)
    shown = [repr(good), repr(wrong), *traceback.format_exception(failed.value)]
    assert not [text for text in shown if SECRET in text or SECRET[::-1] in text]


# -- host keys ---------------------------------------------------------------------------------


@pytest.mark.e2e
def test_an_unknown_host_is_refused_before_login(
    server: LocalSFTPServer, sftp_source_factory: SourceFactory, tmp_path: Path
) -> None:
    empty = tmp_path / "known_hosts"
    empty.touch()
    source = sftp_source_factory(server, known_hosts_path=str(empty))
    with pytest.raises(HostKeyRejected) as refused:
        source.fetch(LOCATION, DAY)
    message = str(refused.value)
    assert f"127.0.0.1:{server.port} is not in {empty}" in message
    assert fingerprint(server.host_key_path) in message
    assert f"[127.0.0.1]:{server.port} ssh-ed25519 " in message
    assert "insecure_skip_host_key_check_for_local_testing" in message
    assert source.connect_attempts == 1 and not source.is_connected


@pytest.mark.e2e
def test_a_changed_host_key_is_refused_with_both_fingerprints(
    server: LocalSFTPServer, sftp_source_factory: SourceFactory, tmp_path: Path
) -> None:
    impostor, _ = generate_keys(tmp_path)
    known_hosts = tmp_path / "known_hosts"
    write_known_hosts(known_hosts, server.host, server.port, Path(f"{impostor}.pub").read_text())
    source = sftp_source_factory(server, known_hosts_path=str(known_hosts))
    with pytest.raises(HostKeyRejected, match="CHANGED") as refused:
        source.list_dates(LOCATION)
    assert fingerprint(impostor) in str(refused.value)
    assert fingerprint(server.host_key_path) in str(refused.value)
    assert source.connect_attempts == 1 and not source.is_connected


@pytest.mark.e2e
def test_the_opt_out_connects_and_warns(
    server: LocalSFTPServer,
    sftp_source_factory: SourceFactory,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    source = sftp_source_factory(
        server,
        known_hosts_path=str(tmp_path / "absent"),
        insecure_skip_host_key_check_for_local_testing=True,
    )
    with caplog.at_level(logging.WARNING):
        assert source.list_dates(LOCATION)
    assert any(
        r.levelno == logging.WARNING and "NOT verified" in r.getMessage() for r in caplog.records
    )
