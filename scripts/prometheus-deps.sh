#!/usr/bin/env bash
# prometheus-deps.sh - find (or install) the Prometheus server binary that the
# share-metrics tests run (internal/prometheustest).
#
# Usage: scripts/prometheus-deps.sh   (scripts/test-deps.sh and make demo run it)
#
# On success it prints the binary's absolute path on stdout;
# scripts/test-deps.sh exports it as VIGIL_PROMETHEUS_BIN. Messages go to
# stderr.
#
# The binary is taken from, in order: $VIGIL_PROMETHEUS_BIN, `prometheus` on
# PATH, /usr/bin/prometheus. A candidate counts only if `--version` runs.
# When none is found:
#   * as root with CI=true or VIGIL_INSTALL_DEPS=1 (not root: through sudo,
#     with VIGIL_INSTALL_DEPS=1, as `make demo` sets), Debian's `prometheus`
#     package is installed with apt-get (--no-install-recommends). The package's
#     service is NOT started: a policy-rc.d that forbids service starts is put in
#     place for the install when none exists, any prometheus process that
#     appears during the install is stopped again, and on systemd hosts the
#     unit the package enables is disabled (tests run the binary themselves,
#     and a server listening on :9090 at every boot is not wanted);
#   * with CI=true the script fails (exit 1): the tests against a real
#     Prometheus are required there;
#   * otherwise it prints a notice and exits 0 with nothing on stdout; those
#     tests then skip.
#
# The script is idempotent (a found binary means nothing is installed) and
# safe to run concurrently: installs are serialised with flock when available.

set -euo pipefail

readonly PROG="prometheus-deps"
readonly LOCK_FILE="/run/lock/vigil-prometheus-deps.lock"
readonly WHAT="prometheus"
readonly NEEDED_FOR="the tests against a real Prometheus"
readonly SKIP_HINT="install Debian's prometheus package, rerun as root with VIGIL_INSTALL_DEPS=1, or set VIGIL_PROMETHEUS_BIN"
# shellcheck source=lib/deps.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/deps.sh"

# usable BIN succeeds when BIN is an executable Prometheus server.
usable() {
	[[ -n "$1" && -f "$1" && -x "$1" ]] && "$1" --version >/dev/null 2>&1
}

# find_dep prints the absolute path of a usable binary, or fails.
find_dep() {
	local c
	if c="$(first_usable "${VIGIL_PROMETHEUS_BIN:-}" "$(command -v prometheus 2>/dev/null)" /usr/bin/prometheus)"; then
		readlink -f -- "$c"
		return 0
	fi
	if [[ -n "${VIGIL_PROMETHEUS_BIN:-}" ]]; then
		log "VIGIL_PROMETHEUS_BIN=$VIGIL_PROMETHEUS_BIN is not a working prometheus binary"
	fi
	return 1
}

# server_pids prints the pids of running prometheus processes, sorted.
server_pids() {
	if command -v pgrep >/dev/null 2>&1; then
		pgrep -x prometheus 2>/dev/null | sort || true
	else
		local p
		for p in /proc/[0-9]*; do
			[[ "$(cat "$p/comm" 2>/dev/null)" == "prometheus" ]] && printf '%s\n' "${p#/proc/}"
		done | sort
	fi
}

POLICY_RC="/usr/sbin/policy-rc.d"
POLICY_CREATED=""

# shellcheck disable=SC2317 # invoked via trap
remove_policy() {
	if [[ -n "$POLICY_CREATED" ]]; then
		rm -f -- "$POLICY_RC"
		POLICY_CREATED=""
	fi
}

# install_dep installs Debian's prometheus package without starting
# its service (root only).
install_dep() {
	command -v apt-get >/dev/null 2>&1 || {
		log "apt-get not available; cannot install Prometheus"
		return 1
	}
	if [[ ! -e "$POLICY_RC" ]]; then
		# 101 = "action forbidden": invoke-rc.d and deb-systemd-invoke then
		# skip starting the package's service.
		printf '#!/bin/sh\n# temporary, from vigil scripts/prometheus-deps.sh\nexit 101\n' >"$POLICY_RC"
		chmod 0755 "$POLICY_RC"
		POLICY_CREATED=1
		trap remove_policy EXIT
	fi
	local before after started pid rc=0
	before="$(server_pids)"
	log "Prometheus not found; installing it: apt-get update && apt-get install -y --no-install-recommends prometheus"
	apt_install prometheus || rc=$?
	remove_policy

	if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null 2>&1; then
		if systemctl disable --now prometheus.service >/dev/null 2>&1; then
			log "disabled and stopped the prometheus.service unit the package enabled"
		fi
	fi
	after="$(server_pids)"
	started="$(comm -13 <(printf '%s\n' "$before") <(printf '%s\n' "$after") | sed '/^$/d')"
	if [[ -n "$started" ]]; then
		log "the install started a Prometheus service (pids: $(echo "$started" | tr '\n' ' ')); stopping it"
		if command -v invoke-rc.d >/dev/null 2>&1; then
			invoke-rc.d --force prometheus stop >/dev/null 2>&1 || true
		fi
		for pid in $started; do
			kill -TERM "$pid" 2>/dev/null || true
		done
	fi
	return "$rc"
}

report_dep() {
	log "using $1 ($("$1" --version 2>&1 | head -n 1))"
	printf '%s\n' "$1"
}

deps_main "$@"
