from datetime import date

import pytest

from toast_pipeline.settings import GroupSettings
from toast_pipeline_dev import demo
from toast_pipeline_dev.__main__ import main, parser
from toast_pipeline_dev.sample import DEMO_GROUP


def test_demo_options_parse_iso_and_basic_dates():
    args = parser().parse_args(["demo", "--start", "20240401", "--days", "5"])
    assert (args.start, args.days) == (date(2024, 4, 1), 5)


def test_the_demo_loads_the_group_at_each_stores_own_size_unless_told():
    args = parser().parse_args(["demo"])
    assert args.orders_per_day is None
    assert demo.DemoOptions().locations == DEMO_GROUP
    sized = demo.DemoOptions(orders_per_day=15).locations
    assert [(s.location_id, s.orders_per_day) for s in sized] == [("185129", 15), ("185342", 15)]


def test_the_demo_names_no_location(capsys):
    """The group's folders are found on the server: there is no option naming one."""
    with pytest.raises(SystemExit):
        parser().parse_args(["demo", "--location-id", "185129"])
    assert "unrecognized arguments: --location-id" in capsys.readouterr().err


def test_a_bad_date_is_refused_with_the_expected_form(capsys):
    with pytest.raises(SystemExit):
        parser().parse_args(["demo", "--start", "April"])
    assert "expected a date YYYY-MM-DD or YYYYMMDD" in capsys.readouterr().err


def test_serve_sample_without_a_demo_export_says_what_to_do(tmp_path, capsys):
    assert main(["serve-sample", "--data-dir", str(tmp_path)]) == 1
    assert "run `make demo` first" in capsys.readouterr().out


def test_serve_sample_serves_the_group_and_writes_its_settings(tmp_path, capsys, monkeypatch):
    options = demo.DemoOptions(data_dir=tmp_path, start=date(2024, 3, 1), days=2, orders_per_day=5)
    demo.generate(options)

    monkeypatch.setattr(demo, "wait_until_interrupted", lambda: 0)  # as after Ctrl+C
    monkeypatch.setenv("COLUMNS", "400")  # a long temporary path is not folded mid-word
    assert main(["serve-sample", "--data-dir", str(tmp_path), "--port", "0"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert f"Serving {tmp_path / 'demo' / 'export'} (185129, 185342) on 127.0.0.1:" in out
    lines = (tmp_path / "demo" / "sftp.env").read_text().splitlines()
    env = dict(line.removeprefix("export ").split("=", 1) for line in lines)
    assert env["TOAST_SFTP_HOST"] == "127.0.0.1" and env["TOAST_SFTP_ROOT"] == "/"
    assert env["TOAST_START_DATE"] == "2024-03-01"
    assert env["TOAST_LOCATIONS_FILE"] == str(tmp_path / "demo" / "locations.toml")
    assert "TOAST_LOCATION_ID" not in env and "TOAST_LOCATIONS" not in env
    settings = GroupSettings.from_env(env)
    assert settings.discovers_locations and settings.watches_server
    assert settings.location("185342").display_name == "Barrel Café (185342)"
