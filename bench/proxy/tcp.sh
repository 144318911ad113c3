#!/usr/bin/env bash
# TCP proxy benchmark (issue 18): meshgate-proxy's TCP listener (`listeners[].tcp`) against
# HAProxy in `mode tcp`, measured in the same run, both one worker (thread) pinned to CPU 1, in
# front of one TCP backend on 127.0.0.1, plus the backend direct as a reference. The backend and
# the load are a small Python peer (written to the scratch directory; neither socat nor iperf3 is a
# dependency): each run opens CONNECTIONS connections at once and moves GIB GiB in total over them
# in one direction — upload: the client sends its share, half-closes, and the backend, having read
# to EOF, answers how many bytes came; download: the backend sends the share and closes, the client
# counts to EOF — 1 MiB send/recv buffers on both ends; a run whose byte counts do not match is an
# error. Client and backend share CPU 0. Per direction and target, medians over REPEATS runs
# interleaved round-robin (each round starting one target later): throughput (bytes / the client's
# wall time, connects included), the proxy's CPU seconds per GiB (utime+stime from /proc, and each
# alone) and its CPU busy share (CPU time / wall time: near 100% means the proxy was the limit).
# Rows: HAProxy as configured by default (16 KiB buffers, no splicing: the goal's baseline), HAProxy
# with kernel splicing (`option splice-request`/`splice-response`; HAPROXY_SPLICE=0 leaves it out),
# and meshgate-proxy. Goal: meshgate-proxy's CPU per GiB ≤ HAProxy's. Prints markdown on stdout;
# progress on stderr.
#   bash bench/proxy/tcp.sh                      (GIB=2 CONNECTIONS=8 REPEATS=3 DIRECTIONS="up down")
#   GIB=0.5 REPEATS=1 SKIP_BUILD=1 BUILD_DIR=build-bench bash bench/proxy/tcp.sh
# Knobs: GIB (GiB per run, over all its connections; at most 4), CONNECTIONS, REPEATS, DIRECTIONS
# ("up", "down" or both), HAPROXY_SPLICE=0, BUILD_DIR (default build-release), SKIP_BUILD=1 (use
# the binaries already in BUILD_DIR).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
gib=${GIB:-2}
connections=${CONNECTIONS:-8}
repeats=${REPEATS:-3}
directions=${DIRECTIONS:-up down}
haproxy_splice=${HAPROXY_SPLICE:-1}
goal=1.00
build=${BUILD_DIR:-build-release}
[[ $build = /* ]] || build=$repo/$build

# Fixed ports (127.0.0.1), apart from run.sh's, auth.sh's and http2.sh's.
port_backend=18240
port_haproxy=18241 port_splice=18242 port_meshgate=18243 admin_meshgate=18249

cd "$repo"
bash scripts/deps.sh
BENCH_NAME=bench/proxy/tcp
tmp=$(mktemp -d)
pids=()
# shellcheck source=bench/proxy/lib.sh
source "$here/lib.sh"

awk -v g="$gib" 'BEGIN {exit !(g > 0 && g <= 4)}' || die "GIB=$gib: must be more than 0, at most 4"
if [ "$connections" -lt 1 ] || [ "$connections" -gt 256 ]; then die "CONNECTIONS=$connections: 1..256"; fi
for d in $directions; do [ "$d" = up ] || [ "$d" = down ] || die "DIRECTIONS: up, down, not $d"; done
per_connection=$(awk -v g="$gib" -v c="$connections" 'BEGIN {printf "%d", g * 1073741824 / c}')
die_if_port_used $port_backend $port_haproxy $port_splice $port_meshgate $admin_meshgate
command -v python3 >/dev/null || die "python3 missing"

build_targets meshgate-proxy
proxy=$build/bin/meshgate-proxy

# --- The peer: backend (serve) and load (load) ---------------------------------------------------
peer=$tmp/tcp_peer.py
cat >"$peer" <<'EOF'
# serve PORT: a thread per connection; load PORT CONNECTIONS BYTES up|down: prints
# "bytes B seconds S bad N" (N: connections that failed or moved another count than BYTES).
# Each connection starts with 16 bytes: "U" or "D", then BYTES in 15 digits.
import socket, sys, threading, time

CHUNK = 1 << 20
ZEROS = memoryview(bytes(CHUNK))


def read_exact(sock, n):
    data = b""
    while len(data) < n:
        part = sock.recv(n - len(data))
        if not part:
            break
        data += part
    return data


def send_bytes(sock, count):
    while count > 0:
        count -= sock.send(ZEROS[: min(count, CHUNK)])


def count_to_eof(sock):
    view, got = memoryview(bytearray(CHUNK)), 0
    while n := sock.recv_into(view):
        got += n
    return got


def serve_one(conn):
    with conn:
        head = read_exact(conn, 16)
        if len(head) < 16:
            return
        if head[:1] == b"U":
            conn.sendall(b"%015d\n" % count_to_eof(conn))
        else:
            send_bytes(conn, int(head[1:]))
            conn.shutdown(socket.SHUT_WR)
            count_to_eof(conn)


def serve(port):
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(1024)
    print("listening", flush=True)
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=serve_one, args=(conn,), daemon=True).start()


def load(port, connections, count, direction):
    moved = [-1] * connections

    def one(i):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=60) as s:
                s.sendall((b"U" if direction == "up" else b"D") + b"%015d" % count)
                if direction == "up":
                    send_bytes(s, count)
                    s.shutdown(socket.SHUT_WR)
                    reply = read_exact(s, 16)
                    moved[i] = int(reply) if reply.strip().isdigit() else -1
                else:
                    s.shutdown(socket.SHUT_WR)
                    moved[i] = count_to_eof(s)
        except OSError as e:
            print(f"connection {i}: {e}", file=sys.stderr)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(connections)]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.monotonic() - start
    bad = sum(1 for m in moved if m != count)
    print(f"bytes {sum(m for m in moved if m > 0)} seconds {seconds:.6f} bad {bad}", flush=True)


if sys.argv[1] == "serve":
    serve(int(sys.argv[2]))
else:
    load(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
EOF

# --- Configs ------------------------------------------------------------------------------------
haproxy_tcp_conf() {  # haproxy_tcp_conf NAME PORT [OPTION...] — prints the file
  local file=$tmp/$1.cfg name=$1 port=$2 o
  shift 2
  {
    printf 'global\n  nbthread 1\n  maxconn 1000\ndefaults\n  mode tcp\n'
    for o in "$@"; do printf '  option %s\n' "$o"; done
    printf '  timeout connect 5s\n  timeout client 300s\n  timeout server 300s\n'
    printf 'frontend %s\n  bind 127.0.0.1:%s\n  default_backend backend\n' "$name" "$port"
    printf 'backend backend\n  server backend 127.0.0.1:%s\n' "$port_backend"
  } >"$file"
  echo "$file"
}
meshgate_conf() {  # meshgate_conf NAME PORT ADMIN_PORT — a JSON config; prints the file
  local file=$tmp/$1.json
  cat >"$file" <<EOF
{
  "admin": {"address": "127.0.0.1", "port": $3},
  "listeners": [{"name": "bench", "address": "127.0.0.1", "port": $2,
                 "tcp": {"cluster": "backend", "port": $port_backend, "idleTimeout": "300s"}}],
  "clusters": [{"name": "backend", "endpoints": [{"address": "127.0.0.1", "port": $port_backend}]}]
}
EOF
  echo "$file"
}

# --- Helpers ------------------------------------------------------------------------------------
load_run() {  # load_run PORT BYTES_PER_CONNECTION CONNECTIONS DIRECTION — the peer's result line
  taskset -c 0 python3 "$peer" load "$1" "$3" "$2" "$4" 2>>"$tmp/load.log" || true
}
kv() { tr ' ' '\n' <<<"$2" | awk -v k="$1" 'f {print; exit} $1 == k {f = 1}'; }  # kv KEY "k v k v …"
# per_gib TICKS BYTES — CPU ticks as seconds per GiB moved.
per_gib() { awk -v d="$1" -v hz="$clk_tck" -v b="$2" 'BEGIN {printf "%.3f", d / hz / (b / 1073741824)}'; }

# --- Backend and proxies ----------------------------------------------------------------------
start backend taskset -c 0 python3 "$peer" serve "$port_backend"
for _ in $(seq 100); do
  grep -q '^listening' "$tmp/backend.log" && break
  alive "$started" || die "the backend exited: $(cat "$tmp/backend.log")"
  sleep 0.1
done
grep -q '^listening' "$tmp/backend.log" || die "the backend did not start: $(cat "$tmp/backend.log")"

declare -A target_port target_pid target_label
targets=(direct haproxy)
target_port=([direct]=$port_backend [haproxy]=$port_haproxy [splice]=$port_splice
  [meshgate]=$port_meshgate)
target_label=([direct]="direct (no proxy)" [haproxy]="HAProxy, mode tcp"
  [splice]="HAProxy, mode tcp, splice" [meshgate]="meshgate-proxy, tcp listener")
start haproxy taskset -c 1 haproxy -db -f "$(haproxy_tcp_conf haproxy "$port_haproxy")"
target_pid[haproxy]=$started
if [ "$haproxy_splice" != 0 ]; then
  start splice taskset -c 1 haproxy -db -f "$(haproxy_tcp_conf splice "$port_splice" \
    splice-request splice-response)"
  target_pid[splice]=$started
  targets+=(splice)
fi
start meshgate taskset -c 1 "$proxy" --config "$(meshgate_conf meshgate "$port_meshgate" \
  "$admin_meshgate")" --concurrency 1 --log-level warn
target_pid[meshgate]=$started
targets+=(meshgate)
wait_http "http://127.0.0.1:$admin_meshgate/ready" 20
# Every target moves 1 MiB each way on 2 connections before anything is measured.
for t in "${targets[@]}"; do
  for d in up down; do
    out=""
    for _ in $(seq 50); do
      out=$(load_run "${target_port[$t]}" 1048576 2 "$d")
      [ "$(kv bad "$out")" != 0 ] || break
      sleep 0.2
    done
    [ "$(kv bad "$out")" = 0 ] ||
      die "$t: 1 MiB $d did not get through (${out:-no result}): $(tail -3 "$tmp/load.log")"
  done
done

# --- Throughput and CPU per GiB -------------------------------------------------------------------
declare -A gibps_runs cpu_runs user_runs kernel_runs busy_runs
n=${#targets[@]}
for r in $(seq "$repeats"); do
  for d in $directions; do
    for i in $(seq 0 $((n - 1))); do
      t=${targets[$(((i + r - 1) % n))]}
      log "run $r/$repeats: $d, $t ($gib GiB over $connections connections)"
      procs=()
      if [ "$t" != direct ]; then
        alive "${target_pid[$t]}" || die "$t exited: $(tail -5 "$tmp/$t.log")"
        procs=("${target_pid[$t]}")
        read -r user_before kernel_before <<<"$(cpu_ticks "${procs[@]}")"
      fi
      out=$(load_run "${target_port[$t]}" "$per_connection" "$connections" "$d")
      [ ${#procs[@]} -eq 0 ] || read -r user_after kernel_after <<<"$(cpu_ticks "${procs[@]}")"
      bytes=$(kv bytes "$out") seconds=$(kv seconds "$out") bad=$(kv bad "$out")
      [ "$bad" = 0 ] ||
        die "$t, $d: ${bad:-?} of $connections connections failed or moved the wrong count (${out:-no result}): $(tail -3 "$tmp/load.log")"
      key=$d/$t
      gibps_runs[$key]+="$(awk -v b="$bytes" -v s="$seconds" 'BEGIN {printf "%.3f", b / s / 1073741824}') "
      if [ ${#procs[@]} -gt 0 ]; then
        user=$((user_after - user_before)) kernel=$((kernel_after - kernel_before))
        cpu_runs[$key]+="$(per_gib $((user + kernel)) "$bytes") "
        user_runs[$key]+="$(per_gib "$user" "$bytes") "
        kernel_runs[$key]+="$(per_gib "$kernel" "$bytes") "
        busy_runs[$key]+="$(awk -v d=$((user + kernel)) -v hz="$clk_tck" -v s="$seconds" \
          'BEGIN {printf "%.0f", 100 * d / hz / s}') "
      fi
    done
  done
done

# --- Table --------------------------------------------------------------------------------------
declare -A goal_ratio
echo
echo "| direction | target | GiB/s | proxy CPU s/GiB | user | kernel | proxy CPU busy | CPU ratio to HAProxy |"
echo "|---|---|---:|---:|---:|---:|---:|---:|"
for d in $directions; do
  label="upload (client → backend)"
  [ "$d" = up ] || label="download (backend → client)"
  base=$(med "${cpu_runs[$d/haproxy]:-}")
  for t in direct haproxy splice meshgate; do
    [ -n "${gibps_runs[$d/$t]:-}" ] || continue
    cpu=$(med "${cpu_runs[$d/$t]:-}") busy=$(med "${busy_runs[$d/$t]:-}")
    [ -z "$busy" ] && busy=— || busy="$busy%"
    printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$label" "${target_label[$t]}" \
      "$(fixed 2 "$(med "${gibps_runs[$d/$t]}")")" "$(fixed 3 "$cpu")" \
      "$(fixed 3 "$(med "${user_runs[$d/$t]:-}")")" "$(fixed 3 "$(med "${kernel_runs[$d/$t]:-}")")" \
      "$busy" "$(ratio "$cpu" "$base")"
  done
  goal_ratio[$d]=$(ratio "$(med "${cpu_runs[$d/meshgate]:-}")" "$base")
done
echo
echo "Command: \`GIB=$gib CONNECTIONS=$connections REPEATS=$repeats DIRECTIONS=\"$directions\" HAPROXY_SPLICE=$haproxy_splice bash bench/proxy/tcp.sh\`."
machine_note
echo "Medians of $repeats interleaved runs per direction and target, each moving $gib GiB ($per_connection bytes on each of $connections connections opened at once) through the proxy, one way. Client and backend: a Python peer with 1 MiB send/recv buffers, both on CPU 0; each proxy one worker (thread) on CPU 1. GiB/s: bytes / the client's wall time from its first connect to the last connection's end. Proxy CPU s/GiB: its utime+stime over the run / GiB moved; user and kernel: each alone. Proxy CPU busy: its CPU time / the run's wall time."
echo "HAProxy $(haproxy -v | awk 'NR == 1 {print $3}'): \`mode tcp\`, nbthread 1, default buffers (tune.bufsize 16 KiB); the splice row adds \`option splice-request\` and \`option splice-response\` (kernel splicing through pipes, no copy to user space). meshgate-proxy: a \`listeners[].tcp\` listener, --concurrency 1."
echo
for d in $directions; do
  label=upload
  [ "$d" = up ] || label=download
  echo "Goal (issue 18), $label: meshgate-proxy's CPU per GiB ≤ $goal × HAProxy's (default config): ${goal_ratio[$d]} ($(met "${goal_ratio[$d]}" "$goal"))."
done
