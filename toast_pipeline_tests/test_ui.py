"""The Dagster UI in a real browser, for a restaurant group of two locations.

`dagster dev` (webserver and daemons) serves the code location against the loopback SFTP server
holding the group's export. No location is named: the backfill command, run first, finds both
stores' folders, adds them to the instance's location partitions and loads four dates of each.
Headless Chromium, driven by Playwright, then does what a user does: picks one location and two
dates in the asset's Materialize dialog, launches the backfill, and reads every location-date's
`closure_detection` result on the check's Partitions tab, narrowing it to one location at a time.
GraphQL only waits for the daemon and cross-checks what the page shows. Every step is saved as a
screenshot in ``test-artifacts/ui/`` at the project root.

What Dagster's check page shows for a date × location check (asserted below): a date range, the
status counts of every cell of the check (all dates and locations, whatever the range or filter), a
date column and a location column, each with a filter box, and a detail pane for one location-date.
A dot's colour is the cell's status once a key of the other column is selected, else an aggregate
over the other dimension; the status checkboxes then keep the dates whose cell for the selected
location has one of the checked statuses.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect, sync_playwright
from rich.console import Console

from toast_pipeline.commands.backfill import BackfillRequest, run_backfill_command
from toast_pipeline.commands.graphql_client import (
    ACTIVE_BACKFILL_STATUSES,
    BUSINESS_DAYS_PATH,
    CLOSURE_CHECK,
    MATERIALIZATIONS_QUERY,
    STATUS_QUERY,
    execute,
)
from toast_pipeline.commands.instance import with_dagster_switches
from toast_pipeline.defs.partitions import dates_partitions, partitions_for
from toast_pipeline.resources.duckdb_warehouse import DuckDBWarehouse
from toast_pipeline.settings import GroupSettings
from toast_pipeline_dev.production import stop_process_group
from toast_pipeline_dev.sample import SampleGroup
from toast_pipeline_tests.conftest import GROUP_DAMAGED
from toast_pipeline_tests.helpers import PROJECT_ROOT, free_port, wait_until_serving

pytestmark = pytest.mark.e2e

BISTRO, CAFE = "185129", "185342"
LOCATIONS = (BISTRO, CAFE)
# Friday to Monday, both stores, loaded by the backfill command before the UI starts: the bistro
# is open on the Sunday the café is closed, so the two locations' results differ.
COMMAND_DATES = [date(2024, 4, 5) + timedelta(days=i) for i in range(4)]
# Launched from the UI for the café only: its damaged date and the open day after it.
UI_LOCATION = CAFE
UI_DATES = [date(2024, 4, 9), date(2024, 4, 10)]
SHOWN = COMMAND_DATES + UI_DATES  # the check page's date range
ARTIFACTS = PROJECT_ROOT / "test-artifacts" / "ui"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# A location-date's result as the check page's status checkboxes name it.
OPEN, CLOSED, DAMAGED, MISSING = "Passed", "Failed", "Execution Failed", "Missing"
STATUS_LABELS = [DAMAGED, CLOSED, "In Progress", MISSING, "Skipped", OPEN]
# The detail pane's tag for a result, and the colour of the result's dot in the two columns.
PANE_TAG = {OPEN: "Passed", CLOSED: "Failed", DAMAGED: "Execution failed"}
DOT = {OPEN: "green", CLOSED: "red", DAMAGED: "red", MISSING: "gray"}
# `assetCheckExecutions` statuses for the same results.
GRAPHQL_RESULT = {OPEN: "SUCCEEDED", CLOSED: "FAILED", DAMAGED: "EXECUTION_FAILED", MISSING: None}
BACKFILL_TIMEOUT = 240  # seconds; the backfill daemon ticks about every 30 s
UI_TIMEOUT = 30_000  # milliseconds for the page to show one thing


@contextmanager
def chromium_page(profile: Path) -> Iterator[Page]:
    """Debian's Chromium, headless with a fresh profile, driven by Playwright (no browser download).

    Dagster's first-visit "Join the Dagster community" modal covers the page: it is skipped
    whenever it shows up before an action. It opens a second after the page loads, so it may
    lie under the Materialize dialog: its Skip button gets the click event directly. The window
    is wide enough for the check page's two partition columns and its detail pane side by side.
    """
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail(
            "chromium is not on the PATH: this test drives the system's Chromium. "
            "Install it with scripts/ensure-debian-packages.sh chromium (apt-get install chromium).",
            pytrace=False,
        )
    expect.set_options(timeout=UI_TIMEOUT)
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            user_data_dir=profile,
            executable_path=executable,
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1800, "height": 1000},
        )
        try:
            page = context.pages[0] if context.pages else context.new_page()
            page.set_default_timeout(UI_TIMEOUT)
            community = page.get_by_role("dialog").filter(has_text="Join the Dagster community")
            page.add_locator_handler(
                community,
                lambda modal: modal.get_by_role("button", name="Skip").dispatch_event("click"),
            )
            yield page
        finally:
            context.close()


def loaded_keys() -> list[tuple[str, date]]:
    """The location-dates the two backfills ask for."""
    keys = [(i, d) for i in LOCATIONS for d in COMMAND_DATES]
    return keys + [(UI_LOCATION, d) for d in UI_DATES]


def final_verdicts(url: str) -> dict[tuple[str, date], str]:
    """Each loaded location-date's latest `day_status` (open, closed or delivery_gap), from its
    newest business_days materialization: a run re-judges the stored dates whose history it
    changed, so a later backfill may rewrite an earlier verdict."""
    keys = {f"{d}|{i}": (i, d) for i, d in loaded_keys()}
    variables = {"assetKey": {"path": BUSINESS_DAYS_PATH}, "partitions": sorted(keys)}
    node = execute(url, MATERIALIZATIONS_QUERY, variables)["assetNodeOrError"]
    verdicts, newest = {}, {}
    for event in node["assetMaterializations"]:
        key, at = keys[event["partition"]], float(event["timestamp"])
        if at >= newest.get(key, 0):
            metadata = {e["label"]: e.get("text") for e in event["metadataEntries"]}
            verdicts[key], newest[key] = metadata["day_status"], at
    return verdicts


def expected_results(
    group: SampleGroup, verdicts: dict[tuple[str, date], str]
) -> dict[tuple[str, date], str]:
    """Each shown location-date's check result as the page should show it: the pipeline's
    verdict, which must agree with the generator's truth.

    A closed date with no folder and nothing stored after it is judged a probable delivery gap
    (the check fails with ERROR severity rather than WARN): the pipeline cannot tell it from a
    folder not delivered yet. The damaged date writes nothing and its check execution fails.
    """
    results = {}
    for location_id in LOCATIONS:
        export = group.export(location_id)
        for day in SHOWN:
            key, truth = (location_id, day), export.day(day)
            verdict = verdicts.get(key)
            if key not in loaded_keys():
                results[key] = MISSING
            elif truth.damage:
                assert verdict is None, f"{key} is damaged, yet it was written: {verdict}"
                results[key] = DAMAGED
            elif verdict == "delivery_gap":
                assert (truth.status, truth.delivery) == ("closed", "no_folder"), (key, truth)
                results[key] = CLOSED
            else:
                assert verdict == truth.status, f"{key} judged {verdict}, truly {truth.status}"
                results[key] = OPEN if verdict == "open" else CLOSED
    return results


@pytest.fixture
def group_dagster_dev(tmp_path: Path, group_env: dict[str, str]) -> Iterator[str]:
    """The group's first dates loaded by the backfill command, then `dagster dev` on a free
    loopback port serving the code location; its URL.

    The command runs first, with no daemon serving the instance, so it drives its backfill itself
    at a one-second cadence. The new-folder sensor gets an interval longer than the test, so it
    looks once only: its second look would load the export's other dates beside the backfills.
    """
    log = tmp_path / "backfill_log.json"
    output = io.StringIO()
    request = BackfillRequest(start=COMMAND_DATES[0], end=COMMAND_DATES[-1], log_path=log)
    code = run_backfill_command(request, Console(file=output, width=200), group_env)
    assert code == 0, output.getvalue()
    outcome = json.loads(log.read_text())
    assert outcome["locations"] == list(LOCATIONS), output.getvalue()
    assert outcome["dates_loaded"] == len(LOCATIONS) * len(COMMAND_DATES), output.getvalue()

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    # As `make ui` starts it: with the project's Dagster switches (see what a failed date shows).
    env = with_dagster_switches(
        {**os.environ, **group_env, "TOAST_SENSOR_INTERVAL_SECONDS": "3600"}
    )
    command = [
        str(Path(sys.executable).with_name("dagster")),
        "dev",
        "-h",
        "127.0.0.1",
        "-p",
        str(port),
        "-m",
        "toast_pipeline.definitions",
    ]
    log_path = tmp_path / "dagster-dev.log"
    with log_path.open("w") as dev_log:
        process = subprocess.Popen(
            command,
            cwd=PROJECT_ROOT,
            env=env,
            stdout=dev_log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_until_serving(url, process, log_path)
            yield url
        finally:
            stop_process_group(process)


class Screenshots:
    """Numbered full-page screenshots in test-artifacts/ui/ (emptied first); prints each path."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.taken = 0
        shutil.rmtree(ARTIFACTS, ignore_errors=True)
        ARTIFACTS.mkdir(parents=True)

    def take(self, name: str) -> Path:
        self.taken += 1
        path = ARTIFACTS / f"{self.taken:02d}-{name}.png"
        self.page.screenshot(path=path, full_page=True, animations="disabled")
        print(f"screenshot: {path}")
        return path


def launch_backfill_from_asset_page(page: Page, url: str, shots: Screenshots) -> str:
    """Materialize… on toast/business_days: type the dates, tick one location, Launch backfill;
    the backfill's id."""
    page.goto(f"{url}/assets/toast/business_days")
    materialize = page.get_by_role("button", name="Materialize…")
    expect(
        materialize, "the toast/business_days asset page shows a 'Materialize…' button"
    ).to_be_visible()
    shots.take("asset-page")

    materialize.click()
    dialog = page.get_by_role("dialog").filter(
        has_text="Launch runs to materialize toast / business_days"
    )
    expect(
        dialog, "Materialize… opens 'Launch runs to materialize toast / business_days'"
    ).to_be_visible()
    # One selector per dimension: a text box for the dates, a list of the found locations.
    selection = dialog.get_by_placeholder("ex: ")
    selection.fill(f"[{UI_DATES[0]}...{UI_DATES[-1]}]")
    selection.press("Enter")
    dialog.get_by_text("Select a partition or create one").click()
    options = page.get_by_role("menuitem")
    for location_id in LOCATIONS:
        expect(
            options.filter(has=page.get_by_title(location_id, exact=True)),
            f"the location list offers {location_id}, found on the server",
        ).to_be_visible()
    options.filter(has=page.get_by_title(UI_LOCATION, exact=True)).click()
    shots.take("location-selection")
    page.keyboard.press("Escape")  # closes the location list, not the dialog
    expect(
        dialog.get_by_text(f"{len(UI_DATES)} partitions", exact=True),
        f"the dialog counts {len(UI_DATES)} partitions: {UI_LOCATION} on {UI_DATES}",
    ).to_be_visible()
    shots.take("partition-selection")

    dialog.get_by_role("button", name="Launch backfill", exact=True).click()
    created = page.get_by_text(re.compile(r"Created backfill \w+"))
    expect(created, "a 'Created backfill <id>' notice after Launch backfill").to_be_visible()
    shots.take("backfill-launched")
    return re.search(r"Created backfill (\w+)", created.inner_text()).group(1)


def wait_for_backfill(url: str, backfill_id: str) -> dict:
    """Poll the backfill until the daemon has finished it (or give up with its last status)."""
    deadline = time.monotonic() + BACKFILL_TIMEOUT
    while True:
        backfill = execute(url, STATUS_QUERY, {"backfillId": backfill_id})
        backfill = backfill["partitionBackfillOrError"]
        finished = backfill["status"] not in ACTIVE_BACKFILL_STATUSES
        if finished or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert finished, f"backfill {backfill_id} not finished after {BACKFILL_TIMEOUT}s: {backfill}"
    return backfill


def backfill_row(page: Page) -> Locator:
    """The backfill page's row for toast/business_days: not a table, a grid of five cells (asset
    and progress, targeted, in progress, succeeded, failed)."""
    link = page.get_by_role("link", name="toast / business_days")
    return link.locator("xpath=ancestor::div[count(div)=5][1]")


def dot(page: Page, key: str) -> Locator:
    """The status dot beside a date or a location in the check page's partition columns."""
    return page.get_by_title(key, exact=True).first.locator("xpath=../following-sibling::div[1]")


def expect_dot(page: Page, key: str, result: str, what: str) -> None:
    colour = DOT[result]
    expect(dot(page, key), f"{what}: {result}, a {colour} dot").to_have_attribute(
        "style", re.compile(rf"background(-color)?: var\(--color-accent-{colour}\)")
    )


def check_detail(page: Page) -> Locator:
    """The check page's pane for the selected location-date (its header, result, metadata)."""
    return (
        page.locator("div")
        .filter(has=page.get_by_text("Latest execution", exact=True))
        .filter(has=page.get_by_text("Metadata", exact=True))
        .last
    )


def metadata_value(pane: Locator, label: str) -> Locator:
    """The value cell of one metadata row, e.g. `reason`."""
    row = pane.get_by_role("row").filter(has=pane.page.get_by_role("cell", name=label, exact=True))
    return row.get_by_role("cell").nth(1)


def status_checkbox(page: Page, label: str) -> Locator:
    return page.locator("label").filter(has_text=re.compile(rf"^{re.escape(label)} \(\d+\)$"))


def open_check_partitions(page: Page, url: str, shots: Screenshots) -> None:
    """From the asset page to the closure check's Partitions tab, the shown dates selected."""
    page.goto(f"{url}/assets/toast/business_days")
    page.get_by_role("tab", name="Checks", exact=True).click()
    page.get_by_text(CLOSURE_CHECK, exact=True).first.click()
    expect(
        page.get_by_text("Latest execution", exact=True),
        "the closure_detection check page shows its latest execution",
    ).to_be_visible()
    shots.take("check-overview")
    check_tabs = page.get_by_role("tablist").filter(
        has=page.get_by_role("tab", name="Execution history")
    )
    check_tabs.get_by_role("tab", name="Partitions", exact=True).click()
    dates = page.get_by_placeholder("ex: ")
    dates.fill(f"[{SHOWN[0]}...{SHOWN[-1]}]")
    dates.press("Enter")
    for day in SHOWN:
        expect(page.get_by_title(day.isoformat(), exact=True), f"{day} is listed").to_be_visible()
    expect(
        page.get_by_title((SHOWN[0] - timedelta(days=1)).isoformat(), exact=True),
        "the date column keeps to the range typed",
    ).to_have_count(0)


def read_check_results(
    page: Page,
    url: str,
    results: dict[tuple[str, date], str],
    verdicts: dict[tuple[str, date], str],
    shots: Screenshots,
) -> dict[tuple[str, date], str]:
    """Every shown location-date's result as the check's Partitions tab shows it, one location at a
    time; returns the closed location-dates' `reason` from their evaluation metadata."""
    open_check_partitions(page, url, shots)
    counted = {label: list(results.values()).count(label) for label in STATUS_LABELS}
    total = page.get_by_text(re.compile(r"^[\d,]+ Partitions$"))
    cells = int(total.inner_text().split()[0].replace(",", ""))
    dates = dates_partitions(partitions_for(GroupSettings(start_date=date(2024, 4, 1))))
    assert cells == len(LOCATIONS) * len(dates.get_partition_keys()), (
        f"'{cells} Partitions' should count every date since 2024-04-01 for both locations"
    )
    counted[MISSING] = cells - sum(n for label, n in counted.items() if label != MISSING)
    for label, count in counted.items():
        expect(
            status_checkbox(page, label),
            f"the check's status filter counts {count} location-dates as {label}",
        ).to_have_text(f"{label} ({count})")
    for location_id in LOCATIONS:
        # No date selected: a location's dot sums up its dates (a closed one makes it red).
        expect_dot(page, location_id, CLOSED, f"{location_id} over the shown dates")
    shots.take("check-partitions")

    pane = check_detail(page)
    reasons = {}
    location_filter = page.get_by_placeholder("Filter by location…")
    for location_id in LOCATIONS:
        other = next(i for i in LOCATIONS if i != location_id)
        location_filter.fill(location_id)
        expect(
            page.get_by_title(other, exact=True),
            f"filtering by {location_id} leaves {other} out of the location column",
        ).to_have_count(0)
        # Selecting a location colours each date by that location's result (a date is selected
        # with it, the first of all, 2024-04-01, outside the range shown).
        page.get_by_title(location_id, exact=True).click()
        for day in SHOWN:
            expect_dot(page, day.isoformat(), results[location_id, day], f"{location_id} {day}")
        shots.take(f"check-partitions-{location_id}")
        for day in SHOWN:
            result = results[location_id, day]
            if result == MISSING:
                continue
            # Selecting a date clears the selected location: select it again.
            page.get_by_title(day.isoformat(), exact=True).click()
            page.get_by_title(location_id, exact=True).click()
            key = f"{day}|{location_id}"
            expect(pane.get_by_title(key, exact=True), f"clicking {key} shows it").to_be_visible()
            expect(
                pane.get_by_text(PANE_TAG[result], exact=True),
                f"{key} should say {PANE_TAG[result]}",
            ).to_be_visible()
            if result == DAMAGED:
                expect(
                    pane.get_by_text("No metadata", exact=True),
                    f"{key} failed before it was judged: its check has no metadata",
                ).to_be_visible()
            else:
                status = verdicts[location_id, day]
                expect(
                    metadata_value(pane, "status"), f"{key}'s evaluation says status {status}"
                ).to_have_text(status)
            if result == CLOSED:
                reasons[location_id, day] = metadata_value(pane, "reason").inner_text()
            shots.take(f"check-{day}-{location_id}")

    # With the café selected, the status boxes narrow its dates: only the closed ones, then only
    # the one that failed.
    for keep in (CLOSED, DAMAGED):
        for label in STATUS_LABELS:
            box = status_checkbox(page, label)
            if box.locator("input").is_checked() != (label == keep):
                box.click()
        wanted = [d for d in SHOWN if results[CAFE, d] == keep]
        for day in SHOWN:
            expect(
                page.get_by_title(day.isoformat(), exact=True),
                f"with only '{keep}' ticked, {CAFE}'s dates are {wanted}",
            ).to_have_count(1 if day in wanted else 0)
        shots.take(f"check-partitions-{CAFE}-{keep.lower().replace(' ', '-')}")
    return reasons


def failed_date_on_asset_page(page: Page, url: str, shots: Screenshots) -> None:
    """What the planned-events switch costs: the café's damaged date, whose run failed, shows as
    missing, not failed, on business_days' Partitions tab (its check still says Execution Failed,
    the backfill counts it failed)."""
    page.goto(f"{url}/assets/toast/business_days?view=partitions")
    dates = page.get_by_placeholder("ex: ")
    dates.fill(f"[{SHOWN[0]}...{SHOWN[-1]}]")
    dates.press("Enter")
    # 6 dates x 2 stores: the command's 4 for each, the café's open day after the damaged one;
    # missing: the bistro's two UI dates (not launched) and the café's damaged date.
    for label, count in (("Failed", 0), ("Materialized", 9), ("Missing", 3)):
        expect(
            status_checkbox(page, label),
            f"business_days' status filter counts {count} location-dates as {label}",
        ).to_have_text(f"{label} ({count})")
    damaged = GROUP_DAMAGED[1].isoformat()
    page.get_by_title(damaged, exact=True).click()
    page.get_by_title(CAFE, exact=True).click()
    expect(
        page.get_by_text("View all historical events (0)", exact=True),
        f"{damaged}|{CAFE}'s pane shows no materialization and no failed run",
    ).to_be_visible()
    expect_dot(page, damaged, MISSING, f"{CAFE} {damaged} on business_days' Partitions tab")
    shots.take(f"asset-partitions-{CAFE}-damaged-date-missing")


CHECK_EXECUTION = """
    status
    evaluation { metadataEntries { label ... on TextMetadataEntry { text } } }
"""


def check_executions(url: str, keys: list[tuple[str, date]]) -> dict[tuple[str, date], dict]:
    """Each location-date's latest closure_detection execution: its text metadata and, as
    `execution`, its status (an empty dict for a location-date never evaluated)."""
    fields = "\n".join(
        f"k{i}: assetCheckExecutions(assetKey: $assetKey, checkName: $checkName, "
        f'partition: "{day}|{location_id}", limit: 1) {{{CHECK_EXECUTION}}}'
        for i, (location_id, day) in enumerate(keys)
    )
    query = f"query Executions($assetKey: AssetKeyInput!, $checkName: String!) {{\n{fields}\n}}"
    variables = {"assetKey": {"path": BUSINESS_DAYS_PATH}, "checkName": CLOSURE_CHECK}
    data = execute(url, query, variables)
    found = {}
    for i, key in enumerate(keys):
        executions = data[f"k{i}"]
        if not executions:
            found[key] = {}
            continue
        evaluation = executions[0]["evaluation"] or {"metadataEntries": []}
        metadata = {e["label"]: e["text"] for e in evaluation["metadataEntries"] if "text" in e}
        found[key] = {**metadata, "execution": executions[0]["status"]}
    return found


def test_a_group_backfill_launched_in_the_ui_and_per_location_check_results(
    tmp_path: Path, group_dagster_dev: str, sample_group: SampleGroup, group_env: dict[str, str]
):
    url = group_dagster_dev
    assert GROUP_DAMAGED == (UI_LOCATION, UI_DATES[0])
    truth = {(i, d): sample_group.export(i).day(d).status for i in LOCATIONS for d in SHOWN}
    for location_id in LOCATIONS:
        shown = {truth[location_id, d] for d in COMMAND_DATES}
        assert shown == {"open", "closed"}, f"{location_id}'s first dates should mix verdicts"
    assert any(truth[BISTRO, d] != truth[CAFE, d] for d in COMMAND_DATES), (
        "the two stores should differ on some date, or the location filter shows nothing"
    )
    with chromium_page(tmp_path / "chromium-profile") as page:
        shots = Screenshots(page)
        try:
            backfill_id = launch_backfill_from_asset_page(page, url, shots)
            page.goto(f"{url}/runs/b/{backfill_id}")
            for day in UI_DATES:  # few enough to be listed as tags, not as "N partitions"
                expect(
                    page.get_by_text(f"{day}|{UI_LOCATION}", exact=True),
                    f"backfill {backfill_id}'s partition selection shows {day}|{UI_LOCATION}",
                ).to_be_visible()
            shots.take("backfill-requested")

            backfill = wait_for_backfill(url, backfill_id)
            assert backfill["status"] == "COMPLETED_FAILED", backfill
            assert sorted(backfill["partitionNames"]) == [f"{d}|{UI_LOCATION}" for d in UI_DATES]
            [counts] = backfill["assetBackfillData"]["assetBackfillStatuses"]
            assert (counts["numPartitionsMaterialized"], counts["numPartitionsFailed"]) == (1, 1)
            page.reload()
            expect(
                page.get_by_text("100% completed"),
                f"backfill {backfill_id}'s page shows toast / business_days 100% completed",
            ).to_be_visible()
            # The damaged date failed alone: targeted 2, in progress 0, succeeded 1, failed 1.
            expect(
                backfill_row(page).locator("xpath=./div"),
                "the backfill's row for toast / business_days counts 2 targeted, 1 failed",
            ).to_have_text([re.compile("100% completed"), "2", "0", "1", "1"])
            shots.take("backfill-finished")

            verdicts = final_verdicts(url)
            results = expected_results(sample_group, verdicts)
            reasons = read_check_results(page, url, results, verdicts, shots)
            failed_date_on_asset_page(page, url, shots)
        except BaseException:
            shots.take("failure")
            raise

    graphql = check_executions(url, list(results))
    assert {k: v.get("execution") for k, v in graphql.items()} == {
        k: GRAPHQL_RESULT[v] for k, v in results.items()
    }, "GraphQL's latest check executions should match what the page showed"
    assert reasons == {k: graphql[k]["reason"] for k in reasons}, (
        "the closed location-dates' reasons on the page should be the ones GraphQL reports"
    )
    assert {k: graphql[k]["status"] for k in verdicts} == verdicts, (
        "each evaluation's status metadata should be the latest business_days verdict"
    )
    # Only the café's dates were selected in the UI: the bistro's stay unloaded.
    warehouse = DuckDBWarehouse(path=group_env["TOAST_DUCKDB_PATH"])
    loaded = {
        i: sorted(warehouse.business_days(i).get_column("business_date").to_list())
        for i in LOCATIONS
    }
    assert loaded == {BISTRO: COMMAND_DATES, CAFE: COMMAND_DATES + UI_DATES[1:]}
