#!/usr/bin/env bash
# Proxy benchmark: meshgate-proxy against nginx and HAProxy as reverse proxies, all measured in the
# same run in front of one small keep-alive backend, plus the backend direct. Each proxy runs one
# worker pinned to CPU 1; wrk and the backend share CPU 0. Per target, medians over REPEATS runs
# interleaved round-robin (so drift hits every target alike): req/s, p50/p99 latency, and the
# proxy's CPU time per request (utime+stime from /proc, and each alone), and the TCP segments the
# machine sent per request (TcpOutSegs: what the kernel's share of that time is made of). Then, on the same proxy processes: latency
# at a fixed rate RATE, open loop (meshgate-open-loop, wrk2's model: latency from each request's
# due time), medians over REPEATS interleaved runs per target; and system calls per request of the
# meshgate and nginx processes over one wrk run (perf's syscall tracepoints, or strace -c where
# perf cannot count them). Then instructions per request under callgrind (meshgate, nginx) and
# resident memory with IDLE idle keep-alive client connections (meshgate, nginx, HAProxy). Then
# overload: OVERLOAD (20,000) connection attempts against a meshgate-proxy whose
# limits.maxConnections is half that — how many it holds, sheds with a 503 or closes, its RSS, and
# whether it still serves once they go. Prints markdown tables on stdout; progress goes to stderr.
#   bash bench/proxy/run.sh                               (DURATION=10 REPEATS=5 CONNECTIONS=32)
#   DURATION=3 REPEATS=1 bash bench/proxy/run.sh          (a quick look)
# More knobs: IDLE=10000, SKIP_BUILD=1 (use the binaries already in BUILD_DIR, default
# build-release), RATE=10000 (open-loop req/s), SKIP_OPEN_LOOP=1, SKIP_SYSCALLS=1,
# SYSCALL_COUNTER=perf|strace.
# The backend is nginx returning 64 bytes, not meshgate-test-backend: on this 2-core machine nginx
# served ~25% more req/s in the same setup, so it is less of a ceiling.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
duration=${DURATION:-10}
repeats=${REPEATS:-5}
connections=${CONNECTIONS:-32}
idle=${IDLE:-10000}
overload=${OVERLOAD:-20000}
# Open-loop rate: fixed, not a share of this run's wrk req/s, so p99 compares across commits at
# the same load. On this 2-core VM it is ~20% of the slowest proxy's wrk req/s and already keeps
# each proxy's core ~45% busy: spread-out arrivals cost a wake-up per request (~4x the CPU per
# request of wrk's saturated, batched load), in the proxies and in meshgate-open-loop alike
# (~25 µs each here), so near 60% of saturation the proxy's core and CPU 0 (generator + backend)
# would saturate and the table would measure queueing.
rate=${RATE:-10000}
skip_open_loop=${SKIP_OPEN_LOOP:-0}
skip_syscalls=${SKIP_SYSCALLS:-0}
syscall_seconds=2  # one wrk run under the syscall counter
build=${BUILD_DIR:-build-release}
[[ $build = /* ]] || build=$repo/$build

# Fixed ports (127.0.0.1), one per process so no phase waits on another's sockets.
port_backend=18180
port_nginx=18181 port_haproxy=18182 port_meshgate=18183 admin_meshgate=18190
port_cg_nginx=18184 port_cg_meshgate=18185 admin_cg_meshgate=18191
port_rss_nginx=18186 port_rss_meshgate=18187 admin_rss_meshgate=18192 port_rss_haproxy=18188
port_over_meshgate=18189 admin_over_meshgate=18193

cd "$repo"
bash scripts/deps.sh
BENCH_NAME=bench/proxy
tmp=$(mktemp -d)
pids=()
# shellcheck source=bench/proxy/lib.sh
source "$here/lib.sh"

die_if_port_used $port_backend $port_nginx $port_haproxy $port_meshgate $admin_meshgate $port_cg_nginx \
  $port_cg_meshgate $admin_cg_meshgate $port_rss_nginx $port_rss_meshgate $admin_rss_meshgate \
  $port_rss_haproxy $port_over_meshgate $admin_over_meshgate
# Proxies and idle clients inherit this: 10,000 connections need more than the usual 1024.
fd_limit=$(ulimit -Hn)
[ "$fd_limit" != unlimited ] || fd_limit=1048576
ulimit -n "$fd_limit"
# HAProxy refuses to start unless the descriptor limit covers 2 per connection (client + server)
# plus some: its maxconn is what the limit allows, at most what the idle-connection test needs.
haproxy_maxconn=$(((fd_limit - 500) / 2))
[ "$haproxy_maxconn" -le $((idle + 200)) ] || haproxy_maxconn=$((idle + 200))


# --- Build ------------------------------------------------------------------------------------
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  log "building Release into $build"
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >"$tmp/build.log" 2>&1 ||
    die "cmake configure failed: $(tail -5 "$tmp/build.log")"
  cmake --build "$build" --target meshgate-proxy meshgate-test-backend meshgate-idle-clients \
    meshgate-open-loop -j "$(nproc)" >>"$tmp/build.log" 2>&1 ||
    die "the build failed: $(tail -20 "$tmp/build.log")"
fi
[ -x "$build/bin/meshgate-proxy" ] || die "$build/bin/meshgate-proxy missing"
idle_clients=$build/bin/meshgate-idle-clients
[ -x "$idle_clients" ] || die "$idle_clients missing"
open_loop=$build/bin/meshgate-open-loop
[ "$skip_open_loop" = 1 ] || [ -x "$open_loop" ] || die "$open_loop missing"

# --- Helpers ------------------------------------------------------------------------------------
# tcp_segments — TCP segments sent by the whole machine so far (TcpOutSegs of /proc/net/snmp).
tcp_segments() { awk '$1 == "Tcp:" && !h {for (i = 1; i <= NF; i++) c[$i] = i; h = 1; next}
  $1 == "Tcp:" {print $c["OutSegs"]}' /proc/net/snmp; }
# rss_kib PID... — VmRSS summed.
rss_kib() {
  local p
  for p in "$@"; do awk '/^VmRSS:/ {print $2}' "/proc/$p/status"; done | awk '{s += $1} END {print s + 0}'
}
# wrk's latency ("812.00us", "1.23ms", "2.01s") in ms.
to_ms() {
  awk -v v="$1" 'BEGIN {n = v + 0; u = v; sub(/^[0-9.]+/, "", u);
    f = (u == "us") ? 0.001 : (u == "ms") ? 1 : (u == "s") ? 1000 : (u == "m") ? 60000 : 0;
    printf "%.3f", n * f}'
}
wrk_run() {  # wrk_run PORT SECONDS CONNECTIONS [wrk args] — wrk's output on stdout
  local port=$1 seconds=$2 conns=$3
  shift 3
  taskset -c 0 wrk -t1 -c"$conns" -d"${seconds}s" --latency -H 'Host: bench.example.com' "$@" \
    "http://127.0.0.1:$port/"
}
# open_loop_run PORT RATE SECONDS — meshgate-open-loop's key=value line (1 s warm-up first).
open_loop_run() {
  taskset -c 0 "$open_loop" --target "127.0.0.1:$1" --host-header bench.example.com --rate "$2" \
    --duration "$3" --warmup 1 --connections "$connections" || true
}
kv() { tr ' ' '\n' <<<"$2" | awk -F= -v k="$1" '$1 == k {print $2}'; }  # kv KEY "k=v k=v …"
# Non-2xx responses plus socket errors (connect, read, write, timeout) of one wrk run.
wrk_errors() {
  awk '/Non-2xx or 3xx responses:/ {n += $NF}
    /Socket errors:/ {for (i = 3; i <= NF; i += 2) n += $(i + 1) + 0} END {print n + 0}' <<<"$1"
}

# --- Configs ------------------------------------------------------------------------------------
meshgate_conf() {  # meshgate_conf NAME PORT ADMIN_PORT
  local file=$tmp/$1.yaml
  cat >"$file" <<EOF
admin: {address: 127.0.0.1, port: $3}
listeners:
- {name: bench, address: 127.0.0.1, port: $2}
routes:
- metadata: {name: bench}
  spec:
    hosts: [bench.example.com]
    rules:
    - backends: [{service: backend, port: $port_backend}]
clusters:
- name: backend
  endpoints: [{address: 127.0.0.1, port: $port_backend}]
timeouts: {idle: 300s}
EOF
  echo "$file"
}

# --- Backend and proxies ----------------------------------------------------------------------
dir=$(backend_conf)
start_nginx backend "$dir" taskset -c 0
wait_http "http://127.0.0.1:$port_backend/" 10

targets=(direct nginx haproxy)
declare -A target_port target_pid
target_port[direct]=$port_backend
target_port[nginx]=$port_nginx
target_port[haproxy]=$port_haproxy
target_port[meshgate]=$port_meshgate

dir=$(nginx_proxy_conf nginx "$port_nginx" on)
start_nginx nginx "$dir" taskset -c 1
target_pid[nginx]=$started
start haproxy taskset -c 1 haproxy -db -f "$(haproxy_conf haproxy "$port_haproxy")"
target_pid[haproxy]=$started
start meshgate taskset -c 1 "$build/bin/meshgate-proxy" \
  --config "$(meshgate_conf meshgate "$port_meshgate" "$admin_meshgate")" --concurrency 1 \
  --log-level warn
target_pid[meshgate]=$started
wait_http "http://127.0.0.1:$admin_meshgate/ready" 20
targets+=(meshgate)
for t in "${targets[@]}"; do
  wait_http "http://127.0.0.1:${target_port[$t]}/" 10 -H 'Host: bench.example.com'
done

# --- Throughput, latency, CPU per request ---------------------------------------------------------
declare -A rps_runs p50_runs p99_runs cpu_runs user_runs kernel_runs segment_runs errors
log "warm-up: 2 s per target"
for t in "${targets[@]}"; do wrk_run "${target_port[$t]}" 2 "$connections" >/dev/null; done
for r in $(seq "$repeats"); do
  for t in "${targets[@]}"; do
    log "run $r/$repeats: $t (${duration}s)"
    procs=()
    [ "$t" = direct ] || read -ra procs <<<"$(family "${target_pid[$t]}")"
    [ ${#procs[@]} -eq 0 ] || read -r user_before kernel_before <<<"$(cpu_ticks "${procs[@]}")"
    segments_before=$(tcp_segments)
    out=$(wrk_run "${target_port[$t]}" "$duration" "$connections")
    segments_after=$(tcp_segments)
    [ ${#procs[@]} -eq 0 ] || read -r user_after kernel_after <<<"$(cpu_ticks "${procs[@]}")"
    requests=$(wrk_requests "$out")
    if [ -z "$requests" ] || [ "$requests" -eq 0 ]; then die "wrk against $t served nothing: $out"; fi
    rps_runs[$t]+="$(awk '/^Requests\/sec:/ {print $2}' <<<"$out") "
    p50_runs[$t]+="$(to_ms "$(awk '$1 == "50%" {print $2}' <<<"$out")") "
    p99_runs[$t]+="$(to_ms "$(awk '$1 == "99%" {print $2}' <<<"$out")") "
    errors[$t]=$((${errors[$t]:-0} + $(wrk_errors "$out")))
    segment_runs[$t]+="$(awk -v d=$((segments_after - segments_before)) -v n="$requests" \
      'BEGIN {printf "%.2f", d / n}') "
    if [ ${#procs[@]} -gt 0 ]; then
      user=$((user_after - user_before)) kernel=$((kernel_after - kernel_before))
      cpu_runs[$t]+="$(per_request $((user + kernel)) "$requests") "
      user_runs[$t]+="$(per_request "$user" "$requests") "
      kernel_runs[$t]+="$(per_request "$kernel" "$requests") "
    fi
  done
done

# --- Latency at a fixed rate (open loop) ----------------------------------------------------------
# wrk's p99 above is at saturation, where it is mostly queueing. Here every target gets the same
# fixed rate (well under the slowest proxy's capacity) from meshgate-open-loop, pinned like wrk:
# latency runs from each request's due time, so a stall counts against every request it held up.
declare -A ol_p50_runs ol_p99_runs ol_p999_runs ol_rate_runs ol_cpu_runs ol_errors
if [ "$skip_open_loop" != 1 ]; then
  lowest=$(for t in nginx haproxy meshgate; do med "${rps_runs[$t]}"; done | sort -g | head -1)
  rate_share=$(awk -v r="$rate" -v l="$lowest" 'BEGIN {printf "%.0f", 100 * r / l}')
  [ "$rate_share" -le 60 ] ||
    log "warning: RATE $rate is $rate_share% of the slowest proxy's wrk req/s: expect queueing"
  for r in $(seq "$repeats"); do
    for t in "${targets[@]}"; do
      log "open loop $r/$repeats: $t (${duration}s at $rate req/s)"
      procs=()
      [ "$t" = direct ] || read -ra procs <<<"$(family "${target_pid[$t]}")"
      [ ${#procs[@]} -eq 0 ] || before=$(cpu_ticks "${procs[@]}" | awk '{print $1 + $2}')
      began=$(date +%s%N)
      out=$(open_loop_run "${target_port[$t]}" "$rate" "$duration")
      if [ ${#procs[@]} -gt 0 ]; then
        after=$(cpu_ticks "${procs[@]}" | awk '{print $1 + $2}')
        ol_cpu_runs[$t]+="$(awk -v d=$((after - before)) -v hz="$clk_tck" \
          -v ns=$(($(date +%s%N) - began)) 'BEGIN {printf "%.1f", 100 * d / hz / (ns / 1e9)}') "
      fi
      [ -n "$(kv p99_us "$out")" ] || die "meshgate-open-loop against $t gave no figures: $out"
      ol_p50_runs[$t]+="$(kv p50_us "$out") "
      ol_p99_runs[$t]+="$(kv p99_us "$out") "
      ol_p999_runs[$t]+="$(kv p999_us "$out") "
      ol_rate_runs[$t]+="$(kv achieved_rate "$out") "
      failed=$(kv errors "$out") unsent=$(kv unsent "$out")
      ol_errors[$t]=$((${ol_errors[$t]:-0} + ${failed:-0} + ${unsent:-0}))
    done
  done
fi

# --- System calls per request ---------------------------------------------------------------------
# Counted on the proxy's processes (nginx: master + worker) over one closed-loop wrk run of
# $syscall_seconds s, divided by the requests wrk completed. perf counts the syscall tracepoints
# in the kernel without slowing the proxy; strace -c (the fallback) stops it at every call, which
# lets more events pile up per epoll_wait, so its wake-ups per request read low.
declare -A sc_requests
syscall_counter=${SYSCALL_COUNTER:-}
if [ "$skip_syscalls" != 1 ] && [ -z "$syscall_counter" ]; then
  if perf stat -x, -e raw_syscalls:sys_enter,syscalls:sys_enter_epoll_wait -- true >/dev/null 2>&1
  then
    syscall_counter=perf
  elif command -v strace >/dev/null; then
    syscall_counter=strace
  else
    log "warning: neither perf (syscall tracepoints) nor strace works: no system call counts"
    skip_syscalls=1
  fi
fi
# perf counts these one by one (those this kernel has a tracepoint for) and every call
# (raw_syscalls:sys_enter); the difference is "other". Not all ~350 syscalls:sys_enter_*: perf
# then takes ~15 s to detach, in uninterruptible sleep.
sc_names=(epoll_wait epoll_pwait epoll_pwait2 epoll_ctl read readv recvfrom recvmsg recvmmsg write
  writev sendto sendmsg sendmmsg sendfile64 splice accept accept4 connect close shutdown setsockopt
  getsockopt getsockname getpeername ioctl fcntl futex timerfd_settime eventfd2 io_uring_enter mmap
  munmap mprotect madvise brk nanosleep clock_nanosleep sched_yield openat newfstatat)
sc_events=raw_syscalls:sys_enter
if [ "$syscall_counter" = perf ]; then
  sc_available=$(perf list 'syscalls:sys_enter_*' 2>/dev/null | awk '{print $1}')
  for n in "${sc_names[@]}"; do
    if grep -qx "syscalls:sys_enter_$n" <<<"$sc_available"; then
      sc_events+=",syscalls:sys_enter_$n"
    fi
  done
fi
# syscalls_measure NAME PORT PID — "syscall count" lines into $tmp/syscalls.NAME; sets
# sc_requests[NAME].
syscalls_measure() {
  local name=$1 port=$2 raw=$tmp/syscalls.$1.raw counter out p procs args=()
  read -ra procs <<<"$(family "$3")"
  if [ "$syscall_counter" = perf ]; then
    # The last event counts the calls that returned EAGAIN (-11): reads with nothing to read.
    start "perf-$name" perf stat -x, -o "$raw" -e "$sc_events" -e raw_syscalls:sys_exit \
      --filter 'ret == -11' -p "$(IFS=,; echo "${procs[*]}")"
  else
    for p in "${procs[@]}"; do args+=(-p "$p"); done
    start "strace-$name" strace -c -f -q -o "$raw" "${args[@]}"
  fi
  counter=$started
  sleep 1  # attached (perf opens its tracepoints per thread; strace stops each thread)
  out=$(wrk_run "$port" "$syscall_seconds" "$connections")
  kill -INT "$counter" 2>/dev/null || true  # both print their counts on SIGINT
  for _ in $(seq 300); do
    alive "$counter" || break
    sleep 0.1
  done
  stop "$counter"
  if [ "$syscall_counter" = perf ]; then
    awk -F, '$1 !~ /^[0-9]+$/ {next}
      $3 == "raw_syscalls:sys_enter" {all = $1; next}
      $3 == "raw_syscalls:sys_exit" {print "(failed)", $1; next}
      $1 > 0 {sub(/^syscalls:sys_enter_/, "", $3); print $3, $1; named += $1}
      END {if (all > named) print "(other)", all - named}' "$raw" >"$tmp/syscalls.$name" \
      2>/dev/null || true
  else
    # % time, seconds, usecs/call, calls, [errors], syscall
    awk '$4 ~ /^[0-9]+$/ && $NF != "total" {print $NF, $4; if (NF == 6) failed += $5}
      END {print "(failed)", failed + 0}' "$raw" >"$tmp/syscalls.$name" 2>/dev/null || true
  fi
  sc_requests[$name]=$(wrk_requests "$out")
  if ! grep -qv '^(' "$tmp/syscalls.$name" || [ -z "${sc_requests[$name]}" ]; then
    log "warning: $syscall_counter gave no system call counts for $name:" \
      "$(tail -3 "$tmp/$syscall_counter-$name.log")"
    sc_requests[$name]=""
  fi
}
if [ "$skip_syscalls" != 1 ]; then
  for t in meshgate nginx; do
    log "system calls ($syscall_counter): $t, wrk ${syscall_seconds}s"
    syscalls_measure "$t" "${target_port[$t]}" "${target_pid[$t]}"
  done
fi
stop "${target_pid[nginx]}" "${target_pid[haproxy]}"
[ -z "${target_pid[meshgate]:-}" ] || stop "${target_pid[meshgate]}"

# --- Instructions per request (callgrind) ---------------------------------------------------------
# Valgrind starts with instrumentation off (--instr-atstart=no: start-up and the warm-up are not
# counted and run faster); callgrind_control switches it on just before the measured load and
# dumps right after it, so the dump holds the instructions of exactly that load.
declare -A ir_per_request
callgrind_measure() {  # callgrind_measure NAME PORT PID
  local name=$1 port=$2 vpid=$3 out requests total dump
  wrk_run "$port" 2 4 --timeout 10s >/dev/null
  callgrind_control -i on "$vpid" >/dev/null 2>&1
  out=$(wrk_run "$port" 5 4 --timeout 10s)
  callgrind_control -d "$vpid" >/dev/null 2>&1
  requests=$(wrk_requests "$out")
  # The dump just requested: the newest of this run's files.
  dump=$(find "$tmp" -name "callgrind.$name.*" -printf '%T@ %p\n' | sort -n | tail -1 | cut -d' ' -f2)
  total=$(awk '/^(summary|totals):/ {print $2; exit}' "${dump:-/dev/null}")
  if [ -n "$total" ] && [ -n "$requests" ] && [ "$requests" -gt 0 ]; then
    ir_per_request[$name]=$((total / requests))
    log "callgrind $name: $total Ir / $requests requests"
  else
    log "warning: callgrind $name gave no figure (requests: ${requests:-none}, dump: ${dump:-none})"
  fi
}
valgrind_cmd=(taskset -c 1 valgrind --tool=callgrind --instr-atstart=no)
dir=$(nginx_proxy_conf cg-nginx "$port_cg_nginx" off)
log "callgrind: nginx"
start_nginx cg-nginx "$dir" "${valgrind_cmd[@]}" --callgrind-out-file="$tmp/callgrind.nginx.%p"
cg_pid=$started
wait_http "http://127.0.0.1:$port_cg_nginx/" 60
callgrind_measure nginx "$port_cg_nginx" "$cg_pid"
stop "$cg_pid"
log "callgrind: meshgate"
start cg-meshgate "${valgrind_cmd[@]}" --callgrind-out-file="$tmp/callgrind.meshgate.%p" \
  "$build/bin/meshgate-proxy" --config "$(meshgate_conf cg-meshgate "$port_cg_meshgate" \
    "$admin_cg_meshgate")" --concurrency 1 --log-level warn
cg_pid=$started
wait_http "http://127.0.0.1:$admin_cg_meshgate/ready" 90
callgrind_measure meshgate "$port_cg_meshgate" "$cg_pid"
stop "$cg_pid"

# --- Memory with idle keep-alive client connections ---------------------------------------------
declare -A rss_idle rss_base
rss_measure() {  # rss_measure NAME PORT PID — after one request; then with $idle idle clients
  local name=$1 port=$2 ppid=$3 clients
  curl -fsS -o /dev/null -H 'Host: bench.example.com' "http://127.0.0.1:$port/"
  read -ra procs <<<"$(family "$ppid")"
  rss_base[$name]=$(rss_kib "${procs[@]}")
  start "idle-$name" taskset -c 0 "$idle_clients" --connect "127.0.0.1:$port" --count "$idle" \
    --hold-seconds 120
  clients=$started
  for _ in $(seq 600); do
    grep -q "^open $idle\$" "$tmp/idle-$name.log" && break
    alive "$clients" || break
    sleep 0.1
  done
  if grep -q "^open $idle\$" "$tmp/idle-$name.log"; then
    sleep 1  # let the proxy settle (lazy frees, timers) before reading
    read -ra procs <<<"$(family "$ppid")"
    rss_idle[$name]=$(rss_kib "${procs[@]}")
  else
    log "warning: $name: $idle idle connections not established: $(cat "$tmp/idle-$name.log")"
  fi
  stop "$clients"
}
log "memory: $idle idle connections"
dir=$(nginx_proxy_conf rss-nginx "$port_rss_nginx" on)
start_nginx rss-nginx "$dir" taskset -c 1
rss_pid=$started
wait_http "http://127.0.0.1:$port_rss_nginx/" 10
rss_measure nginx "$port_rss_nginx" "$rss_pid"
stop "$rss_pid"
if [ "$haproxy_maxconn" -ge $((idle + 100)) ]; then
  start rss-haproxy taskset -c 1 haproxy -db -f "$(haproxy_conf rss-haproxy "$port_rss_haproxy")"
  rss_pid=$started
  wait_http "http://127.0.0.1:$port_rss_haproxy/" 10
  rss_measure haproxy "$port_rss_haproxy" "$rss_pid"
  stop "$rss_pid"
fi
start rss-meshgate taskset -c 1 "$build/bin/meshgate-proxy" \
  --config "$(meshgate_conf rss-meshgate "$port_rss_meshgate" "$admin_rss_meshgate")" \
  --concurrency 1 --log-level warn
rss_pid=$started
wait_http "http://127.0.0.1:$admin_rss_meshgate/ready" 20
rss_measure meshgate "$port_rss_meshgate" "$rss_pid"
stop "$rss_pid"

# --- Overload: more connections than limits.maxConnections ------------------------------------
over_cap=$((overload / 2))
log "overload: $overload connection attempts, limits.maxConnections $over_cap"
over_conf=$(meshgate_conf over-meshgate "$port_over_meshgate" "$admin_over_meshgate")
echo "limits: {maxConnections: $over_cap}" >>"$over_conf"
start over-meshgate taskset -c 1 "$build/bin/meshgate-proxy" --config "$over_conf" \
  --concurrency 1 --log-level warn
over_pid=$started
wait_http "http://127.0.0.1:$admin_over_meshgate/ready" 20
curl -fsS -o /dev/null -H 'Host: bench.example.com' "http://127.0.0.1:$port_over_meshgate/"
over_base=$(rss_kib "$over_pid")
start over-clients taskset -c 0 "$idle_clients" --connect "127.0.0.1:$port_over_meshgate" \
  --count "$overload" --count-shed --hold-seconds 300
over_clients=$started
over_outcome=""
for _ in $(seq 1200); do
  over_outcome=$(grep -m1 '^open ' "$tmp/over-clients.log" || true)
  [ -z "$over_outcome" ] || break
  alive "$over_clients" || break
  sleep 0.1
done
over_rss=$(rss_kib "$over_pid")
over_shed_during=$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: bench.example.com' \
  "http://127.0.0.1:$port_over_meshgate/" || true)
over_rejected=$(curl -s "http://127.0.0.1:$admin_over_meshgate/stats" |
  awk '/^meshgate_proxy_downstream_connections_rejected_total\{reason="connection_limit"\}/ {print $2}')
stop "$over_clients"
over_after=000
for _ in $(seq 100); do
  over_after=$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: bench.example.com' \
    "http://127.0.0.1:$port_over_meshgate/" || true)
  [ "$over_after" != 200 ] || break
  sleep 0.1
done
alive "$over_pid" && over_alive=yes || over_alive=no
stop "$over_pid"

# --- Table --------------------------------------------------------------------------------------
nginx_cpu=$(med "${cpu_runs[nginx]:-}")
echo
echo "| target | req/s | p50 (ms) | p99 (ms) | CPU µs/req | user | kernel | CPU ratio to nginx | TCP segments/req | Ir/req | Ir ratio to nginx | RSS ${idle} idle (MiB) |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for t in direct nginx haproxy meshgate; do
  label=$t
  [ "$t" = direct ] && label="direct (no proxy)"
  [ "$t" = meshgate ] && label=meshgate-proxy
  cpu=$(med "${cpu_runs[$t]:-}")
  ir=${ir_per_request[$t]:-}
  rss=""
  [ -z "${rss_idle[$t]:-}" ] || rss=$(awk -v k="${rss_idle[$t]}" 'BEGIN {printf "%.1f", k / 1024}')
  user=$(med "${user_runs[$t]:-}") kernel=$(med "${kernel_runs[$t]:-}")
  printf '| %s | %.0f | %.2f | %.2f | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$label" \
    "$(med "${rps_runs[$t]}")" "$(med "${p50_runs[$t]}")" "$(med "${p99_runs[$t]}")" \
    "${cpu:-—}" "${user:-—}" "${kernel:-—}" "$(ratio "$cpu" "$nginx_cpu")" \
    "$(med "${segment_runs[$t]}")" "${ir:-—}" \
    "$(ratio "$ir" "${ir_per_request[nginx]:-}")" "${rss:-—}"
done
echo
echo "Command: \`DURATION=$duration REPEATS=$repeats CONNECTIONS=$connections IDLE=$idle RATE=$rate bash bench/proxy/run.sh\`."
echo "Machine: $(nproc) CPUs, $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo), load average at the end $(cut -d' ' -f1-3 /proc/loadavg)."
echo "Medians of $repeats interleaved runs of wrk -t1 -c$connections -d${duration}s per target (wrk and the backend on CPU 0, each proxy one worker on CPU 1)."
echo "Backend: nginx, worker_processes 1, \`return 200\` of 64 bytes, keep-alive. CPU µs/req: the proxy's utime+stime (all its processes) / requests wrk counted; user and kernel: utime and stime alone. TCP segments/req: TcpOutSegs of the whole machine (client, proxy and backend) over the run / requests."
echo "p50/p99 are at saturation (closed-loop wrk); latency at a fixed rate is measured open loop by meshgate-open-loop (wrk2 is not a Debian package, and wrk's Lua delay() paces each connection but still omits the requests a stall held back)."
echo "Ir/req: instructions under callgrind, 5 s of wrk -c4 after a warm-up, divided by the requests served. RSS: VmRSS of all the proxy's processes with $idle idle keep-alive client connections, each having had one request answered."
for t in "${targets[@]}"; do
  [ "${errors[$t]:-0}" -eq 0 ] || echo "Warning: $t: ${errors[$t]} non-2xx responses or socket errors over its runs."
done
not_measured=()
not_measured+=("Ir/req for direct and HAProxy" "RSS for direct")
for t in nginx meshgate; do
  [ -n "${ir_per_request[$t]:-}" ] || not_measured+=("Ir/req for $t (callgrind gave no figure)")
done
for t in nginx haproxy meshgate; do
  if [ "$t" = haproxy ] && [ "$haproxy_maxconn" -lt $((idle + 100)) ]; then
    not_measured+=("RSS for haproxy (descriptor hard limit $fd_limit < 2 per connection)")
  elif [ -z "${rss_idle[$t]:-}" ]; then
    not_measured+=("RSS for $t (connections not established)")
  fi
done
joined=$(printf '%s; ' "${not_measured[@]}")
echo "Not measured: ${joined%; }."
base_rss=""
for t in nginx haproxy meshgate; do
  [ -z "${rss_base[$t]:-}" ] ||
    base_rss+=$(awk -v t="$t" -v k="${rss_base[$t]}" 'BEGIN {printf "%s %.1f, ", t, k / 1024}')
done
[ -z "$base_rss" ] || echo "RSS before the idle connections, after one request (MiB): ${base_rss%, }."
if [ "$skip_open_loop" != 1 ]; then
  nginx_ol_p99=$(med "${ol_p99_runs[nginx]:-}")
  echo
  echo "Latency at a fixed rate (open loop): $rate req/s, $rate_share% of the slowest proxy's wrk req/s above."
  echo
  echo "| target | achieved req/s | p50 (µs) | p99 (µs) | p99.9 (µs) | p99 ratio to nginx | proxy CPU busy |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
  for t in direct nginx haproxy meshgate; do
    label=$t
    [ "$t" = direct ] && label="direct (no proxy)"
    [ "$t" = meshgate ] && label=meshgate-proxy
    p99=$(med "${ol_p99_runs[$t]}")
    busy=$(med "${ol_cpu_runs[$t]:-}")
    [ -z "$busy" ] && busy=— || busy="$busy%"
    printf '| %s | %.0f | %.0f | %.0f | %.0f | %s | %s |\n' "$label" "$(med "${ol_rate_runs[$t]}")" \
      "$(med "${ol_p50_runs[$t]}")" "$p99" "$(med "${ol_p999_runs[$t]}")" \
      "$(ratio "$p99" "$nginx_ol_p99")" "$busy"
  done
  echo
  echo "meshgate-open-loop --rate $rate --connections $connections --duration $duration --warmup 1, on CPU 0 like wrk, against the same proxy processes; medians of $repeats interleaved runs per target. Request i is due at t0 + i/rate on connection i mod $connections (keep-alive, no pipelining); latency runs from the due time, not the send, so a stall counts against every request scheduled during it (no coordinated omission). Percentiles are exact over every request due after the warm-up. Proxy CPU busy: its utime+stime over the run's wall time (warm-up included), as a share of its one core."
  for t in "${targets[@]}"; do
    [ "${ol_errors[$t]:-0}" -eq 0 ] ||
      echo "Warning: open loop, $t: ${ol_errors[$t]} requests failed, timed out (2 s), answered non-2xx/3xx or were never sent over its runs."
  done
fi
if [ "$skip_syscalls" != 1 ]; then
  echo
  echo "System calls per request ($syscall_counter)."
  echo
  echo "| system call | meshgate-proxy | nginx |"
  echo "|---|---:|---:|"
  { sed 's/^/m /' "$tmp/syscalls.meshgate" 2>/dev/null || true
    sed 's/^/n /' "$tmp/syscalls.nginx" 2>/dev/null || true; } |
    awk -v rm="${sc_requests[meshgate]:-0}" -v rn="${sc_requests[nginx]:-0}" -v failed="$(
      [ "$syscall_counter" = perf ] && echo "returned EAGAIN" || echo "returned an error")" '
      function per(n, r) { return r > 0 ? sprintf("%.3f", n / r) : "—" }
      $2 == "(failed)" { fail[$1] += $3; next }
      { total[$1] += $3 }
      $2 == "(other)" { rest[$1] += $3; next }
      { count[$1, $2] += $3; names[$2] = 1 }
      $2 ~ /^epoll_(p?wait|pwait2)$/ { wake[$1] += $3 }
      END {
        # Sort keys: 0 for the summary rows, then the larger per-request figure, descending.
        printf "0 3 | all | %s | %s |\n", per(total["m"], rm), per(total["n"], rn)
        printf "0 2 | of them %s | %s | %s |\n", failed, per(fail["m"], rm), per(fail["n"], rn)
        printf "0 1 | wake-ups (epoll_wait*) | %s | %s |\n", per(wake["m"], rm), per(wake["n"], rn)
        for (s in names) {
          m = rm > 0 ? count["m", s] / rm : 0
          n = rn > 0 ? count["n", s] / rn : 0
          v = m > n ? m : n
          if (v >= 0.001) printf "1 %.6f | %s | %s | %s |\n", v, s, per(count["m", s], rm), per(count["n", s], rn)
          else { rest["m"] += count["m", s]; rest["n"] += count["n", s] }
        }
        printf "2 0 | other | %s | %s |\n", per(rest["m"], rm), per(rest["n"], rn)
      }' | sort -k1,1n -k2,2gr | cut -d' ' -f3-
  echo
  echo "Counted on the proxy's processes (nginx: master and worker) over one wrk -t1 -c$connections -d${syscall_seconds}s run plus ~1 s idle before it, divided by the requests wrk completed (meshgate ${sc_requests[meshgate]:-—}, nginx ${sc_requests[nginx]:-—}). Wake-ups: epoll_wait, epoll_pwait and epoll_pwait2 calls. EAGAIN: a read (or write) that found nothing to do. Other: calls under 0.001 per request each, and with perf those it does not count one by one (all calls come from raw_syscalls:sys_enter). perf stat counts the tracepoints without slowing the proxy; strace -c stops it at every call, so its epoll_wait count per request reads low (more events per wake-up)."
fi
echo
echo "Overload: $overload connection attempts (meshgate-idle-clients --count-shed, each sends one request and holds the connection if answered 200) against meshgate-proxy with limits.maxConnections $over_cap, one worker."
echo
echo "| outcome (open / shed 503 / closed unanswered) | rejected counter | RSS before → with them (MiB) | a new request meanwhile | after they go | proxy alive |"
echo "|---|---:|---|---|---|---|"
printf '| %s | %s | %s → %s | %s | %s | %s |\n' "${over_outcome:-no outcome}" "${over_rejected:-—}" \
  "$(awk -v k="$over_base" 'BEGIN {printf "%.1f", k / 1024}')" \
  "$(awk -v k="$over_rss" 'BEGIN {printf "%.1f", k / 1024}')" "$over_shed_during" "$over_after" "$over_alive"


# --- Goals (issue 13) -----------------------------------------------------------------------------
cpu_ratio=$(ratio "$(med "${cpu_runs[meshgate]:-}")" "$nginx_cpu")
p99_ratio=—
[ "$skip_open_loop" = 1 ] || p99_ratio=$(ratio "$(med "${ol_p99_runs[meshgate]:-}")" "$nginx_ol_p99")
overload_ok="not met"
[ "$over_alive" = yes ] && [ "$over_after" = 200 ] && overload_ok=met
echo
echo "Goals."
echo
echo "| goal | measured | |"
echo "|---|---:|---|"
echo "| CPU per request at saturation ≤ 0.80 × nginx | $cpu_ratio | $(met "$cpu_ratio" 0.80) |"
echo "| p99 at a fixed rate ≤ 1.00 × nginx | $p99_ratio | $(met "$p99_ratio" 1.00) |"
echo "| $overload connections against a cap of $over_cap: shed, never OOM, serves after | ${over_outcome:-—} | $overload_ok |"
# The CPU goal's floor: the kernel's share of meshgate's time alone (TCP over loopback, the same
# segments per request as nginx's) against nginx's total.
kernel_floor=$(ratio "$(med "${kernel_runs[meshgate]:-}")" "$nginx_cpu")
echo
echo "meshgate-proxy's kernel time alone is $kernel_floor × nginx's whole CPU per request, with $(med "${segment_runs[meshgate]}") TCP segments per request on the machine against nginx's $(med "${segment_runs[nginx]}")."
