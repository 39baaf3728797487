"""`toast-pipeline`: the commands people run around the code location."""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from datetime import date
from pathlib import Path

import dagster as dg
from rich.console import Console


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD or YYYYMMDD, got {text!r}") from None


def _demo_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", type=Path, default=Path("data"), help="where everything is written")
    parser.add_argument("--start", type=_date, default=date(2024, 3, 1), help="first business date")
    parser.add_argument("--days", type=int, default=60, help="number of business dates")
    parser.add_argument("--seed", type=int, default=7, help="generator seed (same seed, same export)")
    parser.add_argument("--orders-per-day", type=int, default=80, help="typical orders on an open day")


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="toast-pipeline", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo",
        help="generate a sample export, serve it over SFTP on 127.0.0.1 and load every date "
        "through Dagster into DuckDB",
    )
    _demo_arguments(demo)
    serve = commands.add_parser(
        "serve-sample",
        help="serve the demo's sample export over SFTP on 127.0.0.1 until interrupted, "
        "writing the TOAST_* settings for `dagster dev` to a file",
    )
    serve.add_argument("--data-dir", type=Path, default=Path("data"))
    serve.add_argument("--port", type=int, default=2222)
    closures = commands.add_parser(
        "closures",
        help="print the business closure analysis of the loaded dates (warehouse and location "
        "from the TOAST_* environment)",
    )
    closures.add_argument("--location", help="location folder number (default TOAST_LOCATION_ID)")
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    console = Console()
    # Partition-aware checks are a Dagster preview; say so once in the docs, not on every run.
    warnings.filterwarnings("ignore", category=dg.PreviewWarning)
    warnings.filterwarnings("ignore", category=dg.BetaWarning)
    if args.command == "demo":
        from toast_pipeline.demo import DemoOptions, run_demo

        options = DemoOptions(
            data_dir=args.data_dir,
            start=args.start,
            days=args.days,
            seed=args.seed,
            orders_per_day=args.orders_per_day,
        )
        return run_demo(options, console)
    if args.command == "serve-sample":
        from toast_pipeline.demo import serve_sample

        return serve_sample(args.data_dir, args.port, console)
    if args.command == "closures":
        from toast_pipeline.analysis_assets import print_closures

        return print_closures(os.environ, args.location, console)
    return 2


if __name__ == "__main__":
    sys.exit(main())
