# shellcheck shell=bash
# One real node for the local cluster: containerd + runc + the CNI bridge from Debian's packages,
# kubelet and kube-proxy from build.sh, CoreDNS as the cluster DNS. Sourced by up.sh (when
# MESHGATE_NODE=1) and down.sh; it needs daemon.sh, and up.sh's helpers for node_start.
#
# Everything lives under DIR/node (containerd's root, state and socket, runc's root, the network
# namespaces, kubelet's root and pod logs, the CNI configuration and IPAM store) except what the
# kernel keeps globally, which is named after DIR and removed by node_down even after a crash:
#   - the bridge mgbr<id> holding the node address (first address of the pod range);
#   - the iptables chains MESHGATE-NODE-<id> (pod traffic may only go to the bridge) and
#     MESHGATE-NODE-<id>-IN, IPv4 and IPv6 (the apiserver's port answers loopback and the bridge
#     only), and
#     kube-proxy's chains (kube-proxy --cleanup);
#   - the cgroup meshgate-<id> in every v1 hierarchy (kubelet's cgroupRoot);
#   - net.ipv4.ip_forward, restored to the value saved in DIR/node/ip_forward.saved.
# Pods get addresses from MESHGATE_NODE_POD_CIDR (default 10.244.0.0/24) inside namespaces the
# node created; the host reaches them over the bridge. Nothing leaves the machine: the chain
# drops pod traffic to any other interface, CoreDNS has no upstream, NodePorts listen on the node
# address only.

NODE_NAME=meshgate-node

# node_layout DIR — the names derived from DIR (also what down.sh recomputes after a crash).
node_layout() {
  local dir=$1 id
  id=$(printf '%s' "$dir" | sha256sum | cut -c1-6)
  NODE_DIR=$dir/node
  NODE_ID=$id
  NODE_BRIDGE=mgbr$id
  NODE_CHAIN=MESHGATE-NODE-$id
  NODE_INPUT_CHAIN=MESHGATE-NODE-$id-IN
  NODE_CGROUP=meshgate-$id
  NODE_SOCKET=$NODE_DIR/containerd/containerd.sock
  NODE_POD_CIDR=${MESHGATE_NODE_POD_CIDR:-10.244.0.0/24}
  NODE_SERVICE_CIDR=10.0.0.0/16 # up.sh's --service-cluster-ip-range
  local base=${NODE_POD_CIDR%/*}
  NODE_IP=${base%.*}.$((${base##*.} + 1))
  NODE_PREFIX=${NODE_POD_CIDR#*/}
}

# node_unavailable_reason BIN_DIR — why this machine cannot run the node ("" when it can).
node_unavailable_reason() {
  local bin_dir=$1 b
  [ "$(id -u)" -eq 0 ] || {
    echo "not root (the node needs network namespaces, mounts, iptables and cgroups)"
    return
  }
  unshare --net --mount true 2>/dev/null || {
    echo "network or mount namespaces are refused here (unshare --net --mount failed)"
    return
  }
  for b in containerd containerd-shim-runc-v2 runc ctr iptables ip6tables ip; do
    command -v "$b" >/dev/null || {
      echo "$b not found (make deps installs containerd, runc, containernetworking-plugins)"
      return
    }
  done
  for b in bridge host-local loopback portmap; do
    [ -x "/usr/lib/cni/$b" ] || {
      echo "/usr/lib/cni/$b not found (make deps installs containernetworking-plugins)"
      return
    }
  done
  for b in kubelet kube-proxy coredns; do
    [ -x "$bin_dir/$b" ] || {
      echo "$bin_dir/$b is missing (make control-plane builds it)"
      return
    }
  done
  [ -d /sys/fs/cgroup/cpu ] || [ -f /sys/fs/cgroup/cgroup.controllers ] || {
    echo "no cgroup hierarchy under /sys/fs/cgroup"
    return
  }
  if ip -4 route show "$NODE_POD_CIDR" 2>/dev/null | grep -q .; then
    echo "the pod range $NODE_POD_CIDR is already routed here (another node? set MESHGATE_NODE_POD_CIDR)"
    return
  fi
}

# node_issue_certs — the node's identities, issued by up.sh's issue_cert with the cluster CA.
node_issue_certs() {
  local client_ext="basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth"
  issue_cert kubelet-client "/O=system:nodes/CN=system:node:${NODE_NAME}" "$client_ext"
  issue_cert kubelet-serving "/CN=system:node:${NODE_NAME}" "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:${NODE_IP},DNS:${NODE_NAME}"
  issue_cert kube-proxy "/CN=system:kube-proxy" "$client_ext"
  issue_cert coredns "/CN=meshgate-node:coredns" "$client_ext"
}

# node_network_up APISERVER_PORT — the bridge with the node address, forwarding confined to it,
# the apiserver's port closed to every other interface.
node_network_up() {
  local apiserver_port=$1
  mkdir -p "$NODE_DIR"
  [ -f "$NODE_DIR/ip_forward.saved" ] || cat /proc/sys/net/ipv4/ip_forward >"$NODE_DIR/ip_forward.saved"
  ip link add "$NODE_BRIDGE" type bridge
  ip addr add "${NODE_IP}/${NODE_PREFIX}" dev "$NODE_BRIDGE"
  ip link set "$NODE_BRIDGE" up
  # ClusterIPs go out on the bridge: kube-proxy's DNAT picks a pod, and before its rules exist a
  # connection stays on this machine instead of following the default route.
  ip route add "$NODE_SERVICE_CIDR" dev "$NODE_BRIDGE" src "$NODE_IP"
  iptables -w -N "$NODE_CHAIN"
  iptables -w -A "$NODE_CHAIN" -s "$NODE_POD_CIDR" ! -o "$NODE_BRIDGE" -j DROP
  iptables -w -A "$NODE_CHAIN" -d "$NODE_POD_CIDR" ! -i "$NODE_BRIDGE" -j DROP
  iptables -w -I FORWARD 1 -j "$NODE_CHAIN"
  iptables -w -N "$NODE_INPUT_CHAIN"
  iptables -w -A "$NODE_INPUT_CHAIN" -i lo -j RETURN
  iptables -w -A "$NODE_INPUT_CHAIN" -i "$NODE_BRIDGE" -j RETURN
  iptables -w -A "$NODE_INPUT_CHAIN" -p tcp --dport "$apiserver_port" -j DROP
  iptables -w -I INPUT 1 -j "$NODE_INPUT_CHAIN"
  # The apiserver's wildcard socket takes IPv6 too; no pod has an IPv6 address.
  ip6tables -w -N "$NODE_INPUT_CHAIN"
  ip6tables -w -A "$NODE_INPUT_CHAIN" -i lo -j RETURN
  ip6tables -w -A "$NODE_INPUT_CHAIN" -p tcp --dport "$apiserver_port" -j DROP
  ip6tables -w -I INPUT 1 -j "$NODE_INPUT_CHAIN"
  # ClusterIP traffic between pods is routed back onto the bridge after kube-proxy's DNAT.
  echo 1 >/proc/sys/net/ipv4/ip_forward
}

node_write_configs() {
  local pki=$1
  mkdir -p "$NODE_DIR"/{containerd,cni/net.d,cni/ipam,cni/cache,kubelet,pod-logs,runc}
  cat >"$NODE_DIR/containerd/config.toml" <<TOML
# containerd for the test node: every path of its own under ${NODE_DIR}.
version = 2
root = "${NODE_DIR}/containerd/root"
state = "${NODE_DIR}/containerd/state"
oom_score = 0
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]

[grpc]
  address = "${NODE_SOCKET}"

[plugins."io.containerd.internal.v1.opt"]
  path = "${NODE_DIR}/containerd/opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${NODE_PAUSE_IMAGE}"
  # No CAP_SYS_RESOURCE here: never lower a container's oom_score_adj below containerd's own.
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "${NODE_DIR}/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "${NODE_DIR}/cni/net.d"
    max_conf_num = 1
TOML
  cat >"$NODE_DIR/cni/net.d/10-meshgate.conflist" <<JSON
{
  "cniVersion": "1.0.0",
  "name": "meshgate-${NODE_ID}",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "${NODE_BRIDGE}",
      "isGateway": true,
      "hairpinMode": true,
      "ipMasq": false,
      "ipam": {
        "type": "host-local",
        "dataDir": "${NODE_DIR}/cni/ipam",
        "ranges": [[{"subnet": "${NODE_POD_CIDR}", "gateway": "${NODE_IP}"}]],
        "routes": [{"dst": "0.0.0.0/0"}]
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
JSON
  # Pods resolve through CoreDNS only: no search domains or servers of the host's.
  printf 'nameserver %s\n' "$NODE_IP" >"$NODE_DIR/kubelet/resolv.conf"
  cat >"$NODE_DIR/kubelet/config.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: ${NODE_IP}
port: ${KUBELET_PORT}
healthzBindAddress: 127.0.0.1
healthzPort: ${KUBELET_HEALTHZ_PORT}
readOnlyPort: 0
tlsCertFile: ${pki}/kubelet-serving.crt
tlsPrivateKeyFile: ${pki}/kubelet-serving.key
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: ${pki}/ca.crt}
authorization: {mode: Webhook}
containerRuntimeEndpoint: unix://${NODE_SOCKET}
imageServiceEndpoint: unix://${NODE_SOCKET}
# cgroups v1 with the cgroupfs driver, every pod under a cgroup of this node's own.
failCgroupV1: false
cgroupDriver: cgroupfs
cgroupRoot: /${NODE_CGROUP}
# Root here lacks CAP_SYS_RESOURCE: kubelet keeps the oom_score_adj it was started with.
oomScoreAdj: 0
failSwapOn: false
clusterDNS: [${NODE_IP}]
clusterDomain: cluster.local
resolvConf: ${NODE_DIR}/kubelet/resolv.conf
podLogsDir: ${NODE_DIR}/pod-logs
# The machine's disk is shared with everything else: evict only when it is really full.
evictionHard: {memory.available: 100Mi, nodefs.available: 1%, imagefs.available: 1%}
imageGCHighThresholdPercent: 100
serializeImagePulls: false
maxPods: 110
syncFrequency: 10s
fileCheckFrequency: 5s
nodeStatusUpdateFrequency: 5s
volumeStatsAggPeriod: 0s
YAML
  cat >"$NODE_DIR/kube-proxy.yaml" <<YAML
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: ${NODE_DIR}/kube-proxy.kubeconfig}
hostnameOverride: ${NODE_NAME}
mode: iptables
clusterCIDR: ${NODE_POD_CIDR}
bindAddress: 127.0.0.1
healthzBindAddress: 127.0.0.1:${PROXY_HEALTHZ_PORT}
metricsBindAddress: 127.0.0.1:${PROXY_METRICS_PORT}
# NodePorts on the node address only, never on the host's own interfaces or loopback.
nodePortAddresses: [${NODE_IP}/32]
iptables: {localhostNodePorts: false, syncPeriod: 30s, minSyncPeriod: 0s}
# Leave the host's conntrack sysctls alone.
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
YAML
  cat >"$NODE_DIR/Corefile" <<COREFILE
# The cluster DNS: Services and pods of cluster.local, nothing else (no upstream).
cluster.local:53 in-addr.arpa:53 ip6.arpa:53 {
  bind ${NODE_IP}
  errors
  kubernetes cluster.local in-addr.arpa ip6.arpa {
    kubeconfig ${NODE_DIR}/coredns.kubeconfig meshgate-local
    pods verified
    fallthrough in-addr.arpa ip6.arpa
  }
  ready 127.0.0.1:${COREDNS_READY_PORT}
  cache 5
}
.:53 {
  bind ${NODE_IP}
  template ANY ANY {
    rcode NXDOMAIN
  }
}
COREFILE
}

# node_grant_coredns KUBECTL — what CoreDNS's kubernetes plugin reads, and nothing more.
node_grant_coredns() {
  "$@" apply -f - >/dev/null <<YAML
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: "meshgate-node:coredns"}
rules:
  - apiGroups: [""]
    resources: [services, pods, namespaces]
    verbs: [list, watch]
  - apiGroups: [discovery.k8s.io]
    resources: [endpointslices]
    verbs: [list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "meshgate-node:coredns"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "meshgate-node:coredns"}
subjects:
  - {apiGroup: rbac.authorization.k8s.io, kind: User, name: "meshgate-node:coredns"}
YAML
}

node_cgroups_create() {
  local hierarchy
  for hierarchy in /sys/fs/cgroup/*/; do
    [ -f "${hierarchy}cgroup.procs" ] || continue
    mkdir -p "${hierarchy}${NODE_CGROUP}"
  done
}

# node_import_archive ARCHIVE — an OCI archive into the node's image store (namespace k8s.io).
node_import_archive() {
  ctr --address "$NODE_SOCKET" --namespace k8s.io images import --no-unpack=false \
    --snapshotter overlayfs "$1" >/dev/null
}

containerd_ready() {
  ctr --address "$NODE_SOCKET" version
}

node_ready() {
  local status
  status=$("$bin_dir/kubectl" --kubeconfig="$dir/kubeconfig" --request-timeout=5s get node \
    "$NODE_NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')
  [ "$status" = True ]
}

coredns_ready() {
  curl -sS --max-time 2 "http://127.0.0.1:${COREDNS_READY_PORT}/ready" | grep -q OK
}

# node_start — containerd, the pause image, kubelet, kube-proxy, CoreDNS; returns when the node
# is Ready. Uses up.sh's dir, bin_dir, write_kubeconfig, wait_until and pick_ports.
node_start() {
  local pki=$dir/pki
  read -r KUBELET_PORT KUBELET_HEALTHZ_PORT PROXY_HEALTHZ_PORT PROXY_METRICS_PORT \
    COREDNS_READY_PORT < <(pick_ports 5)
  cat >>"$dir/cluster.env" <<ENV
NODE_NAME=${NODE_NAME}
NODE_POD_CIDR=${NODE_POD_CIDR}
NODE_SOCKET=${NODE_SOCKET}
NODE_PAUSE_IMAGE=${NODE_PAUSE_IMAGE}
KUBELET_PORT=${KUBELET_PORT}
ENV
  {
    printf 'export MESHGATE_NODE_NAME=%q\n' "$NODE_NAME"
    printf 'export MESHGATE_NODE_IP=%q\n' "$NODE_IP"
    printf 'export MESHGATE_NODE_CONTAINERD=%q\n' "$NODE_SOCKET"
  } >>"$dir/env"
  write_kubeconfig "$NODE_DIR/kubelet.kubeconfig" "system:node:${NODE_NAME}" \
    "$pki/kubelet-client.crt" "$pki/kubelet-client.key"
  write_kubeconfig "$NODE_DIR/kube-proxy.kubeconfig" system:kube-proxy \
    "$pki/kube-proxy.crt" "$pki/kube-proxy.key"
  write_kubeconfig "$NODE_DIR/coredns.kubeconfig" "meshgate-node:coredns" \
    "$pki/coredns.crt" "$pki/coredns.key"
  node_write_configs "$pki"
  node_cgroups_create

  # Image pulls never leave the machine: every registry request goes to a proxy address where
  # nothing listens (Go's client skips the proxy for localhost, which refuses as well), so a pod
  # naming an image that was not imported fails at once, with no DNS lookup.
  daemon_start "$dir" containerd env HTTP_PROXY=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 \
    NO_PROXY= containerd --config "$NODE_DIR/containerd/config.toml"
  wait_until containerd "containerd's socket" containerd_ready
  [ -f "$NODE_PAUSE_ARCHIVE" ] || fail "node: $NODE_PAUSE_ARCHIVE not found (make images)"
  node_import_archive "$NODE_PAUSE_ARCHIVE"

  daemon_start "$dir" kubelet "$bin_dir/kubelet" \
    --config="$NODE_DIR/kubelet/config.yaml" \
    --kubeconfig="$NODE_DIR/kubelet.kubeconfig" \
    --root-dir="$NODE_DIR/kubelet" \
    --hostname-override="$NODE_NAME" \
    --node-ip="$NODE_IP" \
    --v=1
  daemon_start "$dir" kube-proxy "$bin_dir/kube-proxy" \
    --config="$NODE_DIR/kube-proxy.yaml" --v=1
  node_grant_coredns "$bin_dir/kubectl" --kubeconfig="$dir/kubeconfig" --request-timeout=10s
  daemon_start "$dir" coredns "$bin_dir/coredns" -conf "$NODE_DIR/Corefile"
  wait_until kubelet "node ${NODE_NAME} Ready" node_ready
  # What the node lifecycle controller (not run here) does once a node is Ready.
  "$bin_dir/kubectl" --kubeconfig="$dir/kubeconfig" --request-timeout=10s taint node \
    "$NODE_NAME" node.kubernetes.io/not-ready:NoSchedule- >/dev/null
  wait_until coredns "CoreDNS ready" coredns_ready
  wait_until kube-proxy "kube-proxy /healthz" \
    curl -sSf --max-time 2 "http://127.0.0.1:${PROXY_HEALTHZ_PORT}/healthz"
}

# node_kill_containers — every container of the node, by runc's own state (works when
# containerd and kubelet are long gone), then the shims that served them.
node_kill_containers() {
  local runc_root id pid
  for runc_root in "$NODE_DIR"/runc/*/ "$NODE_DIR"/runc; do
    [ -d "$runc_root" ] || continue
    while read -r id; do
      [ -n "$id" ] || continue
      runc --root "$runc_root" kill "$id" KILL 2>/dev/null || true
      runc --root "$runc_root" delete --force "$id" 2>/dev/null || true
      # A shim killed before it could clean up leaves its socket where containerd 1.6 puts every
      # shim's: /run/containerd/s/<sha256 of containerd's address, namespace and id>.
      rm -f "/run/containerd/s/$(printf '%s' "${NODE_SOCKET}/k8s.io/${id}" | sha256sum | cut -c1-64)"
    done < <(runc --root "$runc_root" list -q 2>/dev/null || true)
  done
  # Shims name the containerd socket they serve on their command line.
  for pid in $(pgrep -f "[c]ontainerd-shim-runc-v2 .*-address ${NODE_SOCKET}" || true); do
    kill -KILL "$pid" 2>/dev/null || true
  done
}

# node_remove_kubelet_chains — what kubelet adds to both families' tables: its canaries, the
# hint chain and KUBE-FIREWALL (which drops packets to 127/8 that come from elsewhere).
node_remove_kubelet_chains() {
  local tool table hook chain
  for tool in iptables ip6tables; do
    command -v "$tool" >/dev/null || continue
    for hook in INPUT OUTPUT; do
      while "$tool" -w -D "$hook" -j KUBE-FIREWALL 2>/dev/null; do :; done
    done
    for table in filter nat mangle; do
      for chain in KUBE-FIREWALL KUBE-KUBELET-CANARY KUBE-IPTABLES-HINT; do
        "$tool" -w -t "$table" -F "$chain" 2>/dev/null || true
        "$tool" -w -t "$table" -X "$chain" 2>/dev/null || true
      done
    done
  done
}

# node_down DIR — removes everything node_start and node_network_up made; safe to run twice,
# after a crash, or when no node ever ran (then it does nothing).
node_down() {
  local dir=$1 hierarchy mount chain
  node_layout "$dir"
  local name
  for name in coredns kube-proxy kubelet; do
    daemon_stop "$dir" "$name" 15
  done
  node_kill_containers
  daemon_stop "$dir" containerd 15
  # kube-proxy's own chains (KUBE-*), only when ours were made: a host without a node keeps its.
  if iptables -w -S "$NODE_CHAIN" >/dev/null 2>&1; then
    local bin_dir=${bin_dir:-}
    [ -n "$bin_dir" ] && [ -x "$bin_dir/kube-proxy" ] &&
      "$bin_dir/kube-proxy" --cleanup >/dev/null 2>&1 || true
    node_remove_kubelet_chains
  fi
  while iptables -w -D FORWARD -j "$NODE_CHAIN" 2>/dev/null; do :; done
  while iptables -w -D INPUT -j "$NODE_INPUT_CHAIN" 2>/dev/null; do :; done
  while ip6tables -w -D INPUT -j "$NODE_INPUT_CHAIN" 2>/dev/null; do :; done
  for chain in "$NODE_CHAIN" "$NODE_INPUT_CHAIN"; do
    iptables -w -F "$chain" 2>/dev/null || true
    iptables -w -X "$chain" 2>/dev/null || true
  done
  ip6tables -w -F "$NODE_INPUT_CHAIN" 2>/dev/null || true
  ip6tables -w -X "$NODE_INPUT_CHAIN" 2>/dev/null || true
  # Mounts under the node's directory (pod volumes, network namespaces, snapshots), deepest first.
  if [ -d "$NODE_DIR" ]; then
    while read -r mount; do
      umount -l "$mount" 2>/dev/null || true
    done < <(awk -v prefix="$NODE_DIR/" 'index($2, prefix) == 1 {print $2}' /proc/self/mounts |
      sed 's/\\040/ /g' | sort -r)
  fi
  ip link del "$NODE_BRIDGE" 2>/dev/null || true
  # Veths whose pod namespace is gone disappear with it; any left on the bridge went with it too.
  for hierarchy in /sys/fs/cgroup/*/; do
    [ -d "${hierarchy}${NODE_CGROUP}" ] || continue
    find "${hierarchy}${NODE_CGROUP}" -depth -type d -exec rmdir {} + 2>/dev/null || true
  done
  if [ -f "$NODE_DIR/ip_forward.saved" ]; then
    cat "$NODE_DIR/ip_forward.saved" >/proc/sys/net/ipv4/ip_forward
    rm -f "$NODE_DIR/ip_forward.saved"
  fi
}
