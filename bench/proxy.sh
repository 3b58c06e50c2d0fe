#!/usr/bin/env bash
# bench/proxy.sh: forwarding overhead of poolctl's forward package against
# nginx proxy_pass, measured side by side in one run, on 127.0.0.1 only.
#
# It builds bench/hello (a Go backend answering 100 bytes) and bench/proxy
# (a net/http front relaying with forward.Target), writes a private nginx
# config (upstream keepalive 64), and runs `wrk -t1 -c32 -d10s --latency`
# against: hello directly, the front with GOMAXPROCS=2, the front with
# GOMAXPROCS=1, nginx; then again in reverse order to even out drift. It
# prints a markdown table (requests/s, ratio to direct, ratio to nginx, p50,
# p99) and stops everything it started.
#
# Environment: DURATION (default 10s), ROUNDS (forward+reverse passes,
# default 1), WITH_RP=1 adds httputil.ReverseProxy (tuned Transport, buffer
# pool) as another front, WITH_NGINX_XFF=1 adds nginx setting the same
# X-Forwarded-For/-Proto/-Host and Host headers as forward does,
# WITH_LEAN=1 (the default) adds `bench/proxy -mode lean` (forward.Target
# behind internal/http1, the host's loop for plain HTTP; GOMAXPROCS=2),
# FASTHTTP_PROXY=PATH adds a fasthttp proxy built outside the repository
# (any binary taking -addr and -backend; see bench/PROXY.md),
# BASE_PORT (default 18080).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
ROUNDS=${ROUNDS:-1}
WITH_RP=${WITH_RP:-0}
WITH_NGINX_XFF=${WITH_NGINX_XFF:-0}
WITH_LEAN=${WITH_LEAN:-1}
FASTHTTP_PROXY=${FASTHTTP_PROXY:-}
BASE_PORT=${BASE_PORT:-18080}
CONNS=32

HELLO_PORT=$BASE_PORT
PROXY2_PORT=$((BASE_PORT + 1))
PROXY1_PORT=$((BASE_PORT + 2))
NGINX_PORT=$((BASE_PORT + 3))
RP_PORT=$((BASE_PORT + 4))
NGINX_XFF_PORT=$((BASE_PORT + 5))
LEAN_PORT=$((BASE_PORT + 6))
FH_PORT=$((BASE_PORT + 7))

# --- tools -------------------------------------------------------------
. bench/lib.sh
need_tools proxy.sh nginx-light:nginx wrk:wrk

# --- processes ---------------------------------------------------------
ports_free proxy.sh "$BASE_PORT" $((BASE_PORT + 7))

tmp=$(mktemp -d)
pids=()
cleanup() {
	if [ -f "$tmp/nginx/nginx.pid" ]; then
		kill "$(cat "$tmp/nginx/nginx.pid")" 2>/dev/null || true
	fi
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	for p in "${pids[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

go build -o "$tmp/hello" ./bench/hello
go build -o "$tmp/proxy" ./bench/proxy

"$tmp/hello" -addr "127.0.0.1:$HELLO_PORT" >"$tmp/hello.log" 2>&1 &
HELLO_PID=$!
pids+=($!)
GOMAXPROCS=2 "$tmp/proxy" -addr "127.0.0.1:$PROXY2_PORT" -backend "127.0.0.1:$HELLO_PORT" >"$tmp/proxy2.log" 2>&1 &
PROXY2_PID=$!
pids+=($!)
GOMAXPROCS=1 "$tmp/proxy" -addr "127.0.0.1:$PROXY1_PORT" -backend "127.0.0.1:$HELLO_PORT" >"$tmp/proxy1.log" 2>&1 &
PROXY1_PID=$!
pids+=($!)
RP_PID=
if [ "$WITH_RP" = 1 ]; then
	"$tmp/proxy" -mode reverseproxy -addr "127.0.0.1:$RP_PORT" -backend "127.0.0.1:$HELLO_PORT" >"$tmp/rp.log" 2>&1 &
	RP_PID=$!
	pids+=($!)
fi
LEAN_PID=
if [ "$WITH_LEAN" = 1 ]; then
	GOMAXPROCS=2 "$tmp/proxy" -mode lean -addr "127.0.0.1:$LEAN_PORT" -backend "127.0.0.1:$HELLO_PORT" >"$tmp/lean.log" 2>&1 &
	LEAN_PID=$!
	pids+=($!)
fi
FH_PID=
if [ -n "$FASTHTTP_PROXY" ]; then
	GOMAXPROCS=2 "$FASTHTTP_PROXY" -addr "127.0.0.1:$FH_PORT" -backend "127.0.0.1:$HELLO_PORT" >"$tmp/fasthttp.log" 2>&1 &
	FH_PID=$!
	pids+=($!)
fi

start_nginx "$tmp/nginx" "$HELLO_PORT" "$NGINX_PORT" "	server {
		listen 127.0.0.1:$NGINX_XFF_PORT;
		location / {
			proxy_pass http://u;
			proxy_http_version 1.1;
			proxy_set_header Connection \"\";
			proxy_set_header Host \$http_host;
			proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
			proxy_set_header X-Forwarded-Proto \$scheme;
			proxy_set_header X-Forwarded-Host \$host;
		}
	}"
ok=0
for _ in $(seq 1 100); do
	if [ -s "$tmp/nginx/nginx.pid" ] && NGINX_WORKER=$(pgrep -P "$(cat "$tmp/nginx/nginx.pid")" | head -1) && [ -n "$NGINX_WORKER" ]; then
		ok=1
		break
	fi
	sleep 0.05
done
if [ "$ok" != 1 ]; then
	echo "proxy.sh: nginx did not start" >&2
	cat "$tmp/nginx/error.log" >&2 || true
	exit 1
fi

# For each target: name, port, and the process whose CPU is the "front"
# (for direct, the backend itself).
names=(direct proxy-gmp2 proxy-gmp1 nginx)
ports=("$HELLO_PORT" "$PROXY2_PORT" "$PROXY1_PORT" "$NGINX_PORT")
fronts=("$HELLO_PID" "$PROXY2_PID" "$PROXY1_PID" "$NGINX_WORKER")
if [ "$WITH_NGINX_XFF" = 1 ]; then
	names+=(nginx-xff)
	ports+=("$NGINX_XFF_PORT")
	fronts+=("$NGINX_WORKER")
fi
if [ "$WITH_LEAN" = 1 ]; then
	names+=(lean)
	ports+=("$LEAN_PORT")
	fronts+=("$LEAN_PID")
fi
if [ -n "$FASTHTTP_PROXY" ]; then
	names+=(fasthttp)
	ports+=("$FH_PORT")
	fronts+=("$FH_PID")
fi
if [ "$WITH_RP" = 1 ]; then
	names+=(reverseproxy)
	ports+=("$RP_PORT")
	fronts+=("$RP_PID")
fi

# Wait (bounded) until every target answers 100 bytes.
for i in "${!names[@]}"; do
	ok=0
	for _ in $(seq 1 200); do
		if n=$(curl -sf --max-time 1 "http://127.0.0.1:${ports[$i]}/" | wc -c) && [ "$n" = 100 ]; then
			ok=1
			break
		fi
		sleep 0.05
	done
	if [ "$ok" != 1 ]; then
		echo "proxy.sh: ${names[$i]} on port ${ports[$i]} does not answer 100 bytes" >&2
		cat "$tmp"/*.log "$tmp/nginx/error.log" >&2 2>/dev/null || true
		exit 1
	fi
done


# cpu_ticks PID: user+system clock ticks used so far by PID.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# ctx_switches PID: context switches (voluntary and not) of all PID's
# threads so far.
ctx_switches() { cat /proc/"$1"/task/*/status 2>/dev/null | awk '/ctxt_switches/ {n += $2} END {print n + 0}'; }
TCK=$(getconf CLK_TCK)

# run NAME PORT PASS FRONT_PID: one wrk run; appends "pass name rps p50
# p99 front-us/req backend-us/req errors". CPU per request is measured
# from /proc and depends much less on other load than req/s does.
run() {
	local out="$tmp/wrk.$1.$3.txt"
	local f0 b0 f1 b1
	local c0 c1
	f0=$(cpu_ticks "$4")
	b0=$(cpu_ticks "$HELLO_PID")
	c0=$(ctx_switches "$4")
	wrk -t1 -c"$CONNS" -d"$DURATION" --latency "http://127.0.0.1:$2/" >"$out"
	f1=$(cpu_ticks "$4")
	b1=$(cpu_ticks "$HELLO_PID")
	c1=$(ctx_switches "$4")
	local rps p50 p99 errs reqs fus bus csr
	rps=$(awk '/^Requests\/sec:/ {print $2}' "$out")
	reqs=$(awk '/requests in/ {print $1}' "$out")
	p50=$(to_ms "$(awk '$1 == "50%" {print $2}' "$out")")
	p99=$(to_ms "$(awk '$1 == "99%" {print $2}' "$out")")
	fus=$(awk -v d=$((f1 - f0)) -v n="$reqs" -v t="$TCK" 'BEGIN {printf "%.1f", d * 1e6 / t / n}')
	bus=$(awk -v d=$((b1 - b0)) -v n="$reqs" -v t="$TCK" 'BEGIN {printf "%.1f", d * 1e6 / t / n}')
	csr=$(awk -v d=$((c1 - c0)) -v n="$reqs" 'BEGIN {printf "%.2f", d / n}')
	errs=$(awk '/Non-2xx|Socket errors/ {printf "%s ", $0}' "$out")
	echo "$3 $1 $rps $p50 $p99 $fus $bus $csr ${errs:-none}" >>"$tmp/results"
	printf '  pass %s %-13s %10s req/s  p50 %7s ms  p99 %7s ms  front %5s us/req  backend %5s us/req  front cs/req %s  load %s  errors: %s\n' \
		"$3" "$1" "$rps" "$p50" "$p99" "$fus" "$bus" "$csr" "$(cut -d' ' -f1-3 /proc/loadavg)" "${errs:-none}" >&2
}

echo "wrk -t1 -c$CONNS -d$DURATION --latency, $ROUNDS round(s) forward + reverse" >&2
pass=0
for _ in $(seq 1 "$ROUNDS"); do
	pass=$((pass + 1))
	for i in "${!names[@]}"; do
		run "${names[$i]}" "${ports[$i]}" "$pass" "${fronts[$i]}"
	done
	pass=$((pass + 1))
	for ((i = ${#names[@]} - 1; i >= 0; i--)); do
		run "${names[$i]}" "${ports[$i]}" "$pass" "${fronts[$i]}"
	done
done

# Table: means over passes; ratios of the means (each pass ran all targets).
echo
echo "$(date -u '+%Y-%m-%d %H:%M UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg), nproc $(nproc), $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), $("$NGINX" -v 2>&1 | sed 's/.*: //'), $(go version | awk '{print $3}')"
echo
awk -v names="${names[*]}" '
	{ rps[$2] += $3; p50[$2] += $4; p99[$2] += $5; fcpu[$2] += $6; bcpu[$2] += $7; cs[$2] += $8; n[$2]++
	  prs[$1, $2] = $3; if ($1 > npass) npass = $1 }
	END {
		split(names, order, " ")
		d = rps["direct"] / n["direct"]; g = rps["nginx"] / n["nginx"]
		print "| path | req/s (mean of passes) | / direct | / nginx | p50 ms | p99 ms | front CPU us/req | backend CPU us/req | front cs/req | per-pass req/s / nginx |"
		print "|---|---|---|---|---|---|---|---|---|---|"
		for (i = 1; i in order; i++) {
			k = order[i]; r = rps[k] / n[k]
			per = ""
			for (p = 1; p <= npass; p++) per = per sprintf("%s%.2f", per == "" ? "" : " ", prs[p, k] / prs[p, "nginx"])
			fc = k == "direct" ? "-" : sprintf("%.1f", fcpu[k] / n[k])
			printf "| %s | %.0f | %.2f | %.2f | %.2f | %.2f | %s | %.1f | %.2f | %s |\n", k, r, r / d, r / g, p50[k] / n[k], p99[k] / n[k], fc, bcpu[k] / n[k], cs[k] / n[k], per
		}
	}' "$tmp/results"
