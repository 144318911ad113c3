#!/usr/bin/env bash
# Operator benchmark: COUNT MeshServices + COUNT ApiRoutes against a real kube-apiserver. Each
# repeat starts a fresh control plane, applies every object with kubectl (server-side apply — the
# same-run baseline: the time just to write the inputs), then starts meshgate-operator (Release,
# pinned to CPU 1, 8 workers per controller) and measures: time until every MeshService reports
# Ready=True and every ApiRoute ResolvedRefs=True (no gateway runs here), the operator's peak
# RSS and CPU time, the API requests its controllers sent, and the write requests in the idle
# minute that follows (resync every 20 s, so the minute includes three resyncs).
# Prints a markdown table of medians over REPEATS runs.
#   bench/operator/run.sh [COUNT] [REPEATS] [QPS]     (defaults 1000, 3, 500)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
count=${1:-1000}
repeats=${2:-3}
qps=${3:-500}
build=$repo/build-bench
base=$repo/.local/bench-operator-$$

cd "$repo"
bash scripts/deps.sh
bash test/e2e/cluster/build.sh
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMESHGATE_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" --target meshgate-operator -j "$(nproc)" >/dev/null

dir=""
op_pid=""
watch_ms=""
watch_ar=""
cleanup() {
  [ -z "$op_pid" ] || kill -9 "$op_pid" 2>/dev/null || true
  kill $watch_ms $watch_ar 2>/dev/null || true
  [ -z "$dir" ] || bash test/e2e/cluster/down.sh "$dir" >/dev/null 2>&1 || true
  rm -f "$base-objects.yaml"
}
trap cleanup EXIT

now() { echo "${EPOCHREALTIME/[.,]/}"; }
seconds_since() { awk -v d=$(($(now) - $1)) 'BEGIN {printf "%.1f", d / 1e6}'; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

objects=$base-objects.yaml
mkdir -p "$(dirname "$objects")"
for i in $(seq 1 "$count"); do
  cat <<YAML
---
apiVersion: meshgate.io/v1alpha1
kind: MeshService
metadata: {name: svc-$i, namespace: bench}
spec:
  endpoints: [{address: 10.$((i / 250 % 250)).$((i % 250)).1}, {address: 10.$((i / 250 % 250)).$((i % 250)).2}]
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: meshgate.io/v1alpha1
kind: ApiRoute
metadata: {name: route-$i, namespace: bench}
spec:
  hosts: [route-$i.bench.example.com]
  rules:
  - matches: [{path: {type: PathPrefix, value: /}}]
    backends: [{service: svc-$i, port: 80}]
YAML
done >"$objects"

# watched_ready FILE — objects whose latest line in a `kubectl get -w` log says Ready=True.
watched_ready() {
  awk '{last[$1] = $2} END {for (name in last) if (last[name] == "True") n++; print n + 0}' "$1"
}
metric_sum() {  # metric_sum URL VERB_REGEX — sum of meshgate_apiserver_requests_total over verbs
  curl -s --max-time 5 "$1" | awk -v re="$2" '/^meshgate_apiserver_requests_total\{/ {
    match($0, /verb="[A-Z]+"/); verb = substr($0, RSTART + 6, RLENGTH - 7); if (verb ~ re) s += $2 } END {print s + 0}'
}

apply_s=() ready_s=() rss_mib=() cpu_s=() requests=() writes=() idle_writes=()
for r in $(seq "$repeats"); do
  dir=$base-$r
  bash test/e2e/cluster/up.sh "$dir" >/dev/null
  # shellcheck source=/dev/null
  source "$dir/env"
  kubectl apply -f config/rbac/namespace.yaml >/dev/null
  kubectl apply -R -f config/rbac/ >/dev/null
  kubectl apply -f crds/ >/dev/null
  kubectl wait --for condition=established --timeout=60s crd/meshservices.meshgate.io crd/apiroutes.meshgate.io >/dev/null
  kubectl create namespace bench >/dev/null

  echo "repeat $r: applying $count MeshServices + $count ApiRoutes..." >&2
  t=$(now)
  kubectl apply --server-side -f "$objects" >/dev/null
  apply_s+=("$(seconds_since "$t")")

  # Readiness is followed through watches (kubectl get -w prints each change once), started
  # before the operator so that no transition is missed: polling lists of 1,000 objects would
  # load the same two cores and slow what it measures.
  kubectl get ms -n bench -w -o jsonpath='{.metadata.name} {.status.conditions[?(@.type=="Ready")].status}{"\n"}' >"$dir/ms.watch" 2>/dev/null &
  watch_ms=$!
  # ApiRoutes are Ready only once a gateway serves them (Programmed); this benchmark runs none,
  # so a route counts as reconciled when ResolvedRefs is True (bench/propagation has gateways).
  kubectl get ar -n bench -w -o jsonpath='{.metadata.name} {.status.conditions[?(@.type=="ResolvedRefs")].status}{"\n"}' >"$dir/ar.watch" 2>/dev/null &
  watch_ar=$!
  until [ -s "$dir/ms.watch" ] && [ -s "$dir/ar.watch" ]; do sleep 0.1; done
  log=$dir/operator.log
  t=$(now)
  taskset -c 1 "$build/bin/meshgate-operator" --kubeconfig "$dir/operator.kubeconfig" \
    --metrics-bind-address 127.0.0.1:0 --health-probe-bind-address 127.0.0.1:0 \
    --config-server-bind-address 127.0.0.1:0 --kube-api-qps "$qps" --kube-api-burst "$((qps * 2))" --workers 8 \
    --resync-period-seconds 20 >"$log" 2>&1 &
  op_pid=$!
  until [ "$(grep -c 'probe server listening' "$log")" -ge 2 ]; do sleep 0.1; done
  metrics="http://127.0.0.1:$(sed -nE 's/.*probe server listening on 127\.0\.0\.1:([0-9]+).*/\1/p' "$log" | head -1)/metrics"
  deadline=$((SECONDS + 300))
  while [ "$(watched_ready "$dir/ms.watch")" -lt "$count" ] || [ "$(watched_ready "$dir/ar.watch")" -lt "$count" ]; do
    [ $SECONDS -lt $deadline ] || { echo "not all Ready after 300 s" >&2; exit 1; }
    sleep 0.5
  done
  kill "$watch_ms" "$watch_ar" 2>/dev/null || true
  ready_s+=("$(seconds_since "$t")")
  requests+=("$(metric_sum "$metrics" '.')")
  writes+=("$(metric_sum "$metrics" '^(POST|PUT|PATCH|DELETE)$')")

  # Settle (write counter still for 5 s), then count writes over one idle minute.
  prev=-1
  cur=$(metric_sum "$metrics" '^(POST|PUT|PATCH|DELETE)$')
  while [ "$cur" != "$prev" ]; do
    prev=$cur
    sleep 5
    cur=$(metric_sum "$metrics" '^(POST|PUT|PATCH|DELETE)$')
  done
  sleep 60
  idle_writes+=($(($(metric_sum "$metrics" '^(POST|PUT|PATCH|DELETE)$') - cur)))
  rss_mib+=("$(awk '/^VmHWM/ {printf "%.1f", $2 / 1024}' "/proc/$op_pid/status")")
  cpu_s+=("$(awk -v hz="$(getconf CLK_TCK)" '{printf "%.1f", ($14 + $15) / hz}' "/proc/$op_pid/stat")")
  kill -TERM "$op_pid"
  wait "$op_pid" 2>/dev/null || true
  op_pid=""
  bash test/e2e/cluster/down.sh "$dir" >/dev/null
  dir=""
  echo "repeat $r: ready ${ready_s[-1]} s, rss ${rss_mib[-1]} MiB, cpu ${cpu_s[-1]} s, requests ${requests[-1]}, idle writes ${idle_writes[-1]}" >&2
done

m() { printf '%s\n' "$@" | median; }
a=$(m "${apply_s[@]}") rd=$(m "${ready_s[@]}") rs=$(m "${rss_mib[@]}") c=$(m "${cpu_s[@]}")
q=$(m "${requests[@]}") w=$(m "${writes[@]}") iw=$(m "${idle_writes[@]}")
echo
echo "Operator, $count MeshServices + $count ApiRoutes, medians of $repeats fresh control planes ($(nproc) cores; operator pinned to CPU 1, --kube-api-qps $qps)"
echo
echo "| measure | meshgate-operator | same-run baseline / goal | ratio |"
echo "|---|---|---|---|"
awk -v rd="$rd" -v a="$a" 'BEGIN {printf "| time until all Ready (s) | %.1f | kubectl apply --server-side of the inputs: %.1f s | %.2f |\n", rd, a, rd / a}'
awk -v rd="$rd" 'BEGIN {printf "| time until all Ready (s) | %.1f | goal 30 s | %.2f |\n", rd, rd / 30}'
awk -v rs="$rs" 'BEGIN {printf "| peak RSS (MiB) | %.1f | goal 100 MiB (Envoy Gateway: 208 MiB at 1,000 HTTPRoutes) | %.2f |\n", rs, rs / 100}'
awk -v c="$c" 'BEGIN {printf "| CPU time to Ready + idle minute (s) | %.1f | Envoy Gateway: 61 s at 1,000 HTTPRoutes | %.2f |\n", c, c / 61}'
echo "| API requests by the controllers | $q (writes: $w) | $((count * 2)) objects | $(awk -v q="$q" -v n="$((count * 2))" 'BEGIN {printf "%.2f per object", q / n}') |"
echo "| write requests in the idle minute | $iw | goal 0 | |"
