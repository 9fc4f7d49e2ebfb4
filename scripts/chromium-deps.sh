#!/usr/bin/env bash
# chromium-deps.sh - find (or install) the headless Chromium that the web
# console's browser tests drive (internal/demo: each page loads without a
# console error, the plots render, a miner's page is reachable).
#
# Usage: scripts/chromium-deps.sh   (scripts/test-deps.sh runs it)
#
# On success it prints the browser's absolute path on stdout;
# scripts/test-deps.sh exports it as VIGIL_CHROMIUM. Messages go to stderr.
#
# The browser is taken from, in order: $VIGIL_CHROMIUM, /usr/bin/chromium
# (Debian's `chromium` package), `chromium` or `chromium-browser` on PATH.
# A candidate counts only if `--version` runs.
# When none is found:
#   * as root with CI=true or VIGIL_INSTALL_DEPS=1 (not root: through sudo,
#     with VIGIL_INSTALL_DEPS=1), Debian's chromium package is installed with
#     apt-get (--no-install-recommends);
#   * with CI=true the script fails (exit 1): the browser tests are required
#     there;
#   * otherwise it prints a notice and exits 0 with nothing on stdout; those
#     tests then skip.
#
# The script is idempotent (a usable browser means nothing is installed) and
# safe to run concurrently: installs are serialised with flock when
# available.

set -euo pipefail

readonly PROG="chromium-deps"
readonly LOCK_FILE="/run/lock/vigil-chromium-deps.lock"
readonly WHAT="chromium"
readonly NEEDED_FOR="the web console's browser tests"
readonly SKIP_HINT="install Debian's chromium, rerun as root with VIGIL_INSTALL_DEPS=1, or set VIGIL_CHROMIUM"
# shellcheck source=lib/deps.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/deps.sh"

# usable BIN succeeds when BIN is an executable that reports a Chromium
# version.
usable() {
	[[ -n "$1" && -f "$1" && -x "$1" ]] && "$1" --version 2>/dev/null | grep -qi chrom
}

# find_dep prints the absolute path of a usable browser, or fails.
find_dep() {
	if first_usable "${VIGIL_CHROMIUM:-}" /usr/bin/chromium "$(command -v chromium 2>/dev/null)" \
		"$(command -v chromium-browser 2>/dev/null)"; then
		return 0
	fi
	if [[ -n "${VIGIL_CHROMIUM:-}" ]]; then
		log "VIGIL_CHROMIUM=$VIGIL_CHROMIUM is not a working chromium"
	fi
	return 1
}

# install_dep installs Debian's chromium package (root only).
install_dep() {
	command -v apt-get >/dev/null 2>&1 || {
		log "apt-get not available; cannot install chromium"
		return 1
	}
	log "chromium not found; installing it: apt-get update && apt-get install -y --no-install-recommends chromium"
	apt_install chromium
}

report_dep() {
	log "using $1 ($("$1" --version 2>/dev/null | head -n 1))"
	printf '%s\n' "$1"
}

deps_main "$@"
