import os
import shutil
from pathlib import Path

import dagster as dg
import pytest

from toast_pipeline.commands.instance import dagster_home, open_instance

PROJECT_YAML = Path(__file__).parents[2] / "dagster_home" / "dagster.yaml"


def test_the_project_instance_is_used_when_dagster_home_is_unset(tmp_path, monkeypatch):
    (tmp_path / "dagster_home").mkdir()
    (tmp_path / "dagster_home" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    monkeypatch.chdir(tmp_path)
    assert dagster_home({}) == tmp_path / "dagster_home"


def test_a_chosen_dagster_home_is_kept(tmp_path):
    assert dagster_home({"DAGSTER_HOME": str(tmp_path / "elsewhere")}) == tmp_path / "elsewhere"


def test_no_instance_anywhere_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(
        RuntimeError, match="DAGSTER_HOME is not set and there is no dagster_home/dagster.yaml"
    ):
        dagster_home({})


def test_the_instance_opens_from_its_folder_without_dagster_home(tmp_path, monkeypatch):
    """The project's dagster.yaml names no folder: the instance's storage is where it was opened
    (Dagster's default files, events through the pooled event log), and the reference handed to
    the runs carries that folder, not DAGSTER_HOME."""
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    shutil.copy(PROJECT_YAML, tmp_path)
    environment = dict(os.environ)
    with open_instance(tmp_path, max_concurrent_runs=3) as instance:
        assert instance.is_persistent
        assert instance.get_concurrency_config().run_queue_config.max_concurrent_runs == 3
        pools = instance.get_concurrency_config().pool_config  # kept beside the override
        assert (pools.pool_granularity.value, pools.default_pool_limit) == ("run", 1)
        storages = instance.get_ref().storage_data.config_dict
        assert {
            name: Path(s["config_yaml"].split(": ", 1)[1].strip()) for name, s in storages.items()
        } == {
            "run_storage": tmp_path / "history",
            "event_log_storage": tmp_path / "history" / "runs",
            "schedule_storage": tmp_path / "schedules",
        }
        assert storages["event_log_storage"]["class_name"] == "PooledSqliteEventLogStorage"
        instance.add_run(dg.DagsterRun(job_name="probe", run_id="probe-run"))
    assert dict(os.environ) == environment
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    with dg.DagsterInstance.get() as same:
        assert same.get_run_by_id("probe-run") is not None
        assert same.get_concurrency_config().run_queue_config.max_concurrent_runs == 2


def test_an_older_run_queue_limit_is_overridden_where_it_lives(tmp_path):
    (tmp_path / "dagster.yaml").write_text(
        "run_queue:\n  max_concurrent_runs: 1\n  dequeue_interval_seconds: 1\n"
    )
    with open_instance(tmp_path, max_concurrent_runs=4) as instance:
        config = instance.get_concurrency_config().run_queue_config
        assert config.max_concurrent_runs == 4
