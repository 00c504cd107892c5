#!/usr/bin/env bash
# Installs Debian's chromium for the browser tests and benchmarks (playwright-core drives it;
# nothing downloads a browser of its own). Idempotent.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
exec bash "$(dirname "$0")/bootstrap.sh" chromium fonts-dejavu-core
