#!/usr/bin/env bash
# `make demo` and `make demo-down`: meshgate end to end on one machine. A real local control plane
# (etcd, kube-apiserver, kube-controller-manager built from Go modules), the CRDs, RBAC and the
# webhook configuration; meshgate-operator, meshgate-webhook and a meshgate-proxy gateway as
# local processes; four meshgate-test-backend upstreams on 127.0.0.11-14; then the objects of
# config/samples/demo/ applied with kubectl and a few requests through the gateway. Everything
# keeps running until `make demo-down`.
#
#   scripts/demo.sh up     (make demo)
#   scripts/demo.sh down   (make demo-down)
#
# State lives in .local/demo/ (logs in .local/demo/logs/). Ports, all on 127.0.0.1, can be moved
# with MESHGATE_DEMO_HTTP_PORT (18080), MESHGATE_DEMO_HTTPS_PORT (18443),
# MESHGATE_DEMO_ADMIN_PORT (15000), MESHGATE_DEMO_CONFIG_PORT (15012) and
# MESHGATE_DEMO_WEBHOOK_PORT (19443).
set -euo pipefail

repo_root=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo_root"
demo_dir=$repo_root/.local/demo
cluster_dir=$demo_dir/cluster
logs=$demo_dir/logs
pids=$demo_dir/pids
build_dir=${BUILD_DIR:-build}
bin=$repo_root/$build_dir/bin

http_port=${MESHGATE_DEMO_HTTP_PORT:-18080}
https_port=${MESHGATE_DEMO_HTTPS_PORT:-18443}
admin_port=${MESHGATE_DEMO_ADMIN_PORT:-15000}
config_port=${MESHGATE_DEMO_CONFIG_PORT:-15012}
webhook_port=${MESHGATE_DEMO_WEBHOOK_PORT:-19443}
# name address port — the upstreams config/samples/demo/shop.yaml names.
backends=("orders-1 127.0.0.11 18081" "orders-2 127.0.0.12 18082" "billing 127.0.0.13 18083"
  "orders-canary 127.0.0.14 18084")

say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
fail() {
  echo "demo: $*" >&2
  exit 1
}

# running NAME — the pid of a demo process that is alive.
running() {
  local pid
  pid=$(cat "$pids/$1.pid" 2>/dev/null) || return 1
  kill -0 "$pid" 2>/dev/null && echo "$pid"
}

# start NAME COMMAND... — a background process of the demo, its output in logs/NAME.log.
start() {
  local name=$1
  shift
  setsid "$@" >"$logs/$name.log" 2>&1 </dev/null &
  echo $! >"$pids/$name.pid"
}

# wait_until SECONDS WHAT NAME COMMAND... — polls COMMAND; on timeout or if process NAME died,
# fails with the end of its log.
wait_until() {
  local timeout=$1 what=$2 name=$3 deadline
  shift 3
  deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    if [ -n "$name" ] && ! running "$name" >/dev/null; then
      tail -n 20 "$logs/$name.log" >&2 || true
      fail "$name exited while waiting for $what (log: ${logs#"$repo_root"/}/$name.log)"
    fi
    [ $SECONDS -lt $deadline ] || {
      [ -z "$name" ] || tail -n 20 "$logs/$name.log" >&2 || true
      fail "timed out after ${timeout}s waiting for $what"
    }
    sleep 0.2
  done
}

port_taken() {
  python3 - "$1" <<'PY'
import socket, sys
s = socket.socket()
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(0)
sys.exit(1)
PY
}

down() {
  local name pid
  for file in "$pids"/*.pid; do
    [ -e "$file" ] || continue
    name=$(basename "$file" .pid)
    if pid=$(running "$name"); then
      kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
      timeout 15 tail --pid="$pid" -f /dev/null 2>/dev/null || kill -KILL -- "-$pid" 2>/dev/null || true
      echo "stopped $name"
    fi
    rm -f "$file"
  done
  if [ -f "$cluster_dir/cluster.env" ]; then
    bash test/e2e/cluster/down.sh "$cluster_dir" >/dev/null 2>&1 || true
    echo "stopped the control plane"
  fi
  rm -rf "$demo_dir"
  echo "demo: down"
}

preflight() {
  local name taken=()
  for name in operator webhook gateway; do
    if running "$name" >/dev/null; then
      fail "a demo is already running (.local/demo): run 'make demo-down' first"
    fi
  done
  for port in "$http_port" "$https_port" "$admin_port" "$config_port" "$webhook_port" 18081 18082 18083 18084; do
    if port_taken "$port"; then taken+=("$port"); fi
  done
  if [ ${#taken[@]} -gt 0 ]; then
    fail "port(s) ${taken[*]} on 127.0.0.1 are taken (ss -ltnp shows by whom); free them or move the demo's with MESHGATE_DEMO_*_PORT (see scripts/demo.sh)"
  fi
  command -v go >/dev/null || fail "Go is needed to build the control plane (go on PATH)"
  if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null; then
    fail "installing packages needs root or sudo"
  fi
}

webhook_certificate() {
  local dir=$demo_dir/webhook
  mkdir -p "$dir/certs"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
    -keyout "$dir/ca.key" -out "$dir/ca.crt" -subj "/CN=meshgate-demo-webhook-ca" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$dir/certs/tls.key" \
    -out "$dir/leaf.csr" -subj "/CN=meshgate-webhook" 2>/dev/null
  openssl x509 -req -in "$dir/leaf.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial \
    -days 30 -out "$dir/certs/tls.crt" -extfile <(printf '%s\n' \
      "subjectAltName=IP:127.0.0.1,DNS:localhost" "basicConstraints=critical,CA:FALSE" \
      "keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth") 2>/dev/null
}

# The shipped webhook configurations call the in-cluster Service; the demo's webhook is a local
# process, so the same webhooks are registered with clientConfig.url.
register_webhooks() {
  local ca url
  ca=$(base64 -w0 <"$demo_dir/webhook/ca.crt")
  url="https://127.0.0.1:$webhook_port"
  kubectl apply -f - >/dev/null <<YAML
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata:
  name: meshgate-demo
webhooks:
  - name: vmeshservice.meshgate.io
    clientConfig: {url: "$url/validate-meshgate-io-v1alpha1-meshservice", caBundle: "$ca"}
    rules: [{apiGroups: [meshgate.io], apiVersions: [v1alpha1], operations: [CREATE, UPDATE], resources: [meshservices]}]
    sideEffects: None
    admissionReviewVersions: [v1]
    timeoutSeconds: 5
    failurePolicy: Fail
  - name: vapiroute.meshgate.io
    clientConfig: {url: "$url/validate-meshgate-io-v1alpha1-apiroute", caBundle: "$ca"}
    rules: [{apiGroups: [meshgate.io], apiVersions: [v1alpha1], operations: [CREATE, UPDATE], resources: [apiroutes]}]
    sideEffects: None
    admissionReviewVersions: [v1]
    timeoutSeconds: 5
    failurePolicy: Fail
YAML
}

route_programmed() {
  [ "$(kubectl get ar shop -n shop -o jsonpath='{.status.conditions[?(@.type=="Programmed")].status}')" = True ]
}

show() {
  printf '\n$ %s\n' "$*"
  "$@"
}

up() {
  preflight
  mkdir -p "$logs" "$pids"

  say "Installing packages (make deps)"
  make --no-print-directory deps
  say "Building meshgate (make build; the first build takes several minutes)"
  make --no-print-directory build
  say "Building the control plane from Go modules (cached after the first time)"
  make --no-print-directory control-plane

  say "Starting a local control plane in .local/demo/cluster"
  bash test/e2e/cluster/up.sh "$cluster_dir" | head -n 1
  # shellcheck source=/dev/null
  source "$cluster_dir/env"

  say "Installing the CRDs, RBAC and the webhook configuration"
  kubectl apply -f config/rbac/namespace.yaml >/dev/null
  kubectl apply -R -f config/rbac/ >/dev/null
  kubectl apply -f crds/ >/dev/null
  # A CRD created a moment ago may have no conditions yet, which `kubectl wait` refuses at once.
  for attempt in 1 2 3 4 5 6; do
    kubectl wait --for condition=established --timeout=10s \
      crd/meshservices.meshgate.io crd/apiroutes.meshgate.io >/dev/null 2>&1 && break
    [ "$attempt" -lt 6 ] || { echo "the CRDs were not established within 60 s" >&2; exit 1; }
  done
  webhook_certificate

  say "Starting meshgate-operator, meshgate-webhook and the sample backends"
  start operator "$bin/meshgate-operator" --kubeconfig "$cluster_dir/operator.kubeconfig" \
    --leader-elect --config-server-bind-address "127.0.0.1:$config_port" \
    --metrics-bind-address 127.0.0.1:0 --health-probe-bind-address 127.0.0.1:0 \
    --gateway-http-port "$http_port" --gateway-https-port "$https_port"
  start webhook "$bin/meshgate-webhook" --kubeconfig "$cluster_dir/webhook.kubeconfig" \
    --bind-address "127.0.0.1:$webhook_port" --cert-dir "$demo_dir/webhook/certs" \
    --metrics-bind-address 127.0.0.1:0 --health-probe-bind-address 127.0.0.1:0
  local entry name address port
  for entry in "${backends[@]}"; do
    read -r name address port <<<"$entry"
    start "backend-$name" "$bin/meshgate-test-backend" --listen "$address:$port" --name "$name"
  done
  wait_until 60 "the webhook to serve" webhook grep -q 'serving admission on' "$logs/webhook.log"
  register_webhooks
  wait_until 120 "the operator to issue the gateway identity" operator \
    kubectl get secret meshgate-gateway-identity -n meshgate-system
  bash scripts/gateway-identity.sh "$demo_dir/gateway"

  say "Starting the gateway (meshgate-proxy --mode gateway, fed by the operator on :$config_port)"
  start gateway "$bin/meshgate-proxy" --mode gateway \
    --control-plane "https://localhost:$config_port" --cert-dir "$demo_dir/gateway" \
    --snapshot-file "$demo_dir/gateway/snapshot.json" \
    --http-address "127.0.0.1:$http_port" --https-address "127.0.0.1:$https_port" \
    --admin-address "127.0.0.1:$admin_port" --concurrency 2
  wait_until 30 "the gateway's admin endpoint" gateway curl -s -o /dev/null "http://127.0.0.1:$admin_port/ready"

  say "Applying config/samples/demo/ with kubectl"
  show kubectl apply -f config/samples/demo/
  wait_until 60 "ApiRoute shop/shop to be Programmed" gateway route_programmed
  kubectl get configmap meshgate-ca-bundle -n meshgate-system -o jsonpath='{.data.ca\.crt}' >"$demo_dir/mesh-ca.crt"

  say "What the cluster says"
  show kubectl get ms,ar -A

  say "Traffic through the gateway"
  local url="http://127.0.0.1:$http_port"
  show curl -s -o /dev/null -w 'HTTP %{http_code} from %header{x-backend}\n' -H 'Host: shop.demo.test' "$url/billing/invoices"
  echo
  echo "# balancing: 10 requests to /orders"
  for _ in $(seq 10); do
    curl -s -o /dev/null -w '%header{x-backend}\n' -H 'Host: shop.demo.test' "$url/orders"
  done | sort | uniq -c
  echo
  echo "# the 90/10 split: 200 requests to /checkout"
  for _ in $(seq 200); do
    curl -s -o /dev/null -w '%header{x-backend}\n' -H 'Host: api.shop.demo.test' "$url/checkout"
  done | sort | uniq -c
  show curl -s -o /dev/null -w 'HTTPS %{http_code} from %header{x-backend}, certificate verified against the mesh CA\n' \
    --cacert "$demo_dir/mesh-ca.crt" --resolve "shop.demo.test:$https_port:127.0.0.1" \
    "https://shop.demo.test:$https_port/orders"

  {
    echo "# Source this file to use the meshgate demo."
    cat "$cluster_dir/env"
    printf 'export MESHGATE_GATEWAY=%q\n' "http://127.0.0.1:$http_port"
    printf 'export MESHGATE_GATEWAY_HTTPS=%q\n' "https://127.0.0.1:$https_port"
    printf 'export MESHGATE_GATEWAY_ADMIN=%q\n' "http://127.0.0.1:$admin_port"
  } >"$demo_dir/env"

  cat <<USAGE

meshgate demo is running (logs in .local/demo/logs/).
  source .local/demo/env                  # kubectl talks to the demo cluster
  kubectl get ms,ar -A                    # status says what the gateway serves, and why
  curl -H 'Host: shop.demo.test' \$MESHGATE_GATEWAY/orders
  kubectl edit ar shop -n shop            # changes reach the gateway in well under a second
  curl \$MESHGATE_GATEWAY_ADMIN/config_dump # the gateway's config: version, source, age
  make demo-down                          # stop everything
USAGE
}

case "${1:-up}" in
  up) up ;;
  down) down ;;
  *) fail "usage: scripts/demo.sh up|down" ;;
esac
