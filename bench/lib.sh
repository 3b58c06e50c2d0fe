#!/usr/bin/env bash
# bench/lib.sh: shell functions shared by the bench scripts; sourced, not run.

# need_tools SCRIPT PKG:CMD ...: installs the Debian packages whose command
# is missing (as root; otherwise it says what to install and fails).
need_tools() {
	local script=$1 need=() spec
	shift
	for spec in "$@"; do
		command -v "${spec#*:}" >/dev/null 2>&1 || [ -x "/usr/sbin/${spec#*:}" ] || need+=("${spec%%:*}")
	done
	[ ${#need[@]} -eq 0 ] && return 0
	if [ "$(id -u)" != 0 ]; then
		echo "$script: missing ${need[*]}; install them (apt-get install ${need[*]}) or run as root" >&2
		exit 1
	fi
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
}

# ports_free SCRIPT FIRST LAST: fails when a port in FIRST..LAST on
# 127.0.0.1 is in use.
ports_free() {
	local port
	for port in $(seq "$2" "$3"); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			echo "$1: port $port is in use; set BASE_PORT" >&2
			exit 1
		fi
	done
}

# to_ms LATENCY: converts a wrk latency ("460.00us", "1.21ms", "1.02s") to ms.
to_ms() {
	awk -v v="$1" 'BEGIN {
		if (v ~ /us$/) { sub(/us$/, "", v); printf "%.3f", v / 1000 }
		else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.3f", v }
		else if (v ~ /m$/) { sub(/m$/, "", v); printf "%.3f", v * 60000 }
		else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.3f", v * 1000 }
		else { printf "nan" }
	}'
}

# start_nginx DIR BACKEND_PORT LISTEN_PORT [EXTRA]: writes DIR/nginx.conf
# (one worker, no access log, upstream keepalive 64 to 127.0.0.1:BACKEND_PORT,
# a plain proxy_pass server on 127.0.0.1:LISTEN_PORT, then the EXTRA server
# blocks, which may use the upstream "u") and starts nginx as a daemon; its
# pid file is DIR/nginx.pid. Sets NGINX to the binary.
start_nginx() {
	local dir=$1
	NGINX=$(command -v nginx || echo /usr/sbin/nginx)
	mkdir -p "$dir"
	cat >"$dir/nginx.conf" <<CONF
worker_processes 1;
daemon on;
error_log $dir/error.log warn;
pid $dir/nginx.pid;
events { worker_connections 1024; }
http {
	access_log off;
	client_body_temp_path $dir/body;
	proxy_temp_path $dir/proxy;
	fastcgi_temp_path $dir/fastcgi;
	uwsgi_temp_path $dir/uwsgi;
	scgi_temp_path $dir/scgi;
	upstream u { server 127.0.0.1:$2; keepalive 64; }
	server {
		listen 127.0.0.1:$3;
		location / { proxy_pass http://u; proxy_http_version 1.1; proxy_set_header Connection ""; }
	}
${4:-}
}
CONF
	"$NGINX" -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log"
}

# wrk_summary FILE: reads the output of `wrk --latency` and prints
# "req/s p50_ms p99_ms failures" (failures: non-2xx/3xx answers plus socket
# errors).
wrk_summary() {
	local out=$1 non2xx sock
	non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$out")
	sock=$(awk '/Socket errors:/ {gsub(/,/, ""); print $4 + $6 + $8 + $10}' "$out")
	echo "$(awk '/^Requests\/sec:/ {print $2}' "$out") $(to_ms "$(awk '$1 == "50%" {print $2}' "$out")") $(to_ms "$(awk '$1 == "99%" {print $2}' "$out")") $(( ${non2xx:-0} + ${sock:-0} ))"
}

# bench_workdir: makes $tmp (a new temporary directory) and $pids (the
# background processes to stop), and on exit kills and reaps those
# processes and removes $tmp. A script with more to clean up defines
# bench_cleanup_extra, which runs first.
bench_workdir() {
	tmp=$(mktemp -d)
	pids=()
	trap bench_cleanup EXIT
}

bench_cleanup() {
	if declare -F bench_cleanup_extra >/dev/null; then bench_cleanup_extra; fi
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$tmp"
}
