from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from toast_pipeline.resources.archive import LocalRawArchive
from toast_pipeline.resources.sftp import SFTPExportSource
from toast_pipeline_dev.local_sftp import LocalSFTPServer, serve
from toast_pipeline_dev.sample import (
    DEMO_GROUP,
    SampleExport,
    SampleGroup,
    generate_export,
    generate_group,
)

pytest_plugins = ["toast_pipeline_tests.warehouses"]


@pytest.fixture(scope="session")
def sftp_server_factory(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[[Path], LocalSFTPServer]]:
    """Start a loopback read-only SFTP server on a folder; all stop at the end of the session.

    The servers share one set of keys, generated once, so starting another costs ~0.2 s.
    """
    keys = tmp_path_factory.mktemp("sftp_keys")
    with ExitStack() as servers:

        def start(root: Path) -> LocalSFTPServer:
            return servers.enter_context(serve(root, keys))

        yield start


@pytest.fixture(scope="session")
def sftp_source_factory() -> Iterator[Callable[..., SFTPExportSource]]:
    """Build an `SFTPExportSource` for a local server, with short timeouts and retry waits.

    Keyword arguments override its config; every source built is closed at the end of the session.
    """
    built: list[SFTPExportSource] = []

    def build(server: LocalSFTPServer, **overrides: Any) -> SFTPExportSource:
        config: dict[str, Any] = {
            "host": server.host,
            "port": server.port,
            "username": server.username,
            "private_key_path": str(server.client_key_path),
            "known_hosts_path": str(server.known_hosts_path),
            "connect_timeout": 5.0,
            "operation_timeout": 10.0,
            "retry_initial_wait": 0.05,
            "retry_max_wait": 0.2,
        }
        source = SFTPExportSource(**{**config, **overrides})
        built.append(source)
        return source

    yield build
    for source in built:
        source.close()


@pytest.fixture
def archive(tmp_path: Path) -> LocalRawArchive:
    """A raw archive of the test's own."""
    return LocalRawArchive(path=str(tmp_path / "raw"))


@pytest.fixture(scope="session")
def sample_export(tmp_path_factory: pytest.TempPathFactory) -> SampleExport:
    """Eight dates from 2024-04-01: open days, each way a closed day arrives, one damaged date.

    2024-04-02 no folder, 04-03 header-only files, 04-05 a few stray rows, 04-06 only a couple
    of files, 04-07 an unparseable value; the others are open.
    """
    return generate_export(
        tmp_path_factory.mktemp("export"),
        location_id="185129",
        start=date(2024, 4, 1),
        days=8,
        seed=11,
        orders_per_day=40,
        holiday_country=None,
        random_closure_rate=0.0,
        closure_deliveries={
            date(2024, 4, 2): "no_folder",
            date(2024, 4, 3): "header_only",
            date(2024, 4, 5): "stray_rows",
            date(2024, 4, 6): "few_files",
        },
        damaged_dates={date(2024, 4, 7): "bad_value"},
    )


GROUP_DAMAGED = ("185342", date(2024, 4, 9))


@pytest.fixture(scope="session")
def sample_group(tmp_path_factory: pytest.TempPathFactory) -> SampleGroup:
    """The demo's two-location group over two weeks from 2024-04-01 (a Monday): the bistro
    (185129, every file, closed Mondays, Chicago) and the lean-account café (185342, Sundays and
    Mondays closed, Denver), the café's 2024-04-09 damaged (an unparseable value)."""
    location_id, day = GROUP_DAMAGED
    return generate_group(
        tmp_path_factory.mktemp("group"),
        DEMO_GROUP,
        start=date(2024, 4, 1),
        days=14,
        seed=5,
        damaged={location_id: {day: "bad_value"}},
    )


@pytest.fixture(scope="session")
def group_server(
    sample_group: SampleGroup, sftp_server_factory: Callable[[Path], LocalSFTPServer]
) -> LocalSFTPServer:
    return sftp_server_factory(sample_group.root)


@pytest.fixture
def group_env(tmp_path: Path, group_server: LocalSFTPServer) -> dict[str, str]:
    """As `sample_env`, for the group's server, with no location named: the locations are found."""
    return {**user_env(tmp_path, group_server), "TOAST_START_DATE": "2024-04-01"}


@pytest.fixture(scope="session")
def sample_server(
    sample_export: SampleExport, sftp_server_factory: Callable[[Path], LocalSFTPServer]
) -> LocalSFTPServer:
    return sftp_server_factory(sample_export.root)


@pytest.fixture
def sample_env(
    tmp_path: Path, sample_export: SampleExport, sample_server: LocalSFTPServer
) -> dict[str, str]:
    """What a user's environment holds: a fresh Dagster instance (the project's dagster.yaml),
    the TOAST_* settings of the loopback SFTP server, and a DuckDB file of this test's own."""
    return {
        **user_env(tmp_path, sample_server),
        "TOAST_LOCATION_ID": sample_export.location_id,
        "TOAST_START_DATE": "2024-04-01",
    }


def user_env(tmp_path: Path, server: LocalSFTPServer) -> dict[str, str]:
    """A fresh Dagster instance (the project's dagster.yaml) in `tmp_path`, a DuckDB file and an
    archive of the test's own, and the connection settings of `server`."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(Path(__file__).parents[1] / "dagster_home" / "dagster.yaml", home)
    return {
        "DAGSTER_HOME": str(home),
        "TOAST_SFTP_HOST": server.host,
        "TOAST_SFTP_PORT": str(server.port),
        "TOAST_SFTP_USERNAME": server.username,
        "TOAST_SFTP_PRIVATE_KEY_PATH": str(server.client_key_path),
        "TOAST_SFTP_KNOWN_HOSTS": str(server.known_hosts_path),
        "TOAST_DUCKDB_PATH": str(tmp_path / "toast.duckdb"),
        "TOAST_ARCHIVE_PATH": str(tmp_path / "raw"),
    }
