#!/usr/bin/env bash
# Starts a real local Kubernetes control plane (etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler) on loopback, as envtest does, with certificates generated here. Called by
# `make cluster-up` and by test/e2e/run.sh; the binaries come from build.sh (`make control-plane`).
#
#   up.sh [DIR]                      start a fresh cluster in DIR (default .local/cluster)
#   up.sh DIR --stop-apiserver       stop only kube-apiserver (etcd and the rest keep running)
#   up.sh DIR --start-apiserver      start it again on the same port with the same flags
#   up.sh DIR --restart-apiserver    both
#
# A relative DIR is taken from the repository root. Environment:
#   MESHGATE_ETCD_COMPACTION_INTERVAL  kube-apiserver --etcd-compaction-interval (default 5m;
#                                      remembered across --start-apiserver unless set again)
#   MESHGATE_CLUSTER_TIMEOUT           seconds to wait for each component (default 120)
#   MESHGATE_NODE                      1: also start one real node (node.sh: containerd, runc, CNI
#                                      bridge, kubelet, kube-proxy, CoreDNS); needs root, else the
#                                      node is skipped with the reason and the cluster starts
#                                      without it
#   MESHGATE_NODE_IMAGES               the folder of `make images`' archives; the node imports
#                                      its pause image from there (default build/images)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo_root=$(cd "$here/../../.." && pwd)
# shellcheck source=test/e2e/cluster/daemon.sh
source "$here/daemon.sh"
# shellcheck source=test/e2e/cluster/node.sh
source "$here/node.sh"

dir=${1:-.local/cluster}
action=${2:-}
case "$dir" in
  /*) ;;
  *) dir="$repo_root/$dir" ;;
esac
timeout_s=${MESHGATE_CLUSTER_TIMEOUT:-120}
node_layout "$dir"

k8s_version=$(awk '$1 == "k8s.io/kubernetes" && $2 ~ /^v1\./ { print $2; exit }' "$here/go.mod")
bin_dir=${XDG_CACHE_HOME:-$HOME/.cache}/meshgate/k8s/${k8s_version}/bin

fail() {
  echo "cluster: $*" >&2
  exit 1
}

# Writes a kubeconfig for the apiserver with a client certificate embedded.
write_kubeconfig() {
  local file=$1 user=$2 cert=$3 key=$4
  cat >"$file" <<KUBECONFIG
apiVersion: v1
kind: Config
clusters:
- name: meshgate-local
  cluster:
    server: https://127.0.0.1:${APISERVER_PORT}
    certificate-authority-data: $(base64 -w0 "$dir/pki/ca.crt")
users:
- name: ${user}
  user:
    client-certificate-data: $(base64 -w0 "$cert")
    client-key-data: $(base64 -w0 "$key")
contexts:
- name: meshgate-local
  context:
    cluster: meshgate-local
    user: ${user}
current-context: meshgate-local
KUBECONFIG
  chmod 600 "$file"
}

# issue_cert NAME SUBJECT EXTENSIONS [CA] — an ECDSA P-256 key and a certificate signed by CA
# (default: the cluster CA).
issue_cert() {
  local name=$1 subject=$2 extensions=$3 ca=${4:-ca} pki=$dir/pki
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$pki/$name.key" 2>/dev/null
  openssl req -new -key "$pki/$name.key" -subj "$subject" -out "$pki/$name.csr" 2>/dev/null
  openssl x509 -req -in "$pki/$name.csr" -CA "$pki/$ca.crt" -CAkey "$pki/$ca.key" \
    -set_serial "0x$(openssl rand -hex 16)" -days 365 -sha256 \
    -extfile <(printf '%s\n' "$extensions") -out "$pki/$name.crt" 2>/dev/null
  rm -f "$pki/$name.csr"
}

generate_pki() {
  local pki=$dir/pki client_ext
  mkdir -p "$pki"
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$pki/ca.key" 2>/dev/null
  openssl req -x509 -new -key "$pki/ca.key" -subj "/CN=meshgate-local-ca" -days 365 -sha256 \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" \
    -out "$pki/ca.crt" 2>/dev/null

  issue_cert apiserver "/CN=kube-apiserver" "basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,DNS:localhost,IP:10.0.0.1,${NODE_ENABLED:+IP:${NODE_IP},}DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"

  client_ext="basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth"
  issue_cert admin "/O=system:masters/CN=admin" "$client_ext"
  # The controller-manager runs every controller under its own identity
  # (--use-service-account-credentials=false), so it needs the rights of system:masters.
  issue_cert controller-manager "/O=system:masters/CN=system:kube-controller-manager" "$client_ext"
  # The scheduler has the bootstrap role system:kube-scheduler, bound to this user name.
  issue_cert scheduler "/CN=system:kube-scheduler" "$client_ext"
  # The operator and the webhook authenticate as their service accounts would in a cluster:
  # only what config/rbac grants them.
  local sa
  for sa in meshgate-operator meshgate-webhook; do
    issue_cert "$sa" \
      "/O=system:serviceaccounts/O=system:serviceaccounts:meshgate-system/CN=system:serviceaccount:meshgate-system:$sa" \
      "$client_ext"
  done

  # The aggregation layer's front proxy has a CA of its own; with it the apiserver publishes a
  # complete extension-apiserver-authentication ConfigMap for delegated authentication.
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$pki/front-proxy-ca.key" 2>/dev/null
  openssl req -x509 -new -key "$pki/front-proxy-ca.key" -subj "/CN=meshgate-local-front-proxy-ca" \
    -days 365 -sha256 -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" \
    -out "$pki/front-proxy-ca.crt" 2>/dev/null
  issue_cert front-proxy-client "/CN=front-proxy-client" "$client_ext" front-proxy-ca

  # What the apiserver shows the kubelet (logs, exec, port-forward), and the node's identities.
  issue_cert apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" \
    "$client_ext"
  [ -z "${NODE_ENABLED:-}" ] || node_issue_certs

  # Service-account token signing key pair.
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$pki/sa.key" 2>/dev/null
  openssl pkey -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null
  chmod 600 "$pki"/*.key
}

# pick_ports N — N distinct loopback TCP ports that no socket uses now. They come from below
# Linux's ephemeral range (32768-60999 by default), so the kernel does not hand them out to
# outgoing connections meanwhile.
pick_ports() {
  local n=$1 f addr port picked=()
  local -A used=()
  for f in /proc/net/tcp /proc/net/tcp6; do
    [ -r "$f" ] || continue
    while read -r _ addr _; do
      [[ $addr == *:* ]] || continue # the header line
      used[$((16#${addr##*:}))]=1
    done <"$f"
  done
  while [ ${#picked[@]} -lt "$n" ]; do
    port=$((20000 + RANDOM % 12000))
    [ -z "${used[$port]:-}" ] || continue
    used[$port]=1
    picked+=("$port")
  done
  echo "${picked[*]}"
}

# wait_until NAME DESCRIPTION COMMAND... — polls COMMAND until it succeeds, the deadline passes,
# or the process NAME dies (then its log tail explains why).
wait_until() {
  local name=$1 what=$2 deadline=$((SECONDS + timeout_s))
  shift 2
  until "$@" >/dev/null 2>&1; do
    if ! daemon_pid "$dir" "$name" >/dev/null; then
      tail -n 30 "$dir/logs/$name.log" >&2 || true
      fail "$name exited while waiting for $what (log: $dir/logs/$name.log)"
    fi
    if [ $SECONDS -ge $deadline ]; then
      tail -n 30 "$dir/logs/$name.log" >&2 || true
      fail "timed out after ${timeout_s}s waiting for $what (log: $dir/logs/$name.log)"
    fi
    sleep 0.2
  done
}

http_ok() {
  local body
  body=$(curl -sS --max-time 5 "$@") && [ "$body" = ok ]
}

etcd_healthy() {
  curl -sS --max-time 5 "http://127.0.0.1:${ETCD_PORT}/health" | grep -q '"health":"true"'
}

start_etcd() {
  daemon_start "$dir" etcd "$bin_dir/etcd" \
    --name=meshgate-local \
    --data-dir="$dir/etcd" \
    --listen-client-urls="http://127.0.0.1:${ETCD_PORT}" \
    --advertise-client-urls="http://127.0.0.1:${ETCD_PORT}" \
    --listen-peer-urls="http://127.0.0.1:${ETCD_PEER_PORT}" \
    --initial-advertise-peer-urls="http://127.0.0.1:${ETCD_PEER_PORT}" \
    --initial-cluster="meshgate-local=http://127.0.0.1:${ETCD_PEER_PORT}" \
    --unsafe-no-fsync \
    --log-level=warn
  wait_until etcd "etcd health" etcd_healthy
}

# Endpoints may not point at loopback, so without the node the reconciler of the `kubernetes`
# Service's endpoints is off (it would log a validation error every few seconds). On TERM the apiserver
# ends open watches (clients see the stream close and re-list or resume); without a watch
# termination grace period it would wait up to a minute for watch connections to go away.
#
# With the node, pods reach the apiserver at the node address: it listens on every address
# (node.sh's input chain keeps its port to loopback and the bridge), advertises the node
# address in the `kubernetes` Service's endpoints, and calls webhooks at their pods' addresses.
start_apiserver() {
  local pki=$dir/pki node_flags=(--bind-address=127.0.0.1 --advertise-address=127.0.0.1
    --endpoint-reconciler-type=none)
  if [ -n "${NODE_ENABLED:-}" ]; then
    node_flags=(--bind-address=0.0.0.0 "--advertise-address=${NODE_IP}"
      --endpoint-reconciler-type=lease --enable-aggregator-routing=true)
  fi
  daemon_start "$dir" kube-apiserver "$bin_dir/kube-apiserver" \
    "${node_flags[@]}" \
    --secure-port="${APISERVER_PORT}" \
    --cert-dir="$dir/apiserver" \
    --tls-cert-file="$pki/apiserver.crt" \
    --tls-private-key-file="$pki/apiserver.key" \
    --client-ca-file="$pki/ca.crt" \
    --requestheader-client-ca-file="$pki/front-proxy-ca.crt" \
    --requestheader-allowed-names=front-proxy-client \
    --requestheader-username-headers=X-Remote-User \
    --requestheader-group-headers=X-Remote-Group \
    --requestheader-extra-headers-prefix=X-Remote-Extra- \
    --proxy-client-cert-file="$pki/front-proxy-client.crt" \
    --proxy-client-key-file="$pki/front-proxy-client.key" \
    --etcd-servers="http://127.0.0.1:${ETCD_PORT}" \
    --etcd-compaction-interval="${ETCD_COMPACTION_INTERVAL}" \
    --service-cluster-ip-range=10.0.0.0/16 \
    --kubelet-client-certificate="$pki/apiserver-kubelet-client.crt" \
    --kubelet-client-key="$pki/apiserver-kubelet-client.key" \
    --kubelet-certificate-authority="$pki/ca.crt" \
    --kubelet-preferred-address-types=InternalIP \
    --service-account-issuer="https://127.0.0.1:${APISERVER_PORT}" \
    --service-account-key-file="$pki/sa.pub" \
    --service-account-signing-key-file="$pki/sa.key" \
    --authorization-mode=Node,RBAC \
    --allow-privileged=true \
    --shutdown-watch-termination-grace-period=5s \
    --profiling=false \
    --v=1
  wait_until kube-apiserver "kube-apiserver /readyz" \
    http_ok --cacert "$pki/ca.crt" --cert "$pki/admin.crt" --key "$pki/admin.key" \
    "https://127.0.0.1:${APISERVER_PORT}/readyz"
}

# The controllers meshgate's tests lean on (namespace deletion, garbage collection of owned
# objects, EndpointSlices, service accounts and their CA bundle, aggregated ClusterRoles) and
# the cheap workload ones. No node controller: tests create Node objects with no kubelet behind
# them (the lifecycle controller would mark their pods unready), node.sh lifts its node's
# not-ready taint itself and its pod range comes from its own CNI configuration.
controllers=(
  namespace-controller
  garbage-collector-controller
  endpointslice-controller
  endpointslice-mirroring-controller
  serviceaccount-controller
  serviceaccount-token-controller
  root-ca-certificate-publisher-controller
  clusterrole-aggregation-controller
  deployment-controller
  replicaset-controller
)

start_controller_manager() {
  local kubeconfig=$dir/controller-manager.kubeconfig pki=$dir/pki
  local list
  list=$(IFS=,; echo "${controllers[*]}")
  daemon_start "$dir" kube-controller-manager "$bin_dir/kube-controller-manager" \
    --kubeconfig="$kubeconfig" \
    --authentication-kubeconfig="$kubeconfig" \
    --authorization-kubeconfig="$kubeconfig" \
    --bind-address=127.0.0.1 \
    --secure-port="${CONTROLLER_MANAGER_PORT}" \
    --cert-dir="$dir/controller-manager" \
    --controllers="$list" \
    --leader-elect=false \
    --use-service-account-credentials=false \
    --kube-api-qps=100 \
    --kube-api-burst=200 \
    --service-account-private-key-file="$pki/sa.key" \
    --root-ca-file="$pki/ca.crt" \
    --profiling=false \
    --v=1
  wait_until kube-controller-manager "kube-controller-manager /healthz" \
    http_ok --insecure "https://127.0.0.1:${CONTROLLER_MANAGER_PORT}/healthz"
  # The service-account controller creating `default` proves the controllers really run.
  wait_until kube-controller-manager "the default ServiceAccount" \
    "$bin_dir/kubectl" --kubeconfig="$dir/kubeconfig" --request-timeout=5s \
    get serviceaccount default --namespace=default
}

# The scheduler places pods on the node of node.sh and on KWOK's fake nodes; without a node,
# pods stay Pending as before.
start_scheduler() {
  local kubeconfig=$dir/scheduler.kubeconfig
  daemon_start "$dir" kube-scheduler "$bin_dir/kube-scheduler" \
    --kubeconfig="$kubeconfig" \
    --authentication-kubeconfig="$kubeconfig" \
    --authorization-kubeconfig="$kubeconfig" \
    --bind-address=127.0.0.1 \
    --secure-port="${SCHEDULER_PORT}" \
    --leader-elect=false \
    --profiling=false \
    --v=1
  wait_until kube-scheduler "kube-scheduler /healthz" \
    http_ok --insecure "https://127.0.0.1:${SCHEDULER_PORT}/healthz"
}

load_cluster_env() {
  [ -f "$dir/cluster.env" ] || fail "no cluster in $dir (start one with: up.sh $dir)"
  # shellcheck source=/dev/null
  source "$dir/cluster.env"
}

# --- apiserver-only actions, for tests that restart it under running clients ---------------
case "$action" in
  "") ;;
  --stop-apiserver | --start-apiserver | --restart-apiserver)
    load_cluster_env
    if [ "$action" != --start-apiserver ]; then
      daemon_stop "$dir" kube-apiserver
      echo "kube-apiserver stopped"
    fi
    if [ "$action" != --stop-apiserver ]; then
      daemon_pid "$dir" kube-apiserver >/dev/null && fail "kube-apiserver already runs in $dir"
      daemon_pid "$dir" etcd >/dev/null || fail "etcd does not run in $dir; start the cluster again"
      ETCD_COMPACTION_INTERVAL=${MESHGATE_ETCD_COMPACTION_INTERVAL:-$ETCD_COMPACTION_INTERVAL}
      start_apiserver
      echo "kube-apiserver ready at https://127.0.0.1:${APISERVER_PORT}"
    fi
    exit 0
    ;;
  *) fail "unknown action '$action' (want --stop-apiserver, --start-apiserver or --restart-apiserver)" ;;
esac

# --- a fresh cluster -----------------------------------------------------------------------
for b in etcd kube-apiserver kube-controller-manager kube-scheduler kubectl; do
  [ -x "$bin_dir/$b" ] || fail "$bin_dir/$b is missing; build it with: make control-plane"
done
command -v openssl >/dev/null || fail "openssl is required (make deps)"
command -v curl >/dev/null || fail "curl is required (make deps)"

# Only a directory this script made (or an empty one) is wiped and reused.
if [ -d "$dir" ] && [ ! -f "$dir/.meshgate-cluster" ] &&
  [ -n "$(find "$dir" -mindepth 1 -maxdepth 1 ! -name .lock -print -quit)" ]; then
  fail "$dir exists and is not a cluster directory; choose another DIR"
fi
mkdir -p "$dir"
exec 9>"$dir/.lock"
flock -n 9 || fail "another up.sh is starting a cluster in $dir"
running=()
for name in etcd kube-apiserver kube-controller-manager kube-scheduler containerd kubelet; do
  if pid=$(daemon_pid "$dir" "$name"); then
    running+=("$name=$pid")
  fi
done
if [ ${#running[@]} -gt 0 ]; then
  fail "a cluster already runs in $dir (${running[*]}); stop it first: test/e2e/cluster/down.sh $dir"
fi
# A node left by a crash holds mounts and kernel objects under and after DIR: remove them first.
node_down "$dir"
find "$dir" -mindepth 1 -maxdepth 1 ! -name .lock -exec rm -rf {} +
touch "$dir/.meshgate-cluster"
mkdir -p "$dir/logs"

started=$SECONDS
# On any failure below, stop what was started so nothing is left behind.
cleanup_on_failure() {
  local rc=$?
  if [ $rc -ne 0 ]; then
    node_down "$dir"
    for name in kube-scheduler kube-controller-manager kube-apiserver etcd; do
      daemon_stop "$dir" "$name" 5
    done
    echo "cluster: start failed; logs are in $dir/logs" >&2
  fi
}
trap cleanup_on_failure EXIT

NODE_ENABLED=""
if [ "${MESHGATE_NODE:-0}" = 1 ]; then
  node_reason=$(node_unavailable_reason "$bin_dir")
  if [ -n "$node_reason" ]; then
    echo "cluster: node skipped: $node_reason" >&2
    echo "$node_reason" >"$dir/node.skipped"
  else
    NODE_ENABLED=1
    images_dir=${MESHGATE_NODE_IMAGES:-$repo_root/build/images}
    NODE_PAUSE_ARCHIVE=$images_dir/meshgate-pause.oci.tar
    [ -f "$NODE_PAUSE_ARCHIVE" ] || fail "node: $NODE_PAUSE_ARCHIVE not found (make images)"
    NODE_PAUSE_IMAGE=$(tar -xOf "$NODE_PAUSE_ARCHIVE" index.json |
      jq -r '.manifests[0].annotations["org.opencontainers.image.ref.name"]')
  fi
fi
generate_pki
read -r ETCD_PORT ETCD_PEER_PORT APISERVER_PORT CONTROLLER_MANAGER_PORT SCHEDULER_PORT < <(pick_ports 5)
ETCD_COMPACTION_INTERVAL=${MESHGATE_ETCD_COMPACTION_INTERVAL:-5m}
cat >"$dir/cluster.env" <<ENV
# Written by up.sh: what --start-apiserver needs to start kube-apiserver exactly as before.
ETCD_PORT=${ETCD_PORT}
ETCD_PEER_PORT=${ETCD_PEER_PORT}
APISERVER_PORT=${APISERVER_PORT}
CONTROLLER_MANAGER_PORT=${CONTROLLER_MANAGER_PORT}
SCHEDULER_PORT=${SCHEDULER_PORT}
ETCD_COMPACTION_INTERVAL=${ETCD_COMPACTION_INTERVAL}
NODE_ENABLED=${NODE_ENABLED}
NODE_IP=${NODE_ENABLED:+${NODE_IP}}
ENV

write_kubeconfig "$dir/kubeconfig" admin "$dir/pki/admin.crt" "$dir/pki/admin.key"
write_kubeconfig "$dir/controller-manager.kubeconfig" system:kube-controller-manager \
  "$dir/pki/controller-manager.crt" "$dir/pki/controller-manager.key"
write_kubeconfig "$dir/scheduler.kubeconfig" system:kube-scheduler \
  "$dir/pki/scheduler.crt" "$dir/pki/scheduler.key"
write_kubeconfig "$dir/operator.kubeconfig" meshgate-operator \
  "$dir/pki/meshgate-operator.crt" "$dir/pki/meshgate-operator.key"
write_kubeconfig "$dir/webhook.kubeconfig" meshgate-webhook \
  "$dir/pki/meshgate-webhook.crt" "$dir/pki/meshgate-webhook.key"
{
  echo "# Source this file to use the local control plane: kubectl first on PATH, admin kubeconfig."
  printf 'export KUBECONFIG=%q\n' "$dir/kubeconfig"
  printf 'export MESHGATE_CLUSTER_DIR=%q\n' "$dir"
  printf 'export MESHGATE_APISERVER=%q\n' "https://127.0.0.1:${APISERVER_PORT}"
  # shellcheck disable=SC2016 # $PATH expands when the file is sourced
  printf 'export PATH=%q:"$PATH"\n' "$bin_dir"
} >"$dir/env"

[ -z "$NODE_ENABLED" ] || node_network_up "$APISERVER_PORT"
start_etcd
start_apiserver
start_controller_manager
start_scheduler
[ -z "$NODE_ENABLED" ] || node_start
trap - EXIT

rel=${dir#"$repo_root"/}
cat <<USAGE
control plane ${k8s_version} ready in $((SECONDS - started))s: https://127.0.0.1:${APISERVER_PORT}${NODE_ENABLED:+, node ${NODE_NAME} Ready (pods in ${NODE_POD_CIDR})}
  source $rel/env && kubectl get namespaces      # admin kubeconfig, the built kubectl first on PATH
  $rel/operator.kubeconfig, $rel/webhook.kubeconfig   # the meshgate service-account identities
  logs: $rel/logs/    stop: make cluster-down  (or test/e2e/cluster/down.sh $rel)
USAGE
