# shellcheck shell=bash
# Helpers for 50_proxy_test.sh: meshgate-proxy and meshgate-test-backend as real local processes,
# the proxy's config written to a file, its admin endpoint read over HTTP, raw-socket and
# WebSocket clients in python3 (tools/proxy_client.py), load from wrk.
#
# A test calls _proxy_setup first: it makes a private directory (config, logs), picks the
# listener and admin ports, and installs an EXIT trap that stops every process the test started
# (and shows the end of the proxy's log when the test failed). Then _start_backend for each
# upstream, _write_config with the routes and clusters, _start_proxy. At the end the trap stops
# the proxy with SIGTERM and fails the test unless it exits 0 (a crash on the way out, e.g. from
# a corrupted heap, is a bug like any other).

_proxy_bin() { echo "${MESHGATE_BUILD_DIR:-build}/bin/meshgate-proxy"; }
_backend_bin() { echo "${MESHGATE_BUILD_DIR:-build}/bin/meshgate-test-backend"; }
_proxy_client() { python3 "${REPO_ROOT:-.}/test/e2e/tools/proxy_client.py" "$@"; }

# _free_ports N — N distinct free TCP ports on 127.0.0.1 (all bound at once, then released).
# They come from below Linux's ephemeral range (32768-60999 by default), as the cluster's own
# ports do (cluster/up.sh): a port from that range could be handed to an outgoing connection
# (kubectl, the operator) between this pick and the bind of the process it is meant for.
_free_ports() {
  python3 - "$1" <<'PY'
import random, socket, sys
socks = []
while len(socks) < int(sys.argv[1]):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", random.randrange(20000, 30000)))
    except OSError:
        s.close()
        continue
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
}

# _proxy_setup — PX_DIR (private directory), PX_CONFIG, PX_LOG, PROXY_PORT and ADMIN_PORT (free
# ports), PROXY_URL; the EXIT trap that stops everything started through this file.
_proxy_setup() {
  PX_DIR=$(mktemp -d "${TMPDIR:-/tmp}/meshgate-proxy-e2e.XXXXXX")
  PX_CONFIG=$PX_DIR/proxy.yaml
  PX_LOG=$PX_DIR/proxy.log
  PX_PIDS=()
  PROXY_PID=""
  declare -gA BACKEND_PORT=() BACKEND_PID=() BACKEND_ADDR=()
  read -r PROXY_PORT ADMIN_PORT < <(_free_ports 2)
  PROXY_URL="http://127.0.0.1:$PROXY_PORT"
  ADMIN_URL="http://127.0.0.1:$ADMIN_PORT"
  trap '_proxy_teardown $?' EXIT
}

_proxy_teardown() {
  local rc=$1 pid status=0
  if [ -n "${PROXY_PID:-}" ]; then
    kill -TERM "$PROXY_PID" 2>/dev/null || true
    if timeout 20 tail --pid="$PROXY_PID" -f /dev/null; then
      wait "$PROXY_PID" 2>/dev/null || status=$?
    else
      kill -KILL "$PROXY_PID" 2>/dev/null || true
      status="still running 20s after SIGTERM"
    fi
    if [ "$status" != 0 ]; then
      echo "meshgate-proxy did not exit 0 on SIGTERM: $status$([ "$status" = 139 ] && echo ' (SIGSEGV)')" >&2
      [ "$rc" -ne 0 ] || rc=1
    fi
  fi
  for pid in "${PX_PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${PX_PIDS[@]}"; do
    # Bounded: a process that ignores SIGTERM for 5 s is killed.
    timeout 5 tail --pid="$pid" -f /dev/null 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  done
  if [ "$rc" -ne 0 ] && [ -s "${PX_LOG:-}" ]; then
    echo "--- last lines of the proxy's log:"
    grep -v '^{' "$PX_LOG" | tail -n 25 | sed 's/^/  | /'
  fi
  [ -z "${PX_DIR:-}" ] || rm -rf "$PX_DIR"
  exit "$rc"
}

# _start_backend NAME ADDRESS — a meshgate-test-backend on ADDRESS (an ephemeral port) answering
# with x-backend: NAME; sets BACKEND_PORT[NAME], BACKEND_ADDR[NAME], BACKEND_PID[NAME].
_start_backend() {
  local name=$1 address=$2
  "$(_backend_bin)" --listen "$address:0" --name "$name" >"$PX_DIR/backend-$name.out" 2>&1 &
  BACKEND_PID[$name]=$!
  PX_PIDS+=("$!")
  wait_for 10 grep -q '^listening ' "$PX_DIR/backend-$name.out"
  BACKEND_PORT[$name]=$(sed -nE 's/^listening .*:([0-9]+)$/\1/p' "$PX_DIR/backend-$name.out")
  BACKEND_ADDR[$name]=$address
  [ -n "${BACKEND_PORT[$name]}" ]
}

# _endpoint NAME [EXTRA] — the flow-style YAML endpoint of backend NAME, e.g.
# "{address: 127.0.0.2, port: 41234, weight: 3}" for `_endpoint b1 'weight: 3'`.
_endpoint() {
  echo "{address: ${BACKEND_ADDR[$1]}, port: ${BACKEND_PORT[$1]}${2:+, $2}}"
}

# _write_config — the config from stdin (routes, clusters, timeouts, ...) after the admin endpoint
# and one plain listener "public" on PROXY_PORT. Replaced by rename, as editors and ConfigMap
# volumes do, so a watching proxy never reads half a file.
_write_config() {
  {
    echo "admin: {address: 127.0.0.1, port: $ADMIN_PORT}"
    echo "listeners:"
    echo "  - {name: public, address: 127.0.0.1, port: $PROXY_PORT}"
    cat
  } >"$PX_CONFIG.new"
  mv -f "$PX_CONFIG.new" "$PX_CONFIG"
}

# _write_config_raw — the whole config from stdin (the test writes admin and listeners itself).
_write_config_raw() {
  cat >"$PX_CONFIG.new"
  mv -f "$PX_CONFIG.new" "$PX_CONFIG"
}

# _start_web_proxy [CONFIG_LINES] — the common case: backend b1 on 127.0.0.2 behind route "web"
# (host web.test) and cluster "web", plus CONFIG_LINES (e.g. "timeouts: {drain: 8s}"); then
# _start_proxy. Call after _proxy_setup.
_start_web_proxy() {
  _start_backend b1 127.0.0.2
  _write_config <<YAML
routes:
$(_route web web.test web)
clusters:
  - {name: web, endpoints: [$(_endpoint b1)]}
${1:-}
YAML
  _start_proxy
}

# _start_proxy [ARGS...] — meshgate-proxy on PX_CONFIG (2 workers), log in PX_LOG; waits until
# its admin /ready answers 200, failing at once if the process exits.
_start_proxy() {
  "$(_proxy_bin)" --config "$PX_CONFIG" --concurrency 2 "$@" >"$PX_LOG" 2>&1 &
  PROXY_PID=$!
  local deadline=$((SECONDS + 20))
  until curl -sf --max-time 1 -o /dev/null "$ADMIN_URL/ready"; do
    if ! kill -0 "$PROXY_PID" 2>/dev/null; then
      echo "meshgate-proxy exited before it was ready:" >&2
      tail -n 20 "$PX_LOG" | sed 's/^/  | /' >&2
      return 1
    fi
    if [ $SECONDS -ge $deadline ]; then
      echo "meshgate-proxy not ready after 20s" >&2
      return 1
    fi
    sleep 0.1
  done
}

# _stat METRIC [LABEL_FRAGMENT...] — the sum of METRIC's samples on /stats whose line contains
# every fragment (e.g. 'cluster="web"'), as an integer; 0 when there is none.
_stat() {
  local metric=$1 page
  shift
  page=$(curl -sf --max-time 5 "$ADMIN_URL/stats")
  awk -v m="$metric" -v frags="$*" '
    BEGIN { n = split(frags, f, " ") }
    index($0, m "{") == 1 || index($0, m " ") == 1 {
      ok = 1
      for (i = 1; i <= n; i++) if (index($0, f[i]) == 0) ok = 0
      if (ok) sum += $NF
    }
    END { printf "%d\n", sum }' <<<"$page"
}

# _stat_is EXPECTED METRIC [LABEL_FRAGMENT...] — for wait_for.
_stat_is() {
  local expected=$1 actual
  shift
  actual=$(_stat "$@")
  [ "$actual" = "$expected" ] || {
    echo "$* = $actual, want $expected"
    return 1
  }
}

# _count N HOST PATH [-H 'name: value']... — N requests through the proxy on keep-alive
# connections; prints "<x-backend> <count>" lines (and "status-NNN <count>" for non-2xx).
_count() {
  local n=$1 host=$2 path=$3
  shift 3
  _proxy_client count "$PROXY_PORT" "$host" "$path" "$n" "$@"
}

# _count_of KEY COUNTS — KEY's count in _count's output, 0 if absent.
_count_of() {
  awk -v k="$1" '$1 == k { print $2; found = 1 } END { if (!found) print 0 }' <<<"$2"
}

# _assert_near ACTUAL EXPECTED PERCENT [MESSAGE] — |ACTUAL - EXPECTED| <= PERCENT % of EXPECTED.
_assert_near() {
  local actual=$1 expected=$2 percent=$3 diff
  diff=$((actual > expected ? actual - expected : expected - actual))
  if [ $((diff * 100)) -gt $((expected * percent)) ]; then
    echo "_assert_near failed${4:+: $4}: $actual is not within ${percent}% of $expected" >&2
    return 1
  fi
}

# _raw PAYLOAD [--wait S] [--chunks N --pause S] — PAYLOAD (with \r\n escapes) on a new
# connection; prints what came back and "--- closed|reset|open".
_raw() {
  _proxy_client raw "$PROXY_PORT" "$@"
}

# _wrk SECONDS OUT HOST PATH — bounded load (1 thread, 8 keep-alive connections) through the
# proxy; wrk's report in OUT.
_wrk() {
  local seconds=$1 out=$2 host=$3 path=$4
  wrk -t1 -c8 -d"${seconds}s" --timeout 5s -H "Host: $host" "$PROXY_URL$path" >"$out" 2>&1
}

# _wrk_summary OUT — "requests=N non2xx=N errors=N" from a wrk report (errors: socket errors of
# every kind).
_wrk_summary() {
  local out=$1 requests non2xx errors
  requests=$(sed -nE 's/^ *([0-9]+) requests in .*/\1/p' "$out")
  non2xx=$(sed -nE 's/^ *Non-2xx or 3xx responses: ([0-9]+).*/\1/p' "$out")
  errors=$(sed -nE 's/^ *Socket errors: connect ([0-9]+), read ([0-9]+), write ([0-9]+), timeout ([0-9]+).*/\1 \2 \3 \4/p' "$out" |
    awk '{ print $1 + $2 + $3 + $4 }')
  echo "requests=${requests:-0} non2xx=${non2xx:-0} errors=${errors:-0}"
}

# _requests_served NAME — how many requests backend NAME has served (its /requests), directly.
_requests_served() {
  curl -sf --max-time 5 "http://${BACKEND_ADDR[$1]}:${BACKEND_PORT[$1]}/requests"
}

# _route NAME HOST CLUSTER — a route entry (under `routes:`) sending every request for HOST to
# CLUSTER.
_route() {
  cat <<YAML
  - metadata: {name: $1}
    spec:
      hosts: [$2]
      rules: [{backends: [{service: $3, port: 80}]}]
YAML
}

# _kill9_backend NAME — SIGKILL for backend NAME, reaped quietly (no "Killed" job message).
_kill9_backend() {
  local pid=${BACKEND_PID[$1]}
  {
    kill -KILL "$pid"
    wait "$pid"
  } 2>/dev/null || true
}
