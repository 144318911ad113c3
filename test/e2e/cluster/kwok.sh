#!/usr/bin/env bash
# KWOK (sigs.k8s.io/kwok, built by build.sh) fakes nodes for scale tests of the cluster up.sh made
# in DIR: pods the scheduler binds to its nodes are reported Running, with an IP from 10.250.0.0/16,
# and no process runs (nothing ever listens on those IPs; send them no traffic).
#
#   kwok.sh DIR start                  start the controller (daemon "kwok", log DIR/logs/kwok.log)
#   kwok.sh DIR add-nodes N [PREFIX]   create N fake nodes PREFIX-0.. (default kwok-node), wait Ready
#   kwok.sh DIR stop                   stop kwok, delete the fake nodes (and pods left on them)
#
# Fake nodes carry the label type=kwok, the annotation kwok.x-k8s.io/node=fake (what kwok manages)
# and the taint kwok.x-k8s.io/node=fake:NoSchedule: a pod lands there only with a matching
# toleration (and nodeSelector type=kwok to land nowhere else). A relative DIR is taken from the
# repository root. kwok v0.8 has no built-in behaviour: the Stages of write_config are its
# config; without any it exits with "no stages found".
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo_root=$(cd "$here/../../.." && pwd)
# shellcheck source=test/e2e/cluster/daemon.sh
source "$here/daemon.sh"

usage() {
  echo "usage: kwok.sh DIR start|stop|add-nodes N [PREFIX]" >&2
  exit 2
}
[ $# -ge 2 ] || usage
dir=$1
action=$2
case "$dir" in
  /*) ;;
  *) dir="$repo_root/$dir" ;;
esac

fail() {
  echo "kwok: $*" >&2
  exit 1
}

if [ ! -f "$dir/.meshgate-cluster" ] || [ ! -f "$dir/env" ]; then
  fail "no cluster in $dir (start one with up.sh)"
fi
# shellcheck source=/dev/null
source "$dir/env" # KUBECONFIG (admin) and the built kubectl first on PATH

k8s_version=$(awk '$1 == "k8s.io/kubernetes" && $2 ~ /^v1\./ { print $2; exit }' "$here/go.mod")
kwok_bin=${XDG_CACHE_HOME:-$HOME/.cache}/meshgate/k8s/${k8s_version}/bin/kwok
pod_cidr=10.250.0.0/16

# write_config FILE — kwok's Stages: what it does to the objects it manages, nothing more than the
# scale tests need. A fake node turns Ready and keeps a heartbeat; a pod bound to one turns Running
# and Ready with an address from --cidr; a pod deleted with a grace period is removed (without one
# the apiserver removes it itself). Templates are Go templates with kwok's functions (Now, Quote,
# PodIPsWith, NodeIPsWith); each result is merged into the object's status.
write_config() {
  cat >"$1" <<'YAML'
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata: {name: meshgate-node-ready}
spec:
  resourceRef: {apiGroup: v1, kind: Node}
  selector:
    matchExpressions:
      - {key: '.status.conditions.[] | select(.type == "Ready") | .status', operator: NotIn, values: ['True']}
  next:
    statusTemplate: |
      conditions:
        - type: Ready
          status: "True"
          reason: KwokNode
          message: "fake node: its pods are reported running, no process runs"
          lastHeartbeatTime: {{ Now | Quote }}
          lastTransitionTime: {{ Now | Quote }}
      phase: Running
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata: {name: meshgate-node-heartbeat}
spec:
  resourceRef: {apiGroup: v1, kind: Node}
  selector:
    matchExpressions:
      - {key: '.status.conditions.[] | select(.type == "Ready") | .status', operator: In, values: ['True']}
  delay: {durationMilliseconds: 15000, jitterDurationMilliseconds: 20000}
  immediateNextStage: true
  next:
    statusTemplate: |
      conditions:
        - type: Ready
          status: "True"
          reason: KwokNode
          message: "fake node: its pods are reported running, no process runs"
          lastHeartbeatTime: {{ Now | Quote }}
          lastTransitionTime: {{ .metadata.creationTimestamp | Quote }}
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata: {name: meshgate-pod-running}
spec:
  resourceRef: {apiGroup: v1, kind: Pod}
  selector:
    matchExpressions:
      - {key: '.metadata.deletionTimestamp', operator: DoesNotExist}
      - {key: '.status.phase', operator: In, values: [Pending]}
  next:
    statusTemplate: |
      {{ $started := Now }}
      phase: Running
      startTime: {{ $started | Quote }}
      conditions:
        - {type: PodScheduled, status: "True", lastTransitionTime: {{ $started | Quote }}}
        - {type: Initialized, status: "True", lastTransitionTime: {{ $started | Quote }}}
        - {type: ContainersReady, status: "True", lastTransitionTime: {{ $started | Quote }}}
        - {type: Ready, status: "True", lastTransitionTime: {{ $started | Quote }}}
      containerStatuses:
      {{ range .spec.containers }}
        - name: {{ .name | Quote }}
          image: {{ .image | Quote }}
          ready: true
          started: true
          restartCount: 0
          state: {running: {startedAt: {{ $started | Quote }}}}
      {{ end }}
      {{ with NodeIPsWith .spec.nodeName }}
      hostIP: {{ index . 0 | Quote }}
      {{ end }}
      {{ with PodIPsWith .spec.nodeName false .metadata.uid .metadata.name .metadata.namespace }}
      podIP: {{ index . 0 | Quote }}
      podIPs:
      {{ range . }}
        - ip: {{ . | Quote }}
      {{ end }}
      {{ end }}
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata: {name: meshgate-pod-delete}
spec:
  resourceRef: {apiGroup: v1, kind: Pod}
  selector:
    matchExpressions:
      - {key: '.metadata.deletionTimestamp', operator: Exists}
      - {key: '.metadata.deletionGracePeriodSeconds == 0', operator: NotIn, values: ['true']}
  next:
    delete: true
YAML
}

start() {
  local pid deadline offset
  [ -x "$kwok_bin" ] || fail "$kwok_bin is missing; build it with: make control-plane"
  if pid=$(daemon_pid "$dir" kwok); then
    echo "kwok already runs ($pid)"
    return 0
  fi
  mkdir -p "$dir/kwok"
  write_config "$dir/kwok/kwok.yaml"
  # The log is appended to: only what this process writes counts below.
  offset=$(stat -c %s "$dir/logs/kwok.log" 2>/dev/null || echo 0)
  # kwok also reads $KWOK_WORKDIR/kwok.yaml (default ~/.kwok): pointed here, nothing outside DIR
  # takes part. No lease (nothing watches node leases here: no node-lifecycle controller) and no
  # server (no kubelet API: logs and exec are not faked).
  KWOK_WORKDIR="$dir/kwok" daemon_start "$dir" kwok "$kwok_bin" \
    --config="$dir/kwok/kwok.yaml" \
    --kubeconfig="$dir/kubeconfig" \
    --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
    --cidr="$pod_cidr" \
    --node-lease-duration-seconds=0
  # Ready once it watches nodes (after it reached the apiserver); add-nodes then waits for Ready.
  deadline=$((SECONDS + 30))
  until [ "$(tail -c +"$((offset + 1))" "$dir/logs/kwok.log" | grep -c '"msg":"Watch nodes"')" -gt 0 ]; do
    daemon_pid "$dir" kwok >/dev/null || {
      tail -n 20 "$dir/logs/kwok.log" >&2
      fail "kwok exited at start (log: $dir/logs/kwok.log)"
    }
    [ $SECONDS -lt $deadline ] || fail "kwok did not start watching nodes in 30s (log: $dir/logs/kwok.log)"
    sleep 0.1
  done
  echo "kwok started ($(daemon_pid "$dir" kwok)), pod IPs from $pod_cidr"
}

# node_yaml NAME INDEX — one fake node.
node_yaml() {
  cat <<YAML
---
apiVersion: v1
kind: Node
metadata:
  name: $1
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    type: kwok
    kubernetes.io/hostname: $1
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
spec:
  taints:
  - {key: kwok.x-k8s.io/node, value: fake, effect: NoSchedule}
status:
  addresses:
  - {type: InternalIP, address: 10.251.$(($2 / 250)).$(($2 % 250 + 1))}
  - {type: Hostname, address: $1}
  allocatable: {cpu: "1000", memory: 1Ti, pods: "2000"}
  capacity: {cpu: "1000", memory: 1Ti, pods: "2000"}
YAML
}

add_nodes() {
  local n=$1 prefix=${2:-kwok-node} i name names=()
  local taint='{"key": "kwok.x-k8s.io/node", "value": "fake", "effect": "NoSchedule"}'
  [[ $n =~ ^[1-9][0-9]*$ ]] || fail "add-nodes wants a count, not '$n'"
  daemon_pid "$dir" kwok >/dev/null || fail "kwok does not run in $dir; start it first: kwok.sh $dir start"
  for ((i = 0; i < n; i++)); do
    names+=("node/$prefix-$i")
  done
  for ((i = 0; i < n; i++)); do
    node_yaml "$prefix-$i" "$i"
  done | kubectl apply -f - >/dev/null
  kubectl wait --for=condition=Ready --timeout=60s "${names[@]}" >/dev/null
  # The apiserver's TaintNodesByCondition admission gives every new node the taint
  # node.kubernetes.io/not-ready, which the node-lifecycle controller lifts once the node is
  # Ready. That controller does not run here: this lifts it instead, leaving only the kwok taint.
  for name in "${names[@]}"; do
    kubectl patch "$name" --type merge -p "{\"spec\": {\"taints\": [$taint]}}" >/dev/null
  done
  echo "$n kwok nodes Ready: $prefix-0..$prefix-$((n - 1))"
}

stop() {
  local rc=0 node
  # The daemon first, so that it stops even when the apiserver does not answer.
  daemon_stop "$dir" kwok
  # Pods still bound to a fake node would stay there for ever (no kubelet, no pod GC here), and a
  # pod with a grace period would stay Terminating: remove them, then the nodes.
  if kubectl --request-timeout=10s get nodes -l type=kwok -o name >"$dir/kwok.nodes" 2>/dev/null; then
    while read -r node; do
      kubectl --request-timeout=30s delete pods --all-namespaces --field-selector "spec.nodeName=${node#node/}" \
        --force --grace-period=0 --ignore-not-found --wait=false >/dev/null 2>&1 || rc=1
    done <"$dir/kwok.nodes"
    [ ! -s "$dir/kwok.nodes" ] || kubectl --request-timeout=30s delete nodes -l type=kwok --wait=false >/dev/null || rc=1
  else
    echo "kwok: the apiserver did not answer; fake nodes were not deleted" >&2
    rc=1
  fi
  rm -f "$dir/kwok.nodes"
  echo "kwok stopped"
  return $rc
}

case "$action" in
  start) start ;;
  stop) stop ;;
  add-nodes)
    [ $# -ge 3 ] || usage
    add_nodes "$3" "${4:-}"
    ;;
  *) usage ;;
esac
