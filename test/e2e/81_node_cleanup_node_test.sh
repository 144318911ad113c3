# shellcheck shell=bash
# The node's life cycle on this machine (cluster/node.sh): a second cluster with a node of its own
# (its own directory, bridge, pod range, chains and cgroup) runs a pod, is killed with SIGKILL —
# every control-plane and node process and the container shims, as a crash would — then up.sh on
# the same directory brings a working cluster back, and down.sh leaves nothing of it: no process,
# mount, network namespace, bridge, chain, cgroup or shim socket, and ip_forward as it was. Last
# in the suite: down.sh runs `kube-proxy --cleanup`, which also removes the main node's Service
# rules until its kube-proxy writes them again (every 30 s). Run by test/e2e/run.sh only on a
# cluster with a node.

_second_cidr=10.245.0.0/24

# _node_traces DIR — everything of DIR's node that the kernel or the machine still holds, one a
# line; empty when nothing is left.
_node_traces() {
  local dir=$1 id hierarchy
  id=$(printf '%s' "$dir" | sha256sum | cut -c1-6)
  ip -o link show "mgbr$id" 2>/dev/null | sed 's/^/link: /' || true
  ip -4 route show "$_second_cidr" | sed 's/^/route: /'
  iptables -w -S 2>/dev/null | grep -F "MESHGATE-NODE-$id" | sed 's/^/iptables: /' || true
  ip6tables -w -S 2>/dev/null | grep -F "MESHGATE-NODE-$id" | sed 's/^/ip6tables: /' || true
  awk -v prefix="$dir/" 'index($2, prefix) == 1 {print "mount: " $2}' /proc/self/mounts
  for hierarchy in /sys/fs/cgroup/*/; do
    [ ! -d "${hierarchy}meshgate-$id" ] || echo "cgroup: ${hierarchy}meshgate-$id"
  done
  pgrep -af -- "$dir" | sed 's/^/process: /' || true
}

# _kill_cluster DIR — SIGKILL to every process the cluster in DIR started and to its shims.
_kill_cluster() {
  local dir=$1 pidfile
  for pidfile in "$dir"/*.pid; do
    kill -KILL "$(cat "$pidfile")" 2>/dev/null || true
  done
  pkill -KILL -f "containerd-shim-runc-v2 .*-address $dir/" || true
}

test_a_crashed_node_comes_back_and_down_leaves_nothing() {
  local dir forward_before sockets_before env pod_ip
  dir=$(mktemp -d "$REPO_ROOT/.local/e2e-second-node.XXXXXX")
  trap 'bash "$REPO_ROOT/test/e2e/cluster/down.sh" "$dir" >/dev/null 2>&1 || true' RETURN
  forward_before=$(cat /proc/sys/net/ipv4/ip_forward)
  # The main node runs no pod now (80_install_node removed its install): its shim sockets stay.
  sockets_before=$(ls /run/containerd/s 2>/dev/null || true)

  step "a second cluster with a node in $_second_cidr runs a pod"
  MESHGATE_NODE=1 MESHGATE_NODE_POD_CIDR=$_second_cidr \
    bash "$REPO_ROOT/test/e2e/cluster/up.sh" "$dir" | head -n 1
  env=(env "KUBECONFIG=$dir/kubeconfig")
  "${env[@]}" kubectl run sleeper --image="$(_pause_image)" --image-pull-policy=Never >/dev/null
  wait_for 60 "${env[@]}" kubectl wait --for condition=Ready --timeout=5s pod/sleeper
  pod_ip=$("${env[@]}" kubectl get pod sleeper -o jsonpath='{.status.podIP}')
  [[ $pod_ip == 10.245.0.* ]] || { echo "pod address $pod_ip is not in $_second_cidr" >&2; return 1; }

  step "SIGKILL to everything: the cluster's processes and the container shims"
  _kill_cluster "$dir"
  wait_for 10 bash -c "! pgrep -f 'containerd-shim-runc-v2 .*-address $dir/' >/dev/null"

  step "up.sh on the same directory after the crash: a working cluster again"
  MESHGATE_NODE=1 MESHGATE_NODE_POD_CIDR=$_second_cidr \
    bash "$REPO_ROOT/test/e2e/cluster/up.sh" "$dir" | head -n 1
  "${env[@]}" kubectl run sleeper --image="$(_pause_image)" --image-pull-policy=Never >/dev/null
  wait_for 60 "${env[@]}" kubectl wait --for condition=Ready --timeout=5s pod/sleeper

  step "SIGKILL again, then down.sh: nothing of the node is left"
  _kill_cluster "$dir"
  bash "$REPO_ROOT/test/e2e/cluster/down.sh" "$dir" >/dev/null
  assert_eq "" "$(_node_traces "$dir")" "what the second node left behind"
  [ ! -e "$dir" ]
  assert_eq "$forward_before" "$(cat /proc/sys/net/ipv4/ip_forward)" "net.ipv4.ip_forward"
  assert_eq "$sockets_before" "$(ls /run/containerd/s 2>/dev/null || true)" \
    "shim sockets in /run/containerd/s"
  step "the main cluster's node still runs pods"
  kubectl run after-second-node --image="$(_pause_image)" --image-pull-policy=Never >/dev/null
  wait_for 60 kubectl wait --for condition=Ready --timeout=5s pod/after-second-node
  kubectl delete pod after-second-node --wait=false >/dev/null
}

# _pause_image — the sandbox image the node imported (any node of this run has it).
_pause_image() {
  tar -xOf "$MESHGATE_NODE_IMAGES/meshgate-pause.oci.tar" index.json |
    jq -r '.manifests[0].annotations["org.opencontainers.image.ref.name"]'
}
