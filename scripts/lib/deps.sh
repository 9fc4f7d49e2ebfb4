# deps.sh - shared by the scripts that find or install one test dependency
# (prometheus-deps.sh, python-deps.sh). Source it after setting:
#   PROG        the script's name, for messages
#   LOCK_FILE   the flock file serialising installs
#   WHAT        what is looked for, e.g. "prometheus"
#   NEEDED_FOR  what needs it, e.g. "the tests against a real Prometheus"
#   SKIP_HINT   how a user gets it without this script
# and defining find_dep (prints the path or fails), install_dep (root
# only) and report_dep PATH (logs and prints it); then call deps_main "$@".

readonly APT_LOCK_TIMEOUT=300 # seconds to wait for another dpkg run

log() { printf '%s: %s\n' "$PROG" "$*" >&2; }
is_ci() { [[ "${CI:-}" == "true" ]]; }
is_root() { [[ "$(id -u)" -eq 0 ]]; }

# unavailable reports why there is nothing to use: fatal under CI only.
unavailable() {
	if is_ci; then
		log "ERROR: $* (CI=true: $NEEDED_FOR are required)"
		exit 1
	fi
	log "$*: $NEEDED_FOR will skip ($SKIP_HINT)"
	exit 0
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
