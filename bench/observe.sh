#!/usr/bin/env bash
# bench/observe.sh: what metrics and access logging cost the host, measured
# side by side in one run on 127.0.0.1 only. Three hosts run at once, each
# with one pool running the same hello backend:
#   off   no metrics endpoint, access log disabled (logFile.enabled:false)
#   w3c   --metrics on, W3C access log (the default format)
#   json  --metrics on, JSON-lines access log
# While "w3c" and "json" are loaded, a scraper reads /metrics every
# $SCRAPE_EVERY seconds (Prometheus's default is 15 s; 1 s is harsher).
# Each host gets `wrk -t1 -c32 -d$DURATION` in the order off w3c json, then
# json w3c off, $PASSES times; the table gives the means and the ratio to
# "off". Every load is bounded by wrk's duration.
#
# Environment: DURATION (10s), PASSES (1), SCRAPE_EVERY (1), BASE_PORT
# (19180). Writes bench/out/observe.md.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
PASSES=${PASSES:-1}
SCRAPE_EVERY=${SCRAPE_EVERY:-1}
BASE_PORT=${BASE_PORT:-19180}
CONNS=32

. bench/lib.sh
need_tools observe.sh wrk:wrk curl:curl
ports_free observe.sh "$BASE_PORT" $((BASE_PORT + 5))

bench_workdir

go build -o "$tmp/poolctl" .
go build -o "$tmp/hello" ./bench/hello
chmod 0755 "$tmp"

names=(off w3c json)
declare -A port mport
i=0
for n in "${names[@]}"; do
	port[$n]=$((BASE_PORT + i))
	mport[$n]=$((BASE_PORT + 3 + i))
	i=$((i + 1))
	d="$tmp/$n"
	mkdir -p "$d"
	pc() { POOLCTL_CONFIG="$d/applicationHost.toml" POOLCTL_SOCKET="$d/host.sock" "$tmp/poolctl" "$@" >/dev/null; }
	pc set site "Default Web Site" "/bindings:http/127.0.0.1:${port[$n]}:"
	pc add apppool /name:Bench "/processModel.command:/bin/sh -c 'exec $tmp/hello -addr 127.0.0.1:\$PORT'" \
		/startMode:AlwaysRunning /processModel.idleTimeout:0
	pc set app "Default Web Site/" /applicationPool:Bench
	flags=()
	case $n in
	off) pc set site "Default Web Site" /logFile.enabled:false ;;
	w3c) flags=(--metrics "127.0.0.1:${mport[$n]}") ;;
	json)
		pc set site "Default Web Site" /logFile.logFormat:JSON
		flags=(--metrics "127.0.0.1:${mport[$n]}")
		;;
	esac
	POOLCTL_CONFIG="$d/applicationHost.toml" POOLCTL_SOCKET="$d/host.sock" \
		"$tmp/poolctl" host --state-dir "$d/state" "${flags[@]}" >"$d/host.log" 2>&1 &
	pids+=($!)
done

wait_200() { # URL: bounded wait until it answers 200
	for _ in $(seq 1 300); do
		if [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$1")" = 200 ]; then return 0; fi
		sleep 0.05
	done
	echo "observe.sh: $1 does not answer 200" >&2
	cat "$tmp"/*/host.log >&2
	exit 1
}
for n in "${names[@]}"; do wait_200 "http://127.0.0.1:${port[$n]}/"; done
for n in w3c json; do wait_200 "http://127.0.0.1:${mport[$n]}/metrics"; done

# run NAME: one wrk run, scraping the host's metrics meanwhile when it has
# them; prints "rps p50 p99 failures".
run() {
	local n=$1 out="$tmp/wrk.$1.txt" scraper=""
	if [ "$n" != off ]; then
		(
			end=$((SECONDS + ${DURATION%s} + 1))
			while [ "$SECONDS" -lt "$end" ]; do
				curl -s -o /dev/null --max-time 2 "http://127.0.0.1:${mport[$n]}/metrics" || true
				sleep "$SCRAPE_EVERY"
			done
		) &
		scraper=$!
	fi
	wrk -t1 -c"$CONNS" -d"$DURATION" --latency "http://127.0.0.1:${port[$n]}/" >"$out"
	cat "$out" >>"$out.all"
	[ -n "$scraper" ] && wait "$scraper"
	wrk_summary "$out"
}

: >"$tmp/tput"
for _ in $(seq 1 "$PASSES"); do
	for order in "off w3c json" "json w3c off"; do
		for n in $order; do
			r=$(run "$n")
			echo "$n $r" >>"$tmp/tput"
			echo "  $n: $r (req/s p50 p99 failures)" >&2
		done
	done
done

# The logs must hold what was served: lines written and dropped, per host.
lines() { curl -s "http://127.0.0.1:${mport[$1]}/metrics" | awk -v m="$2" '$1 ~ "^"m"\\{" {s += $2} END {printf "%d", s}'; }
sleep 2 # one flush interval, so the last lines are on disk
# Rotated files (access.log.1 ...) included: 20 MB files fill in a minute here.
w3c_lines=$(cat "$tmp"/w3c/state/logs/sites/W3SVC1/access.log* | grep -vc '^#' || true)
json_lines=$(cat "$tmp"/json/state/logs/sites/W3SVC1/access.jsonl* | wc -l)
served() { awk '/requests in/ {s += $1} END {printf "%d", s}' "$tmp"/wrk."$1".txt.all; }

{
	echo "# Metrics and access logging: cost to host throughput, measured $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo
	echo "Machine: nproc $(nproc), $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo); $(wrk -v 2>&1 | head -1 | awk '{print $1, $2}'); $(go version | awk '{print $3}'). Command: \`bash bench/observe.sh\` (wrk -t1 -c$CONNS -d$DURATION per run, orders off-w3c-json then json-w3c-off, $PASSES pass(es); /metrics scraped every ${SCRAPE_EVERY}s during the w3c and json runs)."
	echo
	echo "| host | req/s | vs off | p50 ms | p99 ms | failures |"
	echo "|---|---|---|---|---|---|"
	awk '{ r[$1] += $2; a[$1] += $3; b[$1] += $4; f[$1] += $5; n[$1]++ }
	     END { for (k in n) { R[k] = r[k] / n[k] }
	           split("off w3c json", o, " ")
	           for (i = 1; i <= 3; i++) { k = o[i]
	             printf "| %s | %.0f | %.3f | %.2f | %.2f | %d |\n", k, R[k], R[k] / R["off"], a[k] / n[k], b[k] / n[k], f[k] } }' "$tmp/tput"
	echo
	echo "Access-log lines on disk, against requests wrk completed (wrk does not count requests cut off at its deadline, so the log may have a few dozen more): w3c $w3c_lines of $(served w3c) (dropped: $(lines w3c poolctl_access_log_dropped_total)), json $json_lines of $(served json) (dropped: $(lines json poolctl_access_log_dropped_total))."
} | tee bench/out/observe.md
