"""When is a date folder on the server ready to load? Pure bookkeeping for the sensor.

Toast keeps writing files for a while after a folder appears, so a folder is requested once it
has settled: every file the location normally receives present (all seven until its history says
otherwise: some accounts never get CheckDetails, CashEntries or KitchenTimings) and the listing
unchanged across two looks, or a maximum wait passed. A folder re-delivered later with different files (names, sizes or mtimes) is
requested again. The state is small JSON so it fits in a sensor cursor.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta

from toast_pipeline.toast.specs import TABLE_SPECS

EXPECTED_FILES = frozenset(spec.file_name for spec in TABLE_SPECS)
FILE_NAMES = {spec.table: spec.file_name for spec in TABLE_SPECS}


def file_names(tables: Iterable[str]) -> frozenset[str]:
    """Toast file names of warehouse tables (the verdicts learn sets of tables)."""
    return frozenset(FILE_NAMES[t] for t in tables)


# A folder with a file changed this recently is still being written, whatever it holds. The
# sensor's two looks are further apart than this, so it never requests such a folder itself.
QUIET_PERIOD = timedelta(minutes=1)


@dataclass
class FolderState:
    folder_mtime: float = 0.0
    look: str = ""  # fingerprint of the listing at the last look
    first_seen: float = 0.0
    requested: str = ""  # fingerprint last requested for loading


@dataclass
class Arrivals:
    folders: dict[str, FolderState] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(
            {day: asdict(state) for day, state in self.folders.items()}, sort_keys=True
        )

    @classmethod
    def from_json(cls, text: str | None) -> Arrivals:
        if not text:
            return cls()
        return cls({day: FolderState(**state) for day, state in json.loads(text).items()})


@dataclass(frozen=True)
class Listing:
    """What one look at a date folder saw: (name, size, mtime) of each file."""

    files: tuple[tuple[str, int, float], ...]

    @classmethod
    def of(cls, files: Iterable) -> Listing:
        """From listed files (anything with name, size and an aware mtime)."""
        return cls(tuple((f.name, f.size, f.mtime.timestamp()) for f in files))

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(repr(sorted(self.files)).encode()).hexdigest()[:16]

    def complete(self, expected: frozenset[str] = EXPECTED_FILES) -> bool:
        return expected <= {name for name, _, _ in self.files}


def still_arriving(
    listing: Listing, now: datetime, max_wait: timedelta, expected: frozenset[str] = EXPECTED_FILES
) -> str | None:
    """Why a run must not load this folder yet (Toast still writing it), or None.

    A partial folder would otherwise be judged a closure (`insufficient_files`) and loaded as
    complete. An incomplete folder counts as final once its newest file is `max_wait` old: the
    same wait after which the sensor loads it anyway.
    """
    if not listing.files:
        return None
    age = now - datetime.fromtimestamp(max(mtime for _, _, mtime in listing.files), tz=now.tzinfo)
    present = len(expected & {name for name, _, _ in listing.files})
    if age < QUIET_PERIOD:
        return f"the folder is still being written (a file changed {_ago(age)} ago)"
    if not listing.complete(expected) and age < max_wait:
        return (
            f"the folder is still being written ({present} of the {len(expected)} Toast files the "
            "location receives, "
            f"the newest {_ago(age)} old); it is loaded once complete, or as it is after {_ago(max_wait)}"
        )
    return None


def _ago(delta: timedelta) -> str:
    return str(timedelta(seconds=max(0, int(delta.total_seconds()))))


def folders_to_look_at(
    arrivals: Arrivals, folders: Iterable[tuple[date, float]], recheck_after: date
) -> list[date]:
    """Folders whose files must be listed this tick: new, unsettled, changed, or recent.

    A folder already requested whose mtime is unchanged is skipped, so hundreds of old folders
    cost one listing of the location folder; recent ones are always looked at, because a file
    replaced in place does not move its folder's mtime.
    """
    looks = []
    for day, mtime in folders:
        state = arrivals.folders.get(day.isoformat())
        if (
            state is None
            or not state.requested
            or state.folder_mtime != mtime
            or day >= recheck_after
        ):
            looks.append(day)
    return looks


def settle(
    arrivals: Arrivals,
    day: date,
    folder_mtime: float,
    listing: Listing,
    now: datetime,
    max_wait: timedelta,
    expected: frozenset[str] = EXPECTED_FILES,
) -> str | None:
    """Record a look at one folder; return the fingerprint to load if it is ready and new.

    Ready also means a run would accept it (`still_arriving`), so a request is never refused.
    """
    key = day.isoformat()
    state = arrivals.folders.setdefault(key, FolderState(first_seen=now.timestamp()))
    fingerprint = listing.fingerprint
    if state.requested and fingerprint not in (state.look, state.requested):
        state.first_seen = now.timestamp()  # a re-delivery started: let it settle too
    steady = state.look == fingerprint and listing.complete(expected)
    waited_enough = now.timestamp() - state.first_seen >= max_wait.total_seconds()
    state.look = fingerprint
    if not listing.files or not (steady or waited_enough) or fingerprint == state.requested:
        return None
    if still_arriving(listing, now, max_wait, expected) is not None:
        return None
    state.requested = fingerprint
    state.folder_mtime = folder_mtime
    return fingerprint


def remember_loaded(arrivals: Arrivals, day: date, folder_mtime: float, fingerprint: str) -> None:
    """A folder first seen after it was loaded (by a backfill, say) is not requested again
    unless its files differ from the ones that were loaded."""
    arrivals.folders.setdefault(
        day.isoformat(),
        FolderState(folder_mtime=folder_mtime, look=fingerprint, requested=fingerprint),
    )


def forget_missing(arrivals: Arrivals, present: Sequence[date]) -> None:
    """Drop folders the server no longer has (Toast deletes old exports), keeping the cursor small."""
    keep = {d.isoformat() for d in present}
    for key in list(arrivals.folders):
        if key not in keep:
            del arrivals.folders[key]
