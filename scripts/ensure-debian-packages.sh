#!/usr/bin/env bash
# Make sure the Debian packages the tests run for real are installed (default: all of them):
#   chromium    the UI test (toast_pipeline_tests/test_ui.py) drives it through Playwright, which
#               is never asked to download a browser of its own;
#   postgresql  the production-instance tests and `make demo-production` start a throwaway server
#               from its binaries (toast_pipeline_dev/local_postgres.py), as the `postgres` system
#               user the package creates; the package's own cluster, if it makes one, is not used.
# As root it installs what is missing with apt-get; otherwise it says what to install.
set -euo pipefail

installed() {
    case "$1" in
        chromium) command -v chromium >/dev/null ;;
        postgresql) compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null && getent passwd postgres >/dev/null ;;
        *) echo "unknown package $1 (known: chromium postgresql)" >&2; exit 2 ;;
    esac
}

missing=()
for package in "${@:-chromium postgresql}"; do
    for name in $package; do
        installed "$name" || missing+=("$name")
    done
done
if [[ ${#missing[@]} -eq 0 ]]; then
    exit 0
fi
if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
else
    echo "not installed: ${missing[*]}; the tests that need them will fail without them." >&2
    echo "Install with: sudo apt-get install --no-install-recommends ${missing[*]}" >&2
fi
