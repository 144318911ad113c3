# shellcheck shell=bash
# The mesh on the real node (docs/MESH.md): meshgate installed with `kubectl apply -k`, three
# injected workloads in one namespace — orders (three replicas, Strict mTLS, callable by web and
# the gateway only), web and intruder — whose unmodified applications call
# http://orders.<ns>.svc:8080/ (and its HTTP2 port 8081 and TCP echo port 9000). Their traffic is
# captured by the init container's rules and carried by the sidecars: web gets 200 over mTLS and
# orders' application sees web's SPIFFE ID, over HTTP/2 on the HTTP2 port; web's bytes to the TCP
# port come back byte for byte; intruder gets 403, and nothing on the TCP port; a caller certificate expired or of a foreign CA is refused; an ApiRoute
# reaches orders through the gateway pods, which call it over mTLS with the gateway's identity; a
# client without a sidecar is refused under Strict and served under Permissive; calls are
# balanced over the three replicas, and no request fails for a replica killed under load, one
# answering errors (ejected) or a CA rotation. Tests run in file order and build on one another:
# the first installs, the last removes. Run by test/e2e/run.sh only when the cluster has a node
# (MESHGATE_NODE=1).

_mesh_ns=e2e-mesh
_plain_ns=e2e-mesh-plain
_orders_url="http://orders.$_mesh_ns.svc:8080"

# shellcheck source=node_lib.sh
source "$REPO_ROOT/test/e2e/node_lib.sh"

# _call NS DEPLOYMENT ARGS... — meshgate-test-backend's client, run in DEPLOYMENT's application
# container: its connections are the application's, captured like any other.
_call() {
  local ns=$1 deployment=$2
  shift 2
  kubectl exec -n "$ns" "deploy/$deployment" -c app -- meshgate-test-backend call "$@"
}

# _workload NAME REPLICAS — a Deployment of the e2e backend (answering as its pod name) running as
# service account NAME, in the mesh namespace.
_workload() {
  kubectl apply -n "$_mesh_ns" -f - >/dev/null <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: {name: $1}
spec:
  replicas: $2
  selector: {matchLabels: {app: $1}}
  template:
    metadata: {labels: {app: $1}}
    spec:
      serviceAccountName: $1
      containers:
        - name: app
          image: localhost/meshgate/meshgate-test-backend:e2e
          imagePullPolicy: Never
          env: [{name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}]
          args: [--listen, "0.0.0.0:8080", --listen, "0.0.0.0:8081", --tcp-echo, "0.0.0.0:9000",
                 --name, \$(POD_NAME)]
          ports: [{name: http, containerPort: 8080}]
          readinessProbe: {tcpSocket: {port: http}, periodSeconds: 2}
          securityContext: {runAsNonRoot: true, allowPrivilegeEscalation: false}
YAML
}

# _outbound_requests — requests web's sidecar has sent to orders so far.
_outbound_requests() {
  curl -sf --max-time 3 "http://$(_pod_ip "$_mesh_ns" app=web):15000/stats" |
    awk '/^meshgate_proxy_requests_total\{.*outbound\|orders/ {sum += $NF} END {print sum + 0}'
}

# _orders_inbound HANDLING — inbound connections the sidecars of every orders replica counted
# with that handling (mtls: HTTP over mTLS; tcp-mtls: a TCP port over mTLS).
_orders_inbound() {
  local ip total=0 count
  for ip in $(kubectl get pods -n "$_mesh_ns" -l app=orders -o jsonpath='{.items[*].status.podIP}'); do
    count=$(curl -sf --max-time 3 "http://$ip:15000/stats" |
      awk -v want="handling=\"$1\"" '/^meshgate_proxy_mesh_connections_total\{direction="inbound",/ && index($0, want) {print $NF}')
    total=$((total + ${count:-0}))
  done
  echo "$total"
}

# _tcp_call NS DEPLOYMENT HOST:PORT TEXT — what comes back to DEPLOYMENT's application when it
# sends TEXT to HOST:PORT and half-closes (meshgate-test-backend tcp); its exit status.
_tcp_call() {
  kubectl exec -n "$1" "deploy/$2" -c app -- meshgate-test-backend tcp "$3" --send "$4"
}

# _outbound_reached N — for wait_for: web's sidecar has sent at least N requests to orders.
_outbound_reached() {
  [ "$(_outbound_requests)" -ge "$1" ]
}

test_install_and_three_injected_workloads_with_their_identities() {
  local dir archive pod
  dir=$(mktemp -d)
  trap 'rm -rf "$dir"' RETURN
  step "import the images (with meshgate-init) and the e2e backend; kubectl apply -k"
  for archive in meshgate-operator meshgate-webhook meshgate-proxy meshgate-init; do
    _import "$MESHGATE_NODE_IMAGES/$archive.oci.tar"
  done
  IMAGE_NAMES=meshgate-test-backend bash "$REPO_ROOT/scripts/images.sh" "$MESHGATE_BUILD_DIR" \
    "$dir" e2e >/dev/null
  _import "$dir/meshgate-test-backend.oci.tar"
  kubectl apply -k "$(_install_kustomization)" >/dev/null
  for archive in meshgate-operator meshgate-webhook; do
    kubectl rollout status -n meshgate-system "deployment/$archive" --timeout=120s ||
      { _explain_pods meshgate-system; return 1; }
  done

  step "MeshServices orders (Strict, only web and the gateway may call), web and intruder; their identities"
  ensure_namespace "$_mesh_ns"
  kubectl label namespace "$_mesh_ns" meshgate.io/inject=enabled --overwrite >/dev/null
  kubectl apply -n "$_mesh_ns" -f - >/dev/null <<'YAML'
apiVersion: v1
kind: ServiceAccount
metadata: {name: orders}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: web}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: intruder}
---
apiVersion: meshgate.io/v1alpha1
kind: MeshService
metadata: {name: orders}
spec:
  selector: {app: orders}
  serviceAccount: orders
  ports:
    - {name: http, port: 8080, targetPort: 8080}
    - {name: grpc, port: 8081, targetPort: 8081, protocol: HTTP2}
    - {name: echo, port: 9000, targetPort: 9000, protocol: TCP}
  mtls: {mode: Strict}
  authorization:
    allow: [{serviceAccount: web}, {namespace: meshgate-system, serviceAccount: meshgate-gateway}]
  retries: {attempts: 3, retryOn: [connect-failure, reset, gateway-error]}
  outlierDetection: {consecutiveErrors: 1, interval: 1s, baseEjectionTime: 30s}
---
apiVersion: meshgate.io/v1alpha1
kind: MeshService
metadata: {name: web}
spec:
  selector: {app: web}
  serviceAccount: web
  ports: [{name: http, port: 8080}]
---
apiVersion: meshgate.io/v1alpha1
kind: MeshService
metadata: {name: intruder}
spec:
  selector: {app: intruder}
  serviceAccount: intruder
  ports: [{name: http, port: 8080}]
YAML
  # Issued before the pods start, the Secrets are in the pods' volumes from the first moment.
  for archive in orders web intruder; do
    wait_for 60 kubectl get secret "meshgate-identity-$archive" -n "$_mesh_ns"
  done

  step "the Deployments: orders with 3 replicas, web and intruder with one"
  _workload orders 3
  _workload web 1
  _workload intruder 1
  for archive in orders web intruder; do
    kubectl rollout status -n "$_mesh_ns" "deployment/$archive" --timeout=180s ||
      { _explain_pods "$_mesh_ns"; return 1; }
  done

  step "each pod: the capture init container ran, the sidecar holds its service account's identity"
  pod=$(kubectl get pods -n "$_mesh_ns" -l app=web -o jsonpath='{.items[0].metadata.name}')
  assert_eq "meshgate-init" "$(kubectl get pod -n "$_mesh_ns" "$pod" -o jsonpath='{.spec.initContainers[*].name}')"
  assert_eq "Completed" "$(kubectl get pod -n "$_mesh_ns" "$pod" -o jsonpath='{.status.initContainerStatuses[0].state.terminated.reason}')"
  wait_for 90 bash -c "curl -sf --max-time 3 http://\$(kubectl get pods -n $_mesh_ns -l app=web -o jsonpath='{.items[0].status.podIP}'):15000/identity | jq -e '.spiffeId == \"spiffe://cluster.local/ns/$_mesh_ns/sa/web\"'"
}

test_an_allowed_caller_gets_200_over_mtls_and_the_server_sees_its_identity() {
  local response
  step "web's application calls $_orders_url/headers (captured, carried over mTLS)"
  wait_for 60 bash -c "[ \"\$(kubectl exec -n $_mesh_ns deploy/web -c app -- meshgate-test-backend call $_orders_url/headers --summary | jq -r '.statuses[\"200\"] // 0')\" = 1 ]"
  response=$(_call "$_mesh_ns" web "$_orders_url/headers")
  assert_contains "$response" "HTTP/1.1 200"
  # The body, the last line, is the request's headers as orders' application received them.
  assert_eq "spiffe://cluster.local/ns/$_mesh_ns/sa/web" \
    "$(tail -n 1 <<<"$response" | jq -r '.headers["x-meshgate-peer-identity"]')"
  step "an orders sidecar (whichever replica answered) counted an inbound mTLS connection"
  assert_ge "$(_orders_inbound mtls)" 1 "inbound mTLS connections over orders' replicas"
}

test_a_caller_the_authorization_does_not_name_gets_403() {
  local response
  step "intruder's application calls orders: its own sidecar answers 403"
  response=$(_call "$_mesh_ns" intruder "$_orders_url/headers")
  assert_contains "$response" "HTTP/1.1 403"
  assert_contains "$response" "spiffe://cluster.local/ns/$_mesh_ns/sa/intruder may not call $_mesh_ns/orders"
}

test_a_tcp_port_is_relayed_over_mtls_to_the_callers_the_authorization_names() {
  local target="orders.$_mesh_ns.svc:9000" echoed refused
  step "web's application sends bytes to orders' TCP port: relayed over mTLS, echoed byte for byte"
  wait_for 60 bash -c "[ \"\$(kubectl exec -n $_mesh_ns deploy/web -c app -- meshgate-test-backend tcp $target --send ready)\" = ready ]"
  echoed=$(_tcp_call "$_mesh_ns" web "$target" "one line, then another | and the end")
  assert_eq "one line, then another | and the end" "$echoed"
  step "orders' sidecars counted inbound TCP connections over mTLS"
  assert_ge "$(_orders_inbound tcp-mtls)" 2 "inbound TCP connections over mTLS over orders' replicas"
  step "intruder's application gets nothing back: its own sidecar closes the connection"
  refused=$(_tcp_call "$_mesh_ns" intruder "$target" "let me in" 2>/dev/null || true)
  assert_eq "" "$refused"
}

test_an_http2_port_reaches_the_application_over_http2() {
  local url="http://orders.$_mesh_ns.svc:8081/headers" response
  step "web's application calls orders' HTTP2 port over HTTP/1.1; orders' application answers over h2c"
  wait_for 60 bash -c "[ \"\$(kubectl exec -n $_mesh_ns deploy/web -c app -- meshgate-test-backend call $url --summary | jq -r '.statuses[\"200\"] // 0')\" = 1 ]"
  response=$(_call "$_mesh_ns" web "$url")
  assert_contains "$response" "HTTP/1.1 200"
  assert_contains "$response" "x-backend-protocol: h2"
  assert_eq "spiffe://cluster.local/ns/$_mesh_ns/sa/web" \
    "$(tail -n 1 <<<"$response" | jq -r '.headers["x-meshgate-peer-identity"]')"
  step "intruder's application gets 403 from its own sidecar on that port too"
  assert_contains "$(_call "$_mesh_ns" intruder "$url")" "HTTP/1.1 403"
}

# _orders_over_tls CERT KEY — the status an orders replica's sidecar answers over TLS (from the
# host, to the pod's application port, captured to 15006) to a client presenting CERT; 000 when
# the handshake is refused. The server is not verified: the sidecar's refusal is under test.
_orders_over_tls() {
  curl -s -k --max-time 5 --cert "$1" --key "$2" -o /dev/null -w '%{http_code}' \
    "https://$(_pod_ip "$_mesh_ns" app=orders):8080/" || true
}

# _sign_leaf DIR NAME CA_CERT CA_KEY START END — DIR/NAME.crt (and .key): web's SPIFFE ID, signed
# by the given CA, valid from START to END (YYYYMMDDHHMMSSZ), as openssl ca lets one back-date.
_sign_leaf() {
  local dir=$1 name=$2
  mkdir -p "$dir/ca-$name"
  touch "$dir/ca-$name/index.txt"
  cat >"$dir/ca-$name/ca.cnf" <<CNF
[ca]
default_ca = leaf
[leaf]
database = $dir/ca-$name/index.txt
new_certs_dir = $dir/ca-$name
serial = $dir/ca-$name/serial
default_md = sha256
policy = any
copy_extensions = none
x509_extensions = workload
[any]
commonName = optional
[workload]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth,clientAuth
subjectAltName = URI:spiffe://cluster.local/ns/$_mesh_ns/sa/web
CNF
  openssl rand -hex 16 >"$dir/ca-$name/serial"
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$name" \
    -keyout "$dir/$name.key" -out "$dir/$name.csr" 2>/dev/null
  openssl ca -batch -config "$dir/ca-$name/ca.cnf" -cert "$3" -keyfile "$4" -startdate "$5" \
    -enddate "$6" -in "$dir/$name.csr" -out "$dir/$name.crt" -notext 2>/dev/null
}

test_a_caller_certificate_expired_or_of_another_ca_is_refused() {
  local dir
  dir=$(mktemp -d)
  trap 'rm -rf "$dir"' RETURN
  kubectl get secret meshgate-ca -n meshgate-system -o jsonpath='{.data.tls\.crt}' | base64 -d >"$dir/mesh-ca.crt"
  kubectl get secret meshgate-ca -n meshgate-system -o jsonpath='{.data.tls\.key}' | base64 -d >"$dir/mesh-ca.key"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
    -subj "/CN=foreign-ca" -keyout "$dir/foreign-ca.key" -out "$dir/foreign-ca.crt" 2>/dev/null

  step "a leaf of the mesh CA naming web, valid now: orders answers 200 (the control)"
  _sign_leaf "$dir" valid "$dir/mesh-ca.crt" "$dir/mesh-ca.key" \
    "$(date -u -d '-1 hour' +%Y%m%d%H%M%SZ)" "$(date -u -d '+1 hour' +%Y%m%d%H%M%SZ)"
  assert_eq 200 "$(_orders_over_tls "$dir/valid.crt" "$dir/valid.key")" "a valid caller certificate"

  step "the same identity signed by the mesh CA but expired an hour ago: the handshake is refused"
  _sign_leaf "$dir" expired "$dir/mesh-ca.crt" "$dir/mesh-ca.key" \
    "$(date -u -d '-2 hours' +%Y%m%d%H%M%SZ)" "$(date -u -d '-1 hour' +%Y%m%d%H%M%SZ)"
  assert_eq 000 "$(_orders_over_tls "$dir/expired.crt" "$dir/expired.key")" "an expired caller certificate"

  step "the same identity signed by a CA the mesh does not trust: the handshake is refused"
  _sign_leaf "$dir" foreign "$dir/foreign-ca.crt" "$dir/foreign-ca.key" \
    "$(date -u -d '-1 hour' +%Y%m%d%H%M%SZ)" "$(date -u -d '+1 hour' +%Y%m%d%H%M%SZ)"
  assert_eq 000 "$(_orders_over_tls "$dir/foreign.crt" "$dir/foreign.key")" "a foreign-CA caller certificate"
}

test_an_api_route_reaches_the_strict_service_over_mtls_as_the_gateway() {
  local gateway_ip response
  step "an ApiRoute to orders, served by the gateway Deployment"
  kubectl rollout status -n meshgate-system deployment/meshgate-gateway --timeout=120s ||
    { _explain_pods meshgate-system; return 1; }
  _gateway_route "$_mesh_ns" orders orders.mesh.e2e.test orders 8080

  step "through the gateway's ClusterIP: 200, and orders' application sees the gateway's SPIFFE ID"
  gateway_ip=$(_gateway_ip)
  wait_for 30 curl -sf --max-time 3 -H 'Host: orders.mesh.e2e.test' "http://$gateway_ip/headers"
  response=$(curl -sf --max-time 3 -H 'Host: orders.mesh.e2e.test' "http://$gateway_ip/headers")
  assert_eq "spiffe://cluster.local/ns/meshgate-system/sa/meshgate-gateway" \
    "$(jq -r '.headers["x-meshgate-peer-identity"]' <<<"$response")"
  kubectl delete apiroute orders -n "$_mesh_ns" --wait=true >/dev/null
}

test_plaintext_is_refused_under_strict_and_served_under_permissive() {
  local response
  step "a client without a sidecar, in a namespace that is not injected"
  ensure_namespace "$_plain_ns"
  kubectl apply -n "$_plain_ns" -f - >/dev/null <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata: {name: plain}
spec:
  replicas: 1
  selector: {matchLabels: {app: plain}}
  template:
    metadata: {labels: {app: plain}}
    spec:
      containers:
        - name: app
          image: localhost/meshgate/meshgate-test-backend:e2e
          imagePullPolicy: Never
          args: [--listen, "0.0.0.0:8080", --name, plain]
          securityContext: {runAsNonRoot: true, allowPrivilegeEscalation: false}
YAML
  kubectl rollout status -n "$_plain_ns" deployment/plain --timeout=120s ||
    { _explain_pods "$_plain_ns"; return 1; }
  response=$(_call "$_plain_ns" plain "$_orders_url/headers")
  assert_contains "$response" "HTTP/1.1 403"
  assert_contains "$response" "requires mutual TLS (mtls.mode Strict)"

  step "orders switches to Permissive: the plaintext caller is served, with no identity"
  kubectl patch meshservice orders -n "$_mesh_ns" --type merge \
    -p '{"spec":{"mtls":{"mode":"Permissive"},"authorization":null}}' >/dev/null
  wait_for 60 bash -c "[ \"\$(kubectl exec -n $_plain_ns deploy/plain -c app -- meshgate-test-backend call $_orders_url/headers --summary | jq -r '.statuses[\"200\"] // 0')\" = 1 ]"
  response=$(_call "$_plain_ns" plain "$_orders_url/headers")
  assert_contains "$response" "HTTP/1.1 200"
  assert_eq null "$(tail -n 1 <<<"$response" | jq -r '.headers["x-meshgate-peer-identity"]')"
  step "back to Strict, only web"
  kubectl patch meshservice orders -n "$_mesh_ns" --type merge \
    -p '{"spec":{"mtls":{"mode":"Strict"},"authorization":{"allow":[{"serviceAccount":"web"}]}}}' >/dev/null
  wait_for 60 bash -c "kubectl exec -n $_plain_ns deploy/plain -c app -- meshgate-test-backend call $_orders_url/headers | grep -q 'requires mutual TLS'"
}

test_calls_are_balanced_and_a_killed_replica_costs_no_request() {
  local summary victim load_file pid before
  step "300 calls from web: every replica of orders answers"
  summary=$(_call "$_mesh_ns" web "$_orders_url/" --count 300 --summary)
  assert_eq 300 "$(jq -r '.statuses["200"] // 0' <<<"$summary")" "200s of 300 ($summary)"
  assert_eq 3 "$(jq -r '.backends | length' <<<"$summary")" "replicas that answered ($summary)"
  assert_eq 0 "$(jq -r '[.backends[] | select(. < 50)] | length' <<<"$summary")" \
    "no replica starved under round robin ($summary)"

  step "continuous calls from web while a replica is killed (SIGKILL, pod deleted)"
  load_file=$(mktemp)
  _call "$_mesh_ns" web "$_orders_url/" --duration-s 20 --rate 50 --summary >"$load_file" &
  pid=$!
  # The load is running once web's sidecar has carried 50 more calls to orders.
  before=$(_outbound_requests)
  wait_for 20 _outbound_reached $((before + 50))
  victim=$(kubectl get pods -n "$_mesh_ns" -l app=orders -o jsonpath='{.items[0].metadata.name}')
  kubectl delete pod -n "$_mesh_ns" "$victim" --grace-period=0 --force >/dev/null 2>&1
  wait "$pid"
  summary=$(cat "$load_file")
  rm -f "$load_file"
  step "every idempotent call was answered 200 ($(jq -c '{requests, statuses, errors}' <<<"$summary"))"
  assert_eq "$(jq -r '.requests' <<<"$summary")" "$(jq -r '.statuses["200"] // 0' <<<"$summary")" \
    "calls answered 200 ($summary)"
  assert_eq 0 "$(jq -r '[.errors[]] | add // 0' <<<"$summary")" "transport errors ($summary)"
}

# _identity_serial NS SELECTOR — the serial of the certificate the first matching pod's sidecar holds.
_identity_serial() {
  curl -sf --max-time 3 "http://$(_pod_ip "$1" "$2"):15000/identity" | jq -r '.serial // ""'
}

# _sidecar_serves_new_leaf SELECTOR SERIAL_BEFORE — for wait_for: the first matching pod's
# sidecar holds another certificate than before.
_sidecar_serves_new_leaf() {
  local serial
  serial=$(_identity_serial "$_mesh_ns" "$1")
  [ -n "$serial" ] && [ "$serial" != "$2" ]
}

# _app_requests POD — requests orders' application in POD has read so far (asked on loopback,
# which the capture leaves alone).
_app_requests() {
  kubectl exec -n "$_mesh_ns" "$1" -c app -- meshgate-test-backend call http://127.0.0.1:8080/requests |
    tail -n 1
}

# _broken_replica POD on|off — orders' application in POD answers 503 to everything, or no more.
_broken_replica() {
  kubectl exec -n "$_mesh_ns" "$1" -c app -- meshgate-test-backend call --method POST \
    "http://127.0.0.1:8080/control/errors?state=$2" >/dev/null
}

test_a_replica_answering_errors_is_ejected_and_costs_no_request() {
  local pod ip before after summary
  pod=$(kubectl get pods -n "$_mesh_ns" -l app=orders -o jsonpath='{.items[0].metadata.name}')
  ip=$(kubectl get pod -n "$_mesh_ns" "$pod" -o jsonpath='{.status.podIP}')
  step "orders replica $pod answers 503 to everything (it still accepts connections and stays Ready)"
  _broken_replica "$pod" on
  before=$(_app_requests "$pod")

  step "60 calls from web: all 200 (retried elsewhere); the broken replica ejected at its first error"
  summary=$(_call "$_mesh_ns" web "$_orders_url/" --count 60 --summary)
  echo "$summary"
  assert_eq 60 "$(jq -r '.statuses["200"] // 0' <<<"$summary")" "calls answered 200"
  after=$(_app_requests "$pod")
  # Round robin over three replicas would send it 20 of the 60 without ejection.
  assert_ge 2 "$((after - before))" "requests that reached the broken replica"
  assert_contains "$(curl -sf --max-time 3 "http://$(_pod_ip "$_mesh_ns" app=web):15000/stats" |
    grep "^meshgate_proxy_endpoint_ejected{.*endpoint=\"$ip:8080\"")" "} 1" "web's sidecar ejected $ip"
  _broken_replica "$pod" off
}

test_a_ca_rotation_under_continuous_traffic_fails_no_request() {
  local dir web_serial orders_serial load_file pid before summary
  dir=$(mktemp -d)
  trap 'rm -rf "$dir"' RETURN
  web_serial=$(_identity_serial "$_mesh_ns" app=web)
  orders_serial=$(_identity_serial "$_mesh_ns" app=orders)

  step "continuous calls from web to orders"
  load_file=$dir/load.json
  _call "$_mesh_ns" web "$_orders_url/" --duration-s 40 --rate 25 --summary >"$load_file" &
  pid=$!
  before=$(_outbound_requests)
  wait_for 20 _outbound_reached $((before + 25))

  step "replace the CA Secret meshgate-ca with a new root"
  openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$dir/new.key" -out "$dir/new.pem" -days 3650 -subj "/CN=rotated-mesh-ca" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  kubectl create secret tls meshgate-ca -n meshgate-system --cert "$dir/new.pem" --key "$dir/new.key" \
    --dry-run=client -o yaml | kubectl replace -f - >/dev/null

  step "the sidecars of web and orders load leaves of the new root, with no restart"
  wait_for 60 _sidecar_serves_new_leaf app=web "$web_serial"
  wait_for 60 _sidecar_serves_new_leaf app=orders "$orders_serial"
  kubectl get secret meshgate-identity-web -n "$_mesh_ns" -o jsonpath='{.data.tls\.crt}' | base64 -d >"$dir/web.pem"
  openssl verify -CAfile "$dir/new.pem" "$dir/web.pem" >/dev/null
  assert_eq 0 "$(kubectl get pods -n "$_mesh_ns" -l app=web -o jsonpath='{.items[0].status.containerStatuses[?(@.name=="meshgate-proxy")].restartCount}')"

  wait "$pid"
  summary=$(cat "$load_file")
  step "every call during the rotation was answered 200 ($(jq -c '{requests, statuses, errors}' <<<"$summary"))"
  assert_eq "$(jq -r '.requests' <<<"$summary")" "$(jq -r '.statuses["200"] // 0' <<<"$summary")" \
    "calls answered 200 ($summary)"
  assert_eq 0 "$(jq -r '[.errors[]] | add // 0' <<<"$summary")" "transport errors ($summary)"

  step "a new replica of orders (a new endpoint, so new mTLS handshakes) is called with the new root"
  kubectl scale deployment orders -n "$_mesh_ns" --replicas=4 >/dev/null
  kubectl rollout status -n "$_mesh_ns" deployment/orders --timeout=120s ||
    { _explain_pods "$_mesh_ns"; return 1; }
  wait_for 60 bash -c "[ \"\$(kubectl exec -n $_mesh_ns deploy/web -c app -- meshgate-test-backend call $_orders_url/ --count 40 --summary | jq -r '.backends | length')\" = 4 ]"
  summary=$(_call "$_mesh_ns" web "$_orders_url/" --count 40 --summary)
  assert_eq 40 "$(jq -r '.statuses["200"] // 0' <<<"$summary")" "calls after the rotation ($summary)"
}

test_delete_removes_the_mesh_and_the_install() {
  step "delete the namespaces and kubectl delete -k"
  kubectl delete namespace "$_mesh_ns" "$_plain_ns" --wait=false >/dev/null
  kubectl delete -k "$(_install_kustomization)" --wait=false >/dev/null
  wait_gone 120 namespace "$_mesh_ns"
  wait_gone 120 namespace meshgate-system
  wait_gone 60 crd meshservices.meshgate.io
}
