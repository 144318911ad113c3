# shellcheck shell=bash
# Helpers for 70_gateway_test.sh: the whole path from kubectl to traffic — meshgate-operator as a
# local process (its config server on a free loopback port), meshgate-proxy in gateway mode fed
# by it (the gateway identity copied from the Secret the operator keeps, as docs/CONFIG_STREAM.md
# tells a gateway outside the cluster), and meshgate-test-backend upstreams on 127.0.0.x that
# MeshServices name as static endpoints. Each test gets its own ingress class, so its gateway
# carries only its own routes (other tests' objects stay in the shared cluster).
#
# _gateway_setup first (after sourcing proxy_lib.sh and operator_lib.sh): proxy_setup's private
# directory and EXIT trap (which also stops the operator), the operator, the gateway identity.

# shellcheck source=proxy_lib.sh
source "$REPO_ROOT/test/e2e/proxy_lib.sh"
# shellcheck source=operator_lib.sh
source "$REPO_ROOT/test/e2e/operator_lib.sh"
# shellcheck source=webhook_lib.sh
source "$REPO_ROOT/test/e2e/webhook_lib.sh"

# _gateway_setup — PX_DIR and the ports of proxy_setup, GW_CLASS (a fresh ingress class),
# CONFIG_PORT and OPERATOR_LOG; starts the operator and writes the gateway's cert dir
# ($PX_DIR/identity).
_gateway_setup() {
  _proxy_setup
  trap '_gateway_teardown $?' EXIT
  _prepare_operator
  GW_CLASS="e2e-$(head -c 4 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  read -r CONFIG_PORT HTTPS_PORT < <(_free_ports 2)
  OPERATOR_LOG=$PX_DIR/operator.log
  GW_SNAPSHOT=$PX_DIR/snapshot.json
  _gateway_start_operator
  _copy_gateway_identity "$PX_DIR/identity"
}

# _gateway_teardown RC — the EXIT trap: the operator's log when the test failed, then every
# process and the network namespace; exits RC.
_gateway_teardown() {
  local rc=$1
  if [ "$rc" -ne 0 ] && [ -s "${OPERATOR_LOG:-}" ]; then
    echo "--- last lines of the operator's log:"
    grep -vE 'probe server|leader' "$OPERATOR_LOG" | tail -n 30 | sed 's/^/  | /'
  fi
  if [ "$rc" -ne 0 ] && [ -s "${STANDBY_LOG:-}" ]; then
    echo "--- last lines of the standby operator's log:"
    grep -vE 'probe server|leader' "$STANDBY_LOG" | tail -n 30 | sed 's/^/  | /'
  fi
  _gateway_stop_standby
  _stop_operator
  [ -z "${GW_WEBHOOKS:-}" ] || _unregister_webhooks "$GW_WEBHOOKS"
  _pod_network_teardown
  _proxy_teardown "$rc"
}

# _gateway_webhook — meshgate-webhook as a local process, registered for the namespaces made by
# _gateway_webhook_namespace (selector GW_CLASS): kubectl → webhook → operator → gateway.
_gateway_webhook() {
  local dir=$PX_DIR/webhook
  mkdir -p "$dir"
  _webhook_ca "$dir"
  _webhook_issue "$dir" >/dev/null
  _start_webhook "$PX_DIR/webhook.log" "$dir"
  PX_PIDS+=("$WEBHOOK_PID")
  GW_WEBHOOKS=$GW_CLASS
  _register_webhooks "$GW_CLASS" "$dir"
}

# _gateway_webhook_namespace PREFIX — a new namespace whose admissions go to that webhook.
_gateway_webhook_namespace() {
  _webhook_namespace "$GW_CLASS" "$1"
}

# _gateway_start_operator — (re)starts the operator with its config server on CONFIG_PORT.
_gateway_start_operator() {
  OPERATOR_CONFIG_SERVER=127.0.0.1:$CONFIG_PORT _start_operator "$OPERATOR_LOG" \
    --leader-elect --leader-election-id "$GW_CLASS"
  wait_for 30 grep -q 'config server: serving certificate and trust bundle loaded' "$OPERATOR_LOG"
}

# _gateway_start_standby — a second operator for the same Lease while the first leads: it
# serves the config stream on STANDBY_CONFIG_PORT and does not lead. Sets STANDBY_PID,
# STANDBY_READYZ_URL, STANDBY_LOG and STANDBY_REPLICA (the name in its report ConfigMap); the
# first operator's OPERATOR_PID, METRICS_URL and READYZ_URL stay as they were.
_gateway_start_standby() {
  local pid=$OPERATOR_PID metrics=$METRICS_URL readyz=$READYZ_URL
  read -r STANDBY_CONFIG_PORT < <(_free_ports 1)
  STANDBY_LOG=$PX_DIR/operator-standby.log
  OPERATOR_CONFIG_SERVER=127.0.0.1:$STANDBY_CONFIG_PORT _launch_operator "$STANDBY_LOG" \
    --leader-elect --leader-election-id "$GW_CLASS"
  STANDBY_PID=$OPERATOR_PID
  STANDBY_READYZ_URL=$READYZ_URL
  OPERATOR_PID=$pid
  METRICS_URL=$metrics
  READYZ_URL=$readyz
  wait_for 30 grep -q 'config server: serving certificate and trust bundle loaded' "$STANDBY_LOG"
  STANDBY_REPLICA=$(sed -nE 's/.*dataplane reports: this replica is ([a-z0-9-]+).*/\1/p' "$STANDBY_LOG")
  [ -n "$STANDBY_REPLICA" ]
}

# _gateway_stop_standby — SIGTERM for the standby operator, if one runs, and waits for it.
_gateway_stop_standby() {
  [ -z "${STANDBY_PID:-}" ] || { kill -TERM "$STANDBY_PID" 2>/dev/null || true; wait "$STANDBY_PID" 2>/dev/null || true; }
  STANDBY_PID=""
}

# _copy_gateway_identity DIR — the gateway identity Secret's files, as an outside gateway gets them.
_copy_gateway_identity() {
  wait_for 30 kubectl get secret meshgate-gateway-identity -n meshgate-system
  bash "$REPO_ROOT/scripts/gateway-identity.sh" "$1"
}

# _start_gateway [ARGS...] — meshgate-proxy --mode gateway for GW_CLASS: http on PROXY_PORT,
# https on HTTPS_PORT, admin on ADMIN_PORT, the snapshot persisted to GW_SNAPSHOT; waits until
# its admin port answers (not until it has a config: see _wait_gateway_version).
_start_gateway() {
  "$(_proxy_bin)" --mode gateway --control-plane "https://localhost:$CONFIG_PORT" \
    --cert-dir "$PX_DIR/identity" --ingress-class "$GW_CLASS" --node "gateway~e2e" \
    --http-address "127.0.0.1:$PROXY_PORT" --https-address "127.0.0.1:$HTTPS_PORT" \
    --admin-address "127.0.0.1:$ADMIN_PORT" --snapshot-file "$GW_SNAPSHOT" \
    --concurrency 2 "$@" >>"$PX_LOG" 2>&1 &
  PROXY_PID=$!
  wait_for 20 curl -s --max-time 1 -o /dev/null "$ADMIN_URL/ready"
}

# _gateway_serves_version VERSION — /config_dump's version is VERSION (for wait_for).
_gateway_version() {
  curl -sf --max-time 2 "$ADMIN_URL/config_dump" | jq -r '.version // empty'
}

# _gateway_answers BACKEND HOST PATH — one request through the gateway reaches BACKEND.
_gateway_answers() {
  local got
  got=$(curl -s --max-time 2 -o /dev/null -w '%{http_code} %header{x-backend}' -H "Host: $2" \
    "$PROXY_URL$3")
  [ "$got" = "200 $1" ] || {
    echo "$2$3 answered '$got', want '200 $1'"
    return 1
  }
}

# _gateway_status_is CODE HOST PATH — one request through the gateway gets CODE.
_gateway_status_is() {
  local got
  got=$(curl -s --max-time 2 -o /dev/null -w '%{http_code}' -H "Host: $2" "$PROXY_URL$3")
  [ "$got" = "$1" ] || {
    echo "$2$3 answered $got, want $1"
    return 1
  }
}

# _ms_static NS NAME BACKEND... — a MeshService (port 80 → 8080) whose static endpoints are the
# named test backends (address and port each).
_ms_static() {
  local ns=$1 name=$2 endpoints="" b
  shift 2
  for b in "$@"; do endpoints+="${endpoints:+, }$(_endpoint "$b")"; done
  kubectl apply -n "$ns" -f - >/dev/null <<YAML
apiVersion: meshgate.io/v1alpha1
kind: MeshService
metadata: {name: $name}
spec:
  endpoints: [$endpoints]
  ports: [{name: http, port: 80, targetPort: 8080}]
YAML
}

# --- Pods without a kubelet, backends inside a network namespace ---------------------------
# The test control plane has no kubelet: a pod is made Running and Ready by writing its status
# (what a kubelet, or KWOK, would write), with an IP from POD_PREFIX.0/24. kube-controller-
# manager's EndpointSlice controller then lists it for the Services whose selector matches. The
# addresses really listen: they belong to an interface inside a network namespace this test
# creates (POD_NETNS), reached from here through a veth pair whose host end routes
# POD_PREFIX.0/24 only — no traffic ever leaves for an address outside that namespace.

# _pod_network — POD_NETNS, POD_PREFIX, the veth pair; torn down by _pod_network_teardown.
_pod_network() {
  local id
  id=$(head -c 4 /dev/urandom | od -An -tx1 | tr -d ' \n')
  [ "$(id -u)" -eq 0 ] || { echo "network namespaces need root" >&2; return 1; }
  POD_NETNS="mg-e2e-$id"
  POD_VETH_HOST="mgh$id"
  POD_VETH_PEER="mgn$id"
  POD_PREFIX="10.244.$((RANDOM % 200 + 20))"
  ip netns add "$POD_NETNS"
  ip link add "$POD_VETH_HOST" type veth peer name "$POD_VETH_PEER" netns "$POD_NETNS"
  ip addr add "$POD_PREFIX.254/32" dev "$POD_VETH_HOST"
  ip link set "$POD_VETH_HOST" up
  ip route add "$POD_PREFIX.0/24" dev "$POD_VETH_HOST" src "$POD_PREFIX.254"
  ip netns exec "$POD_NETNS" ip link set lo up
  ip netns exec "$POD_NETNS" ip link set "$POD_VETH_PEER" up
  ip netns exec "$POD_NETNS" ip route add "$POD_PREFIX.254/32" dev "$POD_VETH_PEER"
}

_pod_network_teardown() {
  [ -n "${POD_NETNS:-}" ] || return 0
  ip netns pids "$POD_NETNS" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
  ip link del "$POD_VETH_HOST" 2>/dev/null || true
  ip netns del "$POD_NETNS" 2>/dev/null || true
  POD_NETNS=""
}

# _pod_backend NAME HOST_BYTE — a meshgate-test-backend named NAME inside POD_NETNS listening on
# POD_PREFIX.HOST_BYTE:8080; sets BACKEND_ADDR/PORT/PID[NAME] like _start_backend.
_pod_backend() {
  local name=$1 address=$POD_PREFIX.$2
  ip netns exec "$POD_NETNS" ip addr add "$address/32" dev "$POD_VETH_PEER"
  ip netns exec "$POD_NETNS" "$(_backend_bin)" --listen "$address:8080" --name "$name" \
    >"$PX_DIR/backend-$name.out" 2>&1 &
  BACKEND_PID[$name]=$!
  PX_PIDS+=("$!")
  wait_for 10 grep -q '^listening ' "$PX_DIR/backend-$name.out"
  BACKEND_PORT[$name]=8080
  BACKEND_ADDR[$name]=$address
}

# _pod NS NAME LABELS_YAML HOST_BYTE — a pod with those labels on the Node meshgate-e2e (the
# EndpointSlice controller leaves out pods whose node does not exist), made Running and Ready at
# POD_PREFIX.HOST_BYTE through its status subresource.
_pod() {
  local ns=$1 name=$2 labels=$3 ip=$POD_PREFIX.$4
  kubectl apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Node
metadata: {name: meshgate-e2e, labels: {kubernetes.io/hostname: meshgate-e2e}}
YAML
  kubectl apply -n "$ns" -f - >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata: {name: $name, labels: $labels}
spec:
  nodeName: meshgate-e2e
  automountServiceAccountToken: false
  containers: [{name: app, image: registry.example/app:1, ports: [{containerPort: 8080}]}]
YAML
  kubectl patch pod "$name" -n "$ns" --subresource=status --type=merge -p "{\"status\": {
    \"phase\": \"Running\", \"podIP\": \"$ip\", \"podIPs\": [{\"ip\": \"$ip\"}],
    \"conditions\": [{\"type\": \"Ready\", \"status\": \"True\"}]}}" >/dev/null
}

# _pod_ready NS NAME True|False — what a kubelet writes when the readiness probe changes.
_pod_ready() {
  kubectl patch pod "$2" -n "$1" --subresource=status --type=strategic -p \
    "{\"status\": {\"conditions\": [{\"type\": \"Ready\", \"status\": \"$3\"}]}}" >/dev/null
}
