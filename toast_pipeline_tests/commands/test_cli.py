"""The console script's entry point."""

import os
import subprocess
import sys

from toast_pipeline_tests.helpers import PROJECT_ROOT

ENTRY = """
import gc, sys
from toast_pipeline.commands.cli import console_script
code = console_script(sys.argv[1:])
print(code, gc.get_freeze_count() > 0)
"""


def test_the_console_script_returns_the_command_s_status_and_leaves_loaded_objects_to_exit(
    tmp_path,
):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOAST_")}
    env["DAGSTER_HOME"] = str(tmp_path)
    done = subprocess.run(
        [sys.executable, "-c", ENTRY, "backfill", "--all", "--dry-run"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "no server to read dates from" in " ".join(done.stdout.split())
    assert done.stdout.split()[-2:] == ["2", "True"]
