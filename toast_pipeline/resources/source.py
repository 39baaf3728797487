"""Where Toast's nightly exports come from: the interface every source implements, and its errors.

The assets only see `ExportSource`, so tests and demos swap the resource, never the asset.
Implementations: `SFTPExportSource` (Toast's server, `sftp.py`) and `ArchiveExportSource` (the raw
archive, `archive.py`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from concurrent.futures import Future
from datetime import date

from dagster import ConfigurableResource

from toast_pipeline.toast.delivery import DateFolder, Delivery, RemoteFile


class ExportSourceError(Exception):
    """Base of the errors this module raises on purpose."""


class LocationNotFound(ExportSourceError):
    """The location folder does not exist: usually a wrong `location_id`."""


class IncompleteFileError(ExportSourceError):
    """A download's size differs from the listing: Toast was still writing the file."""


class FileTooLarge(ExportSourceError):
    """A listed file is larger than the resource is configured to hold in memory."""


class ExportSourceUnavailable(ExportSourceError):
    """The server could not be reached or kept failing after every retry."""


class ExportSource(ConfigurableResource, ABC):
    """The interface the assets read Toast exports through."""

    @abstractmethod
    def list_locations(self) -> list[str]:
        """The folders under the root, by name, sorted (one listing call): a group login sees one
        numbered folder per location."""

    @abstractmethod
    def list_date_folders(self, location_id: str) -> list[DateFolder]:
        """The `YYYYMMDD` folders under the location, oldest first (one listing call)."""

    def list_dates(self, location_id: str) -> list[date]:
        """Business dates with a `YYYYMMDD` folder under the location, oldest first."""
        return [folder.business_date for folder in self.list_date_folders(location_id)]

    @abstractmethod
    def list_files(self, location_id: str, business_date: date) -> list[RemoteFile] | None:
        """The files of one date folder by name, or None when the folder does not exist."""

    @abstractmethod
    def fetch(
        self, location_id: str, business_date: date, names: Iterable[str] | None = None
    ) -> Delivery:
        """Read the named files (default: every `*.csv`) of one date folder into memory.

        Files not in the folder are simply absent from `Delivery.files`.
        """

    def fetch_many(
        self, location_id: str, dates: Iterable[date], names: Iterable[str] | None = None
    ) -> Iterator[Future[Delivery]]:
        """`fetch` of each date, in order, as a future: its `result()` is the delivery or raises
        what `fetch` raised, so one date's error stays that date's. Here one after another;
        a source may read ahead while the caller works on the date it was given."""
        for business_date in dates:
            future: Future[Delivery] = Future()
            try:
                future.set_result(self.fetch(location_id, business_date, names))
            except Exception as exc:
                future.set_exception(exc)
            yield future
