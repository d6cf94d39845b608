#!/usr/bin/env bash
# Prints a command that runs uv, installing uv from PyPI first when it is missing.
set -euo pipefail
UV_VERSION=0.13.8
if command -v uv >/dev/null 2>&1; then echo uv; exit 0; fi
if python3 -m uv --version >/dev/null 2>&1; then echo "python3 -m uv"; exit 0; fi
echo "installing uv ${UV_VERSION} from PyPI" >&2
python3 -m pip install --quiet "uv==${UV_VERSION}" >&2 \
  || python3 -m pip install --quiet --user "uv==${UV_VERSION}" >&2 \
  || python3 -m pip install --quiet --user --break-system-packages "uv==${UV_VERSION}" >&2
python3 -m uv --version >/dev/null
echo "python3 -m uv"
