# shellcheck shell=bash
# Scale on KWOK's fake nodes (cluster/kwok.sh; helpers in kwok_lib.sh): 1,000 pods that the real
# scheduler binds and KWOK reports Running with an IP, no process behind them. meshgate-webhook
# injects the sidecar into all 1,000 created by parallel clients with no failed admission; the
# operator counts the 1,000 endpoints the EndpointSlice controller lists for a MeshService
# selector, and follows a scale-down to 10. Timings are printed, not asserted. Run by
# test/e2e/run.sh.

# shellcheck source=webhook_lib.sh
source "$REPO_ROOT/test/e2e/webhook_lib.sh"
# shellcheck source=operator_lib.sh
source "$REPO_ROOT/test/e2e/operator_lib.sh"
# shellcheck source=kwok_lib.sh
source "$REPO_ROOT/test/e2e/kwok_lib.sh"

# _injections RESULT — meshgate_webhook_admission_requests_total of the pod-injection webhook for
# CREATE with RESULT (allowed, patched, denied, error); 0 when absent.
_injections() {
  curl -sf --max-time 5 "$WEBHOOK_METRICS_URL" | awk -v want="result=\"$1\"" '
    /^meshgate_webhook_admission_requests_total[{]/ && /webhook="pod-injection"/ && index($0, want) { s += $NF }
    END { print s + 0 }'
}

# The cleanups run as EXIT traps, not RETURN ones: kwok is a daemon outside the test's process
# group and must stop when a test fails too. The namespaces go (their pods need no kwok to go: no
# grace period) while the processes stop; kwok stops last and deletes its nodes.
_cleanup_webhook_test() {
  kubectl delete namespace -l "e2e.meshgate.io/webhook=$1" --wait=false >/dev/null 2>&1 || true
  _unregister_webhooks "$1" || true
  _stop_webhook
  wait_for 60 bash -c "[ -z \"\$(kubectl get namespace -l e2e.meshgate.io/webhook=$1 -o name)\" ]" || true
  _kwok_down || true
  rm -rf "$WEBHOOK_DIR"
}

_cleanup_operator_test() {
  kubectl delete namespace "$1" --wait=false >/dev/null 2>&1 || true
  _stop_operator
  wait_gone 60 namespace "$1" || true
  _kwok_down || true
  rm -rf "$2" "$3"
}

test_webhook_injects_1000_pods_on_kwok_nodes() {
  local sel=e2e-kwok ns log pods start admitted_s running_s before failed=0 i pids=()
  kubectl apply -R -f config/rbac/ >/dev/null
  kubectl apply -f crds/ >/dev/null
  WEBHOOK_DIR=$(mktemp -d)
  log=$WEBHOOK_DIR/webhook.log
  pods=$WEBHOOK_DIR/pods.json
  # shellcheck disable=SC2064 # expanded now: the function's locals are gone when the shell exits
  trap "_cleanup_webhook_test $sel" EXIT
  _webhook_ca "$WEBHOOK_DIR"
  _webhook_issue "$WEBHOOK_DIR" >/dev/null
  _kwok_up 4
  _start_webhook "$log" "$WEBHOOK_DIR"
  _register_webhooks "$sel" "$WEBHOOK_DIR"
  ns=$(_webhook_namespace "$sel" kwok-inject meshgate.io/inject=enabled)
  before=$(_injections patched)

  step "1000 pods created by 4 parallel clients (250 each) in a namespace labelled for injection"
  for i in 0 1 2 3; do
    _kwok_pods scale $((i * 250 + 1)) $((i * 250 + 250)) >"$WEBHOOK_DIR/pods-$i.yaml"
  done
  start=$(date +%s%3N)
  for i in 0 1 2 3; do
    kubectl create -n "$ns" -f "$WEBHOOK_DIR/pods-$i.yaml" >/dev/null 2>"$WEBHOOK_DIR/create-$i.err" &
    pids+=($!)
  done
  for i in 0 1 2 3; do
    wait "${pids[i]}" || { failed=$((failed + 1)); head -n 5 "$WEBHOOK_DIR/create-$i.err" >&2; }
  done
  admitted_s=$(_elapsed "$start")
  assert_eq 0 "$failed" "kubectl clients that saw a failed creation"
  wait_for 120 _not_running "$ns"
  running_s=$(_elapsed "$start")
  echo "1000 pods through meshgate-webhook: all admitted in ${admitted_s}s (4 clients), all Running on kwok nodes in ${running_s}s"

  step "every pod has the sidecar and runs on a fake node with its own IP from 10.250.0.0/16"
  kubectl get pods -n "$ns" -o json >"$pods"
  assert_eq 1000 "$(jq '.items | length' "$pods")" "pods"
  assert_eq 1000 "$(jq '[.items[] | select([.spec.containers[].name] == ["app", "meshgate-proxy"])] | length' "$pods")" "pods with the sidecar injected"
  assert_eq 1000 "$(jq '[.items[] | select(.metadata.annotations["meshgate.io/injected"] != null)] | length' "$pods")" "pods annotated meshgate.io/injected"
  assert_eq 1000 "$(jq '[.items[] | select(.status.phase == "Running" and ([.status.containerStatuses // [] | .[] | select(.ready)] | length) == 2)] | length' "$pods")" "Running pods with both containers ready"
  assert_eq 1000 "$(jq '[.items[] | select(.spec.nodeName // "" | startswith("kwok-node-"))] | length' "$pods")" "pods on kwok nodes"
  assert_eq 1000 "$(jq '[.items[].status.podIP // empty | select(test("^10\\.250\\.[0-9]+\\.[0-9]+$"))] | unique | length' "$pods")" "distinct pod IPs in 10.250.0.0/16"

  step "the webhook counted 1000 patched admissions, none denied or failed, and logged no error"
  assert_eq 1000 "$(($(_injections patched) - before))" "patched pod admissions"
  assert_eq 0 "$(_injections denied)" "denied pod admissions"
  assert_eq 0 "$(_injections error)" "failed pod admissions"
  assert_eq 0 "$(grep -cE '\] \[(error|critical)\] ' "$log" || true)" "error lines in the webhook log"
}

test_operator_counts_1000_selected_pods_on_kwok_nodes() {
  _prepare_operator
  local ns log dir start up_s down_s
  ns=$(new_namespace kwok-op)
  log=$(mktemp)
  dir=$(mktemp -d)
  # shellcheck disable=SC2064 # expanded now: the function's locals are gone when the shell exits
  trap "_cleanup_operator_test $ns $log $dir" EXIT
  _kwok_up 4
  _start_operator "$log" --leader-elect --leader-election-id e2e-kwok-scale
  kubectl apply -n "$ns" -f - >/dev/null <<YAML
apiVersion: meshgate.io/v1alpha1
kind: MeshService
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: 8080}]
YAML
  wait_for 30 bash -c "[ \"\$(kubectl get ms web -n $ns -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].reason}')\" = NoReadyEndpoints ]"

  step "a Deployment of 1000 replicas on fake nodes: 1000 of 1000 endpoints ready"
  # The ReplicaSet controller backs off when the namespace's ServiceAccount is not there yet.
  wait_for 30 kubectl get serviceaccount default -n "$ns"
  start=$(date +%s%3N)
  _kwok_deployment "$ns" web 1000
  wait_for 150 bash -c "[ \"\$(kubectl get ms web -n $ns -o jsonpath='{.status.endpoints.ready}/{.status.endpoints.total}')\" = 1000/1000 ]"
  up_s=$(_elapsed "$start")
  assert_eq "True 1000 of 1000 endpoints ready" "$(kubectl get ms web -n "$ns" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status} {.status.conditions[?(@.type=="Ready")].message}')"
  kubectl get endpointslices -n "$ns" -l kubernetes.io/service-name=web -o json >"$dir/slices.json"
  kubectl get pods -n "$ns" -l app=web -o json >"$dir/pods.json"
  # The EndpointSlice controller's slices (at most 100 endpoints each) list exactly the pods' IPs.
  assert_ge "$(jq '.items | length' "$dir/slices.json")" 10 "EndpointSlices for 1000 endpoints"
  assert_eq 1000 "$(jq '[.items[].endpoints // [] | .[] | select(.conditions.ready)] | length' "$dir/slices.json")" "ready endpoints in the slices"
  assert_eq "$(jq -c '[.items[].status.podIP] | sort' "$dir/pods.json")" "$(jq -c '[.items[].endpoints // [] | .[].addresses[0]] | sort' "$dir/slices.json")" "slice addresses = pod IPs"
  assert_eq 1000 "$(jq '[.items[].status.podIP | select(test("^10\\.250\\."))] | unique | length' "$dir/pods.json")" "distinct pod IPs from kwok's range"
  assert_eq web "$(kubectl get svc web -n "$ns" -o jsonpath='{.spec.selector.app}')" "the operator's Service selects the pods"

  step "scaled to 10: 10 of 10 endpoints ready"
  start=$(date +%s%3N)
  kubectl scale deployment web -n "$ns" --replicas 10 >/dev/null
  wait_for 120 bash -c "[ \"\$(kubectl get ms web -n $ns -o jsonpath='{.status.endpoints.ready}/{.status.endpoints.total}')\" = 10/10 ]"
  down_s=$(_elapsed "$start")
  assert_eq "True 10 of 10 endpoints ready" "$(kubectl get ms web -n "$ns" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status} {.status.conditions[?(@.type=="Ready")].message}')"
  kubectl get endpointslices -n "$ns" -l kubernetes.io/service-name=web -o json >"$dir/slices.json"
  kubectl get pods -n "$ns" -l app=web -o json >"$dir/pods.json"
  assert_eq 10 "$(jq '.items | length' "$dir/pods.json")" "pods left"
  assert_eq "$(jq -c '[.items[].status.podIP] | sort' "$dir/pods.json")" "$(jq -c '[.items[].endpoints // [] | .[].addresses[0]] | sort' "$dir/slices.json")" "slice addresses = the 10 pods' IPs"
  echo "MeshService over a 1000-replica Deployment on kwok nodes: 1000 endpoints ready in ${up_s}s, 10 after scaling down in ${down_s}s"
}
