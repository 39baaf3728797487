"""The backfill command's run launcher: the runs execute on a thread of the command's process.

With no daemon serving the instance, `toast-pipeline backfill` does the daemon's duties itself;
launching each run as a process of a code server would load the code location twice more and
hold three Python processes (432 dates: 1,263 MB summed and 55 s; on a thread about 710 MB and
49 s). The runs are still Dagster runs, created by the backfill and launched by the run queue;
Dagster's own `execute_run` path executes them, as a run worker would, against the same
instance, one at a time (locations on BigQuery load side by side only under a daemon, whose runs
are processes).

A run thread shares the process: a run that crashes the interpreter ends the command too, and
the runs' stdout and stderr are not captured (the command's instance stores no compute logs; the
runs' events are all in the event log). `terminate` interrupts a run's thread as Ctrl-C would a
run worker, so Dagster records the run as canceled.
"""

from __future__ import annotations

import ctypes
import logging
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

from toast_pipeline.defs.dagster_internals import (
    ConfigurableClass,
    LaunchRunContext,
    RunLauncher,
    core_execute_run,
    recon_job_from_origin,
)

_log = logging.getLogger(__name__)


class InProcessRunLauncher(RunLauncher, ConfigurableClass):
    """Executes the launched runs one after another on a thread of this process.

    One at a time: Dagster configures Python's logging as each run starts, and doing so while
    another run of the process logs its events deadlocks the two on logging's locks. A run
    launched while another executes waits its turn (STARTING). `join` waits for all of them.
    """

    def __init__(self, inst_data=None) -> None:
        self._inst_data = inst_data
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="toast-run")
        self._runs: dict[str, Future[None]] = {}
        self._executing: tuple[str, int] | None = None  # run id, thread id
        self._lock = threading.Lock()
        # Called after each run ends, from its thread: the backfill command's driver looks then.
        self.on_run_end: Callable[[], None] | None = None
        super().__init__()

    @property
    def inst_data(self):
        return self._inst_data

    @classmethod
    def config_type(cls) -> dict:
        return {}

    @classmethod
    def from_config_value(cls, inst_data, config_value: Mapping[str, Any]) -> InProcessRunLauncher:
        return cls(inst_data=inst_data)

    def launch_run(self, context: LaunchRunContext) -> None:
        run = context.dagster_run
        job = recon_job_from_origin(context.job_code_origin)
        with self._lock:
            self._runs[run.run_id] = self._executor.submit(self._execute, job, run)

    def _execute(self, job, run) -> None:
        with self._lock:
            self._executing = (run.run_id, threading.get_ident())
        try:
            # The generator reports every outcome (failure, interruption) to the instance itself.
            for _event in core_execute_run(job, run, self._instance, inject_env_vars=False):
                pass
        except BaseException:  # noqa: BLE001 - already recorded as the run's failure or cancel
            _log.debug(
                "run %s ended with an error (recorded on the run)", run.run_id, exc_info=True
            )
        finally:
            with self._lock:
                self._executing = None
                self._runs.pop(run.run_id, None)
            if self.on_run_end is not None:
                self.on_run_end()

    def running(self) -> list[str]:
        """The runs executing or waiting their turn."""
        with self._lock:
            return list(self._runs)

    def terminate(self, run_id: str) -> bool:
        """Cancel a run waiting its turn; interrupt the executing one with KeyboardInterrupt in
        its thread, as Ctrl-C would a run worker, so Dagster records it as canceled."""
        with self._lock:
            waiting = self._runs.get(run_id)
            executing = self._executing
        run = self._instance.get_run_by_id(run_id)
        if waiting is None or run is None or run.is_finished:
            return False
        if waiting.cancel():
            with self._lock:
                self._runs.pop(run_id, None)
            self._instance.report_run_canceled(run, message="Canceled before it started.")
            return True
        if executing is None or executing[0] != run_id:
            return False
        self._instance.report_run_canceling(run)
        raised = ctypes.pythonapi.PyThreadState_SetAsyncExc(
            ctypes.c_ulong(executing[1]), ctypes.py_object(KeyboardInterrupt)
        )
        return raised == 1

    def dispose(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    def join(self, timeout: float = 30) -> None:
        with self._lock:
            runs = list(self._runs.values())
        wait(runs, timeout=timeout)
