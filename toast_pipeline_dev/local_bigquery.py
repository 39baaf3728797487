"""A local BigQuery emulator on 127.0.0.1 for the demo and the tests.

It runs `local-bigquery` from its own virtual environment (it needs Python 3.13; build it with
`scripts/bigquery-emulator-venv.sh`). The official client, and so dagster-gcp's
`BigQueryResource`, reaches it through `BIGQUERY_EMULATOR_HOST` with a fake `authorized_user`
credentials file whose token never expires, so nothing ever calls Google.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

DEFAULT_VENV = Path(".bigquery-emulator")
PROJECT = "local-project"
HOST = "127.0.0.1"


class EmulatorUnavailable(RuntimeError):
    """The emulator could not be started; the message says what to do."""


@dataclass(frozen=True)
class LocalBigQuery:
    host: str
    port: int
    project: str
    credentials_path: Path
    log_path: Path

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def client_env(self) -> dict[str, str]:
        """What points the Google client at the emulator instead of Google."""
        return {
            "BIGQUERY_EMULATOR_HOST": self.endpoint,
            "GOOGLE_APPLICATION_CREDENTIALS": str(self.credentials_path),
            "GOOGLE_CLOUD_PROJECT": self.project,
        }

    def warehouse_env(self, dataset: str = "toast") -> dict[str, str]:
        """The settings that select the BigQuery warehouse on this emulator."""
        return {
            **self.client_env,
            "TOAST_WAREHOUSE": "bigquery",
            "TOAST_BIGQUERY_PROJECT": self.project,
            "TOAST_BIGQUERY_DATASET": dataset,
        }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def write_fake_credentials(path: Path) -> Path:
    """An `authorized_user` file with a token valid for centuries: the client never refreshes."""
    path.write_text(
        json.dumps(
            {
                "type": "authorized_user",
                "client_id": "local-emulator",
                "client_secret": "local-emulator",
                "refresh_token": "local-emulator",
                "token": "local-emulator",
                "expiry": "2999-01-01T00:00:00Z",
            }
        )
    )
    return path


def emulator_command(venv: Path) -> Path:
    command = venv / "bin" / "local-bigquery"
    if not command.exists():
        raise EmulatorUnavailable(
            f"BigQuery emulator not installed: {command} is missing. Build it with "
            "`scripts/bigquery-emulator-venv.sh` (needs Python 3.13, e.g. `pyenv install 3.13`)."
        )
    return command


def _wait_until_ready(process: subprocess.Popen, emulator: LocalBigQuery, timeout: float) -> None:
    url = f"{emulator.endpoint}/bigquery/v2/projects/{emulator.project}/datasets"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = emulator.log_path.read_text(errors="replace")[-2000:]
            raise EmulatorUnavailable(
                f"BigQuery emulator exited with {process.returncode}:\n{tail}"
            )
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    raise EmulatorUnavailable(
        f"BigQuery emulator not answering on {emulator.endpoint} after {timeout:.0f} s"
    )


@contextmanager
def serve(
    data_dir: Path, venv: Path = DEFAULT_VENV, *, project: str = PROJECT, timeout: float = 60.0
) -> Iterator[LocalBigQuery]:
    """Start the emulator on free loopback ports with its data under `data_dir`; stop it on exit."""
    command = emulator_command(venv)
    data_dir.mkdir(parents=True, exist_ok=True)
    emulator = LocalBigQuery(
        host=HOST,
        port=_free_port(),
        project=project,
        credentials_path=write_fake_credentials(data_dir / "fake-credentials.json"),
        log_path=data_dir / "emulator.log",
    )
    # DuckDB inside the emulator finds its extensions under $HOME, where the venv script put them.
    env = {**os.environ, "HOME": str((venv / "home").resolve())}
    with emulator.log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                str(command),
                "serve",
                "--host",
                emulator.host,
                "--port",
                str(emulator.port),
                "--grpc-port",
                str(_free_port()),
                "--project",
                project,
                "--data-dir",
                str(data_dir / "data"),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        _wait_until_ready(process, emulator, timeout)
        yield emulator
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
