#!/usr/bin/env bash
# python-deps.sh - find (or install) the python3 with the `cryptography` and
# `numpy` packages that the Python cross-checks run (tools/pyoracle: the
# session encryption against cryptography, weight processing against NumPy).
#
# Usage: scripts/python-deps.sh   (scripts/test-deps.sh runs it)
#
# On success it prints the interpreter's absolute path on stdout;
# scripts/test-deps.sh exports it as VIGIL_PYTHON. Messages go to stderr.
#
# The interpreter is taken from, in order: $VIGIL_PYTHON, /usr/bin/python3
# (Debian's, where python3-cryptography and python3-numpy install), `python3`
# on PATH. A candidate counts only if it can import both.
# When none is found:
#   * as root with CI=true or VIGIL_INSTALL_DEPS=1 (not root: through sudo,
#     with VIGIL_INSTALL_DEPS=1), Debian's python3, python3-cryptography and
#     python3-numpy packages are installed with apt-get (--no-install-recommends);
#   * with CI=true the script fails (exit 1): the cross-checks are required
#     there;
#   * otherwise it prints a notice and exits 0 with nothing on stdout; those
#     tests then skip.
#
# The script is idempotent (a usable interpreter means nothing is installed)
# and safe to run concurrently: installs are serialised with flock when
# available.

set -euo pipefail

readonly PROG="python-deps"
readonly LOCK_FILE="/run/lock/vigil-python-deps.lock"
readonly WHAT="python3 with cryptography and numpy"
readonly NEEDED_FOR="the Python cross-checks"
readonly SKIP_HINT="install Debian's python3-cryptography and python3-numpy, rerun as root with VIGIL_INSTALL_DEPS=1, or set VIGIL_PYTHON"
# shellcheck source=lib/deps.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/deps.sh"

# usable PY succeeds when PY is a python3 that imports cryptography.
usable() {
	[[ -n "$1" && -f "$1" && -x "$1" ]] &&
		"$1" -c 'import cryptography.hazmat.primitives.ciphers.aead, numpy' >/dev/null 2>&1
}

# find_dep prints the absolute path of a usable interpreter, or fails.
# first_usable keeps symlinks: a virtualenv's python must not resolve to the
# interpreter it was made from.
find_dep() {
	if first_usable "${VIGIL_PYTHON:-}" /usr/bin/python3 "$(command -v python3 2>/dev/null)"; then
		return 0
	fi
	if [[ -n "${VIGIL_PYTHON:-}" ]]; then
		log "VIGIL_PYTHON=$VIGIL_PYTHON cannot import cryptography and numpy"
	fi
	return 1
}

# install_dep installs Debian's python3, python3-cryptography and python3-numpy
# (root only).
install_dep() {
	command -v apt-get >/dev/null 2>&1 || {
		log "apt-get not available; cannot install python3-cryptography and python3-numpy"
		return 1
	}
	log "python3 with cryptography and numpy not found; installing it: apt-get update && apt-get install -y --no-install-recommends python3 python3-cryptography python3-numpy"
	apt_install python3 python3-cryptography python3-numpy
}

report_dep() {
	log "using $1 ($("$1" -c 'import sys, cryptography, numpy; print("Python", sys.version.split()[0], "cryptography", cryptography.__version__, "numpy", numpy.__version__)' 2>&1))"
	printf '%s\n' "$1"
}

deps_main "$@"
