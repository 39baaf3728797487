"""The latency relay: bytes pass unchanged both ways, each round trip pays the added latency, and
reading ahead on several connections pays it in parallel."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest

from toast_pipeline.resources.sftp import SFTPExportSource
from toast_pipeline_dev.latency_proxy import delayed
from toast_pipeline_dev.local_sftp import LocalSFTPServer

LOCATION = "185129"
FIRST = date(2024, 4, 1)
DATES = [FIRST + timedelta(days=i) for i in range(6)]
ONE_WAY_MS = 25


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, sftp_server_factory: Callable[[Path], LocalSFTPServer]
) -> LocalSFTPServer:
    root = tmp_path_factory.mktemp("latency")
    for day in DATES:
        folder = root / LOCATION / f"{day:%Y%m%d}"
        folder.mkdir(parents=True)
        (folder / "OrderDetails.csv").write_bytes(f"Order Id\n{day:%Y%m%d}\n".encode() * 2000)
    return sftp_server_factory(root)


@pytest.mark.e2e
def test_bytes_pass_unchanged_and_each_round_trip_pays_the_latency(
    server: LocalSFTPServer, sftp_source_factory: Callable[..., SFTPExportSource]
) -> None:
    direct = sftp_source_factory(server).fetch(LOCATION, DATES[0])
    with delayed(server, ONE_WAY_MS) as far:
        source = sftp_source_factory(far)
        source.list_dates(LOCATION)  # connect first: the handshake takes several round trips
        started = time.perf_counter()
        source.list_dates(LOCATION)
        listing = time.perf_counter() - started
        relayed = source.fetch(LOCATION, DATES[0])
        source.close()

    assert relayed.files == direct.files
    # A listing is an opendir, a readdir or two and a close: at least two round trips.
    assert listing >= 2 * 2 * ONE_WAY_MS / 1000


@pytest.mark.e2e
def test_reading_ahead_pays_the_latency_in_parallel(
    server: LocalSFTPServer, sftp_source_factory: Callable[..., SFTPExportSource]
) -> None:
    seconds = {}
    with delayed(server, ONE_WAY_MS) as far:
        for connections in (1, 3):
            source = sftp_source_factory(far, read_ahead_connections=connections)
            started = time.perf_counter()
            fetched = [f.result() for f in source.fetch_many(LOCATION, DATES)]
            seconds[connections] = time.perf_counter() - started
            source.close()
            assert [d.business_date for d in fetched] == DATES

    # Each date costs several round trips (list, open, read, close); three connections overlap
    # them. The margin leaves room for the handshakes, paid once per connection.
    assert seconds[3] < 0.7 * seconds[1], seconds
