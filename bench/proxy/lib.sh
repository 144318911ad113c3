# shellcheck shell=bash
# Helpers shared by the proxy benchmarks (run.sh, auth.sh, http2.sh, tcp.sh), sourced after the
# script set BENCH_NAME (its log prefix), `tmp` (its scratch directory) and `pids` (the processes
# it started, stopped on exit): logging, building, starting and stopping processes, waiting for
# HTTP, CPU time from /proc, medians, percentiles and ratios, wrk's report, and the configs of the
# nginx backend and of nginx and HAProxy as reverse proxies.

log() { echo "$BENCH_NAME: $*" >&2; }
die() {
  log "error: $*"
  exit 1
}
# die_if_port_used PORT... — every benchmark port must be free before anything starts.
die_if_port_used() {
  local p
  for p in "$@"; do
    [ -z "$(ss -ltnH "sport = :$p")" ] || die "port $p is in use"
  done
}

# build_targets TARGET... — unless SKIP_BUILD=1, a Release build of the targets into $build;
# then each must be in $build/bin.
build_targets() {
  local t
  if [ "${SKIP_BUILD:-0}" != 1 ]; then
    log "building Release into $build"
    cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >"$tmp/build.log" 2>&1 ||
      die "cmake configure failed: $(tail -5 "$tmp/build.log")"
    cmake --build "$build" --target "$@" -j "$(nproc)" >>"$tmp/build.log" 2>&1 ||
      die "the build failed: $(tail -20 "$tmp/build.log")"
  fi
  for t in "$@"; do [ -x "$build/bin/$t" ] || die "$build/bin/$t missing"; done
}

# alive PID — running (an exited child stays a zombie until waited for; that does not count).
alive() { [ -r "/proc/$1/stat" ] && [[ $(<"/proc/$1/stat") != *") Z "* ]]; }
stop() {  # stop PID... — TERM, then KILL whatever is still there after 3 s
  local p
  for p in "$@"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "$@"; do
    for _ in $(seq 30); do
      alive "$p" || break
      sleep 0.1
    done
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  # Forget them, so the exit trap never signals a reused pid.
  local keep=() q
  for q in "${pids[@]}"; do [[ " $* " = *" $q "* ]] || keep+=("$q"); done
  pids=("${keep[@]}")
}
cleanup() {
  [ ${#pids[@]} -eq 0 ] || stop "${pids[@]}"
  rm -rf "$tmp"
}
trap cleanup EXIT

# start NAME CMD... — runs CMD in the background, output in $tmp/NAME.log; sets $started.
start() {
  local name=$1
  shift
  "$@" >"$tmp/$name.log" 2>&1 &
  started=$!
  pids+=("$started")
}
# wait_http URL SECONDS [curl args] — until URL answers 2xx, or die.
wait_http() {
  local url=$1 seconds=$2
  shift 2
  for _ in $(seq $((seconds * 10))); do
    curl -fsS -o /dev/null --max-time 2 "$@" "$url" 2>/dev/null && return 0
    sleep 0.1
  done
  die "$url did not answer within ${seconds}s"
}

# family PID — the PID and its children (nginx: master + worker; the worker does the work).
family() {
  local children
  children=$(pgrep -P "$1" | tr '\n' ' ' || true)
  echo "$1 $children"
}
# cpu_ticks PID... — "UTIME STIME" (fields 14, 15 of /proc/PID/stat), each summed over the PIDs.
# Fields are counted after the last ')' because the command name may hold spaces.
cpu_ticks() {
  local p user=0 kernel=0 stat
  for p in "$@"; do
    stat=$(<"/proc/$p/stat")
    read -ra f <<<"${stat##*) }"
    user=$((user + f[11]))
    kernel=$((kernel + f[12]))
  done
  echo "$user $kernel"
}
# per_request TICKS REQUESTS — CPU ticks as µs per request (clk_tck: getconf CLK_TCK).
clk_tck=$(getconf CLK_TCK)
per_request() { awk -v d="$1" -v hz="$clk_tck" -v n="$2" 'BEGIN {printf "%.2f", d * 1e6 / hz / n}'; }
# percentiles P... < values — the nearest-rank P-th percentile (P in 0..100] of the numbers on
# stdin, one a line, each on its own line in the order given; nothing when there are none.
percentiles() {
  sort -g | awk -v ps="$*" 'BEGIN {n = split(ps, p, " ")} {a[NR] = $1}
    END {if (NR) for (i = 1; i <= n; i++) {r = int(p[i] * NR / 100); if (r < p[i] * NR / 100) r++
      if (r < 1) r = 1; print a[r]}}'
}
median() { sort -g | awk '{a[NR]=$1} END {if (NR) print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
med() { tr ' ' '\n' <<<"$1" | { grep . || true; } | median; }  # med "RUN RUN …"
fixed() {  # fixed DECIMALS VALUE — VALUE with DECIMALS decimals, or — when it is empty
  if [ -n "${2:-}" ]; then printf "%.${1}f" "$2"; else echo "—"; fi
}
ratio() {  # ratio A B — A/B with 2 decimals, or — when either is missing
  if [ -n "$1" ] && [ -n "$2" ]; then
    awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.2f", a / b; else printf "—"}'
  else
    echo "—"
  fi
}
# met A GOAL — "met" when the ratio A is at most GOAL, "not met" above it, "—" without a figure.
met() { awk -v a="$1" -v g="$2" 'BEGIN {if (a == "" || a == "—") print "—"; else print (a + 0 <= g + 0) ? "met" : "not met"}'; }
# machine_note — the "Machine: …" line of a table's notes.
machine_note() {
  echo "Machine: $(nproc) CPUs, $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo), load average at the end $(cut -d' ' -f1-3 /proc/loadavg)."
}
wrk_requests() { awk '/ requests in / {print $1}' <<<"$1"; }

# The backend the HTTP benchmarks proxy to: nginx, one worker, answering every request 200 with 64
# bytes, keep-alive, on 127.0.0.1:$port_backend. backend_conf writes its config and prints its
# directory.
body=$(printf 'x%.0s' $(seq 63))  # + "\n" = 64 bytes
temp_paths() {  # nginx must not touch /var/lib/nginx: every temp path in its own dir
  echo "client_body_temp_path $1/body; proxy_temp_path $1/proxy; fastcgi_temp_path $1/fastcgi;"
  echo "uwsgi_temp_path $1/uwsgi; scgi_temp_path $1/scgi;"
}
backend_conf() {
  local dir=$tmp/backend
  mkdir -p "$dir"
  cat >"$dir/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  $(temp_paths "$dir")
  keepalive_requests 1000000000;
  keepalive_timeout 300s;
  server {
    listen 127.0.0.1:$port_backend backlog=4096;
    location / { default_type text/plain; return 200 "$body\n"; }
  }
}
EOF
  echo "$dir"
}
start_nginx() {  # start_nginx NAME DIR [prefix cmd...] — sets $started to the master (or only) process
  local name=$1 dir=$2
  shift 2
  start "$name" "$@" nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log"
}

# nginx_proxy_conf NAME PORT MASTER(on|off) [LISTEN_FLAGS] [UPSTREAM_KEEPALIVE] — nginx as a
# reverse proxy, one worker, on 127.0.0.1:PORT in front of the backend on $port_backend over
# HTTP/1.1 keep-alive, keeping up to UPSTREAM_KEEPALIVE (64) idle upstream connections; prints its
# directory. LISTEN_FLAGS go on the listen line (`http2`: HTTP/2, cleartext with prior knowledge).
nginx_proxy_conf() {
  local dir=$tmp/$1
  mkdir -p "$dir"
  cat >"$dir/nginx.conf" <<EOF
worker_processes 1;
master_process $3;
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 20000; }
http {
  access_log off;
  $(temp_paths "$dir")
  keepalive_requests 1000000000;
  keepalive_timeout 300s;
  upstream backend {
    server 127.0.0.1:$port_backend;
    keepalive ${5:-64};
    keepalive_requests 1000000000;
    keepalive_timeout 300s;
  }
  server {
    listen 127.0.0.1:$2 ${4:+$4 }backlog=4096;
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
EOF
  echo "$dir"
}
# haproxy_conf NAME PORT [BIND_FLAGS] — HAProxy in HTTP mode, one thread, maxconn
# $haproxy_maxconn, on 127.0.0.1:PORT in front of the backend on $port_backend, reusing idle
# server connections (http-reuse always); prints the file. BIND_FLAGS go on the bind line
# (`proto h2`: HTTP/2, cleartext with prior knowledge).
haproxy_conf() {
  local file=$tmp/$1.cfg
  cat >"$file" <<EOF
global
  nbthread 1
  maxconn $haproxy_maxconn
defaults
  mode http
  option http-keep-alive
  http-reuse always
  maxconn $haproxy_maxconn
  timeout connect 5s
  timeout client 300s
  timeout server 300s
  timeout http-keep-alive 300s
frontend bench
  bind 127.0.0.1:$2${3:+ $3}
  default_backend backend
backend backend
  server backend 127.0.0.1:$port_backend
EOF
  echo "$file"
}
