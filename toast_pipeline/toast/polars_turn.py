"""One thread of a process calls polars at a time.

polars called from several threads at once can deadlock inside polars (seen in a backfill run:
its asset, parse and writer threads all waiting there for good; polars has fixed such deadlocks
where two threads use the same frame). Polars work that may run beside another thread's holds
this lock, in short turns (parsing takes one per file, not one per day): the work between
(Dagster's event recording, a warehouse's insert and commit, a download) runs outside it. It is
re-entrant, so a turn may call code that takes its own.
"""

from __future__ import annotations

import threading

POLARS_TURN = threading.RLock()
