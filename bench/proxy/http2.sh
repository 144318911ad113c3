#!/usr/bin/env bash
# HTTP/2 proxy benchmark (issue 18): h2load (nghttp2-client) against meshgate-proxy, nginx and
# HAProxy as HTTP/2 reverse proxies, all measured in the same run in front of one HTTP/1.1
# keep-alive backend (nginx returning 64 bytes, as run.sh's), plus the backend direct over
# HTTP/1.1 as a reference. Clients speak HTTP/2 cleartext with prior knowledge (h2c): meshgate-proxy
# on its plain listener (it detects the HTTP/2 preface), nginx on `listen … http2`, HAProxy on
# `bind … proto h2`; each proxy forwards HTTP/1.1 upstream and keeps idle upstream connections for
# every stream in flight (CONNECTIONS × STREAMS). Each proxy runs one worker pinned to CPU 1;
# h2load (-t1) and the backend share CPU 0. Per target, medians over REPEATS runs of h2load -D
# DURATION interleaved round-robin (each round starting one target later, so drift and order hit
# every target alike): req/s, p50/p99 latency (from h2load's per-request log: the time from a
# request's start to the end of its response), the proxy's CPU time per request (utime+stime of
# all its processes from /proc, and each alone) and its CPU busy share (CPU time / wall time) —
# only 2xx responses count as requests. The direct row is HTTP/1.1 with CONNECTIONS × STREAMS
# connections, one request in flight on each: what the backend gets from the proxies. Goal:
# meshgate-proxy's CPU per HTTP/2 request ≤ 0.80 × nginx's. A proxy whose h2c check (curl
# --http2-prior-knowledge) fails is left out of the runs, one that exits is left out of the later
# runs; either is named under the table. Prints markdown on stdout; progress (and h2load's summary
# of any run with failures) on stderr.
#   bash bench/proxy/http2.sh                   (DURATION=5 REPEATS=3 CONNECTIONS=32 STREAMS=10)
#   DURATION=2 REPEATS=1 SKIP_BUILD=1 BUILD_DIR=build-bench bash bench/proxy/http2.sh
# Knobs: DURATION (seconds per h2load run), REPEATS, CONNECTIONS (h2load -c), STREAMS (h2load -m:
# concurrent streams per connection, at most 100 — meshgate-proxy's and HAProxy's limit),
# BUILD_DIR (default build-release), SKIP_BUILD=1 (use the binaries already in BUILD_DIR).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
duration=${DURATION:-5}
repeats=${REPEATS:-3}
connections=${CONNECTIONS:-32}
streams=${STREAMS:-10}
goal=0.80
build=${BUILD_DIR:-build-release}
[[ $build = /* ]] || build=$repo/$build
inflight=$((connections * streams))
host=bench.example.com

# Fixed ports (127.0.0.1), apart from run.sh's 18180-18193 and auth.sh's 18200-18214.
port_backend=18220
port_nginx=18221 port_haproxy=18222 port_meshgate=18223 admin_meshgate=18229

cd "$repo"
bash scripts/deps.sh
BENCH_NAME=bench/proxy/http2
tmp=$(mktemp -d)
pids=()
# shellcheck source=bench/proxy/lib.sh
source "$here/lib.sh"

if [ "$streams" -lt 1 ] || [ "$streams" -gt 100 ]; then die "STREAMS=$streams: must be 1..100"; fi
h2load=$(command -v h2load || true)
[ -n "$h2load" ] || die "h2load missing (Debian: nghttp2-client)"
die_if_port_used $port_backend $port_nginx $port_haproxy $port_meshgate $admin_meshgate
# Each proxy holds a client connection per h2load connection and an upstream one per stream in
# flight; HAProxy wants 2 descriptors per connection it may hold.
fd_limit=$(ulimit -Hn)
[ "$fd_limit" != unlimited ] || fd_limit=1048576
ulimit -n "$fd_limit"
haproxy_maxconn=$((2 * (connections + inflight) + 1000))
[ $((2 * haproxy_maxconn + 500)) -le "$fd_limit" ] ||
  die "descriptor hard limit $fd_limit too low for $inflight streams in flight"
# Idle upstream connections each proxy may keep: one per stream in flight (at least the defaults,
# 64), so no proxy closes and reopens upstream connections under this load.
upstream_idle=$((inflight > 64 ? inflight : 64))
[ "$upstream_idle" -le 10000 ] || die "CONNECTIONS × STREAMS = $inflight: at most 10000"
breaker=$((inflight > 1024 ? inflight : 1024))

build_targets meshgate-proxy
proxy=$build/bin/meshgate-proxy

# --- Configs ------------------------------------------------------------------------------------
meshgate_conf() {  # meshgate_conf NAME PORT ADMIN_PORT — a JSON config; prints the file
  local file=$tmp/$1.json
  cat >"$file" <<EOF
{
  "admin": {"address": "127.0.0.1", "port": $3},
  "listeners": [{"name": "bench", "address": "127.0.0.1", "port": $2}],
  "routes": [{
    "metadata": {"name": "bench"},
    "spec": {"hosts": ["$host"], "rules": [{"backends": [{"service": "backend", "port": $port_backend}]}]}
  }],
  "clusters": [{
    "name": "backend",
    "endpoints": [{"address": "127.0.0.1", "port": $port_backend}],
    "pool": {"maxIdlePerEndpoint": $upstream_idle},
    "circuitBreaker": {"maxConnections": $breaker, "maxPendingRequests": $breaker, "maxRequests": $breaker}
  }],
  "timeouts": {"idle": "300s"}
}
EOF
  echo "$file"
}

# --- Helpers ------------------------------------------------------------------------------------
# h2c_status PORT — "<HTTP version> <status>" of one GET / over h2c prior knowledge ("2 200"), then
# curl's error if any, on one line.
h2c_status() {
  curl -sS -o /dev/null --max-time 2 --http2-prior-knowledge -H "Host: $host" \
    -w '%{http_version} %{http_code}' "http://127.0.0.1:$1/" 2>"$tmp/curl.err" || true
  [ ! -s "$tmp/curl.err" ] || echo " ($(tr '\n' ' ' <"$tmp/curl.err" | sed 's/ *$//'))"
}
# h2load_run TARGET SECONDS [LOG] — h2load's output on stdout; LOG: its per-request log.
h2load_run() {
  local t=$1 seconds=$2 log=${3:-} args=()
  if [ "$t" = direct ]; then
    args=(--h1 -c "$inflight" -m 1)
  else
    args=(-c "$connections" -m "$streams")
  fi
  [ -z "$log" ] || args+=(--log-file "$log")
  taskset -c 0 "$h2load" -t 1 -D "$seconds" "${args[@]}" -H ":authority: $host" \
    "http://127.0.0.1:${target_port[$t]}/" 2>&1 || true
}
# field OUTPUT REGEX — the first number after REGEX in h2load's summary ("" when absent).
field() { grep -oE -m1 "$2" <<<"$1" | grep -oE '[0-9.]+' | head -1 || true; }

# --- Backend and proxies ----------------------------------------------------------------------
start_nginx backend "$(backend_conf)" taskset -c 0
wait_http "http://127.0.0.1:$port_backend/" 10

declare -A target_port target_pid target_label
target_port=([direct]=$port_backend [nginx]=$port_nginx [haproxy]=$port_haproxy
  [meshgate]=$port_meshgate)
target_label=([direct]="direct (backend, HTTP/1.1)" [nginx]=nginx [haproxy]=HAProxy
  [meshgate]=meshgate-proxy)
start_nginx nginx "$(nginx_proxy_conf nginx "$port_nginx" on http2 "$upstream_idle")" taskset -c 1
target_pid[nginx]=$started
start haproxy taskset -c 1 haproxy -db -f "$(haproxy_conf haproxy "$port_haproxy" 'proto h2')"
target_pid[haproxy]=$started
start meshgate taskset -c 1 "$proxy" --config "$(meshgate_conf meshgate "$port_meshgate" \
  "$admin_meshgate")" --concurrency 1 --log-level warn
target_pid[meshgate]=$started
wait_http "http://127.0.0.1:$admin_meshgate/ready" 20

targets=(direct)
declare -A not_measured
for t in nginx haproxy meshgate; do
  status=""
  for _ in $(seq 10); do
    status=$(h2c_status "${target_port[$t]}")
    [ "$status" != "2 200" ] || break
    sleep 0.2
  done
  if [ "$status" = "2 200" ]; then
    targets+=("$t")
  else
    not_measured[$t]="its h2c check (curl --http2-prior-knowledge) got HTTP version and status \"$status\", not \"2 200\""
    log "warning: ${target_label[$t]} left out: ${not_measured[$t]}"
  fi
done
[ ${#targets[@]} -gt 1 ] || die "no proxy answered over h2c"

# --- Throughput, latency, CPU per request ---------------------------------------------------------
declare -A rps_runs p50_runs p99_runs cpu_runs user_runs kernel_runs busy_runs failures exited
log "warm-up: 2 s per target"
for t in "${targets[@]}"; do h2load_run "$t" 2 >/dev/null; done
n=${#targets[@]}
for r in $(seq "$repeats"); do
  for i in $(seq 0 $((n - 1))); do
    t=${targets[$(((i + r - 1) % n))]}
    log "run $r/$repeats: $t (${duration}s)"
    procs=()
    if [ "$t" != direct ]; then
      [ -z "${exited[$t]:-}" ] || continue
      if ! alive "${target_pid[$t]}"; then
        exited[$t]="exited before run $r/$repeats; its last words: $(tail -3 "$tmp/$t.log" | tr '\n' ' ')"
        log "warning: ${target_label[$t]} ${exited[$t]}"
        continue
      fi
      read -ra procs <<<"$(family "${target_pid[$t]}")"
      read -r user_before kernel_before <<<"$(cpu_ticks "${procs[@]}")"
    fi
    rm -f "$tmp/requests.log"  # h2load appends to its log file
    out=$(h2load_run "$t" "$duration" "$tmp/requests.log")
    [ ${#procs[@]} -eq 0 ] || read -r user_after kernel_after <<<"$(cpu_ticks "${procs[@]}")"
    ok=$(field "$out" '[0-9]+ 2xx')
    seconds=$(field "$out" 'finished in [0-9.]+s')
    # Not 2xx: h2load's "failed" (errors, timeouts, 4xx, 5xx) and 3xx; at least done − 2xx.
    bad=$(awk '/^requests:/ {done = $6; failed = $10} /^status codes:/ {ok = $3; n3 = $5}
      END {b = failed + n3; if (done - ok > b) b = done - ok; print b + 0}' <<<"$out")
    if [ "$bad" -gt 0 ] || [ -z "$ok" ] || [ "$ok" -eq 0 ]; then
      failures[$t]=$((${failures[$t]:-0} + bad))
      log "warning: $t, run $r: $bad failed, errored, timed-out or non-2xx requests; h2load said:"
      grep -E '^(Application protocol|finished in|requests:|status codes:)|[Ee]rror|[Ff]ail' \
        <<<"$out" | head -12 | sed 's/^/  /' >&2
    fi
    if [ -z "$ok" ] || [ "$ok" -eq 0 ]; then
      log "warning: $t, run $r: no 2xx response; the run is left out"
      continue
    fi
    protocol=$(awk -F': ' '/^Application protocol:/ {print $2}' <<<"$out")
    want=h2c
    [ "$t" != direct ] || want=http/1.1
    [ "$protocol" = "$want" ] || die "h2load spoke ${protocol:-nothing} to $t, not $want: $out"
    rps_runs[$t]+="$(awk -v n="$ok" -v s="$seconds" 'BEGIN {printf "%.0f", n / s}') "
    read -r p50 p99 < <(awk '$2 ~ /^2/ {print $3}' "$tmp/requests.log" | percentiles 50 99 |
      tr '\n' ' ') || true
    p50_runs[$t]+="$(awk -v u="$p50" 'BEGIN {printf "%.3f", u / 1000}') "
    p99_runs[$t]+="$(awk -v u="$p99" 'BEGIN {printf "%.3f", u / 1000}') "
    if [ ${#procs[@]} -gt 0 ]; then
      user=$((user_after - user_before)) kernel=$((kernel_after - kernel_before))
      cpu_runs[$t]+="$(per_request $((user + kernel)) "$ok") "
      user_runs[$t]+="$(per_request "$user" "$ok") "
      kernel_runs[$t]+="$(per_request "$kernel" "$ok") "
      busy_runs[$t]+="$(awk -v d=$((user + kernel)) -v hz="$clk_tck" -v s="$seconds" \
        'BEGIN {printf "%.0f", 100 * d / hz / s}') "
    fi
  done
done
rm -f "$tmp/requests.log"

# --- Table --------------------------------------------------------------------------------------
nginx_cpu=$(med "${cpu_runs[nginx]:-}")
echo
echo "| target | req/s | p50 (ms) | p99 (ms) | proxy CPU µs/req | user | kernel | proxy CPU busy | CPU ratio to nginx |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
for t in direct nginx haproxy meshgate; do
  [ -z "${not_measured[$t]:-}" ] || continue
  cpu=$(med "${cpu_runs[$t]:-}") busy=$(med "${busy_runs[$t]:-}")
  [ -z "$busy" ] && busy=— || busy="$busy%"
  printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "${target_label[$t]}" \
    "$(fixed 0 "$(med "${rps_runs[$t]:-}")")" "$(fixed 2 "$(med "${p50_runs[$t]:-}")")" \
    "$(fixed 2 "$(med "${p99_runs[$t]:-}")")" "$(fixed 2 "$cpu")" \
    "$(fixed 2 "$(med "${user_runs[$t]:-}")")" "$(fixed 2 "$(med "${kernel_runs[$t]:-}")")" \
    "$busy" "$(ratio "$cpu" "$nginx_cpu")"
done
echo
echo "Command: \`DURATION=$duration REPEATS=$repeats CONNECTIONS=$connections STREAMS=$streams bash bench/proxy/http2.sh\`."
machine_note
echo "Medians of $repeats interleaved runs of \`h2load -t1 -c$connections -m$streams -D$duration\` per proxy, HTTP/2 cleartext with prior knowledge (h2c); direct: \`h2load --h1 -t1 -c$inflight -m1 -D$duration\` (HTTP/1.1, one request in flight per connection, as the proxies' upstream connections carry). h2load and the backend on CPU 0, each proxy one worker on CPU 1, each keeping up to $upstream_idle idle upstream connections (nginx \`keepalive\`, meshgate-proxy \`pool.maxIdlePerEndpoint\`; HAProxy \`http-reuse always\`)."
echo "Backend: nginx, worker_processes 1, \`return 200\` of 64 bytes, HTTP/1.1 keep-alive. req/s: 2xx responses / h2load's duration. p50/p99: of the 2xx requests' times from start to the end of the response (h2load --log-file), at saturation (closed loop). Proxy CPU µs/req: the proxy's utime+stime (all its processes) over the run / 2xx responses; user and kernel: each alone. Proxy CPU busy: that CPU time / h2load's duration, as a share of the proxy's one core (under 100%: the proxy spent part of the run waiting for h2load and the backend, which share CPU 0, or for the machine's other load, and handled smaller batches per wake-up than a saturated one would)."
echo "Versions: $(nginx -v 2>&1 | sed 's/^nginx version: //'), HAProxy $(haproxy -v | awk 'NR == 1 {print $3}'), h2load $("$h2load" --version | awk '{print $2}')."
for t in "${!not_measured[@]}"; do
  echo "Not measured: ${target_label[$t]} — ${not_measured[$t]}."
done
for t in "${!exited[@]}"; do
  echo "Warning: ${target_label[$t]} ${exited[$t]} (its row: the runs before)."
done
for t in "${targets[@]}"; do
  [ "${failures[$t]:-0}" -eq 0 ] ||
    echo "Warning: ${target_label[$t]}: ${failures[$t]} failed, errored, timed-out or non-2xx requests over its runs (h2load's summaries on stderr)."
done
cpu_ratio=$(ratio "$(med "${cpu_runs[meshgate]:-}")" "$nginx_cpu")
echo
echo "Goal (issue 18): meshgate-proxy's CPU per HTTP/2 request ≤ $goal × nginx's: $cpu_ratio ($(met "$cpu_ratio" "$goal"))."
