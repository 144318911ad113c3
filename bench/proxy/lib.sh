# shellcheck shell=bash
# Helpers shared by the proxy benchmarks (run.sh, auth.sh), sourced after the script set
# BENCH_NAME (its log prefix), `tmp` (its scratch directory) and `pids` (the processes it
# started, stopped on exit): logging, starting and stopping processes, waiting for HTTP, CPU time
# from /proc, medians and ratios, wrk's report.

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
median() { sort -g | awk '{a[NR]=$1} END {if (NR) print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
med() { tr ' ' '\n' <<<"$1" | { grep . || true; } | median; }  # med "RUN RUN …"
ratio() {  # ratio A B — A/B with 2 decimals, or — when either is missing
  if [ -n "$1" ] && [ -n "$2" ]; then
    awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.2f", a / b; else printf "—"}'
  else
    echo "—"
  fi
}
# met A GOAL — "met" when the ratio A is at most GOAL, "not met" above it, "—" without a figure.
met() { awk -v a="$1" -v g="$2" 'BEGIN {if (a == "" || a == "—") print "—"; else print (a + 0 <= g + 0) ? "met" : "not met"}'; }
wrk_requests() { awk '/ requests in / {print $1}' <<<"$1"; }

# The backend both benchmarks proxy to: nginx, one worker, answering every request 200 with 64
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
