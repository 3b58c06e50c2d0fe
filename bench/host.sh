#!/usr/bin/env bash
# bench/host.sh: poolctl host measured side by side with the same backend
# reached directly and through nginx proxy_pass, in one run, on 127.0.0.1
# only. Every load is bounded by wrk's duration.
#
# 1. Throughput and latency: `wrk -t1 -c32 -d$DURATION --latency` against
#    the hello backend directly, through `poolctl host` (a pool running the
#    same binary) and through nginx (upstream keepalive 64); forward order,
#    then reverse order to even out drift.
# 2. Recycles under load: wrk on the host for $RECYCLE_DURATION while
#    `poolctl recycle apppool Bench` runs every $RECYCLE_EVERY seconds;
#    failed requests (non-2xx, socket errors) and p99 against a run without
#    recycles.
# 3. Cold start: `poolctl start apppool Cold` then the time to the first
#    byte of the first request (the worker starts on demand), $COLD_RUNS
#    times; median.
# 4. Host memory: RSS of `poolctl host` with 100 configured pools (and one
#    running worker), at rest after start-up and again after the load runs.
#
# Environment: DURATION (10s), RECYCLE_DURATION (20s), RECYCLE_EVERY (2),
# COLD_RUNS (10), BASE_PORT (19080). Writes bench/out/host.md.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
RECYCLE_DURATION=${RECYCLE_DURATION:-20s}
RECYCLE_EVERY=${RECYCLE_EVERY:-2}
COLD_RUNS=${COLD_RUNS:-10}
BASE_PORT=${BASE_PORT:-19080}
CONNS=32
HELLO_PORT=$BASE_PORT
HOST_PORT=$((BASE_PORT + 1))
NGINX_PORT=$((BASE_PORT + 2))
COLD_PORT=$((BASE_PORT + 3))

. bench/lib.sh
need_tools host.sh nginx-light:nginx wrk:wrk curl:curl

ports_free host.sh "$BASE_PORT" $((BASE_PORT + 3))

bench_cleanup_extra() {
	[ -f "$tmp/nginx/nginx.pid" ] && kill "$(cat "$tmp/nginx/nginx.pid")" 2>/dev/null || true
}
bench_workdir

go build -o "$tmp/poolctl" .
go build -o "$tmp/hello" ./bench/hello
chmod 0755 "$tmp" # workers run as their pool's own uid: they must reach hello
export POOLCTL_CONFIG="$tmp/etc/applicationHost.toml" POOLCTL_SOCKET="$tmp/host.sock"
pc() { "$tmp/poolctl" "$@"; }

# The backend, directly.
"$tmp/hello" -addr "127.0.0.1:$HELLO_PORT" >"$tmp/hello.log" 2>&1 &
pids+=($!)

# The host: pool Bench runs the same backend on the port the host gives it.
pc set site "Default Web Site" "/bindings:http/127.0.0.1:$HOST_PORT:" >/dev/null
pc add apppool /name:Bench "/processModel.command:/bin/sh -c 'exec $tmp/hello -addr 127.0.0.1:\$PORT'" \
	/startMode:AlwaysRunning /processModel.idleTimeout:0 >/dev/null
pc set app "Default Web Site/" /applicationPool:Bench >/dev/null
pc add apppool /name:Cold "/processModel.command:/bin/sh -c 'exec $tmp/hello -addr 127.0.0.1:\$PORT'" /autoStart:false >/dev/null
pc add site /name:Cold "/bindings:http/127.0.0.1:$COLD_PORT:" "/physicalPath:$tmp" /applicationPool:Cold >/dev/null
for i in $(seq 1 97); do
	pc add apppool "/name:Idle$i" >/dev/null
done
"$tmp/poolctl" host --state-dir "$tmp/state" >"$tmp/host.log" 2>&1 &
host_pid=$!
pids+=($host_pid)

start_nginx "$tmp/nginx" "$HELLO_PORT" "$NGINX_PORT"

wait_200() { # PORT: bounded wait until the port answers 200
	for _ in $(seq 1 300); do
		if [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://127.0.0.1:$1/")" = 200 ]; then return 0; fi
		sleep 0.05
	done
	echo "host.sh: port $1 does not answer 200" >&2
	cat "$tmp/host.log" >&2
	exit 1
}
for p in "$HELLO_PORT" "$HOST_PORT" "$NGINX_PORT"; do wait_200 "$p"; done
sleep 1 # let start-up garbage be collected before reading the resting RSS
rss_idle_kb=$(awk '/^VmRSS:/ {print $2}' "/proc/$host_pid/status")

# wrk_run NAME PORT DURATION: prints "rps p50 p99 failures"
wrk_run() {
	local out="$tmp/wrk.$1.txt"
	wrk -t1 -c"$CONNS" -d"$3" --latency "http://127.0.0.1:$2/" >"$out"
	wrk_summary "$out"
}

echo "1. throughput: wrk -t1 -c$CONNS -d$DURATION --latency (forward, then reverse order)" >&2
names=(direct host nginx)
ports=("$HELLO_PORT" "$HOST_PORT" "$NGINX_PORT")
: >"$tmp/tput"
for order in "0 1 2" "2 1 0"; do
	for i in $order; do
		r=$(wrk_run "${names[$i]}" "${ports[$i]}" "$DURATION")
		echo "${names[$i]} $r" >>"$tmp/tput"
		echo "  ${names[$i]}: $r (req/s p50 p99 failures)" >&2
	done
done

echo "2. recycles under load: wrk -d$RECYCLE_DURATION on the host, recycle every ${RECYCLE_EVERY}s" >&2
base=$(wrk_run host-baseline "$HOST_PORT" "$RECYCLE_DURATION")
wrk -t1 -c"$CONNS" -d"$RECYCLE_DURATION" --latency "http://127.0.0.1:$HOST_PORT/" >"$tmp/wrk.recycle.txt" &
wrk_pid=$!
recycles=0
recycle_failures=0
secs=${RECYCLE_DURATION%s}
for _ in $(seq 1 $((secs / RECYCLE_EVERY - 1))); do
	sleep "$RECYCLE_EVERY"
	if pc recycle apppool Bench >>"$tmp/recycle.log" 2>&1; then recycles=$((recycles + 1)); else recycle_failures=$((recycle_failures + 1)); fi
done
wait "$wrk_pid"
out="$tmp/wrk.recycle.txt"
rec=$(wrk_summary "$out")
total=$(awk '/requests in/ {print $1}' "$out")
echo "  baseline: $base; with $recycles recycles ($recycle_failures failed): $rec; $total requests" >&2

echo "3. cold start: start apppool Cold, then time to first byte, $COLD_RUNS runs" >&2
: >"$tmp/cold"
for _ in $(seq 1 "$COLD_RUNS"); do
	pc start apppool Cold >/dev/null
	curl -s -o /dev/null -w '%{time_starttransfer}\n' --max-time 30 "http://127.0.0.1:$COLD_PORT/" >>"$tmp/cold"
	pc stop apppool Cold >/dev/null
done
cold_median=$(sort -n "$tmp/cold" | awk '{a[NR]=$1} END {m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; printf "%.1f", m * 1000}')

echo "4. host memory with 100 pools" >&2
[ "$(pc list apppool /text:name | wc -l)" = 100 ] || { echo "host.sh: expected 100 pools" >&2; exit 1; }
rss_load_kb=$(awk '/^VmRSS:/ {print $2}' "/proc/$host_pid/status")

{
	echo "# poolctl host: measured $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo
	echo "Machine: nproc $(nproc), $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo); $("$NGINX" -v 2>&1 | sed 's/.*: //'); $(wrk -v 2>&1 | head -1 | awk '{print $1, $2}'); $(go version | awk '{print $3}'). Command: \`bash bench/host.sh\`."
	echo
	echo "## Throughput and latency (wrk -t1 -c$CONNS -d$DURATION, 100-byte answers; mean of 2 passes)"
	echo
	echo "| path | req/s | vs direct | vs nginx | p50 ms | p99 ms | failures |"
	echo "|---|---|---|---|---|---|---|"
	awk '{ r[$1] += $2; a[$1] += $3; b[$1] += $4; f[$1] += $5; n[$1]++ }
	     END { for (k in n) { R[k] = r[k] / n[k] }
	           split("direct host nginx", o, " ")
	           for (i = 1; i <= 3; i++) { k = o[i]
	             printf "| %s | %.0f | %.2f | %.2f | %.2f | %.2f | %d |\n", k, R[k], R[k] / R["direct"], R[k] / R["nginx"], a[k] / n[k], b[k] / n[k], f[k] } }' "$tmp/tput"
	echo
	echo "## Recycles under load (wrk -t1 -c$CONNS -d$RECYCLE_DURATION on the host)"
	echo
	echo "| run | req/s | p50 ms | p99 ms | failed requests |"
	echo "|---|---|---|---|---|"
	echo "$base" | awk '{printf "| no recycles | %.0f | %.2f | %.2f | %d |\n", $1, $2, $3, $4}'
	echo "$rec" | awk -v n="$recycles" '{printf "| %d recycles, one every '"$RECYCLE_EVERY"' s | %.0f | %.2f | %.2f | %d |\n", n, $1, $2, $3, $4}'
	echo
	echo "Failed recycle commands: $recycle_failures. Requests during the recycle run: $total."
	echo
	echo "## Cold start"
	echo
	echo "Median time from \`poolctl start apppool\` returning to the first byte of the first request (the worker starts on demand): **${cold_median} ms** over $COLD_RUNS runs."
	echo
	echo "## Host memory"
	echo
	echo "RSS of \`poolctl host\` with 100 configured pools (Bench running one worker; the others idle, on demand or stopped): **$((rss_idle_kb / 1024)) MiB** ($rss_idle_kb KB) at rest after start-up, $((rss_load_kb / 1024)) MiB ($rss_load_kb KB) after the load runs above."
} | tee bench/out/host.md
