"""The new-folder sensor against a real loopback SFTP server whose folder the test changes."""

import json
import os
import shutil
import time
from datetime import date, timedelta

import dagster as dg
import pytest

from toast_pipeline.definitions import DAILY_JOB, build_definitions
from toast_pipeline.defs.assets import BUSINESS_DAYS_KEY, EXPECTED_FILES_KEY, FINGERPRINT_KEY
from toast_pipeline.defs.partitions import LOCATIONS_PARTITIONS
from toast_pipeline.resources.archive import LocalRawArchive
from toast_pipeline.resources.duckdb_warehouse import DuckDBWarehouse
from toast_pipeline.settings import GroupSettings
from toast_pipeline.toast.arrivals import EXPECTED_FILES, QUIET_PERIOD, Listing
from toast_pipeline_dev.local_sftp import generate_keys
from toast_pipeline_dev.sample import LEAN_ACCOUNT_FILES
from toast_pipeline_tests.faulty_sftp import Faults, read_journal, serve_faulty

pytestmark = pytest.mark.e2e

SETTINGS = GroupSettings(date(2024, 4, 1), locations=("185129",))


@pytest.fixture
def served(tmp_path, sample_export, sftp_server_factory, sftp_source_factory):
    """A location folder the test controls, served over SFTP."""
    root = tmp_path / "export"
    (root / "185129").mkdir(parents=True)
    server = sftp_server_factory(root)
    return root / "185129", sftp_source_factory(server), sample_export.root / "185129"


def deliver(location, sample, day: str) -> None:
    shutil.copytree(sample / day, location / day)


def definitions_for(source) -> dg.Definitions:
    return build_definitions(
        SETTINGS,
        source=source,
        archive=LocalRawArchive(path="unused"),
        warehouse=DuckDBWarehouse(path="unused.duckdb"),
    )


def tick(source, cursor, instance=None):
    definitions = definitions_for(source)
    sensor = definitions.resolve_sensor_def("toast_new_folders")
    with dg.build_sensor_context(
        cursor=cursor,
        resources={"source": source},
        definitions=definitions,
        instance=instance or dg.DagsterInstance.ephemeral(),
    ) as context:
        result = sensor.evaluate_tick(context)
    return [(r.partition_key, r.run_key) for r in result.run_requests or []], result.cursor


def test_a_settled_folder_is_requested_once_and_again_when_redelivered(served):
    location, source, sample = served
    deliver(location, sample, "20240404")
    (location / "20190101").mkdir()  # before the partitions: ignored, not fatal
    (location / "notadate").mkdir()

    requests, cursor = tick(source, None)
    assert requests == []
    requests, cursor = tick(source, cursor)
    assert [key for key, _ in requests] == ["2024-04-04|185129"]
    first_run_key = requests[0][1]
    assert tick(source, cursor)[0] == []

    with open(location / "20240404" / "OrderDetails.csv", "ab") as handle:
        handle.write(b"\n")
    os.utime(location / "20240404" / "OrderDetails.csv", (1_700_000_000, 1_700_000_000))
    requests, cursor = tick(source, cursor)
    assert requests == []
    requests, cursor = tick(source, cursor)
    assert [key for key, _ in requests] == ["2024-04-04|185129"]
    assert requests[0][1] != first_run_key


def copy_written_ago(sample_folder, folder, names, ago: timedelta | None) -> None:
    """Copy files into a folder as last written `ago` (None: when the sample export wrote them)."""
    folder.mkdir(exist_ok=True)
    for name in names:
        if ago is None:
            shutil.copy2(sample_folder / name, folder)
        else:
            shutil.copy(sample_folder / name, folder)
            written = time.time() - ago.total_seconds()
            os.utime(folder / name, (written, written))


@pytest.mark.parametrize(
    "ago",
    [
        # Past the quiet period, within the maximum wait: Toast may still be writing the folder.
        pytest.param(timedelta(minutes=10), id="written-10-minutes-ago"),
        # Past the maximum wait too: a run would accept the folder, only the sensor waits.
        pytest.param(None, id="written-in-2024"),
    ],
)
def test_a_folder_missing_an_expected_file_is_requested_only_once_it_comes(served, ago):
    """The files are old enough for the quiet period: the missing file alone holds the date back."""
    location, source, sample = served
    folder, day = location / "20240405", sample / "20240404"
    assert QUIET_PERIOD < timedelta(minutes=10) < SETTINGS.folder_max_wait
    copy_written_ago(day, folder, sorted(EXPECTED_FILES - {"PaymentDetails.csv"}), ago)
    requests, cursor = tick(source, None)
    for _ in range(2):  # the second look and the next: the same listing, still not complete
        requests, cursor = tick(source, cursor)
        assert requests == []

    copy_written_ago(day, folder, ["PaymentDetails.csv"], ago)
    requests, cursor = tick(source, cursor)
    assert requests == []  # the first look at the complete folder
    requests, cursor = tick(source, cursor)
    assert [key for key, _ in requests] == ["2024-04-05|185129"]


def test_a_complete_folder_just_written_is_requested_once_quiet(served):
    location, source, sample = served
    folder, day = location / "20240405", sample / "20240404"
    copy_written_ago(day, folder, sorted(EXPECTED_FILES), timedelta(seconds=0))
    requests, cursor = tick(source, None)
    requests, cursor = tick(source, cursor)
    assert requests == []  # complete and steady across two looks, but written just now

    copy_written_ago(day, folder, sorted(EXPECTED_FILES), timedelta(minutes=10))
    requests, cursor = tick(source, cursor)
    requests, cursor = tick(source, cursor)
    assert [key for key, _ in requests] == ["2024-04-05|185129"]


def test_the_sensor_targets_the_daily_job(served):
    _, source, _ = served
    definitions = definitions_for(source)
    assert definitions.resolve_sensor_def("toast_new_folders").job_name == DAILY_JOB


def test_dates_already_loaded_from_the_same_files_are_not_requested_again(served):
    location, source, sample = served
    deliver(location, sample, "20240404")
    deliver(location, sample, "20240405")
    loaded = Listing.of(source.list_files("185129", date(2024, 4, 4))).fingerprint
    with dg.instance_for_test() as instance:
        instance.report_runless_asset_event(
            dg.AssetMaterialization(
                BUSINESS_DAYS_KEY, partition="2024-04-04|185129", metadata={FINGERPRINT_KEY: loaded}
            )
        )
        requests, cursor = tick(source, None, instance)
        requests, cursor = tick(source, cursor, instance)
    assert [key for key, _ in requests] == ["2024-04-05|185129"]


def test_a_folder_complete_for_an_account_without_three_files_is_requested_once_learnt(served):
    """The latest load's learnt file set is what the sensor waits for: an account that never gets
    CheckDetails, CashEntries or KitchenTimings is not held back for them."""
    location, source, sample = served
    (location / "20240405").mkdir()
    for name in LEAN_ACCOUNT_FILES:
        shutil.copy2(sample / "20240404" / name, location / "20240405")
    with dg.instance_for_test() as instance:
        requests, cursor = tick(source, None, instance)
        assert tick(source, cursor, instance)[0] == []  # all seven expected: still waiting
        instance.report_runless_asset_event(
            dg.AssetMaterialization(
                BUSINESS_DAYS_KEY,
                partition="2024-04-04|185129",
                metadata={EXPECTED_FILES_KEY: dg.MetadataValue.json(sorted(LEAN_ACCOUNT_FILES))},
            )
        )
        requests, cursor = tick(source, cursor, instance)
    assert [key for key, _ in requests] == ["2024-04-05|185129"]


# No location named: the numbered folders are found. A folder short of the seven files is loaded
# after a second's wait, not three hours.
GROUP = GroupSettings(date(2024, 4, 1), folder_max_wait=timedelta(seconds=1))


def group_tick(source, cursor, instance):
    """One tick of the group's sensor; the locations it adds are added as the daemon would."""
    definitions = build_definitions(
        GROUP,
        source=source,
        archive=LocalRawArchive(path="unused"),
        warehouse=DuckDBWarehouse(path="unused.duckdb"),
    )
    sensor = definitions.resolve_sensor_def("toast_new_folders")
    with (
        dg.build_sensor_context(
            cursor=cursor, resources={"source": source}, definitions=definitions, instance=instance
        ) as context,
        # The sensor daemon checks the requested keys against the instance's locations.
        dg.partition_loading_context(dynamic_partitions_store=instance),
    ):
        result = sensor.evaluate_tick(context)
    added = [
        key
        for request in result.dynamic_partitions_requests or []
        for key in request.partition_keys
    ]
    if added:
        instance.add_dynamic_partitions(LOCATIONS_PARTITIONS, added)
    return sorted(r.partition_key for r in result.run_requests or []), result.cursor, added


def test_a_group_sensor_finds_its_locations_and_lists_each_once_a_tick(
    tmp_path, sample_group, sftp_source_factory
):
    """New numbered folders become locations; each tick lists the root once and each location's
    date folders once, and only a recent, new or changed date folder further. (Nothing is learnt of the
    café yet, so its four files are let through by the maximum wait.)"""
    root = tmp_path / "export"

    def deliver_old(location_id: str, folder: str) -> None:
        shutil.copytree(sample_group.root / location_id / folder, root / location_id / folder)
        written = time.time() - 4 * 3600
        for path in (root / location_id / folder).iterdir():
            os.utime(path, (written, written))

    deliver_old("185129", "20240404")
    deliver_old("185342", "20240404")
    (root / "reports").mkdir()  # not a location folder number: never a location
    journal = tmp_path / "journal.jsonl"
    generate_keys(tmp_path / "keys")
    with (
        serve_faulty(root, tmp_path / "keys", Faults(journal=str(journal))) as server,
        dg.instance_for_test() as instance,
    ):
        source = sftp_source_factory(server)
        requests, cursor, added = group_tick(source, None, instance)
        assert (requests, added) == ([], ["185129", "185342"])
        time.sleep(1)
        requests, cursor, added = group_tick(source, cursor, instance)
        assert (requests, added) == (["2024-04-04|185129", "2024-04-04|185342"], [])
        assert sorted(json.loads(cursor)["locations"]) == ["185129", "185342"]

        journal.write_text("")
        deliver_old("185342", "20240405")
        requests, cursor, _ = group_tick(source, cursor, instance)
        listed = [e["path"] for e in read_journal(journal) if e["event"] == "list"]
        # Each folder once: the root, each location, and its folders of the last week (a file
        # replaced in place does not move its folder's time, so recent ones are always looked at).
        assert sorted(listed) == [
            "/",
            "/185129",
            "/185129/20240404",
            "/185342",
            "/185342/20240404",
            "/185342/20240405",
        ]
        assert requests == []  # first look at the new folder
        time.sleep(1)
        assert group_tick(source, cursor, instance)[0] == ["2024-04-05|185342"]
