#!/usr/bin/env bash
# Makes sure headless Chromium is installed from the OS packages (the dashboard's browser test
# drives it with Playwright). Prints its path.
set -euo pipefail
for name in chromium chromium-browser; do
  if command -v "$name" >/dev/null 2>&1; then command -v "$name"; exit 0; fi
done
echo "installing chromium from the OS packages (apt-get)" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q >&2
$SUDO apt-get install -y -q --no-install-recommends chromium >&2
command -v chromium
