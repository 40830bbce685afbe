#!/usr/bin/env bash
# Headless Chromium for the browser tests: Debian's package (no browser CDN is reachable, so `playwright install`
# cannot work here). Installs it when /usr/bin/chromium is missing (needs root, as on CI), else does nothing.
set -euo pipefail
[[ -x /usr/bin/chromium ]] && exit 0
if [[ $(id -u) -ne 0 ]]; then
  echo "chromium.sh: /usr/bin/chromium is missing; install it with: sudo apt-get install -y chromium" >&2
  exit 1
fi
echo "chromium.sh: installing Debian's chromium for the browser tests"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
/usr/bin/chromium --version
