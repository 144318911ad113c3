# shellcheck shell=bash
# Helpers for the e2e tests that run meshgate-webhook as a local process with only its RBAC
# (webhook.kubeconfig), registered with the real apiserver by clientConfig.url on 127.0.0.1;
# sourced by 60_webhook_test.sh. Its serving certificate lives in a directory laid out like a
# Kubernetes Secret volume (tls.crt and tls.key are symlinks through "..data"), so a rotation
# swaps one symlink, as the kubelet does.

_webhook_bin() { echo "${MESHGATE_BUILD_DIR:-build}/bin/meshgate-webhook"; }

# _webhook_ca DIR — a CA for the webhook's serving certificates: DIR/ca.crt, DIR/ca.key.
_webhook_ca() {
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
    -keyout "$1/ca.key" -out "$1/ca.crt" -subj "/CN=meshgate-e2e-webhook-ca" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
}

# _webhook_issue DIR — a new serving certificate (SANs 127.0.0.1 and localhost) signed by DIR's
# CA, published into DIR/certs as the kubelet updates a Secret volume: the pair goes into a new
# timestamped directory, then "..data" is switched to it by one rename. Prints the serial.
_webhook_issue() {
  local dir=$1 certs=$1/certs gen
  mkdir -p "$certs"
  gen="..$(date +%s%N)"
  mkdir "$certs/$gen"
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$certs/$gen/tls.key" \
    -out "$dir/leaf.csr" -subj "/CN=meshgate-webhook" 2>/dev/null
  openssl x509 -req -in "$dir/leaf.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial \
    -days 1 -out "$certs/$gen/tls.crt" -extfile <(printf '%s\n' \
      "subjectAltName=IP:127.0.0.1,DNS:localhost" "basicConstraints=critical,CA:FALSE" \
      "keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth") 2>/dev/null
  ln -sfn "$gen" "$certs/..data_tmp"
  mv -T "$certs/..data_tmp" "$certs/..data"
  [ -L "$certs/tls.crt" ] || ln -s ..data/tls.crt "$certs/tls.crt"
  [ -L "$certs/tls.key" ] || ln -s ..data/tls.key "$certs/tls.key"
  openssl x509 -in "$certs/tls.crt" -noout -serial | cut -d= -f2
}

# _served_serial PORT — the serial of the certificate the webhook presents to a new connection.
_served_serial() {
  openssl s_client -connect "127.0.0.1:$1" -servername localhost </dev/null 2>/dev/null |
    openssl x509 -noout -serial | cut -d= -f2
}

# _start_webhook LOG DIR [ARGS...] — starts meshgate-webhook with DIR/certs and waits until it
# serves; sets WEBHOOK_PID, WEBHOOK_PORT, WEBHOOK_METRICS_URL and WEBHOOK_READYZ_URL.
# WEBHOOK_LAUNCHER prefixes the command (the benchmark pins it with "taskset -c 0").
_start_webhook() {
  local log=$1 dir=$2 ports
  shift 2
  # shellcheck disable=SC2086 # a command prefix, split on purpose
  ${WEBHOOK_LAUNCHER:-} "$(_webhook_bin)" --kubeconfig "$MESHGATE_CLUSTER_DIR/webhook.kubeconfig" \
    --bind-address 127.0.0.1:0 --cert-dir "$dir/certs" \
    --metrics-bind-address 127.0.0.1:0 --health-probe-bind-address 127.0.0.1:0 "$@" >"$log" 2>&1 &
  WEBHOOK_PID=$!
  wait_for 60 grep -q 'serving admission on' "$log"
  WEBHOOK_PORT=$(sed -nE 's/.*serving admission on .* \(port ([0-9]+)\).*/\1/p' "$log")
  ports=$(sed -nE 's/.*probe server listening on 127\.0\.0\.1:([0-9]+).*/\1/p' "$log")
  WEBHOOK_METRICS_URL="http://127.0.0.1:$(sed -n 1p <<<"$ports")/metrics"
  WEBHOOK_READYZ_URL="http://127.0.0.1:$(sed -n 2p <<<"$ports")/readyz"
  wait_for 30 curl -sf --max-time 2 "$WEBHOOK_READYZ_URL"
}

_stop_webhook() {
  [ -z "${WEBHOOK_PID:-}" ] || { kill -TERM "$WEBHOOK_PID" 2>/dev/null || true; wait "$WEBHOOK_PID" 2>/dev/null || true; }
  WEBHOOK_PID=""
}

# _register_webhooks NAME DIR — Mutating and Validating WebhookConfigurations NAME that send the
# admissions of namespaces labelled e2e.meshgate.io/webhook=NAME to the local webhook. Other
# tests' namespaces are untouched. failurePolicy Fail everywhere, so a failed call fails kubectl.
_register_webhooks() {
  local name=$1 ca url
  ca=$(base64 -w0 <"$2/ca.crt")
  url="https://127.0.0.1:$WEBHOOK_PORT"
  kubectl apply -f - >/dev/null <<YAML
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata:
  name: $name
webhooks:
$(_webhook_entry inject.meshgate.io "$url/mutate-v1-pod" "$ca" "$name" '' v1 pods IfNeeded)
$(_webhook_entry mmeshservice.meshgate.io "$url/mutate-meshgate-io-v1alpha1-meshservice" "$ca" "$name" meshgate.io v1alpha1 meshservices Never)
$(_webhook_entry mapiroute.meshgate.io "$url/mutate-meshgate-io-v1alpha1-apiroute" "$ca" "$name" meshgate.io v1alpha1 apiroutes Never)
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata:
  name: $name
webhooks:
$(_webhook_entry vmeshservice.meshgate.io "$url/validate-meshgate-io-v1alpha1-meshservice" "$ca" "$name" meshgate.io v1alpha1 meshservices)
$(_webhook_entry vapiroute.meshgate.io "$url/validate-meshgate-io-v1alpha1-apiroute" "$ca" "$name" meshgate.io v1alpha1 apiroutes)
YAML
  # The apiserver learns of new configurations from its own informer, a moment later: wait until
  # both answer for a sentinel namespace (an injected dry-run pod, a denied dry-run ApiRoute).
  local sentinel
  sentinel=$(_webhook_namespace "$name" sentinel meshgate.io/inject=enabled)
  kubectl annotate namespace "$sentinel" meshgate.io/allowed-hosts=none.invalid >/dev/null
  _pod_yaml sentinel >"$2/sentinel-pod.yaml"
  printf '%s\n' "apiVersion: meshgate.io/v1alpha1" "kind: ApiRoute" "metadata: {name: sentinel}" \
    "spec: {hosts: [sentinel.example.com], rules: [{backends: [{service: s, port: 80}]}]}" >"$2/sentinel-route.yaml"
  wait_for 30 bash -c "kubectl create --dry-run=server -n $sentinel -f $2/sentinel-pod.yaml -o jsonpath='{.spec.containers[*].name}' | grep -q meshgate-proxy"
  wait_for 30 bash -c "kubectl create --dry-run=server -n $sentinel -f $2/sentinel-route.yaml 2>&1 | grep -q 'admission webhook \"vapiroute.meshgate.io\" denied'"
}

# One entry of webhooks[]: NAME URL CA SELECTOR GROUP VERSION RESOURCE [REINVOCATION].
_webhook_entry() {
  local operations='["CREATE", "UPDATE"]'
  [ "$7" != pods ] || operations='["CREATE"]'
  cat <<YAML
  - name: $1
    clientConfig: {url: "$2", caBundle: "$3"}
    rules: [{apiGroups: ["$5"], apiVersions: ["$6"], operations: $operations, resources: ["$7"], scope: Namespaced}]
    namespaceSelector: {matchLabels: {e2e.meshgate.io/webhook: "$4"}}
    sideEffects: None
    admissionReviewVersions: [v1]
    timeoutSeconds: 5
    failurePolicy: Fail
YAML
  [ -z "${8:-}" ] || echo "    reinvocationPolicy: $8"
}

_unregister_webhooks() {
  kubectl delete mutatingwebhookconfiguration "$1" --ignore-not-found >/dev/null
  kubectl delete validatingwebhookconfiguration "$1" --ignore-not-found >/dev/null
}

# _webhook_namespace SELECTOR PREFIX [LABEL=VALUE...] — a new namespace the registered webhooks
# serve, created with its labels in one request (as a GitOps apply would), so no admission sees
# it half-labelled. Prints its name.
_webhook_namespace() {
  local selector=$1 ns label
  ns="$2-$(head -c 4 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  shift 2
  {
    printf 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: %s\n  labels:\n' "$ns"
    printf '    e2e.meshgate.io/webhook: "%s"\n' "$selector"
    for label in "$@"; do printf '    %s: "%s"\n' "${label%%=*}" "${label#*=}"; done
  } | kubectl create -f - >/dev/null
  # Pods name a service account; the controller-manager creates "default" just after the namespace.
  wait_for 30 kubectl get serviceaccount default -n "$ns" >/dev/null
  echo "$ns"
}

# _pod_yaml NAME [ANNOTATIONS_JSON] [HOST_NETWORK] — a minimal pod that never runs: admission is
# what is under test, and a scheduler of that name does not exist, so it is never bound to the
# node (whose kubelet would try to pull its image).
_pod_yaml() {
  cat <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: $1
  annotations: ${2:-{\}}
spec:
  schedulerName: meshgate-e2e-admission-only
  hostNetwork: ${3:-false}
  automountServiceAccountToken: false
  containers:
    - name: app
      image: registry.example/app:1
YAML
}

_containers() { kubectl get pod "$2" -n "$1" -o jsonpath='{.spec.containers[*].name}'; }
