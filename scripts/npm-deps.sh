#!/usr/bin/env bash
# npm-deps.sh - install the npm packages of vigil's cross-check oracle.
#
# Usage: scripts/npm-deps.sh            (scripts/test-deps.sh runs it)
#
# tools/oracle holds a small Node.js script over @polkadot/keyring and
# @polkadot/util-crypto, pinned with a lockfile. Go tests ask it to derive,
# encode, sign and verify, and compare its answers with vigil's own.
#
# The script is idempotent: `npm ci` runs only when tools/oracle/node_modules
# was not installed from the current package-lock.json (a stamp file records
# the lockfile's hash), so repeated runs cost nothing and need no network.
# Install scripts of packages are not run.
#
# When node or npm is missing, or the install fails:
#   * with CI=true the script fails (exit 1): the cross-check is required there;
#   * otherwise it prints a notice and exits 0; the oracle tests then skip.
# On success it prints the oracle script's absolute path on stdout.

set -euo pipefail

readonly PROG="npm-deps"
readonly INSTALL_TIMEOUT=300 # seconds for npm ci
# For unavailable (lib/deps.sh), which reports why the oracle cannot be used:
# fatal under CI only.
readonly NEEDED_FOR="the @polkadot cross-check tests"
readonly CI_REQUIRED="the @polkadot cross-check is required"
# shellcheck source=lib/deps.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/deps.sh"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="$root/tools/oracle"
[[ -f "$dir/package-lock.json" ]] || unavailable "missing $dir/package-lock.json"

command -v node >/dev/null 2>&1 || unavailable "node not found (install Node.js >= 18)"
command -v npm >/dev/null 2>&1 || unavailable "npm not found"

stamp="$dir/node_modules/.vigil-lock.sha256"
want="$(sha256sum "$dir/package-lock.json" | awk '{print $1}')"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" && -f "$dir/node_modules/@polkadot/keyring/package.json" ]]; then
	log "oracle packages up to date"
else
	log "installing oracle packages: npm ci in tools/oracle"
	if ! (cd "$dir" && timeout "$INSTALL_TIMEOUT" npm ci --no-audit --no-fund --ignore-scripts --loglevel=error >&2); then
		unavailable "npm ci in $dir failed"
	fi
	printf '%s\n' "$want" >"$stamp"
fi
printf '%s\n' "$dir/oracle.mjs"
