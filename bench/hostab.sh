#!/usr/bin/env bash
# bench/hostab.sh: the host's CPU per request, two poolctl binaries side by
# side, alternating, on 127.0.0.1 only. Each run starts a host of the binary
# with one AlwaysRunning pool of bench/hello, warms it with wrk for 3 s,
# then reads the host's user+system CPU from /proc around a
# `wrk -t1 -c32 -d$DURATION` run and divides it by the requests served.
#
# Usage: bash bench/hostab.sh OLD_BINARY NEW_BINARY
#        ROUNDS=3 DURATION=10s BASE_PORT=19581 bash bench/hostab.sh a b
# Build an older binary with, for example:
#        git archive REV | tar -x -C /tmp/old && (cd /tmp/old && go build -o /tmp/poolctl-old .)
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# = 2 ] || { echo "usage: bash bench/hostab.sh OLD_BINARY NEW_BINARY" >&2; exit 2; }
ROUNDS=${ROUNDS:-2}
DURATION=${DURATION:-10s}
PORT=${BASE_PORT:-19581}

. bench/lib.sh
need_tools hostab.sh wrk:wrk curl:curl
ports_free hostab.sh "$PORT" "$PORT"
bench_workdir
cp "$1" "$tmp/poolctl-a"
cp "$2" "$tmp/poolctl-b"
go build -o "$tmp/hello" ./bench/hello
chmod 0755 "$tmp" # workers run as their pool's own uid: they must reach hello
tck=$(getconf CLK_TCK)

for round in $(seq 1 "$ROUNDS"); do
	for v in a b; do
		d=$tmp/run-$round-$v
		mkdir -p "$d" && chmod 0755 "$d"
		pc() { POOLCTL_CONFIG=$d/store.toml POOLCTL_SOCKET=$d/host.sock "$tmp/poolctl-$v" "$@"; }
		pc set site "Default Web Site" "/bindings:http/127.0.0.1:$PORT:" >/dev/null
		pc add apppool /name:Bench "/processModel.command:/bin/sh -c 'exec $tmp/hello -addr 127.0.0.1:\$PORT'" \
			/startMode:AlwaysRunning /processModel.idleTimeout:0 >/dev/null
		pc set app "Default Web Site/" /applicationPool:Bench >/dev/null
		# exec: $! is then the host itself, not a subshell around it
		POOLCTL_CONFIG=$d/store.toml POOLCTL_SOCKET=$d/host.sock exec "$tmp/poolctl-$v" host --state-dir "$d/state" >"$d/host.log" 2>&1 &
		host=$!
		pids+=("$host")
		for _ in $(seq 1 300); do
			curl -s -o /dev/null "http://127.0.0.1:$PORT/" && break
			sleep 0.05
		done
		wrk -t1 -c32 -d3s "http://127.0.0.1:$PORT/" >/dev/null
		t0=$(awk '{print $14 + $15}' "/proc/$host/stat")
		wrk -t1 -c32 -d"$DURATION" "http://127.0.0.1:$PORT/" >"$d/wrk.txt"
		t1=$(awk '{print $14 + $15}' "/proc/$host/stat")
		reqs=$(awk '/requests in/ {print $1}' "$d/wrk.txt")
		rps=$(awk '/Requests\/sec/ {print $2}' "$d/wrk.txt")
		name=$([ "$v" = a ] && echo "$1" || echo "$2")
		echo "round $round, $name: $rps req/s, host CPU $(awk -v d=$((t1 - t0)) -v n="$reqs" -v t="$tck" 'BEGIN {printf "%.1f", d * 1e6 / t / n}') us/req, load $(cut -d' ' -f1-3 /proc/loadavg)"
		kill "$host"
		wait "$host" || true
	done
done
