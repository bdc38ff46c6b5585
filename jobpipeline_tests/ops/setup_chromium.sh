#!/usr/bin/env bash
# Idempotent: Debian's chromium + chromium-driver (no browser downloads: they fail on these
# machines) and the pinned Python driver used by the `ui` test tier. Prints the browser path.
#   bash jobpipeline_tests/ops/setup_chromium.sh            # uses $VIRTUAL_ENV, else ./.venv, else python3
set -euo pipefail

SELENIUM_VERSION="4.50.0"  # pinned; talks to the apt chromedriver, never to Selenium Manager's downloads
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@"; fi; }

if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get -o DPkg::Lock::Timeout=600 update -qq
  as_root apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends \
    chromium chromium-driver fonts-liberation >/dev/null
fi

if [ -n "${VIRTUAL_ENV:-}" ]; then PY="$VIRTUAL_ENV/bin/python"
elif [ -x "$REPO/.venv/bin/python" ]; then PY="$REPO/.venv/bin/python"
else PY="$(command -v python3)"; fi
if ! "$PY" -c "import selenium, sys; sys.exit(selenium.__version__ != '$SELENIUM_VERSION')" 2>/dev/null; then
  "$PY" -m pip install -q "selenium==$SELENIUM_VERSION"
fi

chromium --version >&2
command -v chromium
