# shellcheck shell=bash
# meshgate-webhook against the real control plane, as a local process with only its RBAC
# (webhook.kubeconfig; helpers in webhook_lib.sh), called by the apiserver through
# WebhookConfigurations with clientConfig.url: sidecar injection of pods (opt-in by namespace
# label or pod annotation, opt-out, idempotent, hostNetwork refused with a warning), invalid
# MeshServices and ApiRoutes denied through kubectl with the field path and the rule,
# allowed-hosts and cross-namespace conflicts, a warning for a missing backend, policy from a
# reloaded config file, a serving-certificate rotation under load with zero failed admissions,
# and the config/webhook manifests accepted by the apiserver. Run by test/e2e/run.sh.

# shellcheck source=webhook_lib.sh
source "$REPO_ROOT/test/e2e/webhook_lib.sh"

_webhook_setup() {
  kubectl apply -R -f config/rbac/ >/dev/null
  kubectl apply -f crds/ >/dev/null
  wait_for 60 kubectl wait --for condition=established --timeout=10s crd/meshservices.meshgate.io crd/apiroutes.meshgate.io >/dev/null
  WEBHOOK_DIR=$(mktemp -d)
  _webhook_ca "$WEBHOOK_DIR"
  _webhook_issue "$WEBHOOK_DIR" >/dev/null
}

test_pods_are_injected_by_namespace_label_or_annotation() {
  _webhook_setup
  local log=$WEBHOOK_DIR/webhook.log sel=e2e-inject ns plain pod out
  trap '_unregister_webhooks e2e-inject; _stop_webhook; rm -rf $WEBHOOK_DIR' RETURN
  _start_webhook "$log" "$WEBHOOK_DIR"
  _register_webhooks e2e-inject "$WEBHOOK_DIR"
  ns=$(_webhook_namespace "$sel" inj meshgate.io/inject=enabled)
  plain=$(_webhook_namespace "$sel" plain)

  step "a pod in a labelled namespace gets the sidecar, its identity volume and the annotation"
  _pod_yaml web | kubectl apply -n "$ns" -f - >/dev/null
  pod=$(kubectl get pod web -n "$ns" -o json)
  assert_eq "app meshgate-proxy" "$(_containers "$ns" web)"
  assert_eq "meshgate-identity-default" "$(jq -r '.spec.volumes[] | select(.name=="meshgate-identity") | .secret.secretName' <<<"$pod")"
  assert_eq "0.1.0" "$(jq -r '.metadata.annotations["meshgate.io/injected"]' <<<"$pod")"
  local sidecar
  sidecar=$(jq -c '.spec.containers[] | select(.name=="meshgate-proxy")' <<<"$pod")
  assert_eq "15000 15001 15006" "$(jq -r '[.ports[].containerPort] | sort | map(tostring) | join(" ")' <<<"$sidecar")"
  assert_eq "/ready" "$(jq -r '.readinessProbe.httpGet.path' <<<"$sidecar")"
  assert_eq "true true ALL" "$(jq -r '[.securityContext.runAsNonRoot, .securityContext.readOnlyRootFilesystem, .securityContext.capabilities.drop[0]] | map(tostring) | join(" ")' <<<"$sidecar")"
  assert_contains "$(jq -c '.args' <<<"$sidecar")" '"sidecar"'
  assert_eq "/var/run/meshgate/identity" "$(jq -r '.volumeMounts[] | select(.name=="meshgate-identity") | .mountPath' <<<"$sidecar")"

  step "opt-out annotation: untouched"
  _pod_yaml optout '{"meshgate.io/inject": "false"}' | kubectl apply -n "$ns" -f - >/dev/null
  assert_eq "app" "$(_containers "$ns" optout)"

  step "unlabelled namespace: only pods annotated true are injected"
  _pod_yaml bare | kubectl apply -n "$plain" -f - >/dev/null
  assert_eq "app" "$(_containers "$plain" bare)"
  _pod_yaml asked '{"meshgate.io/inject": "true"}' | kubectl apply -n "$plain" -f - >/dev/null
  assert_eq "app meshgate-proxy" "$(_containers "$plain" asked)"

  step "re-admitting an injected pod is a no-op"
  jq '.metadata = {name: "again", annotations: .metadata.annotations} | del(.status) | del(.spec.nodeName)' <<<"$pod" |
    kubectl create -n "$ns" -f - >/dev/null
  assert_eq "app meshgate-proxy" "$(_containers "$ns" again)"
  assert_eq 1 "$(kubectl get pod again -n "$ns" -o json | jq '[.spec.volumes[] | select(.name=="meshgate-identity")] | length')"

  step "hostNetwork: admitted without the sidecar, with a warning saying why"
  out=$(_pod_yaml hostnet '{}' true | kubectl apply -n "$ns" -f - 2>&1)
  assert_contains "$out" "Warning: "
  assert_contains "$out" "hostNetwork"
  assert_eq "app" "$(_containers "$ns" hostnet)"

  step "a malformed AdmissionReview gets HTTP 400 and the webhook keeps serving"
  local code
  code=$(curl -s -o "$WEBHOOK_DIR/body" -w '%{http_code}' --max-time 5 --cacert "$WEBHOOK_DIR/ca.crt" \
    -H 'Content-Type: application/json' -d '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}' \
    "https://localhost:$WEBHOOK_PORT/mutate-v1-pod")
  assert_eq 400 "$code"
  assert_contains "$(cat "$WEBHOOK_DIR/body")" "request: Required value"
  _pod_yaml after | kubectl apply -n "$ns" -f - >/dev/null
  assert_eq "app meshgate-proxy" "$(_containers "$ns" after)"
  assert_contains "$(curl -sf "$WEBHOOK_METRICS_URL")" 'meshgate_webhook_admission_requests_total{webhook="pod-injection",operation="CREATE",result="patched"}'
}

# The batch: testdata/webhook_invalid (one broken rule each; "# by:" says which layer of the
# apiserver denies it — the CRD schema runs before validating webhooks and catches the rules it can
# express, the webhook the rest; its unit test checks the webhook alone denies every one) and
# testdata/webhook_policy (allowed hosts, cross-namespace conflicts, the maxRateLimitBurst policy).
test_invalid_objects_are_denied_with_field_path_and_rule() {
  _webhook_setup
  local log=$WEBHOOK_DIR/webhook.log config=$WEBHOOK_DIR/config.yaml file expect by out total=0 by_webhook=0
  trap '_unregister_webhooks e2e-invalid; _stop_webhook; rm -rf $WEBHOOK_DIR' RETURN
  printf 'policy:\n  maxRateLimitBurst: 100\n' >"$config"
  _start_webhook "$log" "$WEBHOOK_DIR" --config "$config"
  _register_webhooks e2e-invalid "$WEBHOOK_DIR"
  for ns in wh-invalid wh-owner; do
    ensure_namespace "$ns"
    kubectl label namespace "$ns" e2e.meshgate.io/webhook=e2e-invalid --overwrite >/dev/null
  done
  kubectl annotate namespace wh-invalid 'meshgate.io/allowed-hosts=*.invalid.example.com' --overwrite >/dev/null
  kubectl apply -n wh-owner -f - >/dev/null <<YAML
apiVersion: meshgate.io/v1alpha1
kind: ApiRoute
metadata: {name: owner}
spec:
  hosts: [shop.invalid.example.com]
  rules:
    - matches: [{path: {type: PathPrefix, value: /orders}}, {path: {type: Exact, value: /exact}}]
      backends: [{service: orders, port: 8080}]
---
apiVersion: meshgate.io/v1alpha1
kind: ApiRoute
metadata: {name: owner-catchall}
spec:
  hosts: [catch.invalid.example.com]
  rules: [{backends: [{service: orders, port: 8080}]}]
YAML
  # The webhook's caches see the annotation and the owner's routes a moment after the apiserver.
  wait_for 20 bash -c "kubectl apply --dry-run=server -f test/e2e/testdata/webhook_policy/01_host_outside_allowed_hosts.yaml 2>&1 | grep -q 'allowed hosts'"
  wait_for 20 bash -c "kubectl apply --dry-run=server -f test/e2e/testdata/webhook_policy/06_conflict_rule_without_matches.yaml 2>&1 | grep -q 'already served'"

  for file in test/e2e/testdata/webhook_invalid/*.yaml test/e2e/testdata/webhook_policy/*.yaml; do
    expect=$(sed -nE '1s/^# expect: //p' "$file")
    by=$(sed -nE 's/^# by: ([a-z]+).*/\1/p' "$file" | head -n 1)
    [ -n "$expect" ] && [ -n "$by" ] || { echo "$file lacks '# expect:' or '# by:'" >&2; return 1; }
    out=$(expect_fail kubectl apply -f "$file")
    if [ "$by" = webhook ]; then
      assert_contains "$out" 'admission webhook "v' "$file is denied by meshgate's validating webhook"
      by_webhook=$((by_webhook + 1))
    else
      assert_contains "$out" " is invalid: " "$file is denied by the CRD schema"
    fi
    assert_contains "$out" "$expect" "$file"
    total=$((total + 1))
  done
  assert_ge "$total" 30
  assert_ge "$by_webhook" 16
  assert_eq "" "$(kubectl get ms,ar -n wh-invalid -o name)"
}

test_allowed_hosts_conflicts_warnings_and_reloaded_policy() {
  _webhook_setup
  local log=$WEBHOOK_DIR/webhook.log config=$WEBHOOK_DIR/config.yaml shop other out
  trap '_unregister_webhooks e2e-policy; _stop_webhook; rm -rf $WEBHOOK_DIR' RETURN
  printf 'policy:\n  requireTLS: false\n' >"$config"
  _start_webhook "$log" "$WEBHOOK_DIR" --config "$config"
  _register_webhooks e2e-policy "$WEBHOOK_DIR"
  shop=$(_webhook_namespace e2e-policy shop)
  other=$(_webhook_namespace e2e-policy other)
  kubectl annotate namespace "$shop" 'meshgate.io/allowed-hosts=*.shop.example.com' >/dev/null
  # The webhook's namespace cache sees the annotation a moment after the apiserver.
  wait_for 20 bash -c "kubectl apply --dry-run=server -n $shop -f - <<<'$(_route_yaml pay pay.example.com /)' 2>&1 | grep -q 'allowed hosts'"

  step "a host outside the namespace's allowed hosts is denied with the annotation quoted"
  out=$(expect_fail kubectl apply -n "$shop" -f - <<<"$(_route_yaml pay pay.example.com /)")
  assert_contains "$out" 'admission webhook "vapiroute.meshgate.io" denied the request: spec.hosts[0]: Forbidden: host "pay.example.com" is not in this namespace'"'"'s allowed hosts (meshgate.io/allowed-hosts: "*.shop.example.com")'

  step "an allowed host with a missing backend: created, with a warning"
  out=$(kubectl apply -n "$shop" -f - 2>&1 <<<"$(_route_yaml store api.shop.example.com /api)")
  assert_contains "$out" 'Warning: spec.rules[0].backends[0].service: MeshService "orders" not found'
  assert_contains "$out" "apiroute.meshgate.io/store created"

  step "the same host and match from another namespace is denied naming the owner"
  out=$(expect_fail kubectl apply -n "$other" -f - <<<"$(_route_yaml thief api.shop.example.com /api)")
  assert_contains "$out" "is already served by the older ApiRoute $shop/store"
  kubectl apply -n "$other" -f - >/dev/null 2>&1 <<<"$(_route_yaml neighbour api.shop.example.com /other)"

  step "the defaulting webhook fills serviceAccount from the name"
  kubectl apply -n "$shop" -f - >/dev/null <<YAML
apiVersion: meshgate.io/v1alpha1
kind: MeshService
metadata: {name: orders}
spec:
  endpoints: [{address: 10.1.0.1}]
  ports: [{name: http, port: 8080}]
YAML
  assert_eq "orders 8080" "$(kubectl get ms orders -n "$shop" -o jsonpath='{.spec.serviceAccount} {.spec.ports[0].targetPort}')"

  step "allowed hosts narrowed later: the stored route stays updatable (ratcheting), with a warning"
  kubectl annotate namespace "$shop" 'meshgate.io/allowed-hosts=*.other.example.com' --overwrite >/dev/null
  wait_for 20 bash -c "kubectl apply --dry-run=server -n $shop -f - <<<'$(_route_yaml fresh api.shop.example.com /fresh)' 2>&1 | grep -q 'allowed hosts'"
  out=$(kubectl label apiroute store -n "$shop" tier=gold 2>&1)
  assert_contains "$out" "apiroute.meshgate.io/store labeled"
  assert_contains "$out" "(allowed: the object was already so before this update)"
  kubectl annotate namespace "$shop" 'meshgate.io/allowed-hosts=*.shop.example.com' --overwrite >/dev/null
  wait_for 20 bash -c "kubectl apply --dry-run=server -n $shop -f - <<<'$(_route_yaml fresh api.shop.example.com /fresh)' 2>&1 | grep -q 'created'"

  step "a new config requiring TLS is applied without a restart"
  printf 'policy:\n  requireTLS: true\n' >"$config.new"
  mv "$config.new" "$config"
  wait_for 20 bash -c "! kubectl apply --dry-run=server -n $shop -f - <<<'$(_route_yaml tlsless web.shop.example.com /)' 2>&1 | grep -q created"
  out=$(expect_fail kubectl apply -n "$shop" -f - <<<"$(_route_yaml tlsless web.shop.example.com /)")
  assert_contains "$out" "spec.tls: Required value: the webhook policy requires TLS on every ApiRoute host"

  step "a bad config is refused and the last good one keeps deciding"
  printf 'policy:\n  requireTLS: maybe\n' >"$config.new"
  mv "$config.new" "$config"
  wait_for 20 grep -q "config not reloaded" "$log"
  out=$(expect_fail kubectl apply -n "$shop" -f - <<<"$(_route_yaml tlsless web.shop.example.com /)")
  assert_contains "$out" "spec.tls: Required value"
}

# _route_yaml NAME HOST PATH — an ApiRoute to the MeshService orders:8080.
_route_yaml() {
  cat <<YAML
apiVersion: meshgate.io/v1alpha1
kind: ApiRoute
metadata: {name: $1}
spec:
  hosts: [$2]
  rules:
    - matches: [{path: {type: PathPrefix, value: $3}}]
      backends: [{service: orders, port: 8080}]
YAML
}

test_serving_certificate_rotates_under_load_without_failed_admissions() {
  _webhook_setup
  local log=$WEBHOOK_DIR/webhook.log ns first second third i failures=0 clients=()
  trap '_unregister_webhooks e2e-rotate; _stop_webhook; rm -rf $WEBHOOK_DIR' RETURN
  _start_webhook "$log" "$WEBHOOK_DIR"
  _register_webhooks e2e-rotate "$WEBHOOK_DIR"
  ns=$(_webhook_namespace e2e-rotate rot meshgate.io/inject=enabled)
  first=$(_served_serial "$WEBHOOK_PORT")

  step "60 pods created by 3 parallel clients while the certificate is replaced twice"
  for i in 0 1 2; do
    (
      for j in $(seq 0 19); do
        _pod_yaml "p$i-$j" | kubectl create -n "$ns" -f - >/dev/null 2>>"$WEBHOOK_DIR/failures" || echo "p$i-$j" >>"$WEBHOOK_DIR/failed"
      done
    ) &
    clients+=($!)
  done
  wait_for 60 bash -c "[ \$(kubectl get pods -n $ns -o name | wc -l) -ge 10 ]"
  second=$(_webhook_issue "$WEBHOOK_DIR")
  wait_for 20 bash -c "[ \"\$(openssl s_client -connect 127.0.0.1:$WEBHOOK_PORT -servername localhost </dev/null 2>/dev/null | openssl x509 -noout -serial | cut -d= -f2)\" = $second ]"
  wait_for 60 bash -c "[ \$(kubectl get pods -n $ns -o name | wc -l) -ge 35 ]"
  third=$(_webhook_issue "$WEBHOOK_DIR")
  wait_for 20 bash -c "[ \"\$(openssl s_client -connect 127.0.0.1:$WEBHOOK_PORT -servername localhost </dev/null 2>/dev/null | openssl x509 -noout -serial | cut -d= -f2)\" = $third ]"
  wait "${clients[@]}"
  [ ! -s "$WEBHOOK_DIR/failed" ] || failures=$(wc -l <"$WEBHOOK_DIR/failed")
  [ "$failures" -eq 0 ] || cat "$WEBHOOK_DIR/failures" >&2
  assert_eq 0 "$failures" "failed admissions"
  assert_eq 60 "$(kubectl get pods -n "$ns" -o json | jq '[.items[] | select([.spec.containers[].name] | index("meshgate-proxy"))] | length')"
  [ "$first" != "$second" ] && [ "$second" != "$third" ]
  assert_ge "$(grep -c 'serving certificate reloaded' "$log")" 2
}

test_webhook_manifests_are_accepted_by_the_apiserver() {
  ensure_namespace meshgate-system
  kubectl apply -R -f config/rbac/ >/dev/null
  local out
  out=$(kubectl apply --dry-run=server -f config/webhook/ 2>&1)
  for kind in mutatingwebhookconfiguration.admissionregistration.k8s.io/meshgate-webhook \
    validatingwebhookconfiguration.admissionregistration.k8s.io/meshgate-webhook \
    service/meshgate-webhook deployment.apps/meshgate-webhook \
    poddisruptionbudget.policy/meshgate-webhook configmap/meshgate-webhook-config; do
    assert_contains "$out" "$kind created (server dry run)"
  done
}
