"""The production instance (`deploy/dagster.yaml`) made real on this machine: an instance folder
holding it, and the real `dagster-daemon` serving it, as the demo and the tests use them.

The instance reads its Postgres connection (`DAGSTER_POSTGRES_*`) from the environment of the
process that opens it, so a process calling `running_daemon` must have those variables in its
own environment (the demo runs in a child process given them; the tests set them).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from toast_pipeline.commands.backfill import daemon_is_running
from toast_pipeline.commands.instance import open_instance, with_dagster_switches

PROJECT_ROOT = Path(__file__).resolve().parents[1]
PRODUCTION_YAML = PROJECT_ROOT / "deploy" / "dagster.yaml"
DAEMON_START_TIMEOUT = 60


def production_home(folder: Path) -> Path:
    """A fresh instance folder holding the production instance's dagster.yaml."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    shutil.copy(PRODUCTION_YAML, folder / "dagster.yaml")
    return folder


@contextmanager
def running_daemon(env: Mapping[str, str], log_path: Path) -> Iterator[subprocess.Popen]:
    """`dagster-daemon run -w workspace.yaml` from the project root, as production starts it,
    with `env` and the project's Dagster switches; yields once its heartbeat is on the instance
    of `env`'s DAGSTER_HOME, and stops it (and the runs it started) on leaving."""
    daemon = Path(sys.executable).with_name("dagster-daemon")
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [str(daemon), "run", "-w", "workspace.yaml"],
            cwd=PROJECT_ROOT,
            env=with_dagster_switches(env),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + DAEMON_START_TIMEOUT
            with open_instance(Path(env["DAGSTER_HOME"])) as instance:
                while not daemon_is_running(instance):
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(
                            f"the Dagster daemon gave no heartbeat; its log:\n"
                            f"{log_path.read_text()[-3000:]}"
                        )
                    time.sleep(0.5)
            yield process
        finally:
            stop_process_group(process)


def stop_process_group(process: subprocess.Popen) -> None:
    """A Dagster process spawns code servers and runs: stop them all, by force if they linger."""
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(process.pid, signal.SIGKILL)  # whatever outlived the shutdown
    except ProcessLookupError:
        pass
    process.wait()
