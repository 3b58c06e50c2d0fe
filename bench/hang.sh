#!/usr/bin/env bash
# bench/hang.sh: time from a worker's hang to its replacement serving, on
# 127.0.0.1 only, bounded in runs and time.
#
# A pool runs the hello backend with pingInterval 1 s and pingResponseTime
# 1 s (the defaults are 30 s and 90 s) and an HTTP pingPath: a TCP connect
# alone cannot see a hang, since the kernel completes connections to a
# stopped process's listening socket. Each run finds the worker's pid,
# stops it with SIGSTOP (a hang: the process exists, accepts nothing) and
# polls the site every 10 ms until a 200 comes from a different worker;
# the time from the SIGSTOP to that answer is the figure. RUNS (default 7)
# runs; the median goes to bench/out/hang.md. Environment: RUNS, BASE_PORT
# (19180), PING_INTERVAL, PING_RESPONSE (both 00:00:01).
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-7}
BASE_PORT=${BASE_PORT:-19180}
PING_INTERVAL=${PING_INTERVAL:-00:00:01}
PING_RESPONSE=${PING_RESPONSE:-00:00:01}
command -v curl >/dev/null 2>&1 || { echo "hang.sh: needs curl (apt-get install curl)" >&2; exit 1; }
if (exec 3<>"/dev/tcp/127.0.0.1/$BASE_PORT") 2>/dev/null; then
	echo "hang.sh: port $BASE_PORT is in use; set BASE_PORT" >&2
	exit 1
fi

tmp=$(mktemp -d)
host_pid=
cleanup() {
	[ -n "$host_pid" ] && kill "$host_pid" 2>/dev/null && wait "$host_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

go build -o "$tmp/poolctl" .
go build -o "$tmp/hello" ./bench/hello
chmod 0755 "$tmp"
export POOLCTL_CONFIG="$tmp/etc/applicationHost.toml" POOLCTL_SOCKET="$tmp/host.sock"
pc() { "$tmp/poolctl" "$@"; }
pc set site "Default Web Site" "/bindings:http/127.0.0.1:$BASE_PORT:" >/dev/null
pc add apppool /name:Hang "/processModel.command:/bin/sh -c 'exec $tmp/hello -addr 127.0.0.1:\$PORT'" \
	/startMode:AlwaysRunning /processModel.idleTimeout:0 /processModel.identityType:LocalSystem /processModel.pingPath:/ \
	"/processModel.pingInterval:$PING_INTERVAL" "/processModel.pingResponseTime:$PING_RESPONSE" \
	/failure.rapidFailProtectionMaxCrashes:1000 >/dev/null
pc set app "Default Web Site/" /applicationPool:Hang >/dev/null
"$tmp/poolctl" host --state-dir "$tmp/state" >"$tmp/host.log" 2>&1 &
host_pid=$!

now_ms() { date +%s%3N; }
worker_pid() { pc list wp /apppool.name:Hang /text:wp.name | head -1; }
wait_worker() { # bounded: until one Ready worker other than $1 serves 200
	for _ in $(seq 1 1000); do
		p=$(worker_pid 2>/dev/null || true)
		if [ -n "$p" ] && [ "$p" != "${1:-}" ] && [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://127.0.0.1:$BASE_PORT/")" = 200 ]; then
			echo "$p"
			return 0
		fi
		sleep 0.01
	done
	echo "hang.sh: no serving worker" >&2
	cat "$tmp/host.log" >&2
	exit 1
}

old=$(wait_worker "")
: >"$tmp/times"
for run in $(seq 1 "$RUNS"); do
	t0=$(now_ms)
	kill -STOP "$old"
	new=
	for _ in $(seq 1 2000); do # at most 20 s
		if [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 0.5 "http://127.0.0.1:$BASE_PORT/")" = 200 ]; then
			new=$(worker_pid)
			[ -n "$new" ] && [ "$new" != "$old" ] && break
		fi
		sleep 0.01
	done
	t1=$(now_ms)
	[ -n "$new" ] && [ "$new" != "$old" ] || { echo "hang.sh: run $run: no replacement within 20 s" >&2; cat "$tmp/host.log" >&2; exit 1; }
	echo $((t1 - t0)) >>"$tmp/times"
	echo "  run $run: worker $old hung, $new serving after $((t1 - t0)) ms" >&2
	kill -CONT "$old" 2>/dev/null || true
	old=$new
done
median=$(sort -n "$tmp/times" | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}')
mkdir -p bench/out
{
	echo "# Hang to replacement: measured $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo
	echo "\`bash bench/hang.sh\`: pingInterval $PING_INTERVAL, pingResponseTime $PING_RESPONSE, $RUNS runs, nproc $(nproc)."
	echo
	echo "Median time from SIGSTOP of the worker to the first 200 from its replacement: **$median ms** (runs: $(tr '\n' ' ' <"$tmp/times"))."
} | tee bench/out/hang.md
