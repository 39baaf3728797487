"""A throwaway PostgreSQL server on loopback, for trying and testing the production instance.

The production instance (`deploy/dagster.yaml`) keeps its storage in PostgreSQL; this starts a
real server from Debian's `postgresql` package, so the tests exercise the same database and
driver as production:

    with serve(tmp_path / "postgres") as postgres:
        env = {**os.environ, **postgres.env()}   # the DAGSTER_POSTGRES_* variables

The server has a cluster of its own (`initdb`), listens on 127.0.0.1 only, on a free port, keeps
its unix socket in its own folder, and accepts password logins (SCRAM) of one user it creates,
who owns one database. PostgreSQL refuses to run as root, so under root the server runs as the
`postgres` system user the package creates. Leaving the block stops it with a fast shutdown.
"""

from __future__ import annotations

import getpass
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

HOST = "127.0.0.1"
USER = "toast"
DATABASE = "dagster"
SERVER_USER_WHEN_ROOT = "postgres"
INSTALL_ROOT = Path("/usr/lib/postgresql")
INSTALL_HINT = (
    "install Debian's PostgreSQL server: `apt-get install --no-install-recommends postgresql` "
    "(scripts/ensure-debian-packages.sh postgresql does it when run as root)"
)


class LocalPostgresError(RuntimeError):
    """The local server could not be started; the message says why."""


@dataclass(frozen=True)
class LocalPostgres:
    """How to reach a running local server (the password is generated for this server)."""

    host: str
    port: int
    user: str
    password: str = field(repr=False)
    database: str
    log_path: Path

    def env(self) -> dict[str, str]:
        """The variables `deploy/dagster.yaml` reads its connection from."""
        return {
            "DAGSTER_POSTGRES_HOST": self.host,
            "DAGSTER_POSTGRES_PORT": str(self.port),
            "DAGSTER_POSTGRES_USER": self.user,
            "DAGSTER_POSTGRES_PASSWORD": self.password,
            "DAGSTER_POSTGRES_DB": self.database,
        }


def binaries(root: Path = INSTALL_ROOT) -> Path:
    """The newest installed server's bin folder: Debian installs one folder per major version."""
    versions = [p for p in root.glob("*") if re.fullmatch(r"\d+", p.name)]
    for version in sorted(versions, key=lambda p: int(p.name), reverse=True):
        bin_dir = version / "bin"
        if all((bin_dir / name).is_file() for name in ("initdb", "postgres", "psql", "pg_isready")):
            return bin_dir
    raise LocalPostgresError(f"no PostgreSQL server under {root}: {INSTALL_HINT}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _server_account() -> pwd.struct_passwd | None:
    """The account the server runs as when we are root; None runs it as ourselves."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(SERVER_USER_WHEN_ROOT)
    except KeyError:
        raise LocalPostgresError(
            f"as root the server runs as the `{SERVER_USER_WHEN_ROOT}` system user, which does "
            f"not exist: {INSTALL_HINT}"
        ) from None


class _Runner:
    """Runs the server's programs as its account, in its folder, with a minimal environment.

    `setpriv` executes the program itself (no forking parent in between), so a signal sent to
    the started process reaches the server directly.
    """

    def __init__(self, bin_dir: Path, account: pwd.struct_passwd | None):
        self.bin_dir = bin_dir
        self.account = account
        self.prefix = (
            []
            if account is None
            else ["setpriv", f"--reuid={account.pw_uid}", f"--regid={account.pw_gid}"]
            + ["--init-groups", "--"]
        )
        self.folder = Path("/")
        self.env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C"}

    def move_to(self, folder: Path) -> None:
        self.folder = folder
        self.env["HOME"] = str(folder)

    def command(self, program: str, *args: str) -> list[str]:
        return [*self.prefix, str(self.bin_dir / program), *args]

    def run(self, program: str, *args: str, input_text: str | None = None) -> None:
        result = subprocess.run(
            self.command(program, *args),
            input=input_text,
            capture_output=True,
            text=True,
            cwd=self.folder,
            env=self.env,
        )
        if result.returncode != 0:
            raise LocalPostgresError(
                f"{program} exited with {result.returncode}:\n{result.stderr.strip()}"
            )

    def can_use(self, folder: Path) -> bool:
        """Whether the account can write in `folder`: a private parent (a root-owned test
        folder, say) would keep it out."""
        probe = [*self.prefix, "test", "-w", str(folder), "-a", "-x", str(folder)]
        return subprocess.run(probe, cwd="/", env=self.env).returncode == 0

    def own(self, path: Path) -> None:
        if self.account is not None:
            os.chown(path, self.account.pw_uid, self.account.pw_gid)


def _server_folder(data_dir: Path, runner: _Runner, stack: ExitStack) -> Path:
    """`data_dir/server`, owned by the server's account; if that account cannot reach it
    through `data_dir`'s parents, a private folder in the system's temporary folder instead,
    removed on exit."""
    folder = data_dir / "server"
    shutil.rmtree(folder, ignore_errors=True)  # a fresh cluster every time
    folder.mkdir(parents=True, mode=0o700)
    runner.own(folder)
    if runner.can_use(folder):
        return folder
    shutil.rmtree(folder)
    folder = Path(tempfile.mkdtemp(prefix="toast-postgres-"))
    stack.callback(shutil.rmtree, folder, ignore_errors=True)
    runner.own(folder)
    return folder


def _wait_until_ready(
    runner: _Runner, process: subprocess.Popen, port: int, log: Path, timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise LocalPostgresError(
                f"the PostgreSQL server exited with {process.returncode}:\n{_tail(log)}"
            )
        ready = subprocess.run(
            runner.command("pg_isready", "-q", "-h", HOST, "-p", str(port)),
            cwd=runner.folder,
            env=runner.env,
        )
        if ready.returncode == 0:
            return
        time.sleep(0.1)
    raise LocalPostgresError(
        f"the PostgreSQL server was not ready within {timeout:g} s:\n{_tail(log)}"
    )


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:] if log.exists() else "(no log)"


def _stop(process: subprocess.Popen) -> None:
    """Fast shutdown (SIGINT): clients are disconnected, the cluster is left consistent."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def serve(data_dir: Path, *, timeout: float = 30.0) -> Iterator[LocalPostgres]:
    """Start a fresh server with its files under `data_dir`; stop it when the block ends.

    The server's log is `data_dir/postgres.log`. The password is generated here and given only
    to the server (on its standard input) and to the caller.
    """
    bin_dir = binaries()
    account = _server_account()
    data_dir = Path(data_dir).absolute()
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir / "postgres.log"
    with ExitStack() as stack:
        runner = _Runner(bin_dir, account)
        folder = _server_folder(data_dir, runner, stack)
        runner.move_to(folder)
        cluster, sockets = folder / "cluster", folder / "socket"
        superuser = account.pw_name if account else getpass.getuser()
        # Socket logins are the server account's own, by peer identity (how the user is created
        # below); TCP logins need a password. `initdb` writes these rules into pg_hba.conf.
        runner.run(
            "initdb",
            *("-D", str(cluster), "-U", superuser, "--no-sync", "--no-locale", "-E", "UTF8"),
            *("--auth-local=peer", "--auth-host=scram-sha-256"),
        )
        sockets.mkdir()
        runner.own(sockets)
        port = _free_port()
        log = stack.enter_context(log_path.open("ab"))
        process = subprocess.Popen(
            runner.command(
                "postgres",
                "-D",
                str(cluster),
                "-p",
                str(port),
                "-k",
                str(sockets),
                "-c",
                f"listen_addresses={HOST}",
                # Throwaway data: no fsync, so Dagster's many small commits stay cheap.
                "-c",
                "fsync=off",
            ),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=folder,
            env=runner.env,
        )
        stack.callback(_stop, process)
        _wait_until_ready(runner, process, port, log_path, timeout)
        password = secrets.token_urlsafe(24)
        runner.run(
            "psql",
            *("-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", str(sockets), "-p", str(port)),
            *("-U", superuser, "-d", "postgres", "-f", "-"),
            input_text=(
                f"\\set password '{password}'\n"
                f"CREATE ROLE {USER} LOGIN PASSWORD :'password';\n"
                f"CREATE DATABASE {DATABASE} OWNER {USER};\n"
            ),
        )
        yield LocalPostgres(
            host=HOST,
            port=port,
            user=USER,
            password=password,
            database=DATABASE,
            log_path=log_path,
        )
