#!/usr/bin/env bash
# Config propagation benchmark: how fast one `kubectl apply` of an ApiRoute reaches every gateway,
# with 10, 1,000 and 5,000 ApiRoutes present (each with its own MeshService whose static endpoint
# is one meshgate-test-backend on 127.0.0.2). Per size, a fresh control plane (test/e2e/cluster),
# meshgate-operator (Release, pinned to CPU 1, config stream on 127.0.0.1), one REAL gateway
# (meshgate-proxy --mode gateway, CPU 0) and meshgate-stream-load (CPU 0): 100, then 1,000
# simulated gateways that ACK every snapshot. Then CHANGES times: route-1's path prefix changes
# with `kubectl apply --server-side`, and we time from just before the apply to
#   - the last ACK of the first new version by all simulated gateways (their last receipt), and
#   - the first request the real gateway serves by the new rule (a python loop polls every 2 ms).
# The simulated gateways print, per version, route-1's path prefix (--mark), so a change is timed to
# the first version that holds it, not to a status-driven version before it. The same-run baseline is the time `kubectl apply` itself takes to return. Also the operator's
# peak RSS (VmHWM) and CPU time (utime+stime) over the whole size, and its RSS per connected
# proxy: (VmRSS with the simulated gateways connected and settled - VmRSS before) / N.
# p50/p99 pool the samples of all repeats (nearest rank); RSS and CPU are medians of repeats.
# Prints one markdown table on stdout; progress goes to stderr.
#   bench/propagation/run.sh [REPEATS] [CHANGES]              (defaults 1, 20)
#   SIZES="10 1000" bench/propagation/run.sh 1 20               (a quicker look)
# More knobs: SIZES (default "10 1000 5000"), FANOUTS (default "100 1000"), BIG_FANOUT_MAX_ROUTES
# (default 1000: 1,000 simulated gateways only up to this many routes — each change at 5,000
# routes sends ~10 MiB to every gateway, too slow for 2 cores), SKIP_BUILD=1 with BUILD_DIR (default
# build-bench) to use binaries already built there.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
repeats=${1:-1}
changes=${2:-20}
sizes=${SIZES:-10 1000 5000}
fanouts=${FANOUTS:-100 1000}
big_max=${BIG_FANOUT_MAX_ROUTES:-1000}
build=${BUILD_DIR:-build-bench}
[[ $build = /* ]] || build=$repo/$build
base=$repo/.local/bench-propagation-$$
class=meshgate

# Fixed loopback ports, checked free below.
port_config=18300 port_gw=18301 port_gw_tls=18302 port_gw_admin=18303 port_backend=18304

cd "$repo"
log() { echo "bench/propagation: $*" >&2; }
die() {
  log "error: $*"
  exit 1
}
for p in $port_config $port_gw $port_gw_tls $port_gw_admin $port_backend; do
  [ -z "$(ss -ltnH "sport = :$p")" ] || die "port $p is in use"
done
fd_limit=$(ulimit -Hn)
[ "$fd_limit" != unlimited ] || fd_limit=1048576
ulimit -n "$fd_limit"

if [ "${SKIP_BUILD:-0}" != 1 ]; then
  bash scripts/deps.sh
  bash test/e2e/cluster/build.sh
  log "building Release into $build"
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMESHGATE_BUILD_TESTS=OFF >/dev/null
  cmake --build "$build" -j "$(nproc)" --target meshgate-operator meshgate-proxy \
    meshgate-test-backend meshgate-stream-load >/dev/null
fi

mkdir -p "$base"
dir=""
pids=()
alive() { [ -r "/proc/$1/stat" ] && [[ $(<"/proc/$1/stat") != *") Z "* ]]; }
stop() {  # stop PID... — TERM, then KILL whatever is still there after 5 s
  local p q keep=()
  for p in "$@"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "$@"; do
    for _ in $(seq 50); do
      alive "$p" || break
      sleep 0.1
    done
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  for q in "${pids[@]}"; do [[ " $* " = *" $q "* ]] || keep+=("$q"); done
  pids=("${keep[@]}")
}
cleanup() {
  [ ${#pids[@]} -eq 0 ] || stop "${pids[@]}"
  [ -z "$dir" ] || bash test/e2e/cluster/down.sh "$dir" >/dev/null 2>&1 || true
  rm -rf "$base"
}
trap cleanup EXIT

now_ms() { echo $((${EPOCHREALTIME/[.,]/} / 1000)); }
# wait_until SECONDS WHAT CMD... — polls CMD every 0.2 s.
wait_until() {
  local limit=$1 what=$2 deadline=$((SECONDS + $1))
  shift 2
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || die "$what: not within $limit s"
    sleep 0.2
  done
}
percentile() {  # percentile P < values — nearest rank
  sort -n | awk -v p="$1" '{a[NR]=$1} END {if (!NR) {print "-"; exit} i=int(p*NR+0.999999); if (i<1) i=1; print a[i]}'
}
median() { sort -n | awk '{a[NR]=$1} END {if (!NR) {print "-"; exit} print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
hwm_kib() { awk '/^VmHWM/ {print $2}' "/proc/$1/status"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
metric() {  # metric NAME_AND_LABELS — its value on the operator's /metrics
  curl -s --max-time 5 "$metrics" | awk -v m="$1" 'index($0, m " ") == 1 {print $2}'
}
# settle PID — waits until PID used less than 5 % of a CPU over 2 s (at most 600 s).
settle() {
  local before after deadline=$((SECONDS + 600)) hz
  hz=$(getconf CLK_TCK)
  after=$(cpu_ticks "$1")
  while :; do
    before=$after
    sleep 2
    after=$(cpu_ticks "$1")
    [ $((after - before)) -gt $((hz / 10)) ] || return 0
    [ $SECONDS -lt $deadline ] || die "operator still busy after 600 s"
  done
}
answers() {  # answers HOST PATH — the real gateway serves it with 200
  [ "$(curl -s --max-time 2 -o /dev/null -w '%{http_code}' -H "Host: $1" "http://127.0.0.1:$port_gw$2")" = 200 ]
}
versions() { grep -c '^version ' "$1" || true; }
# quiet SIMS_OUT — waits until no new version reached the simulated gateways for 1.5 s (30 s at
# most): the status writes that follow a change make versions of their own, and the next change
# must not race them.
quiet() {
  local before after=-1 deadline=$((SECONDS + 30))
  before=$(versions "$1")
  while [ "$before" != "$after" ] && [ $SECONDS -lt $deadline ]; do
    after=$before
    sleep 1.5
    before=$(versions "$1")
  done
}

# The poller: epoch ms of the first 200 for HOST PATH through the real gateway (30 s at most).
poller=$base/poll.py
cat >"$poller" <<'PY'
import http.client, sys, time
port, host, path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
end = time.time() + 30
while time.time() < end:
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
        c.request("GET", path, headers={"Host": host})
        r = c.getresponse()
        r.read()
        c.close()
        if r.status == 200:
            print(int(time.time() * 1000))
            sys.exit(0)
    except OSError:
        pass
    time.sleep(0.002)
sys.exit(1)
PY

route_yaml() {  # route_yaml I PREFIX
  cat <<YAML
---
apiVersion: meshgate.io/v1alpha1
kind: ApiRoute
metadata: {name: route-$1, namespace: bench}
spec:
  hosts: [route-$1.bench.example.com]
  rules:
  - matches: [{path: {type: PathPrefix, value: $2}}]
    backends: [{service: svc-$1, port: 80}]
YAML
}
objects_yaml() {  # objects_yaml COUNT
  local i prefix
  for i in $(seq 1 "$1"); do
    cat <<YAML
---
apiVersion: meshgate.io/v1alpha1
kind: MeshService
metadata: {name: svc-$i, namespace: bench}
spec:
  endpoints: [{address: 127.0.0.2, port: $port_backend}]
  ports: [{name: http, port: 80, targetPort: 8080}]
YAML
    prefix=/
    [ "$i" != 1 ] || prefix=/c0
    route_yaml "$i" "$prefix"
  done
}

declare -A acks reqs applies rss_per cpu_s hwm_mib bytes_of sims_failed
for r in $(seq "$repeats"); do
  for size in $sizes; do
    dir=$base/cluster-$size-$r
    log "repeat $r, $size routes: control plane"
    bash test/e2e/cluster/up.sh "$dir" >/dev/null
    # shellcheck source=/dev/null
    source "$dir/env"
    kubectl apply -f config/rbac/namespace.yaml >/dev/null
    kubectl apply -R -f config/rbac/ >/dev/null
    kubectl apply -f crds/ >/dev/null
    # Retried: kubectl wait fails at once while a new CRD has no status.conditions yet.
    wait_until 60 "CRDs established" kubectl wait --for condition=established --timeout=10s \
      crd/meshservices.meshgate.io crd/apiroutes.meshgate.io
    kubectl create namespace bench >/dev/null

    taskset -c 0 "$build/bin/meshgate-test-backend" --listen "127.0.0.2:$port_backend" \
      --name b1 >"$dir/backend.log" 2>&1 &
    pids+=($!)
    oplog=$dir/operator.log
    taskset -c 1 "$build/bin/meshgate-operator" --kubeconfig "$dir/operator.kubeconfig" \
      --metrics-bind-address 127.0.0.1:0 --health-probe-bind-address 127.0.0.1:0 \
      --config-server-bind-address "127.0.0.1:$port_config" --leader-elect \
      --kube-api-qps 500 --kube-api-burst 1000 --workers 8 >"$oplog" 2>&1 &
    op_pid=$!
    pids+=("$op_pid")
    wait_until 30 "operator probe servers" bash -c "[ \$(grep -c 'probe server listening' '$oplog') -ge 2 ]"
    metrics="http://127.0.0.1:$(sed -nE 's/.*probe server listening on 127\.0\.0\.1:([0-9]+).*/\1/p' "$oplog" | head -1)/metrics"
    wait_until 60 "config server credentials" grep -q 'config server: serving certificate and trust bundle loaded' "$oplog"
    wait_until 60 "gateway identity Secret" kubectl get secret meshgate-gateway-identity -n meshgate-system
    bash scripts/gateway-identity.sh "$dir/identity"

    taskset -c 0 "$build/bin/meshgate-proxy" --mode gateway \
      --control-plane "https://localhost:$port_config" --cert-dir "$dir/identity" \
      --ingress-class "$class" --node gateway~bench --http-address "127.0.0.1:$port_gw" \
      --https-address "127.0.0.1:$port_gw_tls" --admin-address "127.0.0.1:$port_gw_admin" \
      --concurrency 1 >"$dir/gateway.log" 2>&1 &
    gw_pid=$!
    pids+=("$gw_pid")
    wait_until 20 "gateway admin" curl -sf --max-time 1 -o /dev/null "http://127.0.0.1:$port_gw_admin/ready"

    log "repeat $r, $size routes: applying $size MeshServices + $size ApiRoutes"
    objects_yaml "$size" >"$dir/objects.yaml"
    t=$(now_ms)
    kubectl apply --server-side -f "$dir/objects.yaml" >/dev/null
    log "  kubectl apply: $(($(now_ms) - t)) ms"
    wait_until 600 "the gateway serving route-$size" answers "route-$size.bench.example.com" /
    wait_until 60 "the gateway serving route-1" answers route-1.bench.example.com /c0/x
    log "  all routes served by the gateway: $(($(now_ms) - t)) ms after the apply; waiting for the operator to settle"
    settle "$op_pid"
    bytes_of[$size]=$(metric "meshgate_config_snapshot_bytes{ingress_class=\"$class\"}")
    log "  snapshot: ${bytes_of[$size]} bytes"

    change=0
    for n in $fanouts; do
      if [ "$n" -gt 100 ] && [ "$size" -gt "$big_max" ]; then
        log "  skipping $n simulated gateways at $size routes (BIG_FANOUT_MAX_ROUTES=$big_max)"
        continue
      fi
      key=$size/$n
      rss_before=$(rss_kib "$op_pid")
      sims=$dir/sims-$n.out
      taskset -c 0 "$build/bin/meshgate-stream-load" --control-plane "https://localhost:$port_config" \
        --cert-dir "$dir/identity" --connections "$n" --ingress-class "$class" --mark '"/c' \
        >"$sims" 2>"$dir/sims-$n.err" &
      sims_pid=$!
      pids+=("$sims_pid")
      wait_until 120 "$n simulated gateways connected" grep -q '^connected ' "$sims"
      wait_until 300 "the snapshot at $n simulated gateways" grep -q '^version ' "$sims"
      settle "$op_pid"
      rss_per[$key]="${rss_per[$key]:-} $(((($(rss_kib "$op_pid") - rss_before)) / n))"
      log "  $n simulated gateways connected; operator RSS +$(((($(rss_kib "$op_pid") - rss_before)) / 1024)) MiB"

      for _ in $(seq "$changes"); do
        change=$((change + 1))
        seen=$(versions "$sims")
        # The first version that holds the change: status writes make versions of their own.
        changed() { grep '^version ' "$sims" | tail -n +$((seen + 1)) | awk -v m="\"/c$change" '$10 == m {print $6; exit}'; }
        python3 "$poller" "$port_gw" route-1.bench.example.com "/c$change/x" >"$dir/poll.out" &
        poll_pid=$!
        t=$(now_ms)
        route_yaml 1 "/c$change" | kubectl apply --server-side -f - >/dev/null
        applies[$key]="${applies[$key]:-} $(($(now_ms) - t))"
        deadline=$((SECONDS + 60))
        until [ -n "$(changed)" ]; do
          [ $SECONDS -lt $deadline ] || die "no new version at all $n simulated gateways within 60 s"
          alive "$sims_pid" || die "meshgate-stream-load exited: $(tail -3 "$dir/sims-$n.err")"
          sleep 0.01
        done
        last=$(changed)
        acks[$key]="${acks[$key]:-} $((last - t))"
        wait "$poll_pid" || die "the real gateway did not serve /c$change within 30 s"
        reqs[$key]="${reqs[$key]:-} $(($(<"$dir/poll.out") - t))"
        quiet "$sims"
      done
      log "  $n simulated gateways, $changes changes: apply→all ACKs (ms):${acks[$key]}"
      stop "$sims_pid"
      [ ! -s "$dir/sims-$n.err" ] || {
        sims_failed[$key]=1
        log "  meshgate-stream-load errors: $(head -3 "$dir/sims-$n.err")"
      }
      wait_until 60 "the operator noticing the simulated gateways left" \
        bash -c "curl -s '$metrics' | grep -q '^meshgate_config_dataplanes_connected{mode=\"gateway\"} 1\$'"
    done

    hwm_mib[$size]="${hwm_mib[$size]:-} $(awk -v k="$(hwm_kib "$op_pid")" 'BEGIN {printf "%.1f", k / 1024}')"
    cpu_s[$size]="${cpu_s[$size]:-} $(awk -v t="$(cpu_ticks "$op_pid")" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.1f", t / hz}')"
    stop "${pids[@]}"
    bash test/e2e/cluster/down.sh "$dir" >/dev/null
    dir=""
  done
done

vals() { tr ' ' '\n' <<<"${1:-}" | grep -v '^$' || true; }
echo
echo "Config propagation, $repeats repeat(s) x $changes changes of one ApiRoute per row ($(nproc) cores;"
echo "operator pinned to CPU 1; gateway, simulated gateways and backend on CPU 0)"
echo
echo "| routes | simulated proxies | apply→all ACKs p50 / p99 (ms) | apply→first request p50 / p99 (ms) | same-run baseline: kubectl apply returns p50 (ms) | snapshot (KiB) | operator peak RSS (MiB) | operator RSS per proxy (KiB) | operator CPU (s) |"
echo "|---|---|---|---|---|---|---|---|---|"
goal_p99="" goal_rss="" goal_rss_n=""
for size in $sizes; do
  for n in $fanouts; do
    key=$size/$n
    if [ -z "${acks[$key]:-}" ]; then
      echo "| $size | $n | not run (1,000 proxies only up to $big_max routes on this machine) | | | | | | |"
      continue
    fi
    a50=$(vals "${acks[$key]}" | percentile 0.5) a99=$(vals "${acks[$key]}" | percentile 0.99)
    q50=$(vals "${reqs[$key]}" | percentile 0.5) q99=$(vals "${reqs[$key]}" | percentile 0.99)
    k50=$(vals "${applies[$key]}" | percentile 0.5)
    per=$(vals "${rss_per[$key]}" | median)
    note=""
    [ -z "${sims_failed[$key]:-}" ] || note=" (stream-load errors)"
    echo "| $size | $n$note | $a50 / $a99 | $q50 / $q99 | $k50 | $(awk -v b="${bytes_of[$size]:-0}" 'BEGIN {printf "%.0f", b / 1024}') | $(vals "${hwm_mib[$size]}" | median) | $per | $(vals "${cpu_s[$size]}" | median) |"
    [ "$key" != 1000/1000 ] || goal_p99=$a99
    # The RSS goal is judged with the most proxies measured at 1,000 routes (else any size).
    if [ "$size" = 1000 ] || [ -z "$goal_rss_n" ]; then
      [ "$n" -lt "${goal_rss_n:-0}" ] || { goal_rss=$per goal_rss_n=$n; }
    fi
  done
done
echo
verdict() { if [ -z "$1" ]; then echo "not measured"; elif awk -v v="$1" -v g="$2" 'BEGIN {exit !(v <= g)}'; then echo "met ($1 $3)"; else echo "missed ($1 $3)"; fi; }
echo "- Goal: apply→all ACKs p99 ≤ 1,000 ms at 1,000 routes with 1,000 proxies: $(verdict "$goal_p99" 1000 ms)"
echo "- Goal: ≤ 50 KiB operator RSS per connected proxy (measured with ${goal_rss_n:-?} proxies): $(verdict "$goal_rss" 50 KiB)"
echo "- Anchors: Istio: propagation p90 1.5 s → 4.5 s as config grew; Envoy Gateway: 208 MiB controller at 1,000 HTTPRoutes"
