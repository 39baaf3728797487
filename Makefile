# Two commands for a new machine: `make demo` and `make test`. Both set themselves up.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo demo-bigquery demo-production test lint ui install clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# compat: the checkout itself is on the path, so the development package imports from anywhere.
	$(BIN)/python -m pip install --quiet -e '.[dev]' --config-settings editable_mode=compat
	touch $(STAMP)

install: $(STAMP)

## Generate a 60-day sample export, serve it over SFTP on 127.0.0.1, load it through Dagster into DuckDB.
demo: $(STAMP)
	$(BIN)/python -m toast_pipeline_dev demo

## The same demo loading into BigQuery on a local emulator instead of DuckDB (needs Python 3.13).
demo-bigquery: $(STAMP)
	scripts/bigquery-emulator-venv.sh
	$(BIN)/python -m toast_pipeline_dev demo --bigquery-emulator

## The same demo on the production instance (deploy/dagster.yaml): a local PostgreSQL server
## (Debian's package, installed if missing) and the real Dagster daemon executing the backfill.
demo-production: $(STAMP)
	scripts/ensure-debian-packages.sh postgresql
	$(BIN)/python -m toast_pipeline_dev demo --production-instance

## The whole test suite (what CI runs). Without the BigQuery emulator, Chromium or PostgreSQL, the
## tests needing them fail and say why.
test: $(STAMP) lint
	-scripts/bigquery-emulator-venv.sh
	-scripts/ensure-debian-packages.sh
	$(BIN)/pytest -n 2

## Lint and format (ruff) and the import contracts between the layers (import-linter).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

## The Dagster UI on the demo's instance (run `make demo` first): with no Toast settings of your own
## (TOAST_SFTP_HOST, TOAST_SOURCE, TOAST_LOCATIONS, TOAST_LOCATION_ID, TOAST_LOCATIONS_FILE), it
## shows the demo's group (data/demo/location.env, written by the demo). Dagster's switches as the
## backfill command sets them (toast_pipeline/commands/instance.py: DAGSTER_SWITCHES).
ui: $(STAMP)
	if [ -z "$$TOAST_SFTP_HOST$$TOAST_SOURCE$$TOAST_LOCATIONS$$TOAST_LOCATION_ID$$TOAST_LOCATIONS_FILE" ] \
		&& [ -f data/demo/location.env ]; then . data/demo/location.env; fi; \
	DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS=$${DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS:-1} \
		DAGSTER_HOME=$(CURDIR)/dagster_home $(BIN)/dagster dev -h 127.0.0.1

clean:
	rm -rf $(VENV) data .bigquery-emulator
