from datetime import date

import pytest

from toast_pipeline_dev.__main__ import main, parser


def test_demo_options_parse_iso_and_basic_dates():
    args = parser().parse_args(["demo", "--start", "20240401", "--days", "5"])
    assert (args.start, args.days) == (date(2024, 4, 1), 5)


def test_a_bad_date_is_refused_with_the_expected_form(capsys):
    with pytest.raises(SystemExit):
        parser().parse_args(["demo", "--start", "April"])
    assert "expected a date YYYY-MM-DD or YYYYMMDD" in capsys.readouterr().err


def test_serve_sample_without_a_demo_export_says_what_to_do(tmp_path, capsys):
    assert main(["serve-sample", "--data-dir", str(tmp_path)]) == 1
    assert "run `make demo` first" in capsys.readouterr().out
