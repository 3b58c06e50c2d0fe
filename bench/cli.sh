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
print("Runs per cell: " + ", ".join(f"{n:,} pools: {median_ms('set', n)[1]}" for n in sizes) + ".")
print(f"Load average (1, 5, 15 min) before the run: {os.environ['LOAD_BEFORE']}; after: {os.environ['LOAD_AFTER']}.")
EOF
