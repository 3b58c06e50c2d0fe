#!/usr/bin/env bash
# Whole-process benchmarks of the poolctl CLI: the time an operator or a
# script waits for one command, process start to exit, on stores of 10,
# 1,000 and 10,000 pools. Uses hyperfine; writes its JSON exports and a
# markdown table of medians (bench/out/cli.md), and prints the table.
#
# Usage: bash bench/cli.sh            (from anywhere in the repository)
#        SIZES="1000" RUNS=50 bash bench/cli.sh
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
out=$here/out
sizes=${SIZES:-"10 1000 10000"}
runs=${RUNS:-30}     # runs per command; a third of that, at least 10, for 10,000 pools and up
warmup=${WARMUP:-3}

case $out in
*[[:space:]]*)
	echo "cli.sh: $out contains white space, which hyperfine -N cannot pass through; move the checkout" >&2
	exit 1
	;;
esac

if ! command -v hyperfine >/dev/null; then
	if [ "$(id -u)" = 0 ]; then
		echo "cli.sh: installing hyperfine" >&2
		apt-get update -qq
		apt-get install -y -qq hyperfine >/dev/null
	else
		echo "cli.sh: hyperfine is missing: 'sudo apt-get install hyperfine' (Debian/Ubuntu) or 'cargo install hyperfine'" >&2
		exit 1
	fi
fi
command -v python3 >/dev/null || { echo "cli.sh: python3 is needed to summarize the results" >&2; exit 1; }

mkdir -p "$out"
rm -f "$out"/*.json
(cd "$root" && go build -o "$out/poolctl" . && go build -o "$out/genstore" ./bench/genstore)
bin=$out/poolctl

# No host runs: point the control socket at a path that does not exist so a
# write does not try to notify one, and ignore the caller's store settings.
export POOLCTL_SOCKET=$out/no-host.sock
unset POOLCTL_CONFIG POOLCTL_TIMEOUT

# Other work on the machine skews every figure: record the load around the run.
load_before=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)

for n in $sizes; do
	dir=$out/stores/$n
	rm -rf "$dir"
	"$out/genstore" -pools "$n" -out "$dir/base.toml"
	store=$dir/applicationHost.toml
	cp "$dir/base.toml" "$store"
	r=$runs
	if [ "$n" -ge 10000 ]; then
		r=$((runs / 3 > 10 ? runs / 3 : 10))
	fi
	common=(-N --warmup "$warmup" --runs "$r" --style basic)

	hyperfine "${common[@]}" --export-json "$out/list-names-$n.json" \
		"$bin --config $store list apppool /text:name"
	hyperfine "${common[@]}" --export-json "$out/list-table-$n.json" \
		"$bin --config $store list apppool"
	# Every run must write: the prepare step puts back the generated store,
	# in which Pool00005 does not set queueLength, by hard link (poolctl
	# never writes a store in place, so base.toml stays as it is).
	hyperfine "${common[@]}" --export-json "$out/set-$n.json" \
		--prepare "ln -f $dir/base.toml $store" \
		"$bin --config $store set apppool Pool00005 /queueLength:2000"
	grep -q 'queueLength = 2000' "$store" || { echo "cli.sh: set did not write the store at $n pools" >&2; exit 1; }
done

# Start-up beside the floor: an empty Go program and Python's bare start,
# timed in the same run (the issue: poolctl version within 2x the first;
# list and set at 1,000 pools no slower than the second).
mkdir -p "$out/empty"
printf 'package main\n\nfunc main() {}\n' >"$out/empty/main.go"
(cd "$out/empty" && GO111MODULE=off go build -o "$out/empty-go" main.go)
python=$(command -v python3)
python=$(readlink -f "$("$python" -c 'import sys; print(sys.executable)')") # past a pyenv shim
hyperfine -N --warmup "$warmup" --runs $((runs * 3)) --style basic --export-json "$out/startup.json" \
	"$out/empty-go" "$python -S -c pass" "$bin version"

# With a host running (root only: the host runs workers as per-pool uids):
# HOST_SIZES pools (default 50 and 500), every one AlwaysRunning with the
# bench/hello worker. Measures, per size: the time from the host's start to
# its first answer on the control socket, its RSS once every worker serves,
# and `list apppool`, `list apppool Pool00001`, `list wp /apppool.name:Pool00001`
# and `stop apppool Pool00001` (re-started by --prepare) against it.
# HOST_SIZES="" skips this part. supervisord, when installed, runs the same
# workers for its RSS beside the host's.
host_sizes=${HOST_SIZES-"50 500"}
if [ -n "$host_sizes" ] && [ "$(id -u)" != 0 ]; then
	echo "cli.sh: not root: the runs with a host are skipped" >&2
	host_sizes=""
fi
: >"$out/host-figures.txt"
hostdir=""
host_pid=""
cleanup_host() {
	if [ -n "$host_pid" ]; then kill "$host_pid" 2>/dev/null || true; wait "$host_pid" 2>/dev/null || true; fi
	host_pid=""
	if [ -n "$hostdir" ] && [ -f "$hostdir/supervisord.pid" ]; then
		kill "$(cat "$hostdir/supervisord.pid")" 2>/dev/null || true
		for _ in $(seq 1 100); do [ -f "$hostdir/supervisord.pid" ] || break; sleep 0.1; done
	fi
}
trap cleanup_host EXIT
if [ -n "$host_sizes" ]; then
	(cd "$root" && go build -o "$out/hello" ./bench/hello && go build -o "$out/sockprobe" ./bench/sockprobe)
fi
for n in $host_sizes; do
	hostdir=$out/host/$n
	rm -rf "$hostdir"
	mkdir -p "$hostdir"
	chmod 0755 "$out" "$hostdir"
	"$out/genstore" -pools "$n" -out "$hostdir/applicationHost.toml"
	export POOLCTL_CONFIG=$hostdir/applicationHost.toml POOLCTL_SOCKET=$hostdir/host.sock
	"$bin" set site "Default Web Site" "/bindings:http/127.0.0.1:${HOST_PORT:-19290}:" >/dev/null
	"$bin" set config /section:applicationPoolDefaults /startMode:AlwaysRunning \
		"/processModel.command:/bin/sh -c 'exec $out/hello -addr 127.0.0.1:\$PORT'" /processModel.pingPath:tcp: >/dev/null
	# The socket's first answer, two ways: a raw probe (bench/sockprobe:
	# GET /v1/status every millisecond, no poolctl process, no store load),
	# started before the host; and the first `poolctl list` that answers.
	t0=$(date +%s%N)
	"$out/sockprobe" -socket "$POOLCTL_SOCKET" -since "$t0" -timeout 60s >"$hostdir/probe.txt" 2>"$hostdir/probe.err" &
	probe_pid=$!
	"$bin" host --state-dir "$hostdir/state" >"$hostdir/host.log" 2>&1 &
	host_pid=$!
	ready=""
	for _ in $(seq 1 2000); do # bounded: 2,000 tries
		if "$bin" --timeout 1s list apppool Pool00000 /text:name >/dev/null 2>&1 && [ -S "$POOLCTL_SOCKET" ]; then
			ready=$((($(date +%s%N) - t0) / 1000000))
			break
		fi
	done
	wait "$probe_pid" || true
	probe=$(cat "$hostdir/probe.txt" 2>/dev/null)
	all_up=""
	for _ in $(seq 1 600); do # bounded: 60 s
		if [ "$("$bin" list wp /text:wp.name 2>/dev/null | wc -l)" -ge "$n" ]; then
			all_up=$((($(date +%s%N) - t0) / 1000000))
			break
		fi
		sleep 0.1
	done
	sleep 2 # let start-up garbage be collected before reading the resting RSS
	rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$host_pid/status")
	hyperfine -N --warmup "$warmup" --runs "$runs" --style basic \
		--export-json "$out/host-list-$n.json" "$bin list apppool"
	hyperfine -N --warmup "$warmup" --runs "$runs" --style basic \
		--export-json "$out/host-list-one-$n.json" "$bin list apppool Pool00001"
	hyperfine -N --warmup "$warmup" --runs "$runs" --style basic \
		--export-json "$out/host-wp-$n.json" "$bin list wp /apppool.name:Pool00001"
	"$bin" stop apppool Pool00001 >/dev/null # each run's --prepare starts it
	hyperfine -N --warmup "$warmup" --runs "$runs" --style basic \
		--export-json "$out/host-stop-$n.json" --prepare "$bin start apppool Pool00001" \
		"$bin stop apppool Pool00001"
	cleanup_host
	sup_rss=""
	if command -v supervisord >/dev/null; then
		{
			printf '[supervisord]\nnodaemon=false\npidfile=%s\nlogfile=%s\n' "$hostdir/supervisord.pid" "$hostdir/supervisord.log"
			printf '[unix_http_server]\nfile=%s\n' "$hostdir/supervisor.sock"
			printf '[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n'
			for i in $(seq 0 $((n - 1))); do
				printf '[program:p%d]\ncommand=%s -addr 127.0.0.1:%d\nstdout_logfile=NONE\nstderr_logfile=NONE\n' "$i" "$out/hello" $((20000 + i))
			done
		} >"$hostdir/supervisord.conf"
		supervisord -c "$hostdir/supervisord.conf"
		for _ in $(seq 1 600); do # bounded: 60 s
			[ "$(pgrep -c -f "^$out/hello -addr 127.0.0.1:2" || true)" -ge "$n" ] && break
			sleep 0.1
		done
		sleep 2
		sup_rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$(cat "$hostdir/supervisord.pid")/status")
		cleanup_host
	fi
	echo "$n ${probe:-none} ${ready:-none} ${all_up:-none} $rss ${sup_rss:-none}" >>"$out/host-figures.txt"
	unset POOLCTL_CONFIG
	export POOLCTL_SOCKET=$out/no-host.sock
done

load_after=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)

OUT=$out SIZES=$sizes LOAD_BEFORE=$load_before LOAD_AFTER=$load_after python3 - <<'EOF' | tee "$out/cli.md"
import json, os, subprocess

out = os.environ["OUT"]
sizes = [int(s) for s in os.environ["SIZES"].split()]
rows = [
    ("list-names", "`poolctl list apppool /text:name`", {1000: 15, 10000: 150}),
    ("list-table", "`poolctl list apppool` (table)", {}),
    ("set", "`poolctl set apppool Pool00005 /queueLength:2000`", {1000: 25}),
]

def median_ms(name, n):
    with open(f"{out}/{name}-{n}.json") as f:
        r = json.load(f)["results"][0]
    return r["median"] * 1000, len(r["times"])

def cell(name, n, targets):
    ms, runs = median_ms(name, n)
    text = f"{ms:.1f}"
    if n in targets:
        text += f" ({'meets' if ms < targets[n] else 'misses'} < {targets[n]})"
    return text

version = subprocess.run(["hyperfine", "--version"], capture_output=True, text=True).stdout.strip()
print(f"Median wall time in ms of one whole poolctl process (hyperfine -N, {version});")
print("targets from the issue in parentheses.")
print()
print("| command | " + " | ".join(f"{n:,} pools" for n in sizes) + " |")
print("|---|" + "---:|" * len(sizes))
for name, label, targets in rows:
    print(f"| {label} | " + " | ".join(cell(name, n, targets) for n in sizes) + " |")
print()
with open(f"{out}/startup.json") as f:
    st = json.load(f)["results"]
med = {r["command"]: r["median"] * 1000 for r in st}
empty, py, ver = (med[c] for c in [r["command"] for r in st])
print(f"Start-up, same run: empty Go program {empty:.1f} ms, `python3 -S -c pass` {py:.1f} ms, "
      f"`poolctl version` {ver:.1f} ms ({ver / empty:.1f}x the empty Go program; target 2x).")
print()
host_rows = [l.split() for l in open(f"{out}/host-figures.txt")] if os.path.exists(f"{out}/host-figures.txt") else []
if host_rows:
    hs = [int(r[0]) for r in host_rows]
    print("With a host running, every pool AlwaysRunning (median ms; last column: at the largest size / at the smallest):")
    print()
    print("| command | " + " | ".join(f"{n:,} pools" for n in hs) + " | ratio |")
    print("|---|" + "---:|" * (len(hs) + 1))
    for name, label in [("host-list", "`list apppool`"), ("host-list-one", "`list apppool Pool00001`"),
                        ("host-wp", "`list wp /apppool.name:Pool00001`"), ("host-stop", "`stop apppool Pool00001`")]:
        ms = [median_ms(name, n)[0] for n in hs]
        print(f"| {label} | " + " | ".join(f"{m:.1f}" for m in ms) + f" | {ms[-1] / ms[0]:.2f} |")
    print()
    print("| pools | control socket answers after (ms, raw probe) | first `poolctl list` answers after (ms) | every worker serving after (ms) | host RSS (MiB) | supervisord RSS (MiB) |")
    print("|---:|---:|---:|---:|---:|---:|")
    for r in host_rows:
        sup = f"{int(r[5]) / 1024:.1f}" if r[5] != "none" else "not installed"
        print(f"| {int(r[0]):,} | {r[1]} | {r[2]} | {r[3]} | {int(r[4]) / 1024:.1f} | {sup} |")
    print()
print("Runs per cell: " + ", ".join(f"{n:,} pools: {median_ms('set', n)[1]}" for n in sizes) + ".")
print(f"Load average (1, 5, 15 min) before the run: {os.environ['LOAD_BEFORE']}; after: {os.environ['LOAD_AFTER']}.")
EOF
