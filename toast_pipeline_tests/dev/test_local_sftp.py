"""The loopback server: real SSH, key login only, read-only, confined to its folder."""

from __future__ import annotations

import io
import os
import signal
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import paramiko
import pytest

from toast_pipeline_dev.local_sftp import (
    LocalSFTPError,
    LocalSFTPServer,
    generate_keys,
    serve,
    write_known_hosts,
)

CONTENT = b"Order Id,Amount\n1,9.50\n"


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory,
    sftp_server_factory: Callable[[Path], LocalSFTPServer],
) -> LocalSFTPServer:
    base = tmp_path_factory.mktemp("local_sftp")
    (base / "outside.txt").write_text("not for clients")
    day = base / "root" / "185129" / "20240404"
    day.mkdir(parents=True)
    (day / "OrderDetails.csv").write_bytes(CONTENT)
    (day / "escape.csv").symlink_to(base / "outside.txt")
    return sftp_server_factory(base / "root")


def connect(server: LocalSFTPServer, **credentials: object) -> paramiko.SSHClient:
    client = paramiko.SSHClient()
    client.load_host_keys(str(server.known_hosts_path))
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    options = credentials or {"key_filename": str(server.client_key_path)}
    username = options.pop("username", server.username)
    client.connect(
        server.host,
        server.port,
        username=username,
        look_for_keys=False,
        allow_agent=False,
        timeout=5,
        **options,
    )
    return client


@pytest.fixture(scope="module")
def sftp(served: LocalSFTPServer) -> Iterator[paramiko.SFTPClient]:
    client = connect(served)
    with client, client.open_sftp() as sftp:
        yield sftp


def test_generate_keys_writes_openssh_keys_paramiko_reads(tmp_path: Path) -> None:
    host_key, client_key = generate_keys(tmp_path)
    for key in (host_key, client_key):
        assert paramiko.PKey.from_path(key).get_name() == "ssh-ed25519"
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
        assert Path(f"{key}.pub").read_text().startswith("ssh-ed25519 ")
    client_public = Path(f"{client_key}.pub").read_text().split()[:2]
    assert (tmp_path / "authorized_keys").read_text().split()[:2] == client_public


@pytest.mark.parametrize(("port", "name"), [(22, "example.com"), (2222, "[example.com]:2222")])
def test_write_known_hosts_uses_bracketed_form_off_port_22(
    tmp_path: Path, port: int, name: str
) -> None:
    host_key, _ = generate_keys(tmp_path)
    public = Path(f"{host_key}.pub").read_text()
    write_known_hosts(tmp_path / "known_hosts", "example.com", port, public)

    assert (tmp_path / "known_hosts").read_text().split()[0] == name
    host_keys = paramiko.HostKeys(str(tmp_path / "known_hosts"))
    assert host_keys.lookup(name)["ssh-ed25519"] == paramiko.PKey.from_path(host_key)


@pytest.mark.e2e
def test_cli_prints_one_ready_line_and_exits_cleanly_on_sigterm(tmp_path: Path) -> None:
    host_key, _ = generate_keys(tmp_path / "keys")
    command = [sys.executable, "-m", "toast_pipeline_dev.local_sftp", "--root", str(tmp_path)]
    command += ["--host-key", str(host_key)]
    command += ["--authorized-keys", str(tmp_path / "keys" / "authorized_keys")]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    try:
        assert process.stdout is not None
        words = process.stdout.readline().decode().split()
        assert words[:2] == ["listening", "127.0.0.1"] and int(words[2]) > 0
    finally:
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=10)
    assert process.returncode == 0, stderr.decode()
    assert stdout == b""


@pytest.mark.e2e
def test_serve_reports_a_failed_start_with_the_server_stderr(tmp_path: Path) -> None:
    with pytest.raises(LocalSFTPError, match="--root is not a folder"):
        with serve(tmp_path / "missing", tmp_path / "keys"):
            pass


@pytest.mark.e2e
def test_serves_the_folder_as_the_root(sftp: paramiko.SFTPClient) -> None:
    assert sftp.listdir("/") == ["185129"]
    assert sftp.listdir(".") == ["185129"]
    with sftp.open("185129/20240404/OrderDetails.csv") as handle:
        assert handle.read() == CONTENT
    with sftp.open("/185129/../185129/20240404/OrderDetails.csv") as handle:
        assert handle.read() == CONTENT


@pytest.mark.e2e
@pytest.mark.parametrize(
    "path",
    ["..", "/..", "../root/185129", "/185129/../../outside.txt", "185129/20240404/escape.csv"],
)
def test_refuses_paths_leaving_the_folder(sftp: paramiko.SFTPClient, path: str) -> None:
    with pytest.raises(PermissionError, match="leaves the served folder"):
        sftp.stat(path)
    with pytest.raises(PermissionError):
        sftp.open(path).read()


CHANGES: dict[str, Callable[[paramiko.SFTPClient], object]] = {
    "create": lambda s: s.open("185129/new.csv", "w"),
    "append": lambda s: s.open("185129/20240404/OrderDetails.csv", "a"),
    "update": lambda s: s.open("185129/20240404/OrderDetails.csv", "r+"),
    "put": lambda s: s.putfo(io.BytesIO(b"x"), "185129/20240404/OrderDetails.csv"),
    "remove": lambda s: s.remove("185129/20240404/OrderDetails.csv"),
    "rename": lambda s: s.rename("185129/20240404/OrderDetails.csv", "185129/x.csv"),
    "posix_rename": lambda s: s.posix_rename("185129/20240404/OrderDetails.csv", "185129/x.csv"),
    "mkdir": lambda s: s.mkdir("185129/new"),
    "rmdir": lambda s: s.rmdir("185129/20240404"),
    "chmod": lambda s: s.chmod("185129/20240404/OrderDetails.csv", 0o777),
    "utime": lambda s: s.utime("185129/20240404/OrderDetails.csv", (0, 0)),
    "truncate": lambda s: s.truncate("185129/20240404/OrderDetails.csv", 0),
    "symlink": lambda s: s.symlink("185129/20240404/OrderDetails.csv", "185129/link.csv"),
}


@pytest.mark.e2e
@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
def test_refuses_every_change(
    sftp: paramiko.SFTPClient,
    served: LocalSFTPServer,
    change: Callable[[paramiko.SFTPClient], object],
) -> None:
    with pytest.raises(PermissionError, match="read-only"):
        change(sftp)
    assert sorted(p.name for p in (served.root / "185129").iterdir()) == ["20240404"]
    assert (served.root / "185129/20240404/OrderDetails.csv").read_bytes() == CONTENT


@pytest.mark.e2e
def test_accepts_only_the_configured_user_with_its_key(served: LocalSFTPServer) -> None:
    with pytest.raises(paramiko.AuthenticationException):
        connect(served, username="someone-else", key_filename=str(served.client_key_path))
    with pytest.raises(paramiko.BadAuthenticationType) as refused:
        connect(served, password="guess")
    assert refused.value.allowed_types == ["publickey"]


@pytest.mark.e2e
def test_offers_no_shell(served: LocalSFTPServer) -> None:
    with connect(served) as client, pytest.raises(paramiko.SSHException):
        client.exec_command("id")
