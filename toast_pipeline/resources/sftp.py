"""Toast's export SFTP server as an `ExportSource`, on paramiko.

`SFTPExportSource` is written for Toast's server (key login, `<root>/<location>/<YYYYMMDD>/`):
strict host-key checking, one reused connection per run, retries with backoff only for errors
that can heal, transfer settings that make paramiko about four times faster than its defaults,
and no secret in any log line, message or repr.
"""

from __future__ import annotations

import posixpath
import queue
import re
import socket
import stat
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TypeVar

import paramiko
from dagster import EnvVar, InitResourceContext, get_dagster_logger
from pydantic import Field as ConfigField
from pydantic import PrivateAttr
from tenacity import (
    RetryCallState,
    RetryError,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)

from toast_pipeline.resources.source import (
    ExportSource,
    ExportSourceError,
    ExportSourceUnavailable,
    FileTooLarge,
    IncompleteFileError,
    LocationNotFound,
)
from toast_pipeline.toast.delivery import DateFolder, Delivery, RemoteFile, is_safe_name

T = TypeVar("T")

DEFAULT_KNOWN_HOSTS = "~/.ssh/known_hosts"
# Measured: these two plus TCP_NODELAY take a loopback download from ~6 to ~25 MB/s.
SFTP_WINDOW_SIZE = 8 * 1024 * 1024
SFTP_MAX_PACKET_SIZE = 64 * 1024
# A file is read in windows of pipelined 32 KiB requests (paramiko's largest). paramiko buffers
# every answer that arrives before it is consumed, so the window, not the request count, bounds
# what a download holds beyond the file itself: a few MiB, whatever the file's size.
READ_REQUEST = 32 * 1024
READ_WINDOW = 64 * READ_REQUEST

_DATE_FOLDER = re.compile(r"\d{8}")
_log = get_dagster_logger(__name__)


class SFTPConfigError(ExportSourceError):
    """The resource is configured in a way that cannot work."""


class AuthenticationFailed(ExportSourceError):
    """The server rejected the credentials; retrying would only risk a lockout."""


class HostKeyRejected(ExportSourceError):
    """The server's host key is unknown or has changed; nothing was sent or read."""


def _require_safe(name: str, what: str) -> str:
    if not is_safe_name(name):
        raise ValueError(f"{what} {name!r} is not a plain file or folder name")
    return name


def _is_transient(exc: BaseException) -> bool:
    """Errors worth another attempt: the network, a dropped session, a file still growing."""
    if isinstance(exc, IncompleteFileError):
        return True
    if isinstance(
        exc, (ExportSourceError, paramiko.AuthenticationException, paramiko.BadHostKeyException)
    ):
        return False
    # Definite answers from the server about a path, not failures of the connection.
    if isinstance(exc, (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError)):
        return False
    return isinstance(exc, (paramiko.SSHException, EOFError, OSError))


def known_hosts_name(host: str, port: int) -> str:
    """How OpenSSH names a server in known_hosts: the bare host on port 22, else `[host]:port`."""
    return host if port == 22 else f"[{host}]:{port}"


def _describe(key: paramiko.PKey) -> str:
    return f"{key.get_name()} {key.fingerprint}"


def _resolved(value: str | None, what: str) -> str | None:
    """The value behind an `EnvVar` when the resource is used outside a Dagster run."""
    if isinstance(value, EnvVar):
        resolved = value.get_value()
        if resolved is None:
            raise SFTPConfigError(f"{what}: environment variable {value.env_var_name} is not set")
        return resolved
    return value


class SFTPExportSource(ExportSource):
    """Toast's export SFTP server, read with paramiko over one connection per run, plus a few
    for reading a run's next dates ahead (`fetch_many`).

    Not thread-safe: use one instance per thread (Dagster gives each run its own).
    Populate `password` and `private_key_passphrase` with `dagster.EnvVar`.
    """

    host: str = ConfigField(description="SFTP server host name or address")
    port: int = ConfigField(default=22, description="SFTP server port")
    username: str = ConfigField(description="Login, e.g. the <Group>ExportUser shown by Toast")
    private_key_path: str | None = ConfigField(
        default=None, description="Private key file (OpenSSH or PEM format)"
    )
    private_key_passphrase: str | None = ConfigField(
        default=None, repr=False, description="Passphrase of the private key; use an EnvVar"
    )
    password: str | None = ConfigField(
        default=None, repr=False, description="Password, when the server allows it; use an EnvVar"
    )
    known_hosts_path: str | None = ConfigField(
        default=None,
        description=f"known_hosts file holding the trusted host key ({DEFAULT_KNOWN_HOSTS})",
    )
    insecure_skip_host_key_check_for_local_testing: bool = ConfigField(
        default=False,
        description="Accept any host key. Only for a throwaway local server: anyone on the "
        "network path could impersonate the real one.",
    )
    root: str = ConfigField(
        default="/", description="Remote folder holding one folder per location"
    )
    connect_timeout: float = ConfigField(
        default=15.0, description="Seconds allowed for TCP connect, SSH handshake and login"
    )
    operation_timeout: float = ConfigField(
        default=60.0, description="Seconds a single SFTP request may wait for the server"
    )
    keepalive_interval: int = ConfigField(
        default=15, description="Seconds between SSH keepalives on an idle connection"
    )
    max_attempts: int = ConfigField(
        default=4, description="Attempts per operation when the error is transient"
    )
    retry_initial_wait: float = ConfigField(
        default=1.0, description="Seconds before the first retry; doubles each time"
    )
    retry_max_wait: float = ConfigField(default=30.0, description="Longest wait between retries")
    max_file_mb: int = ConfigField(
        default=256,
        description="Largest file downloaded (Toast's are a few MB); a larger one is refused "
        "before any byte is read, so one bad file cannot exhaust the run's memory",
    )

    read_ahead_connections: int = ConfigField(
        default=3,
        description="Connections downloading a run's next dates while the current one is parsed "
        "and written (1: none); against a distant server they, not the bandwidth, set the speed",
    )

    _transport: paramiko.Transport | None = PrivateAttr(default=None)
    _sftp: paramiko.SFTPClient | None = PrivateAttr(default=None)
    _connect_attempts: int = PrivateAttr(default=0)

    # -- the interface -----------------------------------------------------------------------

    def list_locations(self) -> list[str]:
        def folders_in(sftp: paramiko.SFTPClient) -> list[str]:
            return sorted(
                entry.filename
                for entry in sftp.listdir_attr(self.root)
                if entry.st_mode is not None and stat.S_ISDIR(entry.st_mode)
            )

        return self._call(f"listing {self.root}", folders_in)

    def list_date_folders(self, location_id: str) -> list[DateFolder]:
        folder = self._remote_path(location_id)

        def list_dates_in(sftp: paramiko.SFTPClient) -> list[DateFolder]:
            try:
                entries = sftp.listdir_attr(folder)
            except FileNotFoundError:
                raise LocationNotFound(
                    f"no folder {folder} on {self._address}: check location_id {location_id!r}"
                ) from None
            folders = [
                DateFolder(day, datetime.fromtimestamp(entry.st_mtime or 0, tz=UTC))
                for entry in entries
                if (day := _folder_date(entry)) is not None
            ]
            return sorted(folders, key=lambda f: f.business_date)

        return self._call(f"listing {folder}", list_dates_in)

    def list_files(self, location_id: str, business_date: date) -> list[RemoteFile] | None:
        folder = self._remote_path(location_id, business_date)
        return self._call(f"listing {folder}", lambda sftp: _list_folder(sftp, folder))

    def fetch(
        self, location_id: str, business_date: date, names: Iterable[str] | None = None
    ) -> Delivery:
        wanted = None if names is None else {_require_safe(n, "file name") for n in names}
        folder = self._remote_path(location_id, business_date)

        def fetch_from(sftp: paramiko.SFTPClient) -> Delivery:
            listing = _list_folder(sftp, folder)
            if listing is None:
                return Delivery(location_id, business_date, folder_found=False)
            selected = [
                remote
                for remote in listing
                if (remote.name in wanted if wanted is not None else _is_csv(remote.name))
            ]
            files = {remote.name: self._download(sftp, folder, remote) for remote in selected}
            return Delivery(location_id, business_date, True, files, listing)

        return self._call(f"fetching {folder}", fetch_from)

    def fetch_many(
        self, location_id: str, dates: Iterable[date], names: Iterable[str] | None = None
    ) -> Iterator[Future[Delivery]]:
        """Up to two dates per read-ahead connection are downloading while the caller works.

        Each connection is a session of its own, opened only once a first one has logged in, so
        refused credentials cost one attempt, not one per connection (a lockout risk); they are
        closed when the caller has taken the last future (they complete first) or stops early.
        """
        dates = list(dates)
        workers = min(self.read_ahead_connections, len(dates))
        if workers <= 1:
            yield from super().fetch_many(location_id, dates, names)
            return
        names = None if names is None else tuple(names)
        first = self._session_copy()
        sessions = [first]
        try:
            first._call(f"connecting to {self._address}", lambda sftp: None)
        except Exception as exc:
            self._connect_attempts += first.connect_attempts
            first.close()
            for _ in dates:  # every date fails as the connection did; nothing more is tried
                failed: Future[Delivery] = Future()
                failed.set_exception(exc)
                yield failed
            return
        idle = queue.SimpleQueue()
        idle.put(first)

        def fetch(business_date: date) -> Delivery:
            try:
                session = idle.get_nowait()
            except queue.Empty:
                session = self._session_copy()
                sessions.append(session)
            try:
                return session.fetch(location_id, business_date, names)
            finally:
                idle.put(session)

        upcoming = iter(dates)
        executor = ThreadPoolExecutor(workers, thread_name_prefix="sftp-read-ahead")
        try:
            pending = deque(executor.submit(fetch, d) for _, d in zip(range(2 * workers), upcoming))
            while pending:
                following = next(upcoming, None)
                if following is not None:
                    pending.append(executor.submit(fetch, following))
                yield pending.popleft()
        except GeneratorExit:  # the caller stopped early: what it will not read is not fetched
            executor.shutdown(wait=True, cancel_futures=True)
            raise
        finally:
            executor.shutdown(wait=True)  # the futures handed out complete before the end
            for session in sessions:
                session.close()
                self._connect_attempts += session.connect_attempts

    def _session_copy(self) -> SFTPExportSource:
        """The same settings, without this instance's connection."""
        copy = self.model_copy()
        copy._transport = copy._sftp = None
        copy._connect_attempts = 0
        return copy

    # -- lifecycle ---------------------------------------------------------------------------

    def setup_for_execution(self, context: InitResourceContext) -> None:
        """Fail at run start, not at first use, when no credential is configured."""
        self._credentials()

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection; the next call opens a new one."""
        sftp, transport = self._sftp, self._transport
        self._sftp = self._transport = None
        for closable in (sftp, transport):
            if closable is not None:
                with suppress(Exception):
                    closable.close()

    @property
    def is_connected(self) -> bool:
        return self._transport is not None and self._transport.is_active()

    @property
    def connect_attempts(self) -> int:
        """Connections this instance has tried to open: one per run unless the network failed."""
        return self._connect_attempts

    # -- internals ---------------------------------------------------------------------------

    @property
    def _address(self) -> str:
        return f"{self.host}:{self.port}"

    def _remote_path(self, location_id: str, business_date: date | None = None) -> str:
        parts = [_require_safe(location_id, "location_id")]
        if business_date is not None:
            parts.append(business_date.strftime("%Y%m%d"))
        return posixpath.join(self.root, *parts)

    def _call(self, action: str, operation: Callable[[paramiko.SFTPClient], T]) -> T:
        """Run one operation on the shared connection, retrying transient failures."""
        retrying = Retrying(
            stop=stop_after_attempt(self.max_attempts),
            wait=wait_exponential(multiplier=self.retry_initial_wait, max=self.retry_max_wait),
            retry=retry_if_exception(_is_transient),
            before_sleep=self._before_retry,
        )
        try:
            return retrying(lambda: operation(self._connection()))
        except RetryError as err:
            last = err.last_attempt.exception()
            if isinstance(last, IncompleteFileError):
                raise last from None
            raise ExportSourceUnavailable(
                f"{action} on {self._address} failed {self.max_attempts} times; "
                f"last error: {type(last).__name__}: {last}"
            ) from last

    def _before_retry(self, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        if not isinstance(exc, IncompleteFileError):
            # The session may be half-dead; the next attempt starts from a fresh connection.
            self.close()
        wait = state.next_action.sleep if state.next_action else 0.0
        _log.warning(
            "SFTP %s: attempt %d failed (%s: %s); retrying in %.1f s",
            self._address,
            state.attempt_number,
            type(exc).__name__,
            exc,
            wait,
        )

    def _connection(self) -> paramiko.SFTPClient:
        if self._sftp is not None and self.is_connected:
            return self._sftp
        self.close()
        self._connect_attempts += 1
        self._transport, self._sftp = self._open()
        return self._sftp

    def _open(self) -> tuple[paramiko.Transport, paramiko.SFTPClient]:
        pkey, password = self._credentials()
        sock = socket.create_connection((self.host, self.port), timeout=self.connect_timeout)
        transport: paramiko.Transport | None = None
        try:
            # paramiko never sets it; without it small SFTP packets wait on delayed ACKs.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            transport = paramiko.Transport(sock)
            transport.banner_timeout = self.connect_timeout
            transport.handshake_timeout = self.connect_timeout
            transport.auth_timeout = self.connect_timeout
            transport.channel_timeout = self.connect_timeout
            known = self._known_host_keys()
            if known:
                _prefer_key_types(transport, known)
            transport.start_client(timeout=self.connect_timeout)
            self._verify_host_key(known, transport.get_remote_server_key())
            self._authenticate(transport, pkey, password)
            transport.set_keepalive(self.keepalive_interval)
            sftp = paramiko.SFTPClient.from_transport(
                transport, window_size=SFTP_WINDOW_SIZE, max_packet_size=SFTP_MAX_PACKET_SIZE
            )
            if sftp is None:
                raise paramiko.SSHException("the server refused the SFTP subsystem")
            sftp.get_channel().settimeout(self.operation_timeout)
            return transport, sftp
        except BaseException:
            if transport is not None:
                transport.close()
            sock.close()
            raise

    def _credentials(self) -> tuple[paramiko.PKey | None, str | None]:
        key_path = _resolved(self.private_key_path, "private_key_path")
        password = _resolved(self.password, "password")
        if key_path is None and password is None:
            raise SFTPConfigError(
                f"SFTP login to {self._address} needs private_key_path or password; neither is set"
            )
        pkey = None if key_path is None else self._load_key(key_path)
        return pkey, password

    def _load_key(self, key_path: str) -> paramiko.PKey:
        passphrase = _resolved(self.private_key_passphrase, "private_key_passphrase")
        try:
            return paramiko.PKey.from_path(key_path, passphrase.encode() if passphrase else None)
        except FileNotFoundError:
            problem = "the file does not exist"
        except TypeError:
            problem = "it is encrypted and private_key_passphrase is not set"
        except (ValueError, paramiko.SSHException):
            problem = "wrong passphrase, or not a private key in a format paramiko reads"
        # `from None`: the underlying errors carry nothing useful and must not carry key material.
        raise SFTPConfigError(f"cannot load the private key {key_path}: {problem}") from None

    def _known_hosts_file(self) -> Path:
        return Path(self.known_hosts_path or DEFAULT_KNOWN_HOSTS).expanduser()

    def _known_host_keys(self) -> dict[str, paramiko.PKey]:
        if self.insecure_skip_host_key_check_for_local_testing:
            return {}
        host_keys = paramiko.HostKeys()
        path = self._known_hosts_file()
        if path.is_file():
            host_keys.load(str(path))
        return dict(host_keys.lookup(known_hosts_name(self.host, self.port)) or {})

    def _verify_host_key(self, known: dict[str, paramiko.PKey], offered: paramiko.PKey) -> None:
        """Refuse unknown or changed host keys, as OpenSSH and paramiko's RejectPolicy do."""
        if self.insecure_skip_host_key_check_for_local_testing:
            _log.warning(
                "SFTP %s: host key NOT verified (insecure_skip_host_key_check_for_local_testing "
                "is set); accepted %s. Never use this against a real server.",
                self._address,
                _describe(offered),
            )
            return
        path = self._known_hosts_file()
        name = known_hosts_name(self.host, self.port)
        entry = f"{name} {offered.get_name()} {offered.get_base64()}"
        if not known:
            raise HostKeyRejected(
                f"the host key of {self._address} is not in {path}; refusing to connect. The "
                f"server offered {_describe(offered)}. Check that fingerprint with the server's "
                f"operator, then add this line to {path}:\n{entry}\n(or run "
                f"`ssh-keyscan -p {self.port} {self.host} >> {path}` and compare). For a "
                f"throwaway local test server only, set "
                f"insecure_skip_host_key_check_for_local_testing=True."
            )
        expected = known.get(offered.get_name())
        if expected != offered:
            expected_text = ", ".join(_describe(k) for k in known.values())
            raise HostKeyRejected(
                f"the host key of {self._address} has CHANGED: {path} expects {expected_text}, "
                f"the server offered {_describe(offered)}. Someone may be impersonating the "
                f"server; refusing to connect. If the server's operator confirms the new key, "
                f"replace the {name} entry in {path}."
            )

    def _authenticate(
        self, transport: paramiko.Transport, pkey: paramiko.PKey | None, password: str | None
    ) -> None:
        attempts: list[tuple[str, Callable[[], list[str]]]] = []
        if pkey is not None:
            attempts.append(("publickey", lambda: transport.auth_publickey(self.username, pkey)))
        if password is not None:
            attempts.append(("password", lambda: transport.auth_password(self.username, password)))
        reasons = []
        for method, attempt in attempts:
            try:
                remaining = attempt()
            except paramiko.BadAuthenticationType as err:
                allowed = ", ".join(err.allowed_types) or "nothing"
                reasons.append(f"{method} is not accepted (the server allows {allowed})")
                continue
            except paramiko.AuthenticationException:
                reasons.append(f"{method} was rejected")
                continue
            if transport.is_authenticated():
                return
            reasons.append(f"{method} was accepted but the server also requires {remaining}")
        raise AuthenticationFailed(
            f"authentication failed for user {self.username!r} at {self._address}: "
            + "; ".join(reasons)
        )

    def _download(self, sftp: paramiko.SFTPClient, folder: str, remote: RemoteFile) -> bytearray:
        """Read the listed size into one buffer, never copied; reading past it tells a file still
        growing."""
        path = posixpath.join(folder, remote.name)
        if remote.size > self.max_file_mb * 1024 * 1024:
            raise FileTooLarge(
                f"{path} on {self._address} is {remote.size / 2**20:.1f} MiB, more than "
                f"max_file_mb={self.max_file_mb}; not downloaded. Raise max_file_mb if the file is genuine."
            )
        buffer = bytearray(remote.size)
        view, got = memoryview(buffer), 0
        with sftp.open(path, "rb") as handle:
            try:
                for window in range(0, remote.size, READ_WINDOW):
                    end = min(window + READ_WINDOW, remote.size)
                    requests = [
                        (o, min(READ_REQUEST, end - o)) for o in range(window, end, READ_REQUEST)
                    ]
                    for chunk in handle.readv(requests):
                        view[got : got + len(chunk)] = chunk
                        got += len(chunk)
                grew = bool(handle.read(1))
            except EOFError:
                grew = False  # shorter than listed: replaced while being read
        if got != remote.size or grew:
            raise IncompleteFileError(
                f"{path} on {self._address}: downloaded {'more than ' if grew else ''}{got} bytes but "
                f"the listing said {remote.size}; the file was still being written (or replaced). "
                f"Try again once the export has finished."
            )
        return buffer


def _prefer_key_types(transport: paramiko.Transport, known: dict[str, paramiko.PKey]) -> None:
    """Ask for the host key type known_hosts holds, as OpenSSH and paramiko's SSHClient do."""
    wanted = set(known)
    if "ssh-rsa" in wanted:
        wanted |= {"rsa-sha2-512", "rsa-sha2-256"}
    options = transport.get_security_options()
    options.key_types = sorted(options.key_types, key=lambda name: name not in wanted)


def _folder_date(entry: paramiko.SFTPAttributes) -> date | None:
    if not is_safe_name(entry.filename) or not _DATE_FOLDER.fullmatch(entry.filename):
        return None
    if entry.st_mode is not None and not stat.S_ISDIR(entry.st_mode):
        return None
    try:
        return datetime.strptime(entry.filename, "%Y%m%d").date()
    except ValueError:
        return None


def _list_folder(sftp: paramiko.SFTPClient, folder: str) -> list[RemoteFile] | None:
    """Regular files with safe names; symlinks and anything odd are skipped, not followed."""
    try:
        entries = sftp.listdir_attr(folder)
    except FileNotFoundError:
        return None
    files = [
        RemoteFile(
            name=entry.filename,
            size=int(entry.st_size),
            mtime=datetime.fromtimestamp(entry.st_mtime, tz=UTC),
        )
        for entry in entries
        if is_safe_name(entry.filename) and (entry.st_mode is None or stat.S_ISREG(entry.st_mode))
    ]
    return sorted(files, key=lambda remote: remote.name)


def _is_csv(name: str) -> bool:
    return name.lower().endswith(".csv")
