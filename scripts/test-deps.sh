#!/usr/bin/env bash
# test-deps.sh - run a command with vigil's test dependencies available.
#
# Usage:
#   scripts/test-deps.sh CMD [ARGS...]
#   e.g. scripts/test-deps.sh go test ./...      (this is what `make test` does)
#
# What it does:
#   * scripts/npm-deps.sh installs the cross-check oracle's pinned npm packages
#     (tools/oracle; once, later runs find them up to date) and
#     VIGIL_ORACLE_DIR is exported for CMD. Without Node.js the oracle tests
#     skip, except with CI=true, where the script fails.
#   * scripts/prometheus-deps.sh finds (or, as root under CI=true or
#     VIGIL_INSTALL_DEPS=1, installs) Debian's prometheus binary and
#     VIGIL_PROMETHEUS_BIN is exported for the share-metrics tests.
#   * scripts/python-deps.sh finds (or, likewise, installs) a python3 that
#     imports `cryptography` (Debian's python3-cryptography) and VIGIL_PYTHON
#     is exported for the session-encryption cross-checks (internal/pyoracle);
#     a VIGIL_PYTHON that cannot import it is unset.
#   * scripts/chromium-deps.sh finds (or, likewise, installs) Debian's
#     chromium and VIGIL_CHROMIUM is exported for the web console's browser
#     tests (internal/demo).
#   * Without Prometheus, that python3 or Chromium those tests skip, except
#     with CI=true, where the script fails.
#   * If VIGIL_TEST_POSTGRES_URL is already set and that server answers, it is
#     reused and nothing is started.
#   * Otherwise a throwaway PostgreSQL server is started: fresh data directory
#     from `mktemp -d`, trust auth for user "vigil", listening only on
#     127.0.0.1 on a random free port, with durability turned off for speed.
#     VIGIL_TEST_POSTGRES_URL is exported for CMD, and the server is stopped and
#     its directory removed when the script exits (also on failure, Ctrl-C or
#     SIGTERM; bash handles a SIGTERM sent to this script alone once CMD has
#     exited, so send it to the process group to stop CMD as well).
#   * The script exits with CMD's exit status.
#
# PostgreSQL binaries are taken from /usr/lib/postgresql/<highest>/bin, or from
# PATH (or `pg_config --bindir`). When they are missing:
#   * as root with CI=true or VIGIL_INSTALL_DEPS=1, Debian's `postgresql`
#     package is installed with apt-get;
#   * with CI=true the script fails (exit 1) without running CMD;
#   * otherwise a notice is printed and CMD runs without VIGIL_TEST_POSTGRES_URL
#     (store tests then run on SQLite only).
# If the throwaway server fails to start, CI=true makes the script fail
# (exit 1); otherwise it warns and runs CMD without the variable.
#
# When run as root, initdb/postgres run as the `postgres` user (or `nobody`).
# The script is idempotent and safe to run several times concurrently: every
# run uses its own directory and port.

set -euo pipefail

readonly PROG="test-deps"
readonly PG_USER_NAME="vigil"
readonly READY_TIMEOUT=30 # seconds to wait for the server to accept connections
readonly PORT_ATTEMPTS=5  # how many random ports to try

# shellcheck source=lib/deps.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/deps.sh"

if [[ $# -eq 0 ]]; then
	printf 'usage: %s CMD [ARGS...]\n' "$0" >&2
	exit 2
fi

# ---------------------------------------------------------------------------
# 0. The npm cross-check oracle (fails here under CI=true when unavailable).
oracle="$("$(dirname "${BASH_SOURCE[0]}")/npm-deps.sh")" || die "npm-deps.sh failed"
if [[ -n "$oracle" ]]; then
	VIGIL_ORACLE_DIR="$(dirname "$oracle")"
	export VIGIL_ORACLE_DIR
fi

# export_dep VAR SCRIPT exports VAR as the path SCRIPT finds (it installs
# what is missing as root under CI=true or VIGIL_INSTALL_DEPS=1, and fails
# under CI=true when it cannot), or unsets VAR when it finds nothing, so
# that the tests needing it skip instead of using an unusable one.
export_dep() {
	local found
	found="$("$(dirname "${BASH_SOURCE[0]}")/$2")" || die "$2 failed"
	if [[ -n "$found" ]]; then
		export "$1=$found"
	else
		unset "$1"
	fi
}

# 0b. The Prometheus server binary that the share-metrics tests start.
export_dep VIGIL_PROMETHEUS_BIN prometheus-deps.sh
# 0c. The python3 with `cryptography` and `numpy` that the Python
# cross-checks run (internal/pyoracle).
export_dep VIGIL_PYTHON python-deps.sh
# 0d. The headless Chromium that the web console's browser tests drive.
export_dep VIGIL_CHROMIUM chromium-deps.sh

# redact_url prints a URL with any password replaced by "***".
redact_url() {
	printf '%s' "$1" | sed -E 's#(://[^:/@]+):[^@/]*@#\1:***@#'
}

# find_pg_bin prints the directory holding initdb, pg_ctl, postgres and
# pg_isready, or fails.
find_pg_bin() {
	local dir candidates=()
	if compgen -G '/usr/lib/postgresql/*/bin' >/dev/null; then
		mapfile -t candidates < <(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V -r)
	fi
	if command -v initdb >/dev/null 2>&1; then
		candidates+=("$(dirname "$(command -v initdb)")")
	fi
	if command -v pg_config >/dev/null 2>&1; then
		dir="$(pg_config --bindir 2>/dev/null || true)"
		[[ -n "$dir" ]] && candidates+=("$dir")
	fi
	for dir in "${candidates[@]}"; do
		if [[ -x "$dir/initdb" && -x "$dir/pg_ctl" && -x "$dir/postgres" && -x "$dir/pg_isready" ]]; then
			printf '%s\n' "$dir"
			return 0
		fi
	done
	return 1
}

# server_answers URL returns 0 when the server at URL accepts connections,
# 1 when it does not, and 10 when no client tool is available to check.
server_answers() {
	local url="$1" isready="" bin
	if bin="$(find_pg_bin)"; then
		isready="$bin/pg_isready"
	elif command -v pg_isready >/dev/null 2>&1; then
		isready="$(command -v pg_isready)"
	fi
	if [[ -n "$isready" ]]; then
		"$isready" -q -t 5 -d "$url" && return 0
		return 1
	fi
	if command -v psql >/dev/null 2>&1; then
		PGCONNECT_TIMEOUT=5 psql "$url" -Atqc 'select 1' >/dev/null 2>&1 && return 0
		return 1
	fi
	return 10
}

# install_postgres installs Debian's postgresql package (root only).
install_postgres() {
	command -v apt-get >/dev/null 2>&1 || {
		log "apt-get not available; cannot install PostgreSQL"
		return 1
	}
	log "PostgreSQL not found; installing it: apt-get update && apt-get install -y --no-install-recommends postgresql"
	apt_install postgresql
}

# ---------------------------------------------------------------------------
# 1. Reuse an existing server.
if [[ -n "${VIGIL_TEST_POSTGRES_URL:-}" ]]; then
	shown_url="$(redact_url "$VIGIL_TEST_POSTGRES_URL")"
	rc=0
	server_answers "$VIGIL_TEST_POSTGRES_URL" || rc=$?
	case "$rc" in
	0)
		log "using existing PostgreSQL at $shown_url"
		exec "$@"
		;;
	10)
		log "no pg_isready/psql to check VIGIL_TEST_POSTGRES_URL; using $shown_url as is"
		exec "$@"
		;;
	*)
		log "VIGIL_TEST_POSTGRES_URL ($shown_url) does not answer; starting a throwaway server instead"
		unset VIGIL_TEST_POSTGRES_URL
		;;
	esac
fi

# ---------------------------------------------------------------------------
# 2. Find (or install) the PostgreSQL binaries.
PG_BIN=""
if ! PG_BIN="$(find_pg_bin)"; then
	PG_BIN=""
	if is_root && { is_ci || [[ "${VIGIL_INSTALL_DEPS:-}" == "1" ]]; }; then
		install_postgres || log "installing PostgreSQL failed"
		PG_BIN="$(find_pg_bin)" || PG_BIN=""
	fi
fi
if [[ -z "$PG_BIN" ]]; then
	if is_ci; then
		die "PostgreSQL not found (CI=true): install postgresql (apt-get install postgresql, or rerun as root with VIGIL_INSTALL_DEPS=1) or set VIGIL_TEST_POSTGRES_URL"
	fi
	log "PostgreSQL not found: store tests will run on SQLite only; install postgresql or set VIGIL_TEST_POSTGRES_URL"
	exec "$@"
fi

# ---------------------------------------------------------------------------
# 3. Start a throwaway server.
PG_RUN_USER=""
if is_root; then
	if id -u postgres >/dev/null 2>&1; then
		PG_RUN_USER="postgres"
	else
		PG_RUN_USER="nobody"
	fi
fi

# as_pg runs a command as the unprivileged server user (directly when not root).
as_pg() {
	if [[ -z "$PG_RUN_USER" ]]; then
		"$@"
	elif command -v runuser >/dev/null 2>&1; then
		runuser -u "$PG_RUN_USER" -- "$@"
	else
		local cmd
		printf -v cmd '%q ' "$@"
		su -s /bin/bash -c "$cmd" "$PG_RUN_USER"
	fi
}

PG_TMP=""
PG_DATA=""
PG_PID="" # pid of the background server process (runuser/su or postgres)

# stop_server stops the throwaway server (if any) and removes its directory.
stop_server() {
	if [[ -n "$PG_PID" ]]; then
		# pg_ctl signals the postmaster (SIGQUIT for -m immediate) and waits
		# until it is gone; fall back to killing it if that does not work.
		if ! (cd "$PG_TMP" && as_pg "$PG_BIN/pg_ctl" stop -D "$PG_DATA" -m immediate -w -t 15 >/dev/null 2>&1); then
			local pid=""
			if [[ -f "$PG_DATA/postmaster.pid" ]]; then
				pid="$(head -n 1 "$PG_DATA/postmaster.pid" 2>/dev/null || true)"
			fi
			if [[ "$pid" =~ ^[0-9]+$ ]]; then
				kill -KILL "$pid" 2>/dev/null || true
			fi
			kill -TERM "$PG_PID" 2>/dev/null || true
		fi
		wait "$PG_PID" 2>/dev/null || true
		PG_PID=""
	fi
	if [[ -n "$PG_TMP" && -d "$PG_TMP" ]]; then
		rm -rf -- "$PG_TMP" || true
	fi
	PG_TMP=""
	PG_DATA=""
}

# shellcheck disable=SC2317 # invoked via trap
on_exit() {
	local rc=$?
	set +e
	stop_server
	exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# port_in_use PORT succeeds when something listens on 127.0.0.1:PORT.
port_in_use() {
	local port="$1"
	if command -v ss >/dev/null 2>&1 && [[ -n "$(ss -Hltn "sport = :$port" 2>/dev/null)" ]]; then
		return 0
	fi
	(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
}

random_free_port() {
	local port _
	for _ in {1..50}; do
		port=$(((RANDOM * 32768 + RANDOM) % 40001 + 20000))
		if ! port_in_use "$port"; then
			printf '%s\n' "$port"
			return 0
		fi
	done
	return 1
}

show_log_tail() {
	local file="$1"
	if [[ -f "$file" ]]; then
		log "last lines of $file:"
		tail -n 20 "$file" | sed 's/^/    /' >&2
	fi
}

# start_server starts the server and sets PG_PORT; fails with a message.
start_server() {
	local base="${TMPDIR:-/tmp}"
	# The unprivileged server user must be able to reach the directory, and the
	# unix socket path must stay short: use /tmp when running as root.
	is_root && base="/tmp"
	PG_TMP="$(mktemp -d "$base/vigil-test-pg.XXXXXXXX")" || {
		log "mktemp -d failed"
		return 1
	}
	PG_DATA="$PG_TMP/data"
	mkdir -p "$PG_TMP/sock" || return 1
	if [[ -n "$PG_RUN_USER" ]]; then
		chown -R "$PG_RUN_USER:" "$PG_TMP" || return 1
	fi
	# Run everything from inside the temp dir so the server user never needs
	# access to the caller's working directory.
	cd "$PG_TMP" || return 1

	if ! as_pg "$PG_BIN/initdb" -D "$PG_DATA" -A trust -U "$PG_USER_NAME" --no-sync -E UTF8 --locale=C \
		>"$PG_TMP/initdb.log" 2>&1; then
		log "initdb failed"
		show_log_tail "$PG_TMP/initdb.log"
		return 1
	fi
	cat >>"$PG_DATA/postgresql.conf" <<EOF || return 1

# --- throwaway test server settings (scripts/test-deps.sh) ---
listen_addresses = '127.0.0.1'
unix_socket_directories = '$PG_TMP/sock'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
EOF

	local attempt port logfile deadline
	for ((attempt = 1; attempt <= PORT_ATTEMPTS; attempt++)); do
		port="$(random_free_port)" || {
			log "could not find a free port in 20000-60000"
			return 1
		}
		logfile="$PG_TMP/server.$attempt.log"
		# postgres runs in the background as a child of this script (not
		# daemonized by pg_ctl), so it is always reaped and cannot outlive us
		# unnoticed.
		as_pg "$PG_BIN/postgres" -D "$PG_DATA" -p "$port" </dev/null >"$logfile" 2>&1 &
		PG_PID=$!

		# Bounded wait until pg_isready reports that connections are accepted.
		deadline=$((SECONDS + READY_TIMEOUT))
		until "$PG_BIN/pg_isready" -q -t 2 -h 127.0.0.1 -p "$port" -U "$PG_USER_NAME" -d postgres; do
			if ! kill -0 "$PG_PID" 2>/dev/null; then
				wait "$PG_PID" 2>/dev/null || true
				PG_PID=""
				break
			fi
			if ((SECONDS >= deadline)); then
				log "PostgreSQL on 127.0.0.1:$port did not accept connections within ${READY_TIMEOUT}s"
				show_log_tail "$logfile"
				return 1
			fi
			sleep 0.1
		done
		if [[ -n "$PG_PID" ]]; then
			PG_PORT="$port"
			return 0
		fi
		# The server exited. If the port was taken in the meantime (e.g. by a
		# concurrent run), try another one.
		if grep -qiE 'could not bind|address already in use|could not create any TCP/IP sockets' "$logfile"; then
			log "port $port was taken, retrying with another port"
			continue
		fi
		log "PostgreSQL failed to start on port $port"
		show_log_tail "$logfile"
		return 1
	done
	log "PostgreSQL failed to start after $PORT_ATTEMPTS attempts"
	return 1
}

PG_PORT=""
start_rc=0
# Run in the current shell (not a subshell) so PG_* state is kept for cleanup;
# restore the working directory afterwards.
orig_dir="$PWD"
start_server || start_rc=$?
cd "$orig_dir"

if [[ "$start_rc" -ne 0 ]]; then
	stop_server
	if is_ci; then
		die "could not start a throwaway PostgreSQL server (CI=true); not running tests"
	fi
	log "WARNING: could not start a throwaway PostgreSQL server: store tests will run on SQLite only"
	trap - EXIT INT TERM
	exec "$@"
fi

pg_version="$("$PG_BIN/postgres" --version 2>/dev/null | awk '{print $3}')"
export VIGIL_TEST_POSTGRES_URL="postgres://${PG_USER_NAME}@127.0.0.1:${PG_PORT}/postgres?sslmode=disable"
log "started throwaway PostgreSQL ${pg_version:-?} on 127.0.0.1:$PG_PORT (data in $PG_TMP; removed on exit)"

# ---------------------------------------------------------------------------
# 4. Run CMD; the EXIT trap stops the server and keeps CMD's exit status.
cmd_rc=0
"$@" || cmd_rc=$?
exit "$cmd_rc"
