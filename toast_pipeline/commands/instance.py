"""Which Dagster instance the commands use: DAGSTER_HOME, or the project's own `dagster_home/`."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_HOME = Path("dagster_home")


def use_dagster_home() -> Path:
    """Point DAGSTER_HOME at the project's instance unless the user chose one."""
    if not os.environ.get("DAGSTER_HOME"):
        if not (PROJECT_HOME / "dagster.yaml").exists():
            raise RuntimeError(
                "DAGSTER_HOME is not set and there is no dagster_home/dagster.yaml here: run from "
                "the project root, or set DAGSTER_HOME to a folder holding a dagster.yaml"
            )
        os.environ["DAGSTER_HOME"] = str(PROJECT_HOME.resolve())
    return Path(os.environ["DAGSTER_HOME"])
