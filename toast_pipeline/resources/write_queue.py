"""A location's dates written by a thread of their own, several per transaction.

A warehouse transaction costs far less per date when it holds many (DuckDB, 401 dates of the
benchmark's export with the run's 1GB log: 49 ms a date one per transaction, 21 ms in
transactions of sixteen), so a write gathers up to `max_dates` dates, waiting at most
`gather_seconds` after the first for the rest; `flush` ends the wait when no more are coming. Every date's future completes when its
transaction commits, or fails with its error: a date is never reported written before it is.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import CancelledError, Future
from datetime import date

import polars as pl

Tables = Mapping[str, pl.DataFrame]
_STOP = object()
_FLUSH = object()


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
        gather_seconds: float = 2.0,
        name: str = "toast-writer",
    ) -> None:
        self._write = write
        self._max_dates = max_dates
        self._gather_seconds = gather_seconds
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

    def flush(self) -> None:
        """Write the dates queued so far without waiting for more."""
        self._queue.put(_FLUSH)

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
            batch, stopping = self._gather()
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

    def _gather(self) -> tuple[list, bool]:
        """The next write's items, and whether the queue was closed after them."""
        batch: list = []
        deadline = None
        while len(batch) < self._max_dates:
            timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                item = self._queue.get(timeout=timeout)
            except queue.Empty:
                break
            if item is _STOP:
                return batch, True
            if item is _FLUSH:
                if batch:
                    break
                continue
            batch.append(item)
            if deadline is None:
                deadline = time.monotonic() + self._gather_seconds
        return batch, False
