# shellcheck shell=bash
# meshgate installed the way a cluster admin installs it, on the real node (cluster/node.sh):
# the images of `make images` imported into the node's containerd, `kubectl apply -k
# config/default`, then the operator, webhook and gateway pods Ready with a leader elected; an
# injected pod that starts with its sidecar and is Ready through the sidecar's admin port; the
# identity Secret mounted and reloaded by the sidecar when the operator issues a new one; an
# ApiRoute answered by a backend Deployment through the gateway pods; an image that was not
# imported is never fetched from outside; `kubectl delete -k` removes it all. The tests run in
# file order and build on one another: the first installs, the last removes. Run by
# test/e2e/run.sh only when the cluster has a node (MESHGATE_NODE=1).

_install_selector='app.kubernetes.io/name=meshgate'
_app_ns=e2e-node-app

# shellcheck source=node_lib.sh
source "$REPO_ROOT/test/e2e/node_lib.sh"

# _sidecar_identity NS SELECTOR — the sidecar's /identity, read over the bridge at the pod's address.
_sidecar_identity() {
  curl -sf --max-time 3 "http://$(_pod_ip "$1" "$2"):15000/identity"
}

# _serial_differs NS SELECTOR SERIAL — for wait_for: the sidecar serves another certificate.
_serial_differs() {
  local serial
  serial=$(_sidecar_identity "$1" "$2" | jq -r '.serial // ""')
  [ -n "$serial" ] && [ "$serial" != "$3" ]
}

test_install_with_kubectl_apply_k_brings_every_component_up() {
  local archive holder operators deployment
  step "import the images of make images into the node's containerd"
  for archive in meshgate-operator meshgate-webhook meshgate-proxy meshgate-init; do
    _import "$MESHGATE_NODE_IMAGES/$archive.oci.tar"
  done
  assert_contains "$(_ctr images ls -q)" "localhost/meshgate/meshgate-operator:"

  step "kubectl apply -k $(_install_kustomization)"
  kubectl apply -k "$(_install_kustomization)" >/dev/null
  wait_for 60 kubectl wait --for condition=established --timeout=10s \
    crd/meshservices.meshgate.io crd/apiroutes.meshgate.io

  step "operator, webhook and gateway Deployments roll out: every replica Ready"
  for deployment in meshgate-operator meshgate-webhook meshgate-gateway; do
    kubectl rollout status -n meshgate-system "deployment/$deployment" --timeout=120s ||
      { _explain_pods meshgate-system; return 1; }
  done
  assert_eq "2 2 2" "$(kubectl get deployment -n meshgate-system -o jsonpath='{.items[?(@.metadata.name=="meshgate-operator")].status.readyReplicas} {.items[?(@.metadata.name=="meshgate-webhook")].status.readyReplicas} {.items[?(@.metadata.name=="meshgate-gateway")].status.readyReplicas}')"

  step "one operator replica leads: the Lease names one of the two pods"
  # shellcheck disable=SC2016 # expanded by the inner shell (or a literal)
  wait_for 30 bash -c '[ -n "$(kubectl get lease meshgate-operator -n meshgate-system -o jsonpath="{.spec.holderIdentity}")" ]'
  holder=$(kubectl get lease meshgate-operator -n meshgate-system -o jsonpath='{.spec.holderIdentity}')
  operators=$(kubectl get pods -n meshgate-system -l app.kubernetes.io/component=operator -o jsonpath='{.items[*].metadata.name}')
  assert_contains "$operators" "${holder%%_*}"

  step "kubectl logs and exec reach the node's kubelet through the apiserver"
  assert_contains "$(kubectl logs -n meshgate-system "${holder%%_*}")" "leader"
  assert_contains "$(kubectl exec -n meshgate-system deploy/meshgate-gateway -- \
    /usr/local/bin/meshgate-proxy --help)" "Usage: /usr/local/bin/meshgate-proxy"

  step "the operator's CA bootstrap filled the webhook configurations' caBundle"
  # shellcheck disable=SC2016 # expanded by the inner shell (or a literal)
  wait_for 30 bash -c '[ -n "$(kubectl get mutatingwebhookconfiguration meshgate-webhook -o jsonpath="{.webhooks[0].clientConfig.caBundle}")" ]'
}

test_injected_pod_starts_with_its_sidecar_and_is_ready() {
  local pod containers restarts identity dir
  dir=$(mktemp -d)
  trap 'rm -rf "$dir"' RETURN
  step "package and import the e2e backend as an image (IMAGE_NAMES=meshgate-test-backend)"
  IMAGE_NAMES=meshgate-test-backend bash "$REPO_ROOT/scripts/images.sh" "$MESHGATE_BUILD_DIR" \
    "$dir" e2e >/dev/null
  _import "$dir/meshgate-test-backend.oci.tar"

  step "a Deployment in a namespace labelled meshgate.io/inject=enabled"
  ensure_namespace "$_app_ns"
  kubectl label namespace "$_app_ns" meshgate.io/inject=enabled --overwrite >/dev/null
  kubectl apply -n "$_app_ns" -f - >/dev/null <<'YAML'
apiVersion: v1
kind: ServiceAccount
metadata: {name: web}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      serviceAccountName: web
      containers:
        - name: web
          image: localhost/meshgate/meshgate-test-backend:e2e
          imagePullPolicy: Never
          args: [--listen, "0.0.0.0:8080", --name, web]
          ports: [{name: http, containerPort: 8080}]
          readinessProbe: {tcpSocket: {port: http}, periodSeconds: 2}
          securityContext: {runAsNonRoot: true, allowPrivilegeEscalation: false}
YAML
  kubectl rollout status -n "$_app_ns" deployment/web --timeout=120s ||
    { _explain_pods "$_app_ns"; return 1; }

  step "each pod has the injected sidecar, which started once and is Ready"
  pod=$(kubectl get pods -n "$_app_ns" -l app=web -o jsonpath='{.items[0].metadata.name}')
  containers=$(kubectl get pod -n "$_app_ns" "$pod" -o jsonpath='{.spec.containers[*].name}')
  assert_eq "web meshgate-proxy" "$containers" "containers of $pod"
  assert_eq "meshgate-init" "$(kubectl get pod -n "$_app_ns" "$pod" -o jsonpath='{.spec.initContainers[*].name}')" \
    "the capture init container"
  assert_eq "true" "$(kubectl get pod -n "$_app_ns" "$pod" -o jsonpath='{.status.containerStatuses[?(@.name=="meshgate-proxy")].ready}')"
  restarts=$(kubectl get pod -n "$_app_ns" "$pod" -o jsonpath='{.status.containerStatuses[?(@.name=="meshgate-proxy")].restartCount}')
  assert_eq 0 "$restarts" "sidecar restarts (its flags are ones meshgate-proxy accepts)"
  assert_contains "$(kubectl get pod -n "$_app_ns" "$pod" -o jsonpath='{.metadata.annotations}')" \
    'meshgate.io/injected'

  step "no MeshService uses the service account yet: the optional identity volume is empty"
  identity=$(_sidecar_identity "$_app_ns" app=web)
  assert_eq none "$(jq -r '.state // "loaded"' <<<"$identity")" "identity before any MeshService"
}

test_identity_secret_is_mounted_and_reloaded_when_reissued() {
  local identity serial
  step "a MeshService for the Deployment: the operator issues meshgate-identity-web"
  kubectl apply -n "$_app_ns" -f - >/dev/null <<'YAML'
apiVersion: meshgate.io/v1alpha1
kind: MeshService
metadata: {name: web}
spec:
  selector: {app: web}
  serviceAccount: web
  ports: [{name: http, port: 80, targetPort: 8080}]
YAML
  # Generous waits: after the whole suite, the operator first works through every object the
  # earlier tests left (at its default 50 requests/s).
  wait_for 120 kubectl get secret meshgate-identity-web -n "$_app_ns"

  step "the kubelet fills the sidecar's volume; the sidecar loads the SPIFFE identity"
  wait_for 90 bash -c "curl -sf --max-time 3 http://\$(kubectl get pods -n $_app_ns -l app=web -o jsonpath='{.items[0].status.podIP}'):15000/identity | jq -e '.spiffeId'"
  identity=$(_sidecar_identity "$_app_ns" app=web)
  assert_eq "spiffe://cluster.local/ns/$_app_ns/sa/web" "$(jq -r .spiffeId <<<"$identity")"
  serial=$(jq -r .serial <<<"$identity")
  assert_eq "$(kubectl get secret meshgate-identity-web -n "$_app_ns" -o jsonpath='{.data.tls\.crt}' |
    base64 -d | openssl x509 -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f' | sed 's/^0*//')" \
    "$(tr 'A-F' 'a-f' <<<"$serial" | sed 's/^0*//')" "the sidecar serves the Secret's certificate"

  step "the operator issues a new certificate (the Secret is deleted); the sidecar reloads it"
  kubectl delete secret meshgate-identity-web -n "$_app_ns" >/dev/null
  wait_for 120 kubectl get secret meshgate-identity-web -n "$_app_ns"
  wait_for 90 _serial_differs "$_app_ns" app=web "$serial"
  assert_eq 0 "$(kubectl get pods -n "$_app_ns" -l app=web -o jsonpath='{.items[0].status.containerStatuses[?(@.name=="meshgate-proxy")].restartCount}')" \
    "the reload needed no restart"
}

test_api_route_answers_through_the_gateway_pods() {
  local gateway_ip body
  step "an ApiRoute for the MeshService web, served by the gateway Deployment"
  _gateway_route "$_app_ns" web web.node.e2e.test web 80

  step "through the gateway Service's ClusterIP (kube-proxy) to a backend pod"
  gateway_ip=$(_gateway_ip)
  wait_for 30 curl -sf --max-time 3 -H 'Host: web.node.e2e.test' "http://$gateway_ip/"
  body=$(curl -sf --max-time 3 -D - -H 'Host: web.node.e2e.test' "http://$gateway_ip/")
  assert_contains "$body" "x-backend: web"
  step "an unknown host gets the gateway's 404"
  assert_eq 404 "$(curl -s --max-time 3 -o /dev/null -w '%{http_code}' -H 'Host: nobody.e2e.test' "http://$gateway_ip/")"

  step "a route to a MeshService with no ready pod answers 503; every other route keeps serving"
  kubectl apply -n "$_app_ns" -f - >/dev/null <<'YAML'
apiVersion: meshgate.io/v1alpha1
kind: MeshService
metadata: {name: idle}
spec:
  selector: {app: nothing-runs-this}
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: meshgate.io/v1alpha1
kind: ApiRoute
metadata: {name: idle}
spec:
  ingressClassName: meshgate
  hosts: [idle.node.e2e.test]
  rules:
    - backends: [{service: idle, port: 80}]
YAML
  wait_for 60 bash -c "[ \"\$(kubectl get apiroute idle -n $_app_ns -o jsonpath='{.status.conditions[?(@.type==\"Programmed\")].status}')\" = True ]"
  assert_eq 503 "$(curl -s --max-time 3 -o /dev/null -w '%{http_code}' -H 'Host: idle.node.e2e.test' "http://$gateway_ip/")"
  assert_contains "$(curl -s --max-time 3 -D - -H 'Host: web.node.e2e.test' "http://$gateway_ip/")" "x-backend: web"
}

test_an_image_that_was_not_imported_is_never_fetched_from_outside() {
  local message
  step "a pod naming an image of a remote registry: the pull fails on this machine, no lookup"
  kubectl run remote-image -n "$_app_ns" --image=registry.example/app:1 >/dev/null
  # The namespace is injected: the pod's own container is the one named remote-image.
  wait_for 60 bash -c "kubectl get pod remote-image -n $_app_ns -o jsonpath='{.status.containerStatuses[?(@.name==\"remote-image\")].state.waiting.message}' | grep -q proxyconnect"
  message=$(kubectl get pod remote-image -n "$_app_ns" -o jsonpath='{.status.containerStatuses[?(@.name=="remote-image")].state.waiting.message}')
  assert_contains "$message" "proxyconnect tcp: dial tcp 127.0.0.1:9: connect: connection refused"
  kubectl delete pod remote-image -n "$_app_ns" --wait=false >/dev/null
}

test_delete_k_removes_the_install() {
  step "kubectl delete -k $(_install_kustomization) and the app namespace"
  kubectl delete namespace "$_app_ns" --wait=false >/dev/null
  kubectl delete -k "$(_install_kustomization)" --wait=false >/dev/null
  wait_for 120 bash -c "[ -z \"\$(kubectl get pods -A -l $_install_selector -o name)\" ]"
  wait_gone 120 namespace meshgate-system
  wait_gone 120 namespace "$_app_ns"
  wait_gone 60 crd meshservices.meshgate.io
  step "the node runs no container of meshgate's images any more"
  wait_for 60 bash -c "! ctr --address '$MESHGATE_NODE_CONTAINERD' -n k8s.io containers ls | grep -q 'localhost/meshgate/meshgate-[a-z-]*:'"
}
