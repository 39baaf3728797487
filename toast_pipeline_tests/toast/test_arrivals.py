from datetime import UTC, date, datetime, timedelta

from toast_pipeline.toast.arrivals import (
    EXPECTED_FILES,
    Arrivals,
    Listing,
    folders_to_look_at,
    forget_missing,
    settle,
    still_arriving,
)

DAY = date(2024, 4, 4)
T0 = datetime(2024, 4, 5, 9, 0, tzinfo=UTC)
WAIT = timedelta(hours=3)


def listing(size: int = 100, files=EXPECTED_FILES) -> Listing:
    return Listing(tuple((name, size, 1.0) for name in sorted(files)))


def test_a_complete_folder_is_requested_on_the_second_identical_look():
    arrivals = Arrivals()
    assert settle(arrivals, DAY, 5.0, listing(), T0, WAIT) is None
    assert (
        settle(arrivals, DAY, 5.0, listing(), T0 + timedelta(minutes=2), WAIT)
        == listing().fingerprint
    )
    assert settle(arrivals, DAY, 5.0, listing(), T0 + timedelta(minutes=4), WAIT) is None


def test_a_growing_file_keeps_the_folder_waiting():
    arrivals = Arrivals()
    for minute, size in enumerate((100, 200, 300)):
        assert (
            settle(arrivals, DAY, 5.0, listing(size), T0 + timedelta(minutes=minute), WAIT) is None
        )


def test_missing_files_wait_until_the_maximum_wait():
    partial = listing(files=sorted(EXPECTED_FILES)[:3])
    arrivals = Arrivals()
    assert settle(arrivals, DAY, 5.0, partial, T0, WAIT) is None
    assert settle(arrivals, DAY, 5.0, partial, T0 + timedelta(hours=1), WAIT) is None
    assert settle(arrivals, DAY, 5.0, partial, T0 + timedelta(hours=3), WAIT) == partial.fingerprint


def test_an_empty_folder_is_never_requested():
    arrivals = Arrivals()
    empty = Listing(())
    assert settle(arrivals, DAY, 5.0, empty, T0, WAIT) is None
    assert settle(arrivals, DAY, 5.0, empty, T0 + timedelta(hours=4), WAIT) is None


def test_a_redelivered_folder_is_requested_again_once_settled():
    arrivals = Arrivals()
    settle(arrivals, DAY, 5.0, listing(100), T0, WAIT)
    first = settle(arrivals, DAY, 5.0, listing(100), T0 + timedelta(minutes=2), WAIT)
    later = T0 + timedelta(days=2)
    assert settle(arrivals, DAY, 9.0, listing(150), later, WAIT) is None
    second = settle(arrivals, DAY, 9.0, listing(150), later + timedelta(minutes=2), WAIT)
    assert second is not None and second != first


def test_settled_old_folders_are_not_listed_again():
    arrivals = Arrivals()
    old, recent = date(2024, 1, 10), date(2024, 4, 4)
    for day in (old, recent):
        settle(arrivals, day, 5.0, listing(), T0, WAIT)
        settle(arrivals, day, 5.0, listing(), T0 + timedelta(minutes=2), WAIT)
    recheck_after = date(2024, 3, 28)
    assert folders_to_look_at(arrivals, [(old, 5.0), (recent, 5.0)], recheck_after) == [recent]
    assert folders_to_look_at(arrivals, [(old, 6.0), (recent, 5.0)], recheck_after) == [old, recent]
    assert folders_to_look_at(arrivals, [(date(2024, 2, 1), 1.0)], recheck_after) == [
        date(2024, 2, 1)
    ]


def test_state_survives_the_cursor_and_forgets_deleted_folders():
    arrivals = Arrivals()
    settle(arrivals, DAY, 5.0, listing(), T0, WAIT)
    settle(arrivals, date(2024, 4, 5), 5.0, listing(), T0, WAIT)
    restored = Arrivals.from_json(arrivals.to_json())
    assert restored == arrivals
    forget_missing(restored, [date(2024, 4, 5)])
    assert list(restored.folders) == ["2024-04-05"]
    assert Arrivals.from_json(None) == Arrivals()


def stamped(files, *ages: timedelta) -> Listing:
    return Listing(
        tuple((name, 100, (T0 - age).timestamp()) for name, age in zip(sorted(files), ages))
    )


def test_a_folder_with_a_file_just_written_is_still_arriving_even_if_complete():
    ages = [timedelta(hours=5)] * 6 + [timedelta(seconds=20)]
    assert "a file changed 0:00:20 ago" in still_arriving(stamped(EXPECTED_FILES, *ages), T0, WAIT)


def test_an_incomplete_folder_is_still_arriving_until_the_maximum_wait():
    three = sorted(EXPECTED_FILES)[:3]
    recent = stamped(three, *[timedelta(minutes=30)] * 3)
    assert "3 of the 7 Toast files the location receives, the newest 0:30:00 old" in still_arriving(
        recent, T0, WAIT
    )
    assert (
        still_arriving(stamped(three, *[timedelta(hours=3)] * 3), T0, WAIT) is None
    )  # a closed day's few files


def test_a_settled_complete_folder_and_a_missing_one_are_ready():
    assert still_arriving(stamped(EXPECTED_FILES, *[timedelta(minutes=2)] * 7), T0, WAIT) is None
    assert still_arriving(Listing(()), T0, WAIT) is None


def test_the_sensor_never_requests_what_a_run_would_refuse():
    """A few files, the last one written two hours after the folder was first seen: the sensor's
    maximum wait counts from that file, as the run's rule does."""
    arrivals = Arrivals()
    three = sorted(EXPECTED_FILES)[:3]
    assert settle(arrivals, DAY, 5.0, stamped(three[:2], WAIT, WAIT), T0 - WAIT, WAIT) is None
    late = stamped(three, *[timedelta(hours=1)] * 3)
    assert settle(arrivals, DAY, 6.0, late, T0, WAIT) is None
    assert still_arriving(late, T0, WAIT) is not None
    later = T0 + timedelta(hours=2)
    assert settle(arrivals, DAY, 6.0, late, later, WAIT) == late.fingerprint
    assert still_arriving(late, later, WAIT) is None


# One real account never receives CheckDetails, CashEntries or KitchenTimings.
LEAN_ACCOUNT = EXPECTED_FILES - {"CheckDetails.csv", "CashEntries.csv", "KitchenTimings.csv"}


def test_a_file_the_location_never_receives_is_not_waited_for():
    folder = stamped(LEAN_ACCOUNT, *[timedelta(minutes=5)] * 4)
    assert still_arriving(folder, T0, WAIT) is not None  # against all seven: still arriving
    assert still_arriving(folder, T0, WAIT, LEAN_ACCOUNT) is None
    arrivals = Arrivals()
    assert settle(arrivals, DAY, 5.0, folder, T0, WAIT, LEAN_ACCOUNT) is None
    later = T0 + timedelta(minutes=2)
    assert settle(arrivals, DAY, 5.0, folder, later, WAIT, LEAN_ACCOUNT) == folder.fingerprint


def test_a_file_the_location_normally_receives_is_still_waited_for():
    three = sorted(LEAN_ACCOUNT)[:3]
    reason = still_arriving(stamped(three, *[timedelta(minutes=30)] * 3), T0, WAIT, LEAN_ACCOUNT)
    assert "3 of the 4 Toast files the location receives" in reason
