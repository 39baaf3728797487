#!/usr/bin/env bash
# Make sure Debian's Chromium is installed: the UI test (toast_pipeline_tests/test_ui.py) drives it
# through Playwright, which is never asked to download a browser of its own.
# As root it installs the package with apt-get; otherwise it says what to install.
set -euo pipefail

if command -v chromium >/dev/null; then
    exit 0
fi
if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium
else
    echo "chromium is not installed; the UI test needs it and will fail without it." >&2
    echo "Install it with: sudo apt-get install --no-install-recommends chromium" >&2
fi
