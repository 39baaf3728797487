"""`python -m toast_pipeline_dev.sample`: see `cli`."""

from toast_pipeline_dev.sample.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
