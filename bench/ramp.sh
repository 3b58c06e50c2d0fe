#!/usr/bin/env bash
# bench/ramp.sh: latency of recycles with a worker whose listen backlog is
# small (Python's http.server: request_queue_size 5, HTTP/1.0, so every
# request opens a connection), before and after the forwarder's bounded
# dials (issue 10). 127.0.0.1 only; every load is bounded by -d.
#
# For each build -- "before" (git archive of $BEFORE_REF, default HEAD) and
# "after" (the working tree) -- a host runs pool Py (one worker, python3
# ThreadingHTTPServer on the port the host gives it), and bench/rampload
# sends C=32 keep-alive connections of GETs for $DURATION, first without
# recycles, then with `poolctl recycle apppool Py` every $RECYCLE_EVERY s.
# Reported: requests, p50, p99, max, failed requests, p99 of the requests
# sent within 500 ms after a recycle started, and the machine's TCP
# counters over the run: TcpExtTCPSynRetrans (SYNs sent again: a dial that
# waited out TCP's 1 s retransmit) and TcpExtListenOverflows (connections
# a full accept queue dropped). The counters are machine-wide: run it on a
# quiet machine.
#
# Environment: DURATION (10s), RECYCLE_EVERY (1), BEFORE_REF (HEAD),
# BASE_PORT (19180). Writes bench/out/ramp.md.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
RECYCLE_EVERY=${RECYCLE_EVERY:-1}
BEFORE_REF=${BEFORE_REF:-HEAD}
BASE_PORT=${BASE_PORT:-19180}
CONNS=32
PY=${PY:-/usr/bin/python3}

. bench/lib.sh
need_tools ramp.sh curl:curl
[ -x "$PY" ] || { echo "ramp.sh: $PY not found (set PY to a python3 every uid can run)" >&2; exit 1; }
ports_free ramp.sh "$BASE_PORT" $((BASE_PORT + 1))

bench_workdir
trap '' PIPE # a mark written after the load ended fails, not kills
chmod 0755 "$tmp"

mkdir -p "$tmp/before-src"
git archive "$BEFORE_REF" | tar -x -C "$tmp/before-src"
(cd "$tmp/before-src" && go build -o "$tmp/poolctl-before" .)
go build -o "$tmp/poolctl-after" .
go build -o "$tmp/rampload" ./bench/rampload

cat >"$tmp/worker.py" <<'PYEOF'
import http.server, os
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        b = b"hello\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)
    def log_message(self, *a):
        pass
# request_queue_size is 5 (the listen backlog), as in http.server.
http.server.ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), H).serve_forever()
PYEOF
chmod 0644 "$tmp/worker.py"

# tcp_counter NAME: the machine's TcpExt counter NAME.
tcp_counter() {
	awk -v k="$1" '/^TcpExt:/ { if (!n) { for (i = 1; i <= NF; i++) f[i] = $i; n = 1 } else { for (i = 1; i <= NF; i++) if (f[i] == k) print $i } }' /proc/net/netstat
}

# run_build NAME: one host with pool Py, a run without and one with
# recycles; appends "NAME kind rampload-line synretrans overflows" to
# $tmp/results.
run_build() {
	local name=$1 dir="$tmp/$1" port=$BASE_PORT
	mkdir -p "$dir"
	export POOLCTL_CONFIG="$dir/etc/applicationHost.toml" POOLCTL_SOCKET="$dir/host.sock"
	local pc="$tmp/poolctl-$name"
	"$pc" set site "Default Web Site" "/bindings:http/127.0.0.1:$port:" >/dev/null
	"$pc" add apppool /name:Py "/processModel.command:$PY $tmp/worker.py" \
		/startMode:AlwaysRunning /processModel.idleTimeout:0 /processModel.maxProcesses:1 >/dev/null
	"$pc" set app "Default Web Site/" /applicationPool:Py >/dev/null
	"$pc" host --state-dir "$dir/state" >"$dir/host.log" 2>&1 &
	local host_pid=$!
	pids+=("$host_pid")
	local up=""
	for _ in $(seq 1 300); do
		if [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://127.0.0.1:$port/")" = 200 ]; then up=1; break; fi
		sleep 0.05
	done
	[ -n "$up" ] || { echo "ramp.sh: $name host does not answer 200" >&2; cat "$dir/host.log" >&2; exit 1; }
	local kind
	for kind in quiet recycles; do
		local syn0 ovf0 syn1 ovf1 line
		syn0=$(tcp_counter TCPSynRetrans) ovf0=$(tcp_counter ListenOverflows)
		mkfifo "$dir/marks.$kind"
		"$tmp/rampload" -url "http://127.0.0.1:$port/" -c "$CONNS" -d "$DURATION" <"$dir/marks.$kind" >"$dir/out.$kind" &
		local load=$!
		exec 3>"$dir/marks.$kind"
		if [ "$kind" = recycles ]; then
			local secs=${DURATION%s} i
			for i in $(seq 1 $((secs / RECYCLE_EVERY - 1))); do
				sleep "$RECYCLE_EVERY"
				kill -0 "$load" 2>/dev/null || break # the load ended
				echo >&3 || break
				"$pc" recycle apppool Py >>"$dir/recycle.log" 2>&1 || echo "ramp.sh: a recycle failed" >&2
			done
		fi
		exec 3>&-
		wait "$load"
		syn1=$(tcp_counter TCPSynRetrans) ovf1=$(tcp_counter ListenOverflows)
		line=$(cat "$dir/out.$kind")
		echo "$name $kind $line $((syn1 - syn0)) $((ovf1 - ovf0))" >>"$tmp/results"
		echo "  $name $kind: $line syn-retrans $((syn1 - syn0)) overflows $((ovf1 - ovf0))" >&2
	done
	kill "$host_pid"
	wait "$host_pid" 2>/dev/null || true
}

: >"$tmp/results"
echo "ramp.sh: C=$CONNS, $DURATION per run, a recycle every ${RECYCLE_EVERY}s" >&2
run_build before
run_build after

mkdir -p bench/out
{
	echo "# Recycles with a backlog-5 worker: measured $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo
	echo "Machine: nproc $(nproc); $($PY --version 2>&1); $(go version | awk '{print $3}'). Command: \`bash bench/ramp.sh\` (before = $BEFORE_REF, after = working tree; C=$CONNS, $DURATION per run, a recycle every ${RECYCLE_EVERY}s)."
	echo
	echo "| build | run | requests | p50 ms | p99 ms | max ms | failed | sent ≤500 ms after a recycle | their p99 ms | SYN retransmits | listen overflows |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|"
	awk '{printf "| %s | %s | %d | %.2f | %.2f | %.2f | %d | %d | %.2f | %d | %d |\n", $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11}' "$tmp/results"
} | tee bench/out/ramp.md
