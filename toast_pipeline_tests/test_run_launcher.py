"""The backfill command's run launcher: stored runs executed on threads of the test's process."""

import shutil
import threading
import time
from pathlib import Path

import dagster as dg
import pytest

from toast_pipeline.commands.instance import open_instance
from toast_pipeline.run_launcher import InProcessRunLauncher

PROJECT_YAML = Path(__file__).parents[1] / "dagster_home" / "dagster.yaml"
STARTED = threading.Event()
EXECUTED: list[tuple[str, float, float]] = []  # thread, start, end


@dg.op
def report_thread() -> None:
    started = time.monotonic()
    time.sleep(0.2)
    EXECUTED.append((threading.current_thread().name, started, time.monotonic()))


@dg.job(executor_def=dg.in_process_executor)
def one_op():
    report_thread()


@dg.op
def wait_to_be_stopped() -> None:
    STARTED.set()
    while True:
        time.sleep(0.01)


@dg.job(executor_def=dg.in_process_executor)
def never_ends():
    wait_to_be_stopped()


@pytest.fixture
def instance(tmp_path: Path):
    shutil.copy(PROJECT_YAML, tmp_path)
    with open_instance(tmp_path, runs_in_process=True) as instance:
        yield instance


def launched(instance: dg.DagsterInstance, job: dg.JobDefinition) -> str:
    """A run of `job`, stored as a backfill's run is, and launched through the instance."""
    recon = dg.reconstructable(job)
    run = instance.create_run_for_job(job_def=job, job_code_origin=recon.get_python_origin())
    instance.launch_run(run.run_id, workspace=None)
    return run.run_id


def test_the_instance_of_the_command_launches_runs_in_its_process(instance):
    assert isinstance(instance.run_launcher, InProcessRunLauncher)
    assert type(instance.compute_log_manager).__name__ == "NoOpComputeLogManager"


def test_a_run_executes_on_a_thread_of_this_process_and_join_waits_for_it(instance):
    EXECUTED.clear()
    run_id = launched(instance, one_op)
    instance.run_launcher.join()
    assert instance.run_launcher.running() == []
    assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.SUCCESS
    [(thread, _, _)] = EXECUTED
    assert thread.startswith("toast-run") and thread != threading.current_thread().name
    [success] = instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_SUCCESS)
    assert success.dagster_event.step_key == "report_thread"


def test_the_launcher_says_when_each_run_has_ended(instance):
    ended = []
    instance.run_launcher.on_run_end = lambda: ended.append(instance.run_launcher.running())
    run_ids = [launched(instance, one_op) for _ in range(2)]
    instance.run_launcher.join()
    assert ended == [[run_ids[1]], []]


def test_runs_launched_together_take_turns_so_their_logging_set_up_cannot_deadlock(instance):
    """Regression: two runs of one process at once hung a group backfill on BigQuery, one run
    configuring Python's logging as it started while the other logged its events."""
    EXECUTED.clear()
    run_ids = [launched(instance, one_op) for _ in range(3)]
    instance.run_launcher.join()
    assert [instance.get_run_by_id(r).status for r in run_ids] == [dg.DagsterRunStatus.SUCCESS] * 3
    spans = sorted((start, end) for _, start, end in EXECUTED)
    assert len(spans) == 3
    assert all(end <= next_start for (_, end), (next_start, _) in zip(spans, spans[1:]))


def test_a_run_waiting_its_turn_is_canceled_without_starting(instance):
    STARTED.clear()
    executing = launched(instance, never_ends)
    assert STARTED.wait(30)
    waiting = launched(instance, one_op)
    assert instance.run_launcher.running() == [executing, waiting]
    assert instance.run_launcher.terminate(waiting)
    assert instance.get_run_by_id(waiting).status == dg.DagsterRunStatus.CANCELED
    assert instance.run_launcher.terminate(executing)
    instance.run_launcher.join()
    assert instance.get_run_by_id(executing).status == dg.DagsterRunStatus.CANCELED
    assert instance.all_logs(waiting, of_type=dg.DagsterEventType.RUN_START) == []


def test_terminate_cancels_a_running_run_as_ctrl_c_would(instance):
    STARTED.clear()
    run_id = launched(instance, never_ends)
    assert STARTED.wait(30)
    assert instance.run_launcher.running() == [run_id]
    assert instance.run_launcher.terminate(run_id)
    instance.run_launcher.join()
    assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.CANCELED
    assert not instance.run_launcher.terminate(run_id), "a finished run cannot be terminated"
