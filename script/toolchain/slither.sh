#!/usr/bin/env bash
# Static analysis: slither (PyPI slither-analyzer, pinned) through forge, on contracts/ only.
# Installs into .venv-slither/ on first use (idempotent). Fails on any High or Medium finding that is not triaged in
# slither.config.json (each exclusion there carries a one-line reason).
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$PWD/node_modules/.bin:$PATH"
VERSION=0.11.6
venv=.venv-slither
if [[ ! -x $venv/bin/slither ]] || ! $venv/bin/pip show slither-analyzer 2>/dev/null | grep -qx "Version: $VERSION"; then
  rm -rf "$venv"
  if ! python3 -m venv "$venv" 2>/dev/null; then
    # Debian without python3-venv: install it (CI runs as root), then try again.
    if command -v apt-get >/dev/null && [[ $(id -u) -eq 0 ]]; then
      apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
      python3 -m venv "$venv"
    else
      echo "slither: python3 -m venv failed; install python3-venv (apt-get install python3-venv)" >&2
      exit 1
    fi
  fi
  "$venv/bin/pip" install -q --disable-pip-version-check "slither-analyzer==$VERSION"
fi
"$venv/bin/slither" . --config-file slither.config.json
