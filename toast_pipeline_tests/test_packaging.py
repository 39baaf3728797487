"""What ships: the wheel holds the product only, and loading the code location stays light."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from toast_pipeline_tests.warehouses import REPO

pytestmark = pytest.mark.e2e


def test_the_wheel_holds_the_product_and_no_tests_or_development_code(tmp_path):
    source = tmp_path / "source"
    source.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "fixtures")
    for name in ("pyproject.toml", "setup.cfg", "README.md"):
        shutil.copy(REPO / name, source / name)
    for package in ("toast_pipeline", "toast_pipeline_dev", "toast_pipeline_tests"):
        shutil.copytree(REPO / package, source / package, ignore=ignore)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "-q", "-w", str(tmp_path)],
        check=True,
        cwd=tmp_path,
    )
    [wheel] = tmp_path.glob("toast_pipeline-*.whl")
    tops = {Path(name).parts[0] for name in zipfile.ZipFile(wheel).namelist()}
    assert tops == {"toast_pipeline", wheel.name.split("-py")[0] + ".dist-info"}


def test_loading_the_code_location_imports_no_development_or_drawing_library(tmp_path):
    probe = (
        "import json, sys\n"
        "from toast_pipeline.definitions import defs\n"
        "defs()\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "TOAST_DUCKDB_PATH": str(tmp_path / "w.duckdb"),
    }
    loaded = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd=tmp_path,
    )
    modules = set(json.loads(loaded.stdout.splitlines()[-1]))
    assert "dagster" in modules and "toast_pipeline" in modules
    assert not modules & {
        "asyncssh",
        "matplotlib",
        "toast_pipeline_dev",
        "toast_pipeline_tests",
        "pytest",
    }
