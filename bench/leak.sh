#!/usr/bin/env bash
# bench/leak.sh: how far past recycling.periodicRestart.privateMemory a
# leaking worker gets before poolctl replaces it, on 127.0.0.1 only.
#
# A pool runs testdata/workers/testworker, whose GET /leak?mb=5 allocates and
# touches 5 MB that are never freed, with privateMemory 102400 KB (100 MB).
# bench/leak/ sends /leak?mb=5 at $RATE requests a second on one keep-alive
# connection for $DURATION, samples the private memory (RssAnon+VmSwap) of
# each worker's process group every 50 ms from /proc, and reports the median
# (over every recycle of the run) of the peak overshoot past the limit and of
# the time from the first sample over the limit to the first answer from the
# replacement, plus failed requests, and the floor: what the request that
# crossed the limit left on its own (no reaction of the host can undo it
# without failing that request). It runs once with the kernel's memory
# reports (internal/cgroup memory thresholds; the /proc sampling at 1s is
# only a backstop there) and once per host sampling interval in $INTERVALS
# with them off (POOLCTL_KERNEL_MEMORY=off: the /proc fallback), in the
# same run.
#
# Environment: RATE (20), DURATION (20s), INTERVALS ("1s 250ms 100ms"),
# PORT (19180). Writes bench/out/leak.md.
set -euo pipefail
cd "$(dirname "$0")/.."

RATE=${RATE:-20}
DURATION=${DURATION:-20s}
INTERVALS=${INTERVALS:-1s 250ms 100ms}
PORT=${PORT:-19180}
LIMIT_KB=102400

if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
	echo "leak.sh: port $PORT is in use; set PORT" >&2
	exit 1
fi

tmp=$(mktemp -d)
host_pid=""
cleanup() {
	if [ -n "$host_pid" ]; then
		kill "$host_pid" 2>/dev/null || true
		wait "$host_pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

mkdir -p bench/out
go build -o "$tmp/poolctl" .
go build -o "$tmp/testworker" ./testdata/workers/testworker
go build -o "$tmp/leak" ./bench/leak

out=bench/out/leak.md
{
	echo "Command: \`bash bench/leak.sh\` (RATE=$RATE DURATION=$DURATION), $(date -u +%Y-%m-%d), $(nproc) CPUs, $(uname -r)"
	echo
	echo "| memory path | req/s | requests | failed | median overshoot (MB) | median floor: crossing request alone (MB) | median crossing → replacement | max overshoot (MB) |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|"
} >"$out"

for run in kernel:1s $(for iv in $INTERVALS; do echo "fallback:$iv"; done); do
	mode=${run%%:*}
	iv=${run#*:}
	label="fallback, --sample-interval $iv"
	kmem=off
	if [ "$mode" = kernel ]; then
		label="kernel report (sampling $iv as backstop)"
		kmem=on
	fi
	dir="$tmp/$mode-$iv"
	mkdir -p "$dir"
	pc=("$tmp/poolctl" --config "$dir/store.toml" --socket "$dir/host.sock")
	"${pc[@]}" set site "Default Web Site" "/bindings:http/127.0.0.1:$PORT:" >/dev/null
	"${pc[@]}" add apppool /name:Leak "/processModel.command:$tmp/testworker" /processModel.pingPath:/health \
		/processModel.identityType:LocalSystem "/recycling.periodicRestart.privateMemory:$LIMIT_KB" >/dev/null
	"${pc[@]}" set app "Default Web Site/" /applicationPool:Leak >/dev/null
	POOLCTL_KERNEL_MEMORY=$kmem "${pc[@]}" host --state-dir "$dir/state" --sample-interval "$iv" 2>"$dir/host.log" &
	host_pid=$!
	for _ in $(seq 100); do
		curl -fs -o /dev/null "http://127.0.0.1:$PORT/" && break
		sleep 0.1
	done
	"$tmp/leak" -addr "127.0.0.1:$PORT" -mb 5 -rate "$RATE" -duration "$DURATION" -limit "$LIMIT_KB" -label "$label" | tee -a "$out"
	kill "$host_pid"
	wait "$host_pid" || true
	host_pid=""
	echo "$label: events 5117: $(grep -c '"id":5117' "$dir/state/events.jsonl" || true); $(grep -o 'memory limits: [^"]*' "$dir/host.log" | head -1)" >&2
done
echo "wrote $out"
