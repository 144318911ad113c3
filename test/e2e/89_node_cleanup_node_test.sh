# shellcheck shell=bash
# The node's life cycle on this machine (cluster/node.sh), on the suite's own cluster — which is
# why this file runs last: a pod runs; every process of the cluster and of its node is killed
# with SIGKILL, container shims included, as a crash would; up.sh on the same directory brings a
# working cluster with a working node back; a second crash, then down.sh leaves nothing of it —
# no process, mount, bridge, route, chain, cgroup or shim socket — and ip_forward as it was
# before the node. (run.sh's own down.sh then finds nothing left to do.) Run by test/e2e/run.sh
# only on a cluster with a node.

# _node_traces DIR — everything of DIR's node that the kernel or the machine still holds, one a
# line; empty when nothing is left.
_node_traces() {
  local dir=$1 id hierarchy
  id=$(printf '%s' "$dir" | sha256sum | cut -c1-6)
  ip -o link show "mgbr$id" 2>/dev/null | sed 's/^/link: /' || true
  ip -4 route show | grep -F "mgbr$id" | sed 's/^/route: /' || true
  iptables -w -S 2>/dev/null | grep -F "MESHGATE-NODE-$id" | sed 's/^/iptables: /' || true
  ip6tables -w -S 2>/dev/null | grep -F "MESHGATE-NODE-$id" | sed 's/^/ip6tables: /' || true
  iptables-save 2>/dev/null | grep -E '^:KUBE-' | sed 's/^/iptables chain: /' || true
  ip6tables-save 2>/dev/null | grep -E '^:KUBE-' | sed 's/^/ip6tables chain: /' || true
  awk -v prefix="$dir/" 'index($2, prefix) == 1 {print "mount: " $2}' /proc/self/mounts
  for hierarchy in /sys/fs/cgroup/*/; do
    [ ! -d "${hierarchy}meshgate-$id" ] || echo "cgroup: ${hierarchy}meshgate-$id"
  done
  pgrep -af -- "$dir/" | sed 's/^/process: /' || true
  pgrep -a meshgate-pause | sed 's/^/container process: /' || true
  find /run/containerd/s -mindepth 1 2>/dev/null | sed 's/^/shim socket: /' || true
}

# _nothing_left_of DIR — for wait_for: fails, naming them, while DIR's node has traces.
_nothing_left_of() {
  local traces
  traces=$(_node_traces "$1")
  [ -z "$traces" ] || {
    echo "the node left behind:"
    printf '%s\n' "$traces"
    return 1
  }
}

# _kill_cluster DIR — SIGKILL to every process the cluster in DIR started and to its shims.
_kill_cluster() {
  local dir=$1 pidfile
  for pidfile in "$dir"/*.pid; do
    kill -KILL "$(cat "$pidfile")" 2>/dev/null || true
  done
  # [c]: the pattern must not match the command lines that carry it (this wait's own bash).
  pkill -KILL -f "[c]ontainerd-shim-runc-v2 .*-address $dir/" || true
  wait_for 10 bash -c "! pgrep -f '[c]ontainerd-shim-runc-v2 .*-address $dir/' >/dev/null"
}

# _pause_image — the sandbox image the node imports at start.
_pause_image() {
  tar -xOf "$MESHGATE_NODE_IMAGES/meshgate-pause.oci.tar" index.json |
    jq -r '.manifests[0].annotations["org.opencontainers.image.ref.name"]'
}

# _run_a_pod NAME — a pod on the node, Ready.
_run_a_pod() {
  kubectl run "$1" --image="$(_pause_image)" --image-pull-policy=Never >/dev/null
  wait_for 60 kubectl wait --for condition=Ready --timeout=5s "pod/$1"
}

test_a_crashed_node_comes_back_and_down_leaves_nothing() {
  local dir=$MESHGATE_CLUSTER_DIR forward_before
  forward_before=$(cat "$dir/node/ip_forward.saved")
  step "a pod runs on the node"
  _run_a_pod before-crash

  step "SIGKILL to everything: the control plane, containerd, kubelet, kube-proxy, CoreDNS, shims"
  _kill_cluster "$dir"
  pgrep -x meshgate-pause >/dev/null # the pod's processes outlived the crash

  step "up.sh on the same directory after the crash: a working cluster and node again"
  MESHGATE_NODE=1 bash "$REPO_ROOT/test/e2e/cluster/up.sh" "$dir" | head -n 1
  assert_eq 0 "$(pgrep -cx meshgate-pause || true)" "pause processes: the crashed pod's are gone"
  _run_a_pod after-crash
  # The pod's container runs the pause image too: its sandbox and its container.
  assert_eq 2 "$(pgrep -cx meshgate-pause)" "pause processes: only the new pod's"

  step "SIGKILL again, then down.sh: nothing of the node is left"
  _kill_cluster "$dir"
  bash "$REPO_ROOT/test/e2e/cluster/down.sh" "$dir" >/dev/null
  # Containers killed a moment ago may still be zombies until their new parent reaps them.
  wait_for 20 _nothing_left_of "$dir"
  [ ! -e "$dir" ]
  assert_eq "$forward_before" "$(cat /proc/sys/net/ipv4/ip_forward)" "net.ipv4.ip_forward"
}
