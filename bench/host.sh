#!/usr/bin/env bash
# bench/host.sh: poolctl host measured side by side with the same backend
# reached directly and through nginx proxy_pass, in one run, on 127.0.0.1
# only. Every load is bounded by wrk's duration.
#
# 1. Throughput and latency: `wrk -t1 -c32 -d$DURATION --latency` against
#    the hello backend directly, through `poolctl host` (a pool running the
#    same binary) and through nginx (upstream keepalive 64); forward order,
#    then reverse order to even out drift. Also through HTTPS (keep-alive,
#    a self-signed P-256 certificate: the host's TLS binding against an
#    nginx ssl server on the same backend) and, when the store knows
#    processModel.listen, through the host to a pool whose worker listens
#    on a unix socket; host-nethttp: a second host with
#    `--http-server net/http`, the server loop before internal/http1. And
#    nginx-worker: nginx to the host's own worker
#    process (pool Bench's, at the address `list wp` gives: its uid and
#    cgroups), the like-for-like comparison for the host row, where nginx
#    and direct reach a hello started by this script. Front CPU per
#    request: the host's (or nginx's worker's) user+system time from /proc
#    divided by the requests served.
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
HOST_TLS_PORT=$((BASE_PORT + 4))
NGINX_TLS_PORT=$((BASE_PORT + 5))
UNIX_PORT=$((BASE_PORT + 6))
NGINX_WORKER_PORT=$((BASE_PORT + 7))
APP_PORT=$((BASE_PORT + 8))
NETHTTP_PORT=$((BASE_PORT + 9))

. bench/lib.sh
need_tools host.sh nginx-light:nginx wrk:wrk curl:curl openssl:openssl

ports_free host.sh "$BASE_PORT" $((BASE_PORT + 9))

bench_cleanup_extra() {
	[ -f "$tmp/nginx/nginx.pid" ] && kill "$(cat "$tmp/nginx/nginx.pid")" 2>/dev/null || true
}
bench_workdir

go build -o "$tmp/poolctl" .
go build -o "$tmp/hello" ./bench/hello
go build -o "$tmp/appstart" ./bench/appstart
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
# HTTPS: the same site on a TLS binding.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
	-keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null
pc set site "Default Web Site" "/+bindings.[protocol='https',bindingInformation='127.0.0.1:$HOST_TLS_PORT:',certificateFile='$tmp/cert.pem',keyFile='$tmp/key.pem']" >/dev/null
# A pool whose worker listens on a unix socket, when the store has
# processModel.listen.
with_unix=0
if pc add apppool /name:BenchUnix "/processModel.command:/bin/sh -c 'exec $tmp/hello -addr unix:\$POOLCTL_LISTEN'" \
	/processModel.listen:unix /startMode:AlwaysRunning /processModel.idleTimeout:0 >/dev/null 2>&1; then
	pc add site /name:Unix "/bindings:http/127.0.0.1:$UNIX_PORT:" "/physicalPath:$tmp" /applicationPool:BenchUnix >/dev/null
	with_unix=1
fi
idle=97
[ "$with_unix" = 1 ] && idle=96
for i in $(seq 1 "$idle"); do
	pc add apppool "/name:Idle$i" >/dev/null
done
"$tmp/poolctl" host --state-dir "$tmp/state" >"$tmp/host.log" 2>&1 &
host_pid=$!
pids+=($host_pid)
# host-nethttp: a second host, --http-server net/http (the loop before
# internal/http1), with its own store and one pool of the same backend.
pc2() { POOLCTL_CONFIG="$tmp/etc2/applicationHost.toml" POOLCTL_SOCKET="$tmp/host2.sock" "$tmp/poolctl" "$@"; }
pc2 set site "Default Web Site" "/bindings:http/127.0.0.1:$NETHTTP_PORT:" >/dev/null
pc2 add apppool /name:BenchNet "/processModel.command:/bin/sh -c 'exec $tmp/hello -addr 127.0.0.1:\$PORT'" \
	/startMode:AlwaysRunning /processModel.idleTimeout:0 >/dev/null
pc2 set app "Default Web Site/" /applicationPool:BenchNet >/dev/null
POOLCTL_CONFIG="$tmp/etc2/applicationHost.toml" POOLCTL_SOCKET="$tmp/host2.sock" \
	"$tmp/poolctl" host --http-server net/http --state-dir "$tmp/state2" >"$tmp/host2.log" 2>&1 &
host2_pid=$!
pids+=($host2_pid)

wait_200() { # URL: bounded wait until it answers 200
	for _ in $(seq 1 300); do
		if [ "$(curl -sk -o /dev/null -w '%{http_code}' --max-time 1 "$1")" = 200 ]; then return 0; fi
		sleep 0.05
	done
	echo "host.sh: $1 does not answer 200" >&2
	cat "$tmp/host.log" >&2
	exit 1
}
# nginx-worker needs the address of pool Bench's worker.
wait_200 "http://127.0.0.1:$HOST_PORT/"
worker_addr=$(pc list wp /apppool.name:Bench /text:address | head -1)
case $worker_addr in 127.0.0.1:[0-9]*) ;; *) echo "host.sh: no address for pool Bench's worker: '$worker_addr'" >&2; exit 1 ;; esac

start_nginx "$tmp/nginx" "$HELLO_PORT" "$NGINX_PORT" "	upstream w { server $worker_addr; keepalive 64; }
	server {
		listen 127.0.0.1:$NGINX_WORKER_PORT;
		location / { proxy_pass http://w; proxy_http_version 1.1; proxy_set_header Connection \"\"; }
	}
	server {
		listen 127.0.0.1:$NGINX_TLS_PORT ssl;
		ssl_certificate $tmp/cert.pem;
		ssl_certificate_key $tmp/key.pem;
		location / { proxy_pass http://u; proxy_http_version 1.1; proxy_set_header Connection \"\"; }
	}"

for p in "$HELLO_PORT" "$HOST_PORT" "$NGINX_PORT" "$NGINX_WORKER_PORT" "$NETHTTP_PORT"; do wait_200 "http://127.0.0.1:$p/"; done
for p in "$HOST_TLS_PORT" "$NGINX_TLS_PORT"; do wait_200 "https://127.0.0.1:$p/"; done
[ "$with_unix" = 1 ] && wait_200 "http://127.0.0.1:$UNIX_PORT/"
nginx_worker=$(pgrep -P "$(cat "$tmp/nginx/nginx.pid")" | head -1)
hello_pid=${pids[0]}
sleep 1 # let start-up garbage be collected before reading the resting RSS
rss_idle_kb=$(awk '/^VmRSS:/ {print $2}' "/proc/$host_pid/status")

# wrk_run NAME PORT DURATION [SCHEME]: prints "rps p50 p99 failures"
wrk_run() {
	local out="$tmp/wrk.$1.txt"
	wrk -t1 -c"$CONNS" -d"$3" --latency "${4:-http}://127.0.0.1:$2/" >"$out"
	wrk_summary "$out"
}

# cpu_ticks PID: user+system clock ticks used so far by PID.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
TCK=$(getconf CLK_TCK)

echo "1. throughput: wrk -t1 -c$CONNS -d$DURATION --latency (forward, then reverse order)" >&2
names=(direct host nginx nginx-worker host-nethttp host-tls nginx-tls)
ports=("$HELLO_PORT" "$HOST_PORT" "$NGINX_PORT" "$NGINX_WORKER_PORT" "$NETHTTP_PORT" "$HOST_TLS_PORT" "$NGINX_TLS_PORT")
schemes=(http http http http http https https)
fronts=("$hello_pid" "$host_pid" "$nginx_worker" "$nginx_worker" "$host2_pid" "$host_pid" "$nginx_worker")
if [ "$with_unix" = 1 ]; then
	names+=(host-unix)
	ports+=("$UNIX_PORT")
	schemes+=(http)
	fronts+=("$host_pid")
fi
: >"$tmp/tput"
n=${#names[@]}
for order in "$(seq 0 $((n - 1)))" "$(seq $((n - 1)) -1 0)"; do
	for i in $order; do
		f0=$(cpu_ticks "${fronts[$i]}")
		r=$(wrk_run "${names[$i]}" "${ports[$i]}" "$DURATION" "${schemes[$i]}")
		f1=$(cpu_ticks "${fronts[$i]}")
		reqs=$(awk '/requests in/ {print $1}' "$tmp/wrk.${names[$i]}.txt")
		fus=$(awk -v d=$((f1 - f0)) -v n="$reqs" -v t="$TCK" 'BEGIN {printf "%.1f", d * 1e6 / t / n}')
		echo "${names[$i]} $r $fus" >>"$tmp/tput"
		echo "  ${names[$i]}: $r $fus (req/s p50 p99 failures front-us/req) load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
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
# The same application started by hand, no poolctl: exec to its first 200.
: >"$tmp/app-start.ms"
for _ in $(seq 1 "$COLD_RUNS"); do
	"$tmp/appstart" -port "$APP_PORT" -- /bin/sh -c "exec $tmp/hello -addr 127.0.0.1:\$PORT" >>"$tmp/app-start.ms"
done
app_median=$(sort -n "$tmp/app-start.ms" | awk '{a[NR]=$1} END {m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; printf "%.1f", m}')
echo "  cold start median ${cold_median} ms; the application alone ${app_median} ms" >&2

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
	echo "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg). host-tls and nginx-tls are compared with each other (vs nginx: host-tls / nginx-tls); host-unix is the host to a worker on a unix socket; host-nethttp is a second host started with \`--http-server net/http\` (net/http's server loop instead of internal/http1), its own pool of the same backend; nginx-worker is nginx to the host's own worker process (pool Bench's, its uid and cgroups), where nginx and direct reach a hello this script started."
	echo
	echo "| path | req/s | vs direct | vs nginx | p50 ms | p99 ms | front CPU us/req | failures |"
	echo "|---|---|---|---|---|---|---|---|"
	awk -v names="${names[*]}" '{ r[$1] += $2; a[$1] += $3; b[$1] += $4; f[$1] += $5; c[$1] += $6; n[$1]++ }
	     END { for (k in n) { R[k] = r[k] / n[k] }
	           m = split(names, o, " ")
	           for (i = 1; i <= m; i++) { k = o[i]; g = (k ~ /tls$/) ? R["nginx-tls"] : R["nginx"]
	             fc = k == "direct" ? "-" : sprintf("%.1f", c[k] / n[k])
	             printf "| %s | %.0f | %.2f | %.2f | %.2f | %.2f | %s | %d |\n", k, R[k], R[k] / R["direct"], R[k] / g, a[k] / n[k], b[k] / n[k], fc, f[k] } }' "$tmp/tput"
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
	echo "Median time from \`poolctl start apppool\` returning to the first byte of the first request (the worker starts on demand): **${cold_median} ms** over $COLD_RUNS runs. The same application started by hand (\`bench/appstart\`: exec to its first 200, no poolctl): **${app_median} ms**; poolctl's part is the difference."
	echo
	echo "## Host memory"
	echo
	echo "RSS of \`poolctl host\` with 100 configured pools (Bench running one worker; the others idle, on demand or stopped): **$((rss_idle_kb / 1024)) MiB** ($rss_idle_kb KB) at rest after start-up, $((rss_load_kb / 1024)) MiB ($rss_load_kb KB) after the load runs above."
} | tee bench/out/host.md
