"""The raw archive on local disk and on a GCS emulator: versions, checksums, reading it back."""

from __future__ import annotations

import hashlib
import socket
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from gcp_storage_emulator.server import create_server

from toast_pipeline.resources.archive import (
    ArchiveError,
    ArchiveExportSource,
    GCSRawArchive,
    LocalRawArchive,
    RawArchive,
    file_key,
)
from toast_pipeline.toast.delivery import Delivery, RemoteFile

LOCATION = "185129"
DAY = date(2024, 4, 4)
MTIME = datetime(2024, 4, 5, 9, 30, tzinfo=UTC)
ORDERS = b"Order Id,Amount\n1,2.00\n"
CHECKS = b"Check Id\n7\n"


def delivery(
    files: dict[str, bytes], mtime: datetime = MTIME, extra: tuple[str, ...] = ()
) -> Delivery:
    listing = [RemoteFile(name, len(data), mtime) for name, data in files.items()]
    listing += [RemoteFile(name, 3, mtime) for name in extra]
    return Delivery(LOCATION, DAY, True, dict(files), sorted(listing, key=lambda f: f.name))


@pytest.fixture(scope="module")
def gcs_emulator() -> Iterator[str]:
    """A GCS emulator on loopback with a bucket `raw`; clients reach it via STORAGE_EMULATOR_HOST."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = create_server("127.0.0.1", port, in_memory=True, default_bucket="raw")
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture(params=["local", pytest.param("gcs", marks=pytest.mark.e2e)])
def store(request, tmp_path, monkeypatch) -> RawArchive:
    if request.param == "local":
        return LocalRawArchive(path=str(tmp_path / "raw"))
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", request.getfixturevalue("gcs_emulator"))
    return GCSRawArchive(bucket="raw", prefix=f"test/{tmp_path.name}", project="test")


def test_files_are_kept_under_their_checksum_with_a_manifest(store: RawArchive) -> None:
    manifest = store.keep(
        delivery({"OrderDetails.csv": ORDERS, "CheckDetails.csv": CHECKS}, extra=("Other.xls",))
    )
    assert [(f.name, f.size, f.sha256) for f in manifest.files] == [
        ("CheckDetails.csv", len(CHECKS), hashlib.sha256(CHECKS).hexdigest()),
        ("OrderDetails.csv", len(ORDERS), hashlib.sha256(ORDERS).hexdigest()),
    ]
    assert [f.name for f in manifest.listing] == [
        "CheckDetails.csv",
        "OrderDetails.csv",
        "Other.xls",
    ]
    assert store.latest(LOCATION, DAY) == manifest
    assert store.read(manifest, "OrderDetails.csv") == ORDERS
    assert store.dates(LOCATION) == [DAY]


def test_the_same_delivery_again_adds_no_manifest(store: RawArchive) -> None:
    first = store.keep(delivery({"OrderDetails.csv": ORDERS}), fetched_at=MTIME)
    again = store.keep(
        delivery({"OrderDetails.csv": ORDERS}), fetched_at=MTIME + timedelta(hours=1)
    )
    assert again == first
    assert len(store.manifests(LOCATION, DAY)) == 1


def test_a_redelivered_file_keeps_its_previous_version(store: RawArchive) -> None:
    first = store.keep(delivery({"OrderDetails.csv": ORDERS}), fetched_at=MTIME)
    fixed = ORDERS + b"2,3.50\n"
    second = store.keep(
        delivery({"OrderDetails.csv": fixed}, mtime=MTIME + timedelta(days=2)),
        fetched_at=MTIME + timedelta(days=2),
    )
    assert store.manifests(LOCATION, DAY) == [first, second]
    assert store.latest(LOCATION, DAY) == second
    assert store.read(first, "OrderDetails.csv") == ORDERS
    assert store.read(second, "OrderDetails.csv") == fixed


def test_a_damaged_archived_file_is_refused_not_read(tmp_path) -> None:
    store = LocalRawArchive(path=str(tmp_path / "raw"))
    manifest = store.keep(delivery({"OrderDetails.csv": ORDERS}))
    [kept] = manifest.files
    (tmp_path / "raw" / file_key(LOCATION, DAY, kept)).write_bytes(ORDERS.replace(b"2.00", b"9.00"))
    with pytest.raises(ArchiveError, match=f"does not match its sha256 {kept.sha256}"):
        store.read(manifest, "OrderDetails.csv")


@pytest.mark.parametrize("name", ["../../escape.csv", "/etc/passwd", "a/b.csv", "x" * 300, ".."])
def test_a_hostile_name_is_refused_and_nothing_is_written(tmp_path, name: str) -> None:
    store = LocalRawArchive(path=str(tmp_path / "raw"))
    with pytest.raises(ValueError, match="not a plain file or folder name"):
        store.keep(
            Delivery(LOCATION, DAY, True, {name: ORDERS}, [RemoteFile(name, len(ORDERS), MTIME)])
        )
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_a_missing_folder_is_not_archived(store: RawArchive) -> None:
    with pytest.raises(ValueError, match="nothing to archive"):
        store.keep(Delivery(LOCATION, DAY, folder_found=False))
    assert store.dates(LOCATION) == []


def test_the_archive_reads_back_as_an_export_source(store: RawArchive) -> None:
    original = delivery(
        {"OrderDetails.csv": ORDERS, "CheckDetails.csv": CHECKS}, extra=("Other.xls",)
    )
    store.keep(original)
    source = ArchiveExportSource(archive=store)
    assert source.list_dates(LOCATION) == [DAY]
    assert source.list_files(LOCATION, DAY) == original.listing
    assert source.fetch(LOCATION, DAY) == original
    assert source.fetch(LOCATION, DAY, names=["OrderDetails.csv"]).files == {
        "OrderDetails.csv": ORDERS
    }
    assert not source.fetch(LOCATION, DAY + timedelta(days=1)).folder_found
