# shellcheck shell=bash
# The control plane under the e2e suite is the real thing: the pinned kube-apiserver version,
# a kube-controller-manager whose controllers act (namespace deletion, garbage collection,
# EndpointSlices, service accounts), and client-certificate identities for meshgate's service
# accounts. Run by test/e2e/run.sh.

test_apiserver_reports_pinned_version() {
  local server client
  server=$(kubectl get --raw /version | jq -r .gitVersion)
  assert_eq v1.36.3 "$server" "kube-apiserver /version"
  client=$(kubectl version --client -o json | jq -r .clientVersion.gitVersion)
  assert_eq v1.36.3 "$client" "kubectl client version"
}

test_apiserver_listens_on_loopback_only() {
  local port
  port=${MESHGATE_APISERVER##*:}
  assert_eq "https://127.0.0.1:$port" "$MESHGATE_APISERVER"
  if [ -z "${MESHGATE_NODE_NAME:-}" ]; then
    assert_eq "127.0.0.1:$port" "$(_listeners "$port")" "listening sockets on the apiserver port"
    return
  fi
  # With the node, pods reach it at the node address, so it listens on every address; any
  # interface but loopback and the node's bridge is dropped. Proven from a namespace of our own
  # linked to the host by a veth pair, as any other network would be.
  assert_eq "[00000000000000000000000000000000]:$port" "$(_listeners "$port")" \
    "listening sockets on the apiserver port (IPv4 and IPv6)"
  local netns=e2e-outside-$$ host_if=e2eo$$ server4="" server6=""
  trap 'kill $server4 $server6 2>/dev/null || true; ip link del "$host_if" 2>/dev/null || true; ip netns del "$netns" 2>/dev/null || true' RETURN
  ip netns add "$netns"
  ip link add "$host_if" type veth peer name eth0 netns "$netns"
  ip addr add 10.254.254.1/30 dev "$host_if"
  ip addr add fd00:e2e::1/64 dev "$host_if" nodad
  ip link set "$host_if" up
  ip -n "$netns" addr add 10.254.254.2/30 dev eth0
  ip -n "$netns" addr add fd00:e2e::2/64 dev eth0 nodad
  ip -n "$netns" link set eth0 up
  step "the host answers the namespace on another port, over IPv4 and IPv6 (the link works)"
  python3 -m http.server --bind 10.254.254.1 18080 >/dev/null 2>&1 &
  server4=$!
  python3 -m http.server --bind fd00:e2e::1 18080 >/dev/null 2>&1 &
  server6=$!
  wait_for 10 ip netns exec "$netns" curl -s --max-time 1 -o /dev/null http://10.254.254.1:18080/
  wait_for 10 ip netns exec "$netns" curl -s --max-time 1 -o /dev/null "http://[fd00:e2e::1]:18080/"
  step "the apiserver's port answers neither"
  expect_fail ip netns exec "$netns" curl -sk --max-time 2 "https://10.254.254.1:$port/readyz" >/dev/null
  expect_fail ip netns exec "$netns" curl -sk --max-time 2 "https://[fd00:e2e::1]:$port/readyz" >/dev/null
  step "loopback and the node's address still do"
  curl -sk --max-time 5 -o /dev/null "https://127.0.0.1:$port/readyz"
  curl -sk --max-time 5 -o /dev/null "https://$MESHGATE_NODE_IP:$port/readyz"
}

test_node_is_skipped_with_its_reason_without_root() {
  local out
  # As user nobody, what up.sh asks before it starts a node (MESHGATE_NODE=1).
  # shellcheck disable=SC2016 # expanded by the inner bash
  out=$(setpriv --reuid=65534 --regid=65534 --clear-groups bash -c \
    'source "$0/daemon.sh" && source "$0/node.sh" && node_layout /tmp/x && node_unavailable_reason /nonexistent' \
    "$REPO_ROOT/test/e2e/cluster")
  assert_contains "$out" "not root"
  if [ "$(id -u)" -eq 0 ] && [ -n "${MESHGATE_NODE_NAME:-}" ]; then
    step "as root on this machine, nothing stands in the node's way but what it already uses"
    # shellcheck disable=SC2016 # expanded by the inner bash
    out=$(MESHGATE_NODE_POD_CIDR=10.246.0.0/24 bash -c 'source "$0/daemon.sh" &&
      source "$0/node.sh" && node_layout /tmp/x && node_unavailable_reason "$1"' \
      "$REPO_ROOT/test/e2e/cluster" "$(dirname "$(command -v kube-apiserver)")")
    assert_eq "" "$out" "reasons to skip a node in 10.246.0.0/24"
  fi
}

# _listeners PORT — the addresses listening on PORT, from /proc/net/tcp{,6} (state 0A = LISTEN).
_listeners() {
  local f _sl addr _rem state ip out=()
  for f in /proc/net/tcp /proc/net/tcp6; do
    while read -r _sl addr _rem state _; do
      [[ $addr == *:* && $state == 0A ]] || continue
      [ $((16#${addr##*:})) -eq "$1" ] || continue
      ip=${addr%%:*}
      if [ ${#ip} -eq 8 ]; then # IPv4, little-endian hex
        out+=("$((16#${ip:6:2})).$((16#${ip:4:2})).$((16#${ip:2:2})).$((16#${ip:0:2})):$1")
      else
        out+=("[$ip]:$1")
      fi
    done <"$f"
  done
  echo "${out[*]}"
}

test_namespace_deletion_finishes() {
  local ns
  ns=$(new_namespace e2e-nsdel)
  kubectl -n "$ns" create configmap leftover --from-literal=k=v >/dev/null
  kubectl -n "$ns" create serviceaccount worker >/dev/null
  kubectl delete namespace "$ns" --wait=false >/dev/null
  # The namespace controller empties the namespace and removes its finalizer.
  wait_gone 90 namespace "$ns"
}

# _create_dependent NS NAME OWNER_UID — a ConfigMap owned by the ConfigMap "owner" with OWNER_UID.
_create_dependent() {
  kubectl -n "$1" apply -f - >/dev/null <<YAML
apiVersion: v1
kind: ConfigMap
metadata:
  name: $2
  ownerReferences:
  - apiVersion: v1
    kind: ConfigMap
    name: owner
    uid: $3
data:
  role: dependent
YAML
}

test_dependent_of_deleted_owner_is_garbage_collected() {
  local ns uid
  ns=$(new_namespace e2e-gc)
  kubectl -n "$ns" create configmap owner --from-literal=role=owner >/dev/null
  uid=$(kubectl -n "$ns" get configmap owner -o jsonpath='{.metadata.uid}')
  [ -n "$uid" ]
  kubectl -n "$ns" delete configmap owner >/dev/null
  # The owner is gone before the dependent exists: only the garbage collector, looking the
  # owner up by uid, can find that the dependent is an orphan and delete it.
  _create_dependent "$ns" dependent "$uid"
  wait_gone 90 -n "$ns" configmap dependent
}

test_background_cascade_deletes_dependents() {
  local ns uid
  ns=$(new_namespace e2e-cascade)
  kubectl -n "$ns" create configmap owner --from-literal=role=owner >/dev/null
  uid=$(kubectl -n "$ns" get configmap owner -o jsonpath='{.metadata.uid}')
  _create_dependent "$ns" dependent "$uid"
  assert_eq "$uid" "$(kubectl -n "$ns" get configmap dependent -o jsonpath='{.metadata.ownerReferences[0].uid}')"
  kubectl -n "$ns" delete configmap owner --cascade=background >/dev/null
  wait_gone 90 -n "$ns" configmap dependent
}

test_service_with_selector_gets_endpointslice() {
  local ns
  ns=$(new_namespace e2e-eps)
  kubectl -n "$ns" create service clusterip web --tcp=80:8080 >/dev/null
  # `create service` selects app=web.
  assert_eq web "$(kubectl -n "$ns" get service web -o jsonpath='{.spec.selector.app}')"
  wait_for 60 _has_endpointslice "$ns" web
}

_has_endpointslice() {
  local names
  names=$(kubectl -n "$1" get endpointslices -l "kubernetes.io/service-name=$2" -o name)
  [ -n "$names" ]
}

test_new_namespace_gets_default_serviceaccount_and_root_ca() {
  local ns
  ns=$(new_namespace e2e-sa)
  wait_for 60 kubectl -n "$ns" get serviceaccount default
  wait_for 60 kubectl -n "$ns" get configmap kube-root-ca.crt
  local ca
  ca=$(kubectl -n "$ns" get configmap kube-root-ca.crt -o jsonpath='{.data.ca\.crt}')
  assert_eq "$(cat "$MESHGATE_CLUSTER_DIR/pki/ca.crt")" "$ca" "published root CA"
}

test_meshgate_kubeconfigs_authenticate_as_service_accounts() {
  local who
  who=$(kubectl --kubeconfig "$MESHGATE_CLUSTER_DIR/operator.kubeconfig" auth whoami -o json)
  assert_eq system:serviceaccount:meshgate-system:meshgate-operator \
    "$(jq -r .status.userInfo.username <<<"$who")"
  assert_contains "$(jq -r '.status.userInfo.groups | join(",")' <<<"$who")" system:serviceaccounts
  who=$(kubectl --kubeconfig "$MESHGATE_CLUSTER_DIR/webhook.kubeconfig" auth whoami -o json)
  assert_eq system:serviceaccount:meshgate-system:meshgate-webhook \
    "$(jq -r .status.userInfo.username <<<"$who")"
  # They are not admins: without RBAC they may not even list nodes.
  assert_eq no "$(kubectl --kubeconfig "$MESHGATE_CLUSTER_DIR/webhook.kubeconfig" auth can-i list nodes || true)"
}
