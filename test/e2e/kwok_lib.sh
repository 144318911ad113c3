# shellcheck shell=bash
# Helpers for the scale tests on KWOK's fake nodes (cluster/kwok.sh: pods bound to them are
# reported Running with an IP from 10.250.0.0/16, and nothing runs); sourced by
# 62_kwok_scale_test.sh. kwok runs as a daemon of the cluster, outside the test's process group:
# a test stops it (and deletes its nodes) in an EXIT trap, and `_kwok_up` reuses one left running.

_kwok() { bash "$REPO_ROOT/test/e2e/cluster/kwok.sh" "$MESHGATE_CLUSTER_DIR" "$@"; }

# _kwok_up N — starts kwok and N fake nodes kwok-node-0..N-1, all Ready.
_kwok_up() {
  _kwok start >/dev/null
  _kwok add-nodes "$1" >/dev/null
}

# _kwok_down — deletes the fake nodes (and any pod still on them) and stops kwok.
_kwok_down() { _kwok stop >/dev/null; }

# _kwok_pod_spec INDENT — the pod spec that puts a pod on a fake node and only there; without a
# grace period a deleted pod goes at once (no kubelet confirms a graceful deletion).
_kwok_pod_spec() {
  sed "s/^/$1/" <<'YAML'
nodeSelector: {type: kwok}
tolerations: [{key: kwok.x-k8s.io/node, operator: Exists, effect: NoSchedule}]
terminationGracePeriodSeconds: 0
automountServiceAccountToken: false
containers:
- name: app
  image: registry.example/app:1
  ports: [{name: http, containerPort: 8080}]
YAML
}

# _kwok_pods PREFIX FIRST LAST — pods PREFIX-FIRST..PREFIX-LAST (label app=PREFIX) as one
# YAML stream for kubectl create.
_kwok_pods() {
  local prefix=$1 i spec
  spec=$(_kwok_pod_spec "  ")
  for ((i = $2; i <= $3; i++)); do
    printf -- '---\napiVersion: v1\nkind: Pod\nmetadata: {name: %s-%d, labels: {app: %s}}\nspec:\n%s\n' \
      "$prefix" "$i" "$prefix" "$spec"
  done
}

# _kwok_deployment NS NAME REPLICAS — a Deployment of pods labelled app=NAME on fake nodes.
_kwok_deployment() {
  kubectl apply -n "$1" -f - >/dev/null <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: {name: $2}
spec:
  replicas: $3
  selector: {matchLabels: {app: $2}}
  template:
    metadata: {labels: {app: $2}}
    spec:
$(_kwok_pod_spec "      ")
YAML
}

# _not_running NS — the pods of NS that are not Running (empty when all are).
_not_running() {
  local out
  out=$(kubectl get pods -n "$1" --field-selector=status.phase!=Running -o name)
  [ -z "$out" ] || {
    echo "$(wc -l <<<"$out") pods not Running yet"
    return 1
  }
}

# _elapsed START_MS — seconds since START_MS (date +%s%3N) with one decimal.
_elapsed() {
  local ms=$(($(date +%s%3N) - $1))
  echo "$((ms / 1000)).$(((ms % 1000) / 100))"
}
