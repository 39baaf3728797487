import pytest

from toast_pipeline.commands.instance import use_dagster_home


def test_the_project_instance_is_used_when_dagster_home_is_unset(tmp_path, monkeypatch):
    (tmp_path / "dagster_home").mkdir()
    (tmp_path / "dagster_home" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    assert use_dagster_home() == tmp_path / "dagster_home"


def test_a_chosen_dagster_home_is_kept(tmp_path, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "elsewhere"))
    assert use_dagster_home() == tmp_path / "elsewhere"


def test_no_instance_anywhere_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    with pytest.raises(
        RuntimeError, match="DAGSTER_HOME is not set and there is no dagster_home/dagster.yaml"
    ):
        use_dagster_home()
