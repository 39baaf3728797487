"""`python -m toast_pipeline_dev`: the development commands (demo and sample server), kept out of the product."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from rich.console import Console

from toast_pipeline.commands.cli import iso_date, quiet_dagster_previews


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m toast_pipeline_dev", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo",
        help="generate the sample export of a two-store group, serve it over SFTP on 127.0.0.1 "
        "and load every location-date through Dagster into DuckDB",
    )
    demo.add_argument(
        "--data-dir", type=Path, default=Path("data"), help="where everything is written"
    )
    demo.add_argument(
        "--start", type=iso_date, default=date(2024, 3, 1), help="first business date"
    )
    demo.add_argument("--days", type=int, default=60, help="number of business dates")
    demo.add_argument("--seed", type=int, default=7, help="generator seed (same seed, same export)")
    demo.add_argument(
        "--orders-per-day",
        type=int,
        default=None,
        help="typical orders on an open day, for every store (default: each store's own)",
    )
    demo.add_argument(
        "--bigquery-emulator",
        type=Path,
        nargs="?",
        const=Path(".bigquery-emulator"),
        default=None,
        metavar="VENV",
        help="load into BigQuery on a local emulator started from VENV "
        "(built by scripts/bigquery-emulator-venv.sh) instead of DuckDB",
    )
    demo.add_argument(
        "--production-instance",
        action="store_true",
        help="load through the production instance (deploy/dagster.yaml) on a local PostgreSQL "
        "server, executed by the real Dagster daemon",
    )
    # The child process of --production-instance, given the Postgres variables: it starts the
    # daemon once the export is served.
    demo.add_argument("--with-daemon", action="store_true", help=argparse.SUPPRESS)
    serve = commands.add_parser(
        "serve-sample",
        help="serve the demo's group export over SFTP on 127.0.0.1 until interrupted, "
        "writing the TOAST_* settings for `dagster dev` to a file",
    )
    serve.add_argument("--data-dir", type=Path, default=Path("data"))
    serve.add_argument("--port", type=int, default=2222)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    console = Console()
    quiet_dagster_previews()
    from toast_pipeline_dev.demo import DemoOptions, run_demo, serve_sample

    if args.command == "demo":
        options = DemoOptions(
            data_dir=args.data_dir,
            start=args.start,
            days=args.days,
            seed=args.seed,
            orders_per_day=args.orders_per_day,
            bigquery_emulator=args.bigquery_emulator,
            production_instance=args.production_instance,
            with_daemon=args.with_daemon,
        )
        return run_demo(options, console)
    return serve_sample(args.data_dir, args.port, console)


if __name__ == "__main__":
    sys.exit(main())
