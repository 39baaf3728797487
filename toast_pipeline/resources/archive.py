"""The raw archive: every file fetched from Toast, kept with its checksum before it is parsed.

Toast deletes exports after about a week, so the archive is the lasting copy of what was
delivered. Files are stored by content, `<location>/<YYYYMMDD>/files/<sha256>/<name>`, so a
re-delivered file never overwrites the version before it. Each fetch that saw something new
adds a manifest, `<location>/<YYYYMMDD>/deliveries/<fetched_at>.json`, recording the folder's
listing and the checksum of every file read. `ArchiveExportSource` serves the latest manifest
of each date back as an export source: that is how the warehouse is rebuilt from the archive
alone, with the same assets and the same code path as a load from the server.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from dagster import ConfigurableResource
from pydantic import Field as ConfigField
from pydantic import PrivateAttr

from toast_pipeline.resources.source import ExportSource
from toast_pipeline.toast.delivery import DateFolder, Delivery, RemoteFile, is_safe_name

DEFAULT_ARCHIVE_PATH = "data/raw"
_STAMP = "%Y%m%dT%H%M%S%fZ"


class ArchiveError(Exception):
    """An archived object is missing or does not match its checksum."""


@dataclass(frozen=True)
class ArchivedFile:
    name: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    """What one fetch of a date folder saw and read."""

    location_id: str
    business_date: date
    fetched_at: datetime
    files: tuple[ArchivedFile, ...]
    listing: tuple[RemoteFile, ...]

    @property
    def key(self) -> str:
        return f"{_date_prefix(self.location_id, self.business_date)}deliveries/{self.fetched_at:{_STAMP}}.json"

    def same_delivery(self, other: Manifest) -> bool:
        return (self.files, self.listing) == (other.files, other.listing)

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "location_id": self.location_id,
                "business_date": self.business_date.isoformat(),
                "fetched_at": self.fetched_at.isoformat(),
                "files": [vars(f) for f in self.files],
                "listing": [
                    {"name": f.name, "size": f.size, "mtime": f.mtime.isoformat()}
                    for f in self.listing
                ],
            },
            indent=1,
        ).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Manifest:
        raw = json.loads(data)
        return cls(
            location_id=raw["location_id"],
            business_date=date.fromisoformat(raw["business_date"]),
            fetched_at=datetime.fromisoformat(raw["fetched_at"]),
            files=tuple(ArchivedFile(**f) for f in raw["files"]),
            listing=tuple(
                RemoteFile(f["name"], f["size"], datetime.fromisoformat(f["mtime"]))
                for f in raw["listing"]
            ),
        )


def file_key(location_id: str, business_date: date, file: ArchivedFile) -> str:
    return f"{_date_prefix(location_id, business_date)}files/{file.sha256}/{_safe(file.name)}"


def _date_prefix(location_id: str, business_date: date) -> str:
    return f"{_safe(location_id)}/{business_date:%Y%m%d}/"


def _safe(name: str) -> str:
    """Names come from the server's listing: nothing may be joined into a path unchecked."""
    if not is_safe_name(name):
        raise ValueError(f"{name!r} is not a plain file or folder name; refusing to archive it")
    return name


class RawArchive(ConfigurableResource, ABC):
    """Where fetched files are kept. Subclasses store bytes under keys; the layout lives here."""

    @abstractmethod
    def describe(self) -> str:
        """Where the archive is, for logs and metadata (no secrets)."""

    @abstractmethod
    def _put(self, key: str, data: bytes) -> None: ...

    @abstractmethod
    def _get(self, key: str) -> bytes | None: ...

    @abstractmethod
    def _exists(self, key: str) -> bool: ...

    @abstractmethod
    def _keys(self, prefix: str) -> list[str]:
        """Every key under the prefix, recursively."""

    def keep(self, delivery: Delivery, fetched_at: datetime | None = None) -> Manifest:
        """Store the delivery's files (each content once) and, if it differs from the last one
        seen, a manifest of it. Returns the manifest describing this delivery.

        A missing folder is not a delivery: nothing is recorded for it.
        """
        if not delivery.folder_found:
            raise ValueError(
                f"{delivery.business_date}: no folder was found, there is nothing to archive"
            )
        files = []
        for name, data in sorted(delivery.files.items()):
            file = ArchivedFile(name, len(data), hashlib.sha256(data).hexdigest())
            key = file_key(delivery.location_id, delivery.business_date, file)
            if not self._exists(key):
                self._put(key, data)
            files.append(file)
        manifest = Manifest(
            location_id=delivery.location_id,
            business_date=delivery.business_date,
            fetched_at=fetched_at or datetime.now(UTC),
            files=tuple(files),
            listing=tuple(
                sorted((f for f in delivery.listing if is_safe_name(f.name)), key=lambda f: f.name)
            ),
        )
        latest = self.latest(delivery.location_id, delivery.business_date)
        if latest is not None and latest.same_delivery(manifest):
            return latest
        self._put(manifest.key, manifest.to_json())
        return manifest

    def manifests(self, location_id: str, business_date: date) -> list[Manifest]:
        """Every distinct delivery of the date, oldest first."""
        prefix = f"{_date_prefix(location_id, business_date)}deliveries/"
        found = []
        for key in sorted(self._keys(prefix)):
            data = self._get(key)
            if data is None:
                raise ArchiveError(f"{self.describe()}: {key} vanished while being read")
            found.append(Manifest.from_json(data))
        return sorted(found, key=lambda m: m.fetched_at)

    def latest(self, location_id: str, business_date: date) -> Manifest | None:
        manifests = self.manifests(location_id, business_date)
        return manifests[-1] if manifests else None

    @abstractmethod
    def locations(self) -> list[str]:
        """Locations with anything archived, sorted."""

    def dates(self, location_id: str) -> list[date]:
        """Dates with at least one manifest, oldest first."""
        days = set()
        for key in self._keys(f"{_safe(location_id)}/"):
            parts = key.split("/")
            if len(parts) == 4 and parts[2] == "deliveries":
                days.add(datetime.strptime(parts[1], "%Y%m%d").date())
        return sorted(days)

    def read(self, manifest: Manifest, name: str) -> bytes:
        """One archived file of a manifest, checked against its checksum."""
        file = next((f for f in manifest.files if f.name == name), None)
        if file is None:
            raise ArchiveError(f"{manifest.key} has no file {name!r}")
        key = file_key(manifest.location_id, manifest.business_date, file)
        data = self._get(key)
        if data is None:
            raise ArchiveError(f"{self.describe()}: {key} is missing")
        if hashlib.sha256(data).hexdigest() != file.sha256:
            raise ArchiveError(f"{self.describe()}: {key} does not match its sha256 {file.sha256}")
        return data


class LocalRawArchive(RawArchive):
    """A folder on local disk: the default, and what a fresh checkout uses."""

    path: str = ConfigField(
        default=DEFAULT_ARCHIVE_PATH, description="Folder the raw files are kept in"
    )

    def describe(self) -> str:
        return f"raw archive {self.path}"

    def _file(self, key: str) -> Path:
        root = Path(self.path).resolve()
        target = (root / key).resolve()
        if root not in target.parents:
            raise ValueError(f"archive key {key!r} leaves {root}")
        return target

    def _put(self, key: str, data: bytes) -> None:
        target = self._file(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        # Written aside then renamed: a killed process never leaves a half file under the key.
        fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".part-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def _get(self, key: str) -> bytes | None:
        try:
            return self._file(key).read_bytes()
        except FileNotFoundError:
            return None

    def _exists(self, key: str) -> bool:
        return self._file(key).is_file()

    def locations(self) -> list[str]:
        root = Path(self.path)
        return sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []

    def _keys(self, prefix: str) -> list[str]:
        root = Path(self.path).resolve()
        base = self._file(prefix)
        if not base.is_dir():
            return []
        return [
            path.relative_to(root).as_posix()
            for path in base.rglob("*")
            if path.is_file() and not path.name.startswith(".part-")
        ]


class GCSRawArchive(RawArchive):
    """A Google Cloud Storage bucket, through dagster-gcp's client (production)."""

    bucket: str = ConfigField(description="Bucket the raw files are kept in")
    prefix: str = ConfigField(default="toast-raw", description="Folder inside the bucket")
    project: str | None = ConfigField(default=None, description="GCP project of the client")

    _client_bucket: Any = PrivateAttr(default=None)

    def describe(self) -> str:
        return f"raw archive gs://{self.bucket}/{self.prefix}"

    def _bucket(self):
        """One client per resource instance: building one costs a credentials lookup."""
        if self._client_bucket is None:
            from dagster_gcp import GCSResource

            self._client_bucket = GCSResource(project=self.project).get_client().bucket(self.bucket)
        return self._client_bucket

    def _name(self, key: str) -> str:
        return f"{self.prefix.strip('/')}/{key}" if self.prefix.strip("/") else key

    def _put(self, key: str, data: bytes) -> None:
        self._bucket().blob(self._name(key)).upload_from_string(data)

    def _get(self, key: str) -> bytes | None:
        from google.api_core.exceptions import NotFound

        try:
            return self._bucket().blob(self._name(key)).download_as_bytes()
        except NotFound:
            return None

    def _exists(self, key: str) -> bool:
        return self._bucket().blob(self._name(key)).exists()

    def locations(self) -> list[str]:
        blobs = self._bucket().list_blobs(prefix=self._name(""), delimiter="/")
        list(blobs)  # the prefixes are known once the pages are read
        start = len(self._name(""))
        return sorted(prefix[start:].rstrip("/") for prefix in blobs.prefixes)

    def _keys(self, prefix: str) -> list[str]:
        start = len(self._name(""))
        return [blob.name[start:] for blob in self._bucket().list_blobs(prefix=self._name(prefix))]


class ArchiveExportSource(ExportSource):
    """The archive read as if it were Toast's server: each date's latest delivery."""

    archive: RawArchive

    def list_locations(self) -> list[str]:
        return self.archive.locations()

    def list_date_folders(self, location_id: str) -> list[DateFolder]:
        folders = []
        for day in self.archive.dates(location_id):
            latest = self.archive.latest(location_id, day)
            if latest is not None:
                newest = max((f.mtime for f in latest.listing), default=latest.fetched_at)
                folders.append(DateFolder(day, newest))
        return folders

    def list_files(self, location_id: str, business_date: date) -> list[RemoteFile] | None:
        latest = self.archive.latest(location_id, business_date)
        return list(latest.listing) if latest is not None else None

    def fetch(
        self, location_id: str, business_date: date, names: Iterable[str] | None = None
    ) -> Delivery:
        kept = archived_delivery(self.archive, location_id, business_date, names)
        return kept or Delivery(location_id, business_date, folder_found=False)


def archived_delivery(
    archive: RawArchive, location_id: str, business_date: date, names: Iterable[str] | None = None
) -> Delivery | None:
    """The date's latest archived delivery (the named files of it), or None if never archived."""
    latest = archive.latest(location_id, business_date)
    if latest is None:
        return None
    wanted = None if names is None else set(names)
    files = {
        f.name: archive.read(latest, f.name)
        for f in latest.files
        if wanted is None or f.name in wanted
    }
    return Delivery(location_id, business_date, True, files, list(latest.listing))
