#!/usr/bin/env bash
# Webhook benchmark: pod-injection latency directly and as the kube-apiserver sees it, and the time
# to create 500 pods with and without injection — all against one real control plane, in one run.
#   bench/webhook/run.sh [DURATION_S] [REPEATS]        (defaults 10, 3)
# meshgate-webhook (Release) runs pinned to CPU 0 and the load generator (meshgate-admission-load:
# open loop, latency from each request's due time) to CPU 1; etcd and the apiserver float.
#   direct      AdmissionReviews POSTed to /mutate-v1-pod over 4 keep-alive TLS connections
#   end to end  pods POSTed to the apiserver (client certificate) in a namespace the webhook serves,
#               baseline: the same pods in a namespace outside its namespaceSelector (no call)
#   500 pods    `kubectl create -f` of a 500-pod List, injected vs not injected
# Prints markdown tables of medians over REPEATS runs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
duration=${1:-10}
repeats=${2:-3}
build=$repo/build-bench
dir=$repo/.local/bench-webhook-$$
work=$(mktemp -d)

cd "$repo"
bash scripts/deps.sh >/dev/null
bash test/e2e/cluster/build.sh
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMESHGATE_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" --target meshgate-webhook meshgate-admission-load -j "$(nproc)" >/dev/null

cleanup() {
  [ -z "${WEBHOOK_PID:-}" ] || kill "$WEBHOOK_PID" 2>/dev/null || true
  bash test/e2e/cluster/down.sh "$dir" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
field() { sed -nE "s/.*(^| )$1=([0-9.]+).*/\\2/p"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf (b > 0 ? "%.2f" : "-"), a / b}'; }

bash test/e2e/cluster/up.sh "$dir" >/dev/null
# shellcheck source=/dev/null
source "$dir/env"
export MESHGATE_CLUSTER_DIR=$dir MESHGATE_BUILD_DIR=$build REPO_ROOT=$repo
# shellcheck source=../../test/e2e/lib.sh
source test/e2e/lib.sh
# shellcheck source=../../test/e2e/webhook_lib.sh
source test/e2e/webhook_lib.sh
kubectl apply -R -f config/rbac/ >/dev/null
kubectl apply -f crds/ >/dev/null

_webhook_ca "$work"
_webhook_issue "$work" >/dev/null
WEBHOOK_LAUNCHER="taskset -c 0" _start_webhook "$work/webhook.log" "$work"
_register_webhooks bench "$work"
inj=$(_webhook_namespace bench inj meshgate.io/inject=enabled)
plain=$(new_namespace plain)
wait_for 30 kubectl get serviceaccount default -n "$plain"

pod_json() {  # pod_json NAMESPACE — a pod with generateName, as a Deployment's ReplicaSet creates
  jq -n --arg ns "$1" '{apiVersion: "v1", kind: "Pod",
    metadata: {generateName: "bench-", namespace: $ns, labels: {app: "bench"}},
    spec: {automountServiceAccountToken: false,
           containers: [{name: "app", image: "registry.example/app:1",
                         ports: [{containerPort: 8080}],
                         resources: {requests: {cpu: "10m", memory: "16Mi"}}}]}}'
}
pod_json "$inj" >"$work/pod-inj.json"
pod_json "$plain" >"$work/pod-plain.json"
jq -n --slurpfile pod "$work/pod-inj.json" --arg ns "$inj" '{apiVersion: "admission.k8s.io/v1",
  kind: "AdmissionReview", request: {uid: "bench", kind: {group: "", version: "v1", kind: "Pod"},
  resource: {group: "", version: "v1", resource: "pods"}, namespace: $ns, operation: "CREATE",
  userInfo: {username: "bench"}, object: $pod[0]}}' >"$work/review.json"

server=$(kubectl config view --minify -o jsonpath='{.clusters[0].cluster.server}')
load() { taskset -c 1 "$build/bench/meshgate-admission-load" --duration "$duration" "$@"; }

# The apiserver's own histogram of its calls to the webhook (buckets 5 ms, 25 ms, 100 ms, …):
# cumulative counts of inject.meshgate.io CREATE calls at or under LE seconds.
webhook_calls() {
  kubectl get --raw /metrics | grep '^apiserver_admission_webhook_admission_duration_seconds_bucket' |
    grep 'name="inject.meshgate.io"' | grep 'operation="CREATE"' |
    awk -v le="$1" 'index($0, "le=\"" le "\"") {s += $NF} END {print s + 0}'
}
declare -A p50 p99 errs calls within5 within25
for rate in 50 200; do
  before_all=$(webhook_calls +Inf) before_5=$(webhook_calls 0.005) before_25=$(webhook_calls 0.025)
  for r in $(seq "$repeats"); do
    out=$(load --url "https://127.0.0.1:$WEBHOOK_PORT/mutate-v1-pod" --ca "$work/ca.crt" \
      --server-name localhost --body "$work/review.json" --rate "$rate" --connections 4)
    echo "direct $rate/s #$r: $out" >&2
    p50[direct-$rate]+="$(field p50_ms <<<"$out") " p99[direct-$rate]+="$(field p99_ms <<<"$out") "
    errs[direct-$rate]=$((${errs[direct-$rate]:-0} + $(field errors <<<"$out")))
    for kind in inj plain; do
      ns=$inj
      [ $kind = inj ] || ns=$plain
      out=$(load --url "$server/api/v1/namespaces/$ns/pods" --ca "$dir/pki/ca.crt" \
        --cert "$dir/pki/admin.crt" --key "$dir/pki/admin.key" --body "$work/pod-$kind.json" \
        --rate "$rate" --connections 8)
      echo "apiserver $kind $rate/s #$r: $out" >&2
      p50[$kind-$rate]+="$(field p50_ms <<<"$out") " p99[$kind-$rate]+="$(field p99_ms <<<"$out") "
      errs[$kind-$rate]=$((${errs[$kind-$rate]:-0} + $(field errors <<<"$out")))
    done
  done
  calls[$rate]=$(($(webhook_calls +Inf) - before_all))
  within5[$rate]=$(($(webhook_calls 0.005) - before_5))
  within25[$rate]=$(($(webhook_calls 0.025) - before_25))
done
med() { tr ' ' '\n' <<<"$1" | grep . | median; }


# 500 pods in one `kubectl create -f` (kubectl sends them one by one, as a GitOps apply does).
list() {  # list NAMESPACE
  jq -n --arg ns "$1" '{apiVersion: "v1", kind: "List", items: [range(500) as $i | {apiVersion: "v1",
    kind: "Pod", metadata: {name: "p\($i)", namespace: $ns},
    spec: {automountServiceAccountToken: false, containers: [{name: "app", image: "registry.example/app:1"}]}}]}'
}
create_s() {  # create_s NAMESPACE — seconds to create the List
  list "$1" >"$work/list.json"
  local t0=$EPOCHREALTIME
  kubectl create -f "$work/list.json" >/dev/null
  awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.2f", b - a}'
}
many_inj="" many_plain="" injected=""
for r in $(seq "$repeats"); do
  ns=$(_webhook_namespace bench many meshgate.io/inject=enabled)
  many_inj+="$(create_s "$ns") "
  injected+="$(kubectl get pods -n "$ns" -o json | jq '[.items[] | select(.metadata.annotations["meshgate.io/injected"])] | length') "
  ns=$(new_namespace manyplain)
  wait_for 30 kubectl get serviceaccount default -n "$ns" >/dev/null
  many_plain+="$(create_s "$ns") "
  echo "500 pods #$r: injected $(awk '{print $NF}' <<<"$many_inj") s, plain $(awk '{print $NF}' <<<"$many_plain") s" >&2
done

echo
echo "meshgate-webhook pod injection, ${duration} s per run, medians of $repeats ($(nproc) cores; webhook on CPU 0, load on CPU 1)"
echo
echo "| rate | direct p50 | direct p99 (goal ≤ 5 ms) | via apiserver: pod create p50 | p99 | without webhook p50 | p99 | webhook's added p99 (goal ≤ 20 ms) | errors |"
echo "|---|---|---|---|---|---|---|---|---|"
for rate in 50 200; do
  d50=$(med "${p50[direct-$rate]}") d99=$(med "${p99[direct-$rate]}")
  i50=$(med "${p50[inj-$rate]}") i99=$(med "${p99[inj-$rate]}")
  n50=$(med "${p50[plain-$rate]}") n99=$(med "${p99[plain-$rate]}")
  added=$(awk -v a="$i99" -v b="$n99" 'BEGIN {printf "%.2f", a - b}')
  echo "| $rate/s | $d50 ms | $d99 ms | $i50 ms | $i99 ms | $n50 ms | $n99 ms | $added ms | $((${errs[direct-$rate]} + ${errs[inj-$rate]} + ${errs[plain-$rate]})) |"
done
echo
echo "The apiserver's own histogram of its calls to the webhook during the pod runs (apiserver_admission_webhook_admission_duration_seconds, inject.meshgate.io; its buckets are 5 ms, 25 ms, 100 ms, …):"
echo
echo "| rate | calls | within 5 ms | within 25 ms |"
echo "|---|---|---|---|"
for rate in 50 200; do
  echo "| $rate/s | ${calls[$rate]} | $(ratio "${within5[$rate]}" "${calls[$rate]}") | $(ratio "${within25[$rate]}" "${calls[$rate]}") |"
done
echo
echo "| 500 pods, kubectl create -f | injected | not injected (baseline) | ratio |"
echo "|---|---|---|---|"
mi=$(tr ' ' '\n' <<<"$many_inj" | grep . | median) mp=$(tr ' ' '\n' <<<"$many_plain" | grep . | median)
echo "| time | $mi s | $mp s | $(ratio "$mi" "$mp") |"
echo
echo "(pods carrying the sidecar in each injected 500-pod namespace: $injected)"
