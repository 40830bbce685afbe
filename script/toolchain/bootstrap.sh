#!/usr/bin/env bash
# Installs the pinned Solidity toolchain (package-lock.json) into node_modules/ and checks it answers.
# Needs only Node >= 20 and npm; no native solc, forge or anvil on the machine.
set -euo pipefail
cd "$(dirname "$0")/../.."

command -v node >/dev/null || { echo "bootstrap: node is missing; install Node.js 20 or newer" >&2; exit 1; }
command -v npm >/dev/null || { echo "bootstrap: npm is missing; install it with Node.js" >&2; exit 1; }

echo "bootstrap: npm install from package-lock.json (forge, anvil, cast 1.7.1, solc-js 0.8.30, forge-std, OZ 5)"
# Not `npm ci`: the @foundry-rs launchers list platform packages that were never published (for example
# anvil-darwin-amd64), so the lock cannot record them and `npm ci` refuses the lock as out of sync. `npm install
# --no-save` installs exactly the locked versions and leaves package-lock.json untouched.
npm install --no-audit --no-fund --no-save --loglevel=error

bin=node_modules/.bin
"$bin/forge" --version | head -1
"$bin/anvil" --version | head -1
script/toolchain/solc --version | tail -1
