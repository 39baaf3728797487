"""Dagster's private API the project relies on, checked against the installed Dagster.

A Dagster upgrade that moves or removes one of these symbols fails here, naming it and its module,
rather than in the middle of a backfill.
"""

import importlib
import re
from pathlib import Path

import pytest

from toast_pipeline.commands.graphql_client import ACTIVE_BACKFILL_STATUSES
from toast_pipeline.defs import dagster_internals
from toast_pipeline.defs.dagster_internals import PRIVATE_SYMBOLS

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("module", "name"), PRIVATE_SYMBOLS, ids=[f"{m}.{n}" for m, n in PRIVATE_SYMBOLS]
)
def test_each_private_symbol_is_where_dagster_keeps_it(module, name):
    try:
        source = importlib.import_module(module)
    except ImportError as exc:
        pytest.fail(f"Dagster no longer has the module {module} (for {name}): {exc}")
    if not hasattr(source, name):
        pytest.fail(f"Dagster's {module} no longer defines {name}")
    assert getattr(dagster_internals, name) is getattr(source, name)


def test_the_module_exports_exactly_the_declared_symbols():
    declared = [name for _, name in PRIVATE_SYMBOLS]
    assert len(set(declared)) == len(declared)
    assert sorted(dagster_internals.__all__) == sorted(declared)
    for name in declared:
        getattr(dagster_internals, name)
    from_dagster = {
        name
        for name, value in vars(dagster_internals).items()
        if getattr(value, "__module__", "").startswith("dagster")
    }
    assert from_dagster == set(declared)


def test_a_name_not_declared_is_not_there():
    with pytest.raises(AttributeError, match="has no attribute 'ModuleTarget'"):
        dagster_internals.ModuleTarget  # noqa: B018


def test_no_other_file_imports_dagster_private_modules():
    own = Path(dagster_internals.__file__).resolve()
    offenders = [
        f"{path.relative_to(REPO)}:{number}: {line.strip()}"
        for folder in ("toast_pipeline", "toast_pipeline_dev", "benchmarks", "scripts")
        for path in sorted((REPO / folder).rglob("*.py"))
        if path.resolve() != own
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"dagster\._", line)
    ]
    assert offenders == []


def test_the_active_backfill_statuses_are_dagster_statuses():
    """The one list the backfill command and the GraphQL client both read."""
    statuses = importlib.import_module("dagster._core.execution.backfill").BulkActionStatus
    assert ACTIVE_BACKFILL_STATUSES <= {status.value for status in statuses}
    assert {"REQUESTED", "CANCELING", "FAILING"} == ACTIVE_BACKFILL_STATUSES
