"""A location's dates written by a thread of their own, as many per transaction as have queued.

A warehouse transaction costs about the same for one date as for a dozen (DuckDB: 110 ms for one
date's eight tables, 40 ms a date in transactions of sixteen), so while one write runs, the dates
judged meanwhile wait and go together in the next. When writing keeps up, each date is its own
transaction; when it falls behind, transactions grow up to `max_dates`. Every date's future
completes when its transaction commits, or fails with its error: a date is never reported
written before it is.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import CancelledError, Future
from datetime import date

import polars as pl

Tables = Mapping[str, pl.DataFrame]
_STOP = object()


class WriteQueue:
    """Writes `(date, tables)` items with `write(location's tables by date)` on one thread.

    After a failed write, the dates still queued fail with the same error, unwritten: the run is
    failing, and nothing should land that will not be reported. Use as a context manager: leaving
    it normally waits for the queued writes; leaving it on an error drops the writes not begun.
    """

    def __init__(
        self,
        write: Callable[[Mapping[date, Tables]], None],
        *,
        max_dates: int = 16,
        name: str = "toast-writer",
    ) -> None:
        self._write = write
        self._max_dates = max_dates
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._dropping = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(
        self, business_date: date, tables: Tables, *, after: Sequence[Future] = ()
    ) -> Future[None]:
        """Queue a date's write; `after` must all succeed first (its raw files archived)."""
        written: Future[None] = Future()
        self._queue.put((business_date, tables, after, written))
        return written

    def close(self, *, drop_queued: bool = False) -> None:
        """Wait for the queued writes, or with `drop_queued` fail those not begun, unwritten."""
        self._dropping = drop_queued
        self._queue.put(_STOP)
        self._thread.join()

    def __enter__(self) -> WriteQueue:
        return self

    def __exit__(self, exc_type: object, *exc_info: object) -> None:
        self.close(drop_queued=exc_type is not None)

    def _run(self) -> None:
        failure: BaseException | None = None
        stopping = False
        while not stopping:
            batch = [self._queue.get()]
            while batch[-1] is not _STOP and len(batch) < self._max_dates:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            if batch[-1] is _STOP:
                batch.pop()
                stopping = True
            if not batch:
                continue
            if failure is None and self._dropping:
                failure = CancelledError("not written: the load stopped before this date's write")
            if failure is None:
                try:
                    for _, _, after, _ in batch:
                        for prerequisite in after:
                            prerequisite.result()
                    self._write({business_date: tables for business_date, tables, _, _ in batch})
                except BaseException as exc:  # handed to every waiting date, not lost in a thread
                    failure = exc
            for _, _, _, written in batch:
                if failure is None:
                    written.set_result(None)
                else:
                    written.set_exception(failure)
