import threading
import time
from concurrent.futures import CancelledError, Future
from datetime import date, timedelta

import polars as pl
import pytest

from toast_pipeline.resources.write_queue import WriteQueue

DAYS = [date(2024, 3, 1) + timedelta(days=n) for n in range(6)]


def tables(n: int) -> dict[str, pl.DataFrame]:
    return {"order_details": pl.DataFrame({"n": [n]})}


class Recorder:
    """A warehouse write that records each call's dates and can be held until released."""

    def __init__(self, fail_on: date | None = None) -> None:
        self.calls: list[list[date]] = []
        self.first_started = threading.Event()
        self.release = threading.Event()
        self.fail_on = fail_on

    def __call__(self, tables_by_date) -> None:
        self.calls.append(list(tables_by_date))
        self.first_started.set()
        assert self.release.wait(10)
        if self.fail_on in tables_by_date:
            raise RuntimeError(f"warehouse refused {self.fail_on}")


def test_dates_queued_during_a_write_go_together_in_the_next():
    write = Recorder()
    with WriteQueue(write, max_dates=3, gather_seconds=0) as queue:
        first = queue.submit(DAYS[0], tables(0))
        assert write.first_started.wait(10)
        rest = [queue.submit(day, tables(n)) for n, day in enumerate(DAYS[1:], 1)]
        assert not first.done()
        write.release.set()
    assert write.calls == [DAYS[:1], DAYS[1:4], DAYS[4:]]
    assert all(f.result() is None for f in [first, *rest])


def test_a_write_gathers_the_dates_that_arrive_within_its_wait():
    write = Recorder()
    write.release.set()
    with WriteQueue(write, max_dates=4, gather_seconds=10) as queue:
        for n, day in enumerate(DAYS[:5]):
            queue.submit(day, tables(n))
            time.sleep(0.05)
        queue.flush()
    assert write.calls == [DAYS[:4], DAYS[4:5]]


def test_flush_writes_what_is_queued_without_waiting_for_more():
    write = Recorder()
    write.release.set()
    with WriteQueue(write, max_dates=16, gather_seconds=60) as queue:
        written = [queue.submit(day, tables(n)) for n, day in enumerate(DAYS[:2])]
        queue.flush()
        assert [f.result(10) for f in written] == [None, None]
        later = queue.submit(DAYS[2], tables(2))
        queue.flush()
        assert later.result(10) is None
    assert write.calls == [DAYS[:2], DAYS[2:3]]


def test_a_lone_date_is_written_once_the_wait_runs_out():
    write = Recorder()
    write.release.set()
    with WriteQueue(write, max_dates=16, gather_seconds=0.2) as queue:
        started = time.monotonic()
        assert queue.submit(DAYS[0], tables(0)).result(10) is None
        assert 0.2 <= time.monotonic() - started < 5
    assert write.calls == [DAYS[:1]]


def test_a_failed_write_fails_its_dates_and_writes_nothing_after_it():
    write = Recorder(fail_on=DAYS[1])
    with WriteQueue(write, max_dates=2, gather_seconds=0) as queue:
        first = queue.submit(DAYS[0], tables(0))
        assert write.first_started.wait(10)
        failing = [queue.submit(day, tables(n)) for n, day in enumerate(DAYS[1:3], 1)]
        later = queue.submit(DAYS[3], tables(3))
        write.release.set()
        for future in [*failing, later]:
            with pytest.raises(RuntimeError, match="warehouse refused 2024-03-02"):
                future.result(10)
    assert first.result() is None
    assert write.calls == [DAYS[:1], DAYS[1:3]]  # the later date was never written


def test_a_date_waits_for_its_archiving_and_is_not_written_if_that_fails():
    write = Recorder()
    write.release.set()
    archived: Future[None] = Future()
    with WriteQueue(write, gather_seconds=0) as queue:
        written = queue.submit(DAYS[0], tables(0), after=[archived])
        assert not write.first_started.wait(0.2)
        archived.set_exception(OSError("archive disk full"))
        with pytest.raises(OSError, match="archive disk full"):
            written.result(10)
    assert write.calls == []


def test_leaving_on_an_error_drops_the_writes_not_begun():
    write = Recorder()
    with pytest.raises(KeyError), WriteQueue(write, max_dates=1, gather_seconds=0) as queue:
        first = queue.submit(DAYS[0], tables(0))
        assert write.first_started.wait(10)
        dropped = queue.submit(DAYS[1], tables(1))
        # The write in progress ends only after the error has reached the queue.
        threading.Timer(1.0, write.release.set).start()
        raise KeyError("the load stopped")
    assert first.result() is None
    with pytest.raises(CancelledError, match="not written"):
        dropped.result()
    assert write.calls == [DAYS[:1]]
