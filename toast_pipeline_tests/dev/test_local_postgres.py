"""The throwaway PostgreSQL server: starts on loopback, takes its user's password, stops."""

from __future__ import annotations

import socket

import psycopg2
import pytest

from toast_pipeline_dev.local_postgres import LocalPostgresError, binaries, serve


def connect(server, password: str):
    return psycopg2.connect(
        host=server.host,
        port=server.port,
        user=server.user,
        password=password,
        dbname=server.database,
        connect_timeout=5,
    )


@pytest.mark.e2e
def test_the_server_takes_its_users_password_on_loopback_only_and_stops(tmp_path):
    with serve(tmp_path / "postgres") as server:
        assert server.host == "127.0.0.1"
        assert server.env() == {
            "DAGSTER_POSTGRES_HOST": "127.0.0.1",
            "DAGSTER_POSTGRES_PORT": str(server.port),
            "DAGSTER_POSTGRES_USER": server.user,
            "DAGSTER_POSTGRES_PASSWORD": server.password,
            "DAGSTER_POSTGRES_DB": server.database,
        }
        assert server.password not in repr(server)
        with connect(server, server.password) as connection, connection.cursor() as cursor:
            cursor.execute(
                "SELECT current_user, current_database(), current_setting('listen_addresses')"
            )
            assert cursor.fetchone() == (server.user, server.database, "127.0.0.1")
            cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            assert cursor.fetchone() == (False,)
        connection.close()
        with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
            connect(server, server.password + "x")
    with (
        pytest.raises(ConnectionRefusedError),
        socket.create_connection((server.host, server.port), timeout=5),
    ):
        pass
    assert "database system is shut down" in server.log_path.read_text()


def test_without_the_server_binaries_the_error_says_what_to_install(tmp_path):
    with pytest.raises(
        LocalPostgresError, match="apt-get install --no-install-recommends postgresql"
    ):
        binaries(tmp_path)
