"""Writing one business date's folder, reported as the date's `SampleDay`.

An open date gets its sales, cash entries, damage and quirks; a closed date is written the way
it is delivered (see `business_calendar`), its AllItemsReport listing the whole menu. Only the
files the account receives are written, beside the other files Toast delivers, and every file is
stamped with a time within the hour after the next morning's closeout, as Toast writes them.
"""

from __future__ import annotations

import os
import random
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl

from toast_pipeline.toast.parse import BOM
from toast_pipeline.toast.specs import ALL_ITEMS_REPORT, CASH_ENTRIES, CENT, TABLE_SPECS, TableSpec
from toast_pipeline_dev.sample.all_items_report import zero_report
from toast_pipeline_dev.sample.business_calendar import (
    CATERING_DELIVERY,
    OPEN_DELIVERY,
    DayStreams,
    open_orders,
)
from toast_pipeline_dev.sample.cash_and_kitchen import cash_entries
from toast_pipeline_dev.sample.damage import Damage, apply_damage, choose_damage, marker_bytes
from toast_pipeline_dev.sample.formats import csv_bytes, render
from toast_pipeline_dev.sample.manifest import SampleDay
from toast_pipeline_dev.sample.menu import FULL_MENU, MenuSelection
from toast_pipeline_dev.sample.other_files import time_entries, write_other_files
from toast_pipeline_dev.sample.quirks import FileShape, choose_quirks, reshape
from toast_pipeline_dev.sample.restaurant import CLOSEOUT_HOUR, LOCATION_CODE, LOCATION_NAME
from toast_pipeline_dev.sample.sales import day_sales


class DayWriter:
    """Writes one business date's folder and reports it as a SampleDay."""

    def __init__(
        self,
        folder: Path,
        streams: DayStreams,
        zone: ZoneInfo,
        quirks: bool,
        quirk_rate: float,
        specs: Sequence[TableSpec] = TABLE_SPECS,
        selection: MenuSelection = FULL_MENU,
        location_name: str = LOCATION_NAME,
        location_code: str = LOCATION_CODE,
    ) -> None:
        self.folder, self.streams, self.zone = folder, streams, zone
        self.quirks, self.quirk_rate = quirks, quirk_rate
        self.specs = tuple(specs)  # the files this account is configured to receive
        self.selection = selection
        self.location_name, self.location_code = location_name, location_code

    def open_day(
        self, business_date: date, orders_per_day: int, damage_kind: str | None, volume: float = 1.0
    ) -> SampleDay:
        plan = self.streams.plan
        n_orders = open_orders(plan, business_date, orders_per_day, volume)
        sales = day_sales(self.streams.sales, business_date, n_orders, selection=self.selection)
        tables = dict(sales.tables)
        tables[CASH_ENTRIES.table] = cash_entries(self.streams.sales, business_date)
        tables = {table: self._located(frame) for table, frame in tables.items()}
        damage = choose_damage(plan, damage_kind, tables, self.specs) if damage_kind else None
        shapes, quirks = self._quirks(exclude=damage.file if damage else None)
        rows, line = {}, None
        for spec in self.specs:
            frame = tables[spec.table]
            shape = shapes.get(spec.file_name, FileShape())
            file_damage = damage if damage and damage.file == spec.file_name else None
            line = self._write_table(spec, frame, shape, file_damage) or line
            rows[spec.table] = frame.height
        files = [s.file_name for s in self.specs]
        shifts = self._located(time_entries(self.streams.sales, business_date))
        files += self._other_files(plan, business_date, sales.modifiers, shifts)
        self._stamp_times(business_date)
        return SampleDay(
            business_date=business_date,
            status="open",
            closure_kind=None,
            delivery=OPEN_DELIVERY,
            damage=damage_kind,
            damage_file=damage.file if damage else None,
            damage_line=line,
            damage_column=damage.column if damage else None,
            quirks=quirks,
            rows=rows,
            orders=sales.orders,
            net_sales=_dollars(sales.net_cents),
            files=sorted(files),
        )

    def closed_day(self, business_date: date, closure_kind: str, delivery: str) -> SampleDay:
        """A closed day as Toast delivers it; AllItemsReport always lists the whole menu."""
        plan = self.streams.plan
        orders, net_cents = 0, 0
        if delivery == "no_folder":
            return SampleDay(business_date, "closed", closure_kind, delivery)
        own = {s.table for s in self.specs}
        empty = {s.table: pl.DataFrame() for s in self.specs}
        empty[ALL_ITEMS_REPORT.table] = zero_report(self.selection)
        modifiers = None
        if delivery == "header_only":
            tables = empty
        elif delivery == CATERING_DELIVERY:
            sales = day_sales(
                self.streams.sales, business_date, 1, catering=True, selection=self.selection
            )
            tables = {**empty, **sales.tables}
            orders, net_cents, modifiers = sales.orders, sales.net_cents, sales.modifiers
        elif delivery == "stray_rows":
            tables = dict(empty)
            if plan.random() < 0.5 and CASH_ENTRIES.table in own:
                tables[CASH_ENTRIES.table] = cash_entries(
                    self.streams.sales, business_date, stray=True
                )
            else:
                sales = day_sales(
                    self.streams.sales, business_date, 1, small=True, selection=self.selection
                )
                tables.update(sales.tables)
                orders, net_cents, modifiers = sales.orders, sales.net_cents, sales.modifiers
        else:
            own_tables = [s.table for s in self.specs]
            present = plan.sample(own_tables, 1 + int(plan.random() * min(3, len(own_tables))))
            tables = {t: empty[t] for t in present}
            if CASH_ENTRIES.table in tables and plan.random() < 0.5:
                tables[CASH_ENTRIES.table] = cash_entries(
                    self.streams.sales, business_date, stray=True
                )
        tables = {table: self._located(frame) for table, frame in tables.items()}
        rows = {}
        for spec in self.specs:
            if spec.table in tables:
                self._write_table(spec, tables[spec.table], FileShape(), None)
                rows[spec.table] = tables[spec.table].height
        files = [s.file_name for s in self.specs if s.table in tables]
        files += self._other_files(plan, business_date, modifiers, None)
        self._stamp_times(business_date)
        return SampleDay(
            business_date=business_date,
            status="closed",
            closure_kind=closure_kind,
            delivery=delivery,
            rows=rows,
            orders=orders,
            net_sales=_dollars(net_cents),
            files=sorted(files),
        )

    def _located(self, frame: pl.DataFrame) -> pl.DataFrame:
        """The store's own name and code in the columns Toast fills with them."""
        values = {"Location": self.location_name, "Location Code": self.location_code}
        return frame.with_columns(
            pl.lit(value, pl.String).alias(column)
            for column, value in values.items()
            if column in frame.columns
        )

    def _other_files(
        self,
        plan: random.Random,
        business_date: date,
        modifiers: pl.DataFrame | None,
        shifts: pl.DataFrame | None,
    ) -> list[str]:
        return write_other_files(
            self.folder,
            plan,
            business_date,
            None if modifiers is None else self._located(modifiers),
            shifts,
            selection=self.selection,
            location_name=self.location_name,
        )

    def _quirks(self, exclude: str | None) -> tuple[dict[str, FileShape], list[str]]:
        """This date's quirks, in any file but `exclude` (the damaged one)."""
        if not self.quirks:
            return {}, []
        specs = [s for s in self.specs if s.file_name != exclude]
        return choose_quirks(self.streams.quirks, specs, self.quirk_rate)

    def _write_table(
        self, spec: TableSpec, frame: pl.DataFrame, shape: FileShape, damage: Damage | None
    ) -> int | None:
        """Write one file; returns the physical line of the damage it carries, if any."""
        text = render(spec, frame, shape.style)
        line = None
        if damage is not None:
            text, line = apply_damage(text, damage)
        data = marker_bytes(csv_bytes(reshape(text, shape, self.folder.name)))
        if shape.bom:
            data = BOM + data
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / spec.file_name).write_bytes(data)
        return line

    def _stamp_times(self, business_date: date) -> None:
        """Files land within the hour after the next morning's closeout, as Toast writes them."""
        closeout = datetime.combine(
            business_date + timedelta(days=1), time(CLOSEOUT_HOUR), tzinfo=self.zone
        )
        for path in sorted(self.folder.iterdir()):
            moment = (
                closeout + timedelta(minutes=5 + int(self.streams.plan.random() * 50))
            ).timestamp()
            os.utime(path, (moment, moment))
        latest = (closeout + timedelta(minutes=56)).timestamp()
        os.utime(self.folder, (latest, latest))


def _dollars(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(CENT)
