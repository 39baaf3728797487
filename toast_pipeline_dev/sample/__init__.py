"""A sample Toast nightly export: realistic CSV folders plus the ground truth they were made from.

The demo, the tests and the benchmark need exports that behave like the real thing (closed days
delivered in all the ways Toast delivers them, header drift, damaged files) while still knowing
exactly what each day contained. `generate_export` writes `root/<location>/<YYYYMMDD>/*.csv` and
returns a `SampleExport` whose manifest is that truth. `generate_group` writes a restaurant
group: one such folder per store under one root, the stores differing in size, menu, closing days,
time zone and files, with a `SampleGroup` as their truth.

Every date draws from its own seeded random streams (one for the day's plan, one for its sales,
one for its quirks), so a date's files depend only on the seed, the location and the date: a
five-day export is the first five days of a sixty-day one, and switching quirks off changes the
formatting, never the sales.

Files are written as Toast writes them (UTF-8, CRLF, the real value formats: 8-decimal item tax
with `0E-8` for zero, signed negative durations, AllItemsReport as the nested product-mix report
over the whole menu with shares as Java doubles), beside the files Toast also delivers
(ModifiersSelectionDetails, TimeEntries, AccountingReport.xls, now and then a MenuExport JSON).

Rows are built a table at a time (random draws in plain lists, arithmetic, joins and formatting
in polars) and written by polars' CSV writer, so a year of a busy restaurant takes seconds.

Where each part lives:

- `export`: `generate_export`, the options it checks, the account's files;
- `manifest`: `SampleExport` and `SampleDay`, the truth and its JSON;
- `group`: `generate_group`, `GroupLocation`, `SampleGroup` and the two-store `DEMO_GROUP`;
- `business_calendar`: which dates close and how a closed date is delivered, open-day volume,
  the per-date random streams;
- `day_folder`: one date's folder written and stamped;
- `restaurant`: the restaurant's fixed facts (location, tax, staff, regulars);
- `menu_items` and `menu`: what the menu lists, and its placements and IDs; `MENUS`, the part
  of it a store lists (the full menu or the café's);
- `sales`: a day's orders, checks and item lines; `sales_tables`: OrderDetails, CheckDetails,
  PaymentDetails and ItemSelectionDetails; `cash_and_kitchen`: CashEntries and KitchenTimings;
  `all_items_report`: the product-mix report;
- `other_files`: ModifiersSelectionDetails, TimeEntries, AccountingReport.xls, MenuExport JSON;
- `quirks` and `damage`: how a date's files stray from the spec, readable or broken;
- `formats`, `frames`, `ids`: Toast's value formats and CSV text, polars helpers, made-up IDs;
- `cli`: `python -m toast_pipeline_dev.sample`.
"""

from toast_pipeline.toast.parse import BOM
from toast_pipeline_dev.sample.business_calendar import (
    CATERING_DELIVERY,
    CLOSED_DELIVERIES,
    CLOSURE_KINDS,
    DELIVERIES,
    OPEN_DELIVERY,
    REQUESTABLE_DELIVERIES,
)
from toast_pipeline_dev.sample.cli import main
from toast_pipeline_dev.sample.damage import DAMAGE_KINDS, DAMAGEABLE_FILES
from toast_pipeline_dev.sample.export import (
    LEAN_ACCOUNT_FILES,
    LEAN_ACCOUNT_OMITS,
    generate_export,
)
from toast_pipeline_dev.sample.group import (
    DEMO_GROUP,
    GroupLocation,
    SampleGroup,
    generate_group,
)
from toast_pipeline_dev.sample.manifest import SampleDay, SampleExport
from toast_pipeline_dev.sample.menu import MENUS
from toast_pipeline_dev.sample.other_files import IGNORED_FILES
from toast_pipeline_dev.sample.quirks import QUIRK_KINDS

__all__ = [
    "BOM",
    "CATERING_DELIVERY",
    "CLOSED_DELIVERIES",
    "CLOSURE_KINDS",
    "DAMAGEABLE_FILES",
    "DAMAGE_KINDS",
    "DEMO_GROUP",
    "DELIVERIES",
    "GroupLocation",
    "IGNORED_FILES",
    "LEAN_ACCOUNT_FILES",
    "LEAN_ACCOUNT_OMITS",
    "MENUS",
    "OPEN_DELIVERY",
    "QUIRK_KINDS",
    "REQUESTABLE_DELIVERIES",
    "SampleDay",
    "SampleExport",
    "SampleGroup",
    "generate_export",
    "generate_group",
    "main",
]
