"""The Dagster UI in a real browser: a backfill launched from an asset page, then its check results.

`dagster dev` (webserver and daemons) serves the code location against the loopback SFTP server,
and headless Chromium, driven by Playwright, does what a user does: picks dates in the asset's
Materialize dialog, launches the backfill, and reads each date's `closure_detection` result on the
check's page. GraphQL only waits for the daemon to finish and cross-checks what the page shows.
Every step is saved as a screenshot in ``test-artifacts/ui/`` at the project root.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect, sync_playwright

from toast_pipeline.commands.graphql_client import backfill_status, closure_results
from toast_pipeline_dev.sample import SampleExport
from toast_pipeline_tests.helpers import PROJECT_ROOT, free_port, wait_until_serving

pytestmark = pytest.mark.e2e

# 04-01 and 04-04 are open; 04-02 has no folder and 04-03 header-only files (both closed).
DATES = ["2024-04-01", "2024-04-02", "2024-04-03", "2024-04-04"]
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
# How the check's page labels a date whose verdict is open, or closed (a WARN failure).
UI_RESULT = {"open": "Passed", "closed": "Failed"}
# `closure_results` statuses for the same two outcomes.
GRAPHQL_RESULT = {"open": "SUCCEEDED", "closed": "FAILED"}
OTHER = {"open": "closed", "closed": "open"}
BACKFILL_TIMEOUT = 240  # seconds; the backfill daemon ticks about every 30 s
UI_TIMEOUT = 30_000  # milliseconds for the page to show one thing


@contextmanager
def chromium_page(profile: Path) -> Iterator[Page]:
    """Debian's Chromium, headless with a fresh profile, driven by Playwright (no browser download).

    Dagster's first-visit "Join the Dagster community" modal covers the page: it is skipped
    whenever it shows up before an action. It opens a second after the page loads, so it may
    lie under the Materialize dialog: its Skip button gets the click event directly.
    """
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail(
            "chromium is not on the PATH: this test drives the system's Chromium. "
            "Install it with scripts/ensure-chromium.sh (apt-get install chromium).",
            pytrace=False,
        )
    expect.set_options(timeout=UI_TIMEOUT)
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            user_data_dir=profile,
            executable_path=executable,
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1400, "height": 1000},
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


@pytest.fixture
def dagster_dev(tmp_path: Path, sample_env: dict[str, str]) -> Iterator[str]:
    """`dagster dev` on a free loopback port, serving the code location; its URL.

    The new-folder sensor gets an interval longer than the test, so it looks once only: its
    second look would load the export's other dates beside the backfill and re-judge the dates
    the test is reading.
    """
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, **sample_env, "TOAST_SENSOR_INTERVAL_SECONDS": "3600"}
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
    with log_path.open("w") as log:
        process = subprocess.Popen(
            command,
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_until_serving(url, process, log_path)
            yield url
        finally:
            stop_process_group(process)


def stop_process_group(process: subprocess.Popen) -> None:
    """`dagster dev` spawns the webserver, the daemon, code servers and runs: stop them all."""
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(process.pid, signal.SIGKILL)  # whatever outlived the shutdown
    except ProcessLookupError:
        pass
    process.wait()


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


def expected_verdicts(sample_export: SampleExport) -> dict[str, str]:
    """Each date's truth from the generated export: open or closed."""
    return {day: sample_export.day(date.fromisoformat(day)).status for day in DATES}


def launch_backfill_from_asset_page(page: Page, url: str, shots: Screenshots) -> str:
    """Materialize… on toast/business_days, type the date range, Launch backfill; its id."""
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
    # The dialog offers the last 90 days only; the sample export is older.
    dialog.get_by_role("button", name="Show all partitions").click()
    selection = dialog.get_by_placeholder("ex: ")
    selection.fill(f"[{DATES[0]}...{DATES[-1]}]")
    selection.press("Enter")
    expect(
        dialog.get_by_text(f"{len(DATES)} partitions", exact=True),
        f"the dialog counts {len(DATES)} partitions selected for [{DATES[0]}...{DATES[-1]}]",
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
    status = backfill_status(url, backfill_id)
    while not status["finished"] and time.monotonic() < deadline:
        time.sleep(1)
        status = backfill_status(url, backfill_id)
    assert status["finished"], (
        f"backfill {backfill_id} not finished after {BACKFILL_TIMEOUT}s: {status['status']}, "
        f"per date {status['dates']}"
    )
    return status


def check_detail(page: Page) -> Locator:
    """The check page's pane for the selected partition (its header, result, metadata)."""
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


def read_check_results(page: Page, truth: dict[str, str], shots: Screenshots) -> dict[str, str]:
    """From the asset page to the check's Partitions tab; each date's result as the page shows it.

    Returns the closed dates' `reason` as shown in their evaluation metadata.
    """
    page.get_by_role("tab", name="Checks", exact=True).click()
    page.get_by_text("closure_detection", exact=True).first.click()
    expect(
        page.get_by_text("Latest execution", exact=True),
        "the closure_detection check page shows its latest execution",
    ).to_be_visible()
    shots.take("check-overview")

    check_tabs = page.get_by_role("tablist").filter(
        has=page.get_by_role("tab", name="Execution history")
    )
    check_tabs.get_by_role("tab", name="Partitions", exact=True).click()
    partitions = page.get_by_placeholder("ex: ")
    partitions.fill(f"[{DATES[0]}...{DATES[-1]}]")
    partitions.press("Enter")
    counts = dict.fromkeys(["Execution Failed", "In Progress", "Missing", "Skipped"], 0)
    counts.update({UI_RESULT[v]: list(truth.values()).count(v) for v in UI_RESULT})
    for label, count in counts.items():
        expect(
            page.locator("label").filter(has_text=re.compile(rf"^{re.escape(label)} \(\d+\)$")),
            f"the check's partition filter counts {count} of {DATES} as {label}",
        ).to_have_text(f"{label} ({count})")
    shots.take("check-partitions")

    pane = check_detail(page)
    reasons = {}
    for day in DATES:
        shown, other = UI_RESULT[truth[day]], UI_RESULT[OTHER[truth[day]]]
        page.get_by_title(day, exact=True).first.click()
        expect(
            pane.get_by_title(day, exact=True), f"clicking {day} shows its result"
        ).to_be_visible()
        expect(
            pane.get_by_text(shown, exact=True),
            f"{day} is {truth[day]} in the export: its check result should say {shown}",
        ).to_be_visible()
        expect(pane.get_by_text(other, exact=True), f"{day} should not say {other}").to_have_count(
            0
        )
        expect(
            metadata_value(pane, "status"), f"{day}'s evaluation metadata says status {truth[day]}"
        ).to_have_text(truth[day])
        if truth[day] == "closed":
            reasons[day] = metadata_value(pane, "reason").inner_text()
        shots.take(f"check-{day}")
    return reasons


def test_backfill_launched_in_the_ui_shows_per_date_check_results(
    tmp_path: Path, dagster_dev: str, sample_export: SampleExport
):
    url = dagster_dev
    truth = expected_verdicts(sample_export)
    assert set(truth.values()) == {"open", "closed"}, f"the dates should mix both verdicts: {truth}"
    with chromium_page(tmp_path / "chromium-profile") as page:
        shots = Screenshots(page)
        try:
            backfill_id = launch_backfill_from_asset_page(page, url, shots)
            page.goto(f"{url}/runs/b/{backfill_id}")
            expect(
                page.get_by_text(f"{DATES[0]}...{DATES[-1]}", exact=True),
                f"backfill {backfill_id}'s page shows its partitions {DATES[0]}...{DATES[-1]}",
            ).to_be_visible()
            shots.take("backfill-requested")

            status = wait_for_backfill(url, backfill_id)
            assert status["status"] == "COMPLETED_SUCCESS", status
            assert sorted(status["dates"]) == DATES, "the UI's range should be exactly these dates"
            assert status["materialized"] == DATES, status["dates"]
            page.reload()
            expect(
                page.get_by_text("100% completed"),
                f"backfill {backfill_id}'s page shows toast / business_days 100% completed",
            ).to_be_visible()
            shots.take("backfill-finished")

            page.get_by_role("link", name="toast / business_days").click()
            reasons = read_check_results(page, truth, shots)
        except BaseException:
            shots.take("failure")
            raise

    graphql = closure_results(url, DATES)
    assert {day: graphql[day]["status"] for day in DATES} == {
        day: GRAPHQL_RESULT[verdict] for day, verdict in truth.items()
    }, "GraphQL's partition statuses should match what the page showed"
    assert reasons == {day: graphql[day]["reason"] for day in reasons}, (
        "the closed dates' reasons on the page should be the ones GraphQL reports"
    )
