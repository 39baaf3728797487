#!/usr/bin/env bash
# Build the BigQuery emulator's own virtual environment (default .bigquery-emulator/).
#
# local-bigquery needs Python 3.13, so it cannot share the project's venv. DuckDB's extensions come
# from PyPI wheels and are linked where DuckDB looks for them, so the emulator never downloads one.
# Python 3.13 is taken from $BIGQUERY_EMULATOR_PYTHON, `python3.13` on the PATH, or pyenv.
set -euo pipefail

DEST=${1:-.bigquery-emulator}
DUCKDB_VERSION=1.5.5
STAMP="$DEST/.installed-$DUCKDB_VERSION"

if [[ -f "$STAMP" ]]; then
    exit 0
fi

find_python() {
    local candidate
    for candidate in "${BIGQUERY_EMULATOR_PYTHON:-}" python3.13; do
        if [[ -n "$candidate" ]] && "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 13)' 2>/dev/null; then
            command -v "$candidate"
            return
        fi
    done
    if command -v pyenv >/dev/null; then
        for candidate in "$(pyenv root)"/versions/3.13*/bin/python3.13; do
            if [[ -x "$candidate" ]]; then
                echo "$candidate"
                return
            fi
        done
    fi
    return 1
}

if ! PYTHON=$(find_python); then
    echo "bigquery-emulator-venv: Python 3.13 not found (the BigQuery emulator, local-bigquery, needs it)." >&2
    echo "Install it (e.g. 'pyenv install 3.13') or set BIGQUERY_EMULATOR_PYTHON to its interpreter." >&2
    exit 1
fi

rm -rf "$DEST"
"$PYTHON" -m venv "$DEST"
"$DEST/bin/python" -m pip install --quiet --upgrade pip
"$DEST/bin/python" -m pip install --quiet \
    "local-bigquery==0.3.2" \
    "duckdb==$DUCKDB_VERSION" \
    "duckdb-extension-icu==$DUCKDB_VERSION" \
    "duckdb-extension-ducklake==$DUCKDB_VERSION" \
    "duckdb-extension-spatial==$DUCKDB_VERSION"

# DuckDB looks for extensions under $HOME/.duckdb/extensions/v<version>/<platform>/; the emulator
# is started with HOME set to $DEST/home, so the wheels' files are linked there.
PLATFORM=$("$DEST/bin/python" -c 'import duckdb; print(duckdb.execute("PRAGMA platform").fetchone()[0])')
EXTENSIONS="$DEST/home/.duckdb/extensions/v$DUCKDB_VERSION/$PLATFORM"
mkdir -p "$EXTENSIONS"
"$DEST/bin/python" - "$EXTENSIONS" <<'PY'
import pathlib
import sys
import sysconfig

target = pathlib.Path(sys.argv[1])
site = pathlib.Path(sysconfig.get_paths()["purelib"])
found = {}
for path in list(site.rglob("*.duckdb_extension")) + list(site.rglob("*.duckdb_extension.gz")):
    found[path.name] = path
for name in ("icu", "ducklake", "spatial"):
    matches = [p for n, p in found.items() if n.startswith(f"{name}.duckdb_extension")]
    if not matches:
        sys.exit(f"bigquery-emulator-venv: no {name} extension file in the duckdb-extension-{name} wheel")
    for path in matches:
        link = target / path.name
        link.unlink(missing_ok=True)
        link.symlink_to(path.resolve())
PY
touch "$STAMP"
