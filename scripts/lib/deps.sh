# shellcheck shell=bash
# deps.sh - helpers shared by the scripts that find or install vigil's test
# dependencies (prometheus-deps.sh, python-deps.sh, npm-deps.sh,
# test-deps.sh). Source it after setting:
#   PROG        the script's name, for messages (all helpers need it)
# and, to use unavailable:
#   NEEDED_FOR  what needs the dependency, e.g. "the tests against a real
#               Prometheus"
#   SKIP_HINT   optional: how a user gets it without the script
#   CI_REQUIRED optional: the clause for the CI=true error, by default
#               "$NEEDED_FOR are required"
# and, to use deps_main (which finds or installs one dependency):
#   LOCK_FILE   the flock file serialising installs
#   WHAT        what is looked for, e.g. "prometheus"
# then define find_dep (prints the path or fails), install_dep (root only)
# and report_dep PATH (logs and prints it), and call deps_main "$@".

readonly APT_LOCK_TIMEOUT=300 # seconds to wait for another dpkg run

log() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() {
	log "ERROR: $*"
	exit 1
}
is_ci() { [[ "${CI:-}" == "true" ]]; }
is_root() { [[ "$(id -u)" -eq 0 ]]; }

# unavailable reports why there is nothing to use: fatal (exit 1) under CI
# only, else exit 0.
unavailable() {
	if is_ci; then
		log "ERROR: $* (CI=true: ${CI_REQUIRED:-$NEEDED_FOR are required})"
		exit 1
	fi
	log "$*: $NEEDED_FOR will skip${SKIP_HINT:+ ($SKIP_HINT)}"
	exit 0
}

# first_usable CANDIDATE... prints the first candidate that the script's
# usable function accepts, or fails. Empty candidates are skipped. A relative
# path is made absolute; symlinks are kept.
first_usable() {
	local c
	for c in "$@"; do
		[[ -n "$c" ]] || continue
		if usable "$c"; then
			if [[ "$c" == /* ]]; then
				printf '%s\n' "$c"
			else
				printf '%s/%s\n' "$PWD" "$c"
			fi
			return 0
		fi
	done
	return 1
}

# apt_install PKG... runs apt-get update and apt-get install -y
# --no-install-recommends PKG..., non-interactively, waiting up to
# APT_LOCK_TIMEOUT seconds for another dpkg run; apt-get's output goes to
# stderr. Root only (no sudo): deps_main reruns a script through sudo
# instead, and test-deps.sh installs only as root.
apt_install() {
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout="$APT_LOCK_TIMEOUT" update >&2 &&
		DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout="$APT_LOCK_TIMEOUT" install -y --no-install-recommends "$@" >&2
}

# deps_main finds the dependency, or installs it as root under CI=true or
# VIGIL_INSTALL_DEPS=1 (through sudo when not root), serialising installs
# with flock so a concurrent run then finds what the first installed.
deps_main() {
	local found
	if found="$(find_dep)"; then
		report_dep "$found"
		exit 0
	fi
	if ! is_root && [[ "${VIGIL_INSTALL_DEPS:-}" == "1" ]] && command -v sudo >/dev/null 2>&1; then
		log "$WHAT not found; installing it with sudo"
		if found="$(sudo VIGIL_INSTALL_DEPS=1 CI="${CI:-}" "$0")" && [[ -n "$found" ]]; then
			printf '%s\n' "$found"
			exit 0
		fi
		unavailable "$WHAT not found, and installing it with sudo failed"
	fi
	if ! is_root || ! { is_ci || [[ "${VIGIL_INSTALL_DEPS:-}" == "1" ]]; }; then
		unavailable "$WHAT not found"
	fi
	if command -v flock >/dev/null 2>&1 && mkdir -p "$(dirname "$LOCK_FILE")" 2>/dev/null; then
		exec 9>"$LOCK_FILE"
		flock 9
	fi
	if ! found="$(find_dep)"; then
		install_dep || log "installing $WHAT failed"
		found="$(find_dep)" || unavailable "$WHAT not found after trying to install it"
	fi
	report_dep "$found"
}
