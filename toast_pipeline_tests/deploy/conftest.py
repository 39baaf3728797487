from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from toast_pipeline_dev.local_postgres import LocalPostgres, serve
from toast_pipeline_tests.helpers import PROJECT_ROOT

DEPLOY_YAML = PROJECT_ROOT / "deploy" / "dagster.yaml"


@pytest.fixture
def postgres(tmp_path: Path) -> Iterator[LocalPostgres]:
    """A fresh PostgreSQL server of the test's own on 127.0.0.1 (about 1.5 s to start)."""
    with serve(tmp_path / "postgres") as server:
        yield server


@pytest.fixture
def production_env(
    sample_env: dict[str, str], postgres: LocalPostgres, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    """`sample_env` with its instance turned into the production one: deploy/dagster.yaml in
    DAGSTER_HOME and the DAGSTER_POSTGRES_* variables of the local server.

    The variables are set in this process too, since the yaml reads them when an instance is
    opened here.
    """
    shutil.copy(DEPLOY_YAML, Path(sample_env["DAGSTER_HOME"]) / "dagster.yaml")
    for name, value in postgres.env().items():
        monkeypatch.setenv(name, value)
    return {**sample_env, **postgres.env()}
