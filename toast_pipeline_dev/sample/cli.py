"""`python -m toast_pipeline_dev.sample OUT_DIR`: an export and its manifest, from the shell.

With `--group` it writes the two-store demo group (`DEMO_GROUP`) and the group's manifest.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from toast_pipeline_dev.sample.export import LEAN_ACCOUNT_FILES, generate_export
from toast_pipeline_dev.sample.group import DEMO_GROUP, generate_group


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m toast_pipeline_dev.sample",
        description="Write a sample Toast nightly export to OUT_DIR/<location>/ "
        "and its truth to OUT_DIR/manifest.json.",
    )
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--start", type=date.fromisoformat, default=date(2024, 3, 1))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--orders-per-day", type=int, default=80)
    parser.add_argument("--location-id", default="185129")
    parser.add_argument("--timezone", default="America/Chicago")
    parser.add_argument(
        "--closed-weekdays",
        default="",
        help="comma-separated Python weekday numbers, e.g. 0,1: Mon, Tue",
    )
    parser.add_argument("--holiday-country", default="US", help="'none' for no holiday closures")
    parser.add_argument("--random-closure-rate", type=float, default=0.03)
    parser.add_argument("--no-quirks", action="store_true")
    parser.add_argument(
        "--lean-account",
        action="store_true",
        help="an account configured without CheckDetails, CashEntries and KitchenTimings",
    )
    parser.add_argument(
        "--group",
        action="store_true",
        help="write the demo restaurant group instead (one folder per store; only --days, "
        "--start and --seed apply)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(argv)
    if args.group:
        return _write_group(args)
    export = generate_export(
        args.out_dir,
        location_id=args.location_id,
        start=args.start,
        days=args.days,
        seed=args.seed,
        orders_per_day=args.orders_per_day,
        timezone=args.timezone,
        closed_weekdays=tuple(int(w) for w in args.closed_weekdays.split(",") if w.strip()),
        holiday_country=None if args.holiday_country.lower() == "none" else args.holiday_country,
        random_closure_rate=args.random_closure_rate,
        quirks=not args.no_quirks,
        account_files=LEAN_ACCOUNT_FILES if args.lean_account else None,
    )
    manifest = args.out_dir / "manifest.json"
    export.write_manifest(manifest)
    closed = sum(d.status == "closed" for d in export.days)
    print(
        f"{len(export.days)} business dates ({closed} closed) in {export.location_dir}; see {manifest}"
    )
    return 0


def _write_group(args: argparse.Namespace) -> int:
    group = generate_group(
        args.out_dir, DEMO_GROUP, start=args.start, days=args.days, seed=args.seed
    )
    manifest = args.out_dir / "manifest.json"
    group.write_manifest(manifest)
    for location, export in zip(group.locations, group.exports):
        closed = sum(d.status == "closed" for d in export.days)
        print(
            f"{location.name}: {len(export.days)} business dates ({closed} closed) "
            f"in {export.location_dir}"
        )
    print(f"see {manifest}")
    return 0
