#!/usr/bin/env bash
# Web farm benchmarks (issue 11), bounded and on loopback only: one local
# etcd (the `etcd` binary, Debian package etcd-server) on 127.0.0.1 and
# `poolctl host` processes on 127.0.0.2, 127.0.0.3 ... (--listen-address),
# all following one store in etcd. Measures
#   1. convergence: from a change's write returning to the last host's
#      acknowledgement (its farm/hosts/ record showing the new store
#      version), p50/p99 over CHANGES changes, at each of HOSTS hosts
#      (bench/farmconv);
#   2. `poolctl set apppool` as the operator waits for it (its own
#      acknowledgement included) at the first of HOSTS;
#   3. a rolling recycle's duration per host (`poolctl recycle apppool`);
#   4. `poolctl list apppool` and `poolctl set apppool` at 1,000 and 10,000
#      pools against etcd beside the file store, in one hyperfine -N run.
# Writes bench/out/farm.md and prints it. Runs as root (poolctl host does).
#
# Usage: bash bench/farm.sh
#        HOSTS="3" CHANGES=20 SIZES=1000 bash bench/farm.sh
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
. "$here/lib.sh"
out=$here/out
work=$out/farm
hosts_list=${HOSTS:-"3 50"}
changes=${CHANGES:-100}
sizes=${SIZES:-"1000 10000"}
runs=${RUNS:-30}
port=${BASE_PORT:-23790} # etcd client port; +1 its peer port
http_port=${HTTP_PORT:-18080}

[ "$(id -u)" = 0 ] || { echo "farm.sh: run as root (poolctl host runs workers as pool identities)" >&2; exit 1; }
need_tools farm.sh etcd-server:etcd hyperfine:hyperfine python3:python3
ports_free farm.sh "$port" "$((port + 1))"

pids=()
cleanup() {
	local i
	# Hosts first, etcd (the first pid) last.
	for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
		kill "${pids[i]}" 2>/dev/null || true
		wait "${pids[i]}" 2>/dev/null || true
	done
}
trap cleanup EXIT

rm -rf "$work"
mkdir -p "$work"
(cd "$root" && go build -o "$out/poolctl" . && go build -o "$out/genstore" ./bench/genstore && go build -o "$out/farmconv" ./bench/farmconv)
bin=$out/poolctl
export POOLCTL_SOCKET=$work/no-host.sock POOLCTL_TIMEOUT=30s
unset POOLCTL_CONFIG

etcd --name bench --data-dir "$work/etcd" --log-level error --logger zap --log-outputs "$work/etcd.log" \
	--listen-client-urls "http://127.0.0.1:$port" --advertise-client-urls "http://127.0.0.1:$port" \
	--listen-peer-urls "http://127.0.0.1:$((port + 1))" --initial-advertise-peer-urls "http://127.0.0.1:$((port + 1))" \
	--initial-cluster "bench=http://127.0.0.1:$((port + 1))" --quota-backend-bytes $((2 << 30)) &
pids+=($!)
for _ in $(seq 100); do
	(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
	sleep 0.1
done

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
results=$work/results.txt
: >"$results"

# start_hosts PREFIX N: N hosts h1..hN on 127.0.0.2..N+1, each with its own
# state directory and socket; a site on HTTP_PORT.
start_hosts() {
	local prefix=$1 n=$2 i
	for i in $(seq 1 "$n"); do
		local dir=$work/$prefix/h$i
		mkdir -p "$dir"
		"$bin" --config "etcd://127.0.0.1:$port/$prefix" --socket "$dir/host.sock" --state-dir "$dir/state" \
			host --host-name "h$i" --listen-address "127.0.0.$((i + 1))" --log-level warn >"$dir/host.log" 2>&1 &
		pids+=($!)
	done
}

# stop_hosts: ends every host started so far (etcd keeps running).
stop_hosts() {
	local keep=${pids[0]} p
	for p in "${pids[@]:1}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]:1}"; do wait "$p" 2>/dev/null || true; done
	pids=("$keep")
}

for n in $hosts_list; do
	prefix=conv$n
	cfg=etcd://127.0.0.1:$port/$prefix
	"$bin" --config "$cfg" set site "Default Web Site" /bindings:"http/*:$http_port:" >/dev/null
	start_hosts "$prefix" "$n"
	"$out/farmconv" -config "$cfg" -hosts "$n" -changes "$changes" -timeout 120s | tee -a "$results"
	if [ "$n" = "$(echo "$hosts_list" | awk '{print $1}')" ]; then
		# The operator's view: set, including its wait for every host.
		hyperfine -N --warmup 2 --runs 20 --style basic --export-json "$work/set-ack-$n.json" \
			--prepare "$bin --config $cfg set apppool DefaultAppPool /-queueLength" \
			"$bin --config $cfg set apppool DefaultAppPool /queueLength:2000" >/dev/null
		# A rolling recycle under a little traffic: each host's duration.
		for i in $(seq 1 "$n"); do curl -s -o /dev/null "http://127.0.0.$((i + 1)):$http_port/" || true; done
		"$bin" --config "$cfg" recycle apppool DefaultAppPool | sed "s/^/recycle hosts=$n: /" | tee -a "$results"
	fi
	stop_hosts
done

# list and set at 1,000 and 10,000 pools: file store and etcd, same run.
for size in $sizes; do
	dir=$work/stores/$size
	"$out/genstore" -pools "$size" -out "$dir/base.toml"
	file=$dir/applicationHost.toml
	cp "$dir/base.toml" "$file"
	cfg=etcd://127.0.0.1:$port/pools$size
	"$bin" --config "$cfg" restore backup /from:"$dir/base.toml" >/dev/null
	r=$runs
	[ "$size" -ge 10000 ] && r=$((runs / 3 > 10 ? runs / 3 : 10))
	hyperfine -N --warmup 3 --runs "$r" --style basic --export-json "$work/list-$size.json" \
		"$bin --config $file list apppool /text:name" "$bin --config $cfg list apppool /text:name" >/dev/null
	hyperfine -N --warmup 3 --runs "$r" --style basic --export-json "$work/set-$size.json" \
		--prepare "ln -f $dir/base.toml $file" \
		"$bin --config $file set apppool Pool00005 /queueLength:2000" >/dev/null
	hyperfine -N --warmup 3 --runs "$r" --style basic --export-json "$work/set-etcd-$size.json" \
		--prepare "$bin --config $cfg set apppool Pool00005 /-queueLength" \
		"$bin --config $cfg set apppool Pool00005 /queueLength:2000" >/dev/null
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

WORK=$work SIZES=$sizes HOSTS=$hosts_list LOAD_BEFORE=$load_before LOAD_AFTER=$load_after python3 - <<'PY' | tee "$out/farm.md"
import glob, json, os, re

work = os.environ["WORK"]
def med(path, i=0):
    with open(path) as f:
        r = json.load(f)["results"][i]
    return r["median"] * 1000
print("Convergence: from a change's write returning to the last host's acknowledgement")
print("(target p99 < 1000 ms at 50 hosts, aim 100 ms).")
print()
print("| hosts | changes | p50 ms | p99 ms | max ms |")
print("|---:|---:|---:|---:|---:|")
recycles = []
for line in open(f"{work}/results.txt"):
    m = re.match(r"hosts=(\d+) changes=(\d+) p50_ms=([\d.]+) p99_ms=([\d.]+) max_ms=([\d.]+)", line)
    if m:
        print("| " + " | ".join(m.groups()) + " |")
    elif line.startswith("recycle "):
        recycles.append(line.strip())
print()
for p in sorted(glob.glob(f"{work}/set-ack-*.json")):
    n = re.search(r"set-ack-(\d+)", p).group(1)
    print(f"`poolctl set apppool` on the farm of {n} hosts, waiting for every host: median {med(p):.1f} ms.")
print()
print("Rolling recycle (one host at a time), per host:")
print()
for r in recycles:
    print(f"    {r}")
print()
print("`list apppool /text:name` and `set apppool`, median ms (hyperfine -N), file store beside etcd")
print("(targets at 1,000 pools: list < 25 ms, set < 40 ms):")
print()
print("| pools | list file | list etcd | set file | set etcd |")
print("|---:|---:|---:|---:|---:|")
for size in os.environ["SIZES"].split():
    print(f"| {int(size):,} | {med(f'{work}/list-{size}.json', 0):.1f} | {med(f'{work}/list-{size}.json', 1):.1f} "
          f"| {med(f'{work}/set-{size}.json'):.1f} | {med(f'{work}/set-etcd-{size}.json'):.1f} |")
print()
print(f"Load average before: {os.environ['LOAD_BEFORE']}; after: {os.environ['LOAD_AFTER']}.")
PY
