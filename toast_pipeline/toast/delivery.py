"""What a location delivered for a date, as plain values: the listing and the bytes read.

Every source (the SFTP server, the raw archive) hands these to the Toast layer, which never needs
to know where they came from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

MAX_NAME_LENGTH = 255


@dataclass(frozen=True)
class RemoteFile:
    """One entry of a date folder, as the server listed it."""

    name: str
    size: int
    mtime: datetime


@dataclass(frozen=True)
class DateFolder:
    """One business date's folder; its mtime moves when files are added, removed or replaced."""

    business_date: date
    mtime: datetime


@dataclass(frozen=True)
class Delivery:
    """What one location delivered for one business date.

    A missing folder is a normal outcome (closed day, or not delivered yet), so it is reported
    with `folder_found=False` rather than raised; the caller decides what it means.
    """

    location_id: str
    business_date: date
    folder_found: bool
    files: dict[str, bytes | bytearray] = field(default_factory=dict)
    listing: list[RemoteFile] = field(default_factory=list)


def is_safe_name(name: str) -> bool:
    """Whether a name from a server listing can be joined to a path without surprises.

    paramiko passes through whatever the server sends (`../../x.csv`, absolute paths, names
    with newlines); such entries are ignored, never followed.
    """
    return (
        0 < len(name) <= MAX_NAME_LENGTH
        and name not in (".", "..")
        and "/" not in name
        and "\\" not in name
        and name.isprintable()
    )
