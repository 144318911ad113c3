# shellcheck shell=bash
# meshgate-operator against the real control plane, as a local process with only its RBAC
# (operator.kubeconfig; helpers in operator_lib.sh): MeshService → Service, static EndpointSlice and identity certificate with
# owner references and status that says why; spec changes followed; drift reverted; garbage
# collection by the real controller-manager; certificates that verify against the mesh CA; zero
# writes when idle; convergence after kill -9. Run by test/e2e/run.sh.

# shellcheck source=operator_lib.sh
source "$REPO_ROOT/test/e2e/operator_lib.sh"

test_meshservice_children_status_drift_and_garbage_collection() {
  _prepare_operator
  local ns log
  ns=$(new_namespace op)
  log=$(mktemp)
  trap '_stop_operator; rm -f $log' RETURN
  _start_operator "$log" --leader-elect --leader-election-id e2e-children

  _apply_static_ms "$ns" billing
  wait_for 30 bash -c "[ \"\$(kubectl get ms billing -n $ns -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}')\" = True ]"
  assert_eq "2 of 2 endpoints ready" "$(kubectl get ms billing -n "$ns" -o jsonpath='{.status.conditions[?(@.type=="Ready")].message}')"
  assert_eq 1 "$(kubectl get ms billing -n "$ns" -o jsonpath='{.status.observedGeneration}')"
  local uid
  uid=$(kubectl get ms billing -n "$ns" -o jsonpath='{.metadata.uid}')
  step "children carry the controller owner reference"
  assert_eq "$uid" "$(kubectl get svc billing -n "$ns" -o jsonpath='{.metadata.ownerReferences[?(@.controller==true)].uid}')"
  assert_eq "$uid" "$(kubectl get endpointslice billing-static-ipv4 -n "$ns" -o jsonpath='{.metadata.ownerReferences[0].uid}')"
  assert_eq "10.20.0.1" "$(kubectl get endpointslice billing-static-ipv4 -n "$ns" -o jsonpath='{.endpoints[*].addresses[0]}')"
  assert_eq "$uid" "$(kubectl get secret meshgate-identity-billing -n "$ns" -o jsonpath='{.metadata.ownerReferences[0].uid}')"
  kubectl get events -n "$ns" --field-selector involvedObject.name=billing -o jsonpath='{.items[*].reason}' | grep -q Created

  step "a port change reaches the Service"
  _apply_static_ms "$ns" billing 9090
  wait_for 30 bash -c "[ \"\$(kubectl get svc billing -n $ns -o jsonpath='{.spec.ports[0].port}')\" = 9090 ]"
  wait_for 30 bash -c "[ \"\$(kubectl get ms billing -n $ns -o jsonpath='{.status.observedGeneration}')\" = 2 ]"

  step "drift is reverted"
  kubectl patch svc billing -n "$ns" --type merge -p '{"spec":{"ports":[{"name":"http","port":9090,"targetPort":9999}]}}' >/dev/null
  wait_for 30 bash -c "[ \"\$(kubectl get svc billing -n $ns -o jsonpath='{.spec.ports[0].targetPort}')\" = 8080 ]"
  kubectl delete endpointslice billing-static-ipv4 -n "$ns" >/dev/null
  wait_for 30 kubectl get endpointslice billing-static-ipv4 -n "$ns"
  kubectl delete secret meshgate-identity-billing -n "$ns" >/dev/null
  wait_for 30 kubectl get secret meshgate-identity-billing -n "$ns"

  step "delete: the controller-manager collects the children"
  kubectl delete ms billing -n "$ns" >/dev/null
  wait_gone 60 svc billing -n "$ns"
  wait_gone 60 endpointslice billing-static-ipv4 -n "$ns"
  wait_gone 60 secret meshgate-identity-billing -n "$ns"
}

test_identity_certificate_verifies_against_the_mesh_ca() {
  _prepare_operator
  local ns log dir
  ns=$(new_namespace cert)
  log=$(mktemp)
  dir=$(mktemp -d)
  trap '_stop_operator; rm -rf $log $dir' RETURN
  _start_operator "$log" --leader-elect --leader-election-id e2e-cert
  _apply_static_ms "$ns" payments
  wait_for 30 kubectl get secret meshgate-identity-payments -n "$ns"
  assert_eq kubernetes.io/tls "$(kubectl get secret meshgate-identity-payments -n "$ns" -o jsonpath='{.type}')"
  kubectl get secret meshgate-identity-payments -n "$ns" -o jsonpath='{.data.tls\.crt}' | base64 -d >"$dir/leaf.pem"
  kubectl get secret meshgate-identity-payments -n "$ns" -o jsonpath='{.data.ca\.crt}' | base64 -d >"$dir/ca.pem"
  kubectl get configmap meshgate-ca-bundle -n meshgate-system -o jsonpath='{.data.ca\.crt}' >"$dir/bundle.pem"
  openssl verify -CAfile "$dir/bundle.pem" "$dir/leaf.pem"
  openssl verify -CAfile "$dir/ca.pem" "$dir/leaf.pem"
  local sans
  sans=$(openssl x509 -in "$dir/leaf.pem" -noout -ext subjectAltName)
  assert_contains "$sans" "URI:spiffe://cluster.local/ns/$ns/sa/payments"
  assert_eq "spiffe://cluster.local/ns/$ns/sa/payments" "$(kubectl get ms payments -n "$ns" -o jsonpath='{.status.identity}')"
  # The CA itself is an ECDSA P-256 root in a kubernetes.io/tls Secret.
  kubectl get secret meshgate-ca -n meshgate-system -o jsonpath='{.data.tls\.crt}' | base64 -d >"$dir/root.pem"
  assert_contains "$(openssl x509 -in "$dir/root.pem" -noout -text)" "CA:TRUE"
  assert_contains "$(openssl x509 -in "$dir/root.pem" -noout -text)" "prime256v1"
  step "certificate metrics: issued count and seconds to the earliest expiry (24 h leaves)"
  local metrics expiry
  metrics=$(curl -s --max-time 5 "$METRICS_URL")
  assert_ge "$(awk '/^meshgate_certificates_issued_total/ {print int($2)}' <<<"$metrics")" 1 "certificates issued"
  expiry=$(awk '/^meshgate_certificate_expiry_seconds/ {print int($2)}' <<<"$metrics")
  assert_ge "$expiry" 80000 "seconds to the earliest expiry"
  assert_ge 86400 "$expiry" "seconds to the earliest expiry"
}

test_webhook_serving_certificate_and_ca_bundle() {
  _prepare_operator
  local log dir kind
  log=$(mktemp)
  dir=$(mktemp -d)
  trap '_stop_operator; kubectl delete validatingwebhookconfiguration,mutatingwebhookconfiguration e2e-meshgate --ignore-not-found >/dev/null; rm -rf $log $dir' RETURN
  for kind in ValidatingWebhookConfiguration MutatingWebhookConfiguration; do
    kubectl apply -f - >/dev/null <<YAML
apiVersion: admissionregistration.k8s.io/v1
kind: $kind
metadata:
  name: e2e-meshgate
  labels: {meshgate.io/inject-ca-bundle: "true"}
webhooks:
- name: e2e.meshgate.io
  clientConfig:
    service: {name: meshgate-webhook, namespace: meshgate-system, path: /admit, port: 9443}
  rules:
  - {apiGroups: [meshgate.io], apiVersions: [v1alpha1], operations: [CREATE], resources: [apiroutes]}
  # Matches no namespace: the configuration exists only to receive its caBundle.
  namespaceSelector: {matchLabels: {e2e-matches-nothing: "true"}}
  failurePolicy: Ignore
  sideEffects: None
  admissionReviewVersions: [v1]
YAML
  done
  _start_operator "$log" --leader-elect --leader-election-id e2e-webhook

  step "the serving certificate: SANs of the webhook Service, verifies against the bundle"
  wait_for 30 kubectl get secret meshgate-webhook-tls -n meshgate-system
  kubectl get configmap meshgate-ca-bundle -n meshgate-system -o jsonpath='{.data.ca\.crt}' >"$dir/bundle.pem"
  kubectl get secret meshgate-webhook-tls -n meshgate-system -o jsonpath='{.data.tls\.crt}' | base64 -d >"$dir/leaf.pem"
  openssl verify -CAfile "$dir/bundle.pem" "$dir/leaf.pem"
  assert_contains "$(openssl x509 -in "$dir/leaf.pem" -noout -ext subjectAltName)" "DNS:meshgate-webhook.meshgate-system.svc"

  step "both configurations carry the trust bundle as caBundle"
  local want
  want=$(base64 -w0 <"$dir/bundle.pem")
  for kind in validatingwebhookconfiguration mutatingwebhookconfiguration; do
    wait_for 30 bash -c "[ \"\$(kubectl get $kind e2e-meshgate -o jsonpath='{.webhooks[0].clientConfig.caBundle}')\" = '$want' ]"
  done

  step "drift: an overwritten caBundle is restored"
  kubectl patch validatingwebhookconfiguration e2e-meshgate --type json \
    -p '[{"op":"replace","path":"/webhooks/0/clientConfig/caBundle","value":"Ym9ndXM="}]' >/dev/null
  wait_for 30 bash -c "[ \"\$(kubectl get validatingwebhookconfiguration e2e-meshgate -o jsonpath='{.webhooks[0].clientConfig.caBundle}')\" = '$want' ]"
}

# _metric_sum URL REGEX — the sum of the samples whose line matches REGEX.
_metric_sum() {
  curl -s --max-time 5 "$1" | awk -v re="$2" '$0 ~ re {s += $NF} END {print s + 0}'
}

test_no_writes_while_idle() {
  _prepare_operator
  local ns log objects before after reconciles_before reconciles_after i
  local writes='^meshgate_apiserver_requests_total[{]verb="(PATCH|POST|PUT|DELETE)"[}]'
  local reconciles='^meshgate_reconcile_total[{]controller="(meshservice|apiroute)"[}]'
  ns=$(new_namespace idle)
  log=$(mktemp)
  objects=$(mktemp)
  trap '_stop_operator; rm -f $log $objects' RETURN
  for i in $(seq 1 200); do
    _ms_yaml "$ns" "svc-$i" "10.20.$((i / 250)).$((i % 250))" 127.0.0.20
    cat <<YAML
---
apiVersion: meshgate.io/v1alpha1
kind: ApiRoute
metadata: {name: route-$i, namespace: $ns}
spec:
  hosts: [svc-$i.example.com]
  rules:
  - backends: [{service: svc-$i, port: 80}]
YAML
  done >"$objects"
  kubectl apply --server-side -f "$objects" >/dev/null
  # Resync every 20 s: the idle minute below holds about three of them.
  _start_operator "$log" --leader-elect --leader-election-id e2e-idle --resync-period-seconds 20 \
    --kube-api-qps 200 --kube-api-burst 400
  # No gateway runs here: every route is reconciled to Programmed=False, NoDataplane.
  wait_for 120 bash -c "[ \$(kubectl get ar -n $ns -o jsonpath='{range .items[*]}{.status.conditions[?(@.type==\"Programmed\")].reason}{\"\\n\"}{end}' | grep -c NoDataplane) -eq 200 ]"
  # Steady state first: every status at its final verdict (the static slice counted), and the
  # write counter unchanged across 3 s — then count the controllers' writes over an idle minute
  # (Lease renewals and Events go through another client and are not in this metric).
  wait_for 120 bash -c "[ \$(kubectl get ms -n $ns -o jsonpath='{range .items[*]}{.status.conditions[?(@.type==\"Ready\")].message}{\"\\n\"}{end}' | grep -c '2 of 2 endpoints ready') -eq 200 ]"
  wait_for 60 bash -c "a=\$(curl -s '$METRICS_URL' | grep -E '$writes'); sleep 3; [ \"\$a\" = \"\$(curl -s '$METRICS_URL' | grep -E '$writes')\" ]"
  before=$(_metric_sum "$METRICS_URL" "$writes")
  reconciles_before=$(_metric_sum "$METRICS_URL" "$reconciles")
  sleep 60
  after=$(_metric_sum "$METRICS_URL" "$writes")
  reconciles_after=$(_metric_sum "$METRICS_URL" "$reconciles")
  echo "200 MeshServices + 200 ApiRoutes, idle minute: $((after - before)) controller writes, $((reconciles_after - reconciles_before)) reconciles (resyncs)"
  # The resyncs did run (every object reconciled again at least once) and wrote nothing.
  assert_ge "$((reconciles_after - reconciles_before))" 400 "reconciles during the idle minute"
  assert_eq "$before" "$after" "no writes while idle"
}

test_converges_after_kill_9_mid_reconcile() {
  _prepare_operator
  local ns log objects i ready_at_kill
  ns=$(new_namespace crash)
  log=$(mktemp)
  objects=$(mktemp)
  trap '_stop_operator; rm -f $log $log.2 $objects' RETURN
  for i in $(seq 1 100); do _ms_yaml "$ns" "svc-$i" "10.30.0.$i"; done >"$objects"
  # A slow client (20 requests/s for ~400 writes) so that the kill lands mid-reconcile.
  _start_operator "$log" --leader-elect --leader-election-id e2e-crash --kube-api-qps 20 --kube-api-burst 20
  kubectl apply --server-side -f "$objects" >/dev/null
  wait_for 60 bash -c "[ \$(kubectl get ms -n $ns -o jsonpath='{range .items[*]}{.status.conditions[?(@.type==\"Ready\")].status}{\"\\n\"}{end}' | grep -c True) -ge 10 ]"
  kill -9 "$OPERATOR_PID"
  wait "$OPERATOR_PID" 2>/dev/null || true
  OPERATOR_PID=""
  ready_at_kill=$(kubectl get ms -n "$ns" -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' | grep -c True || true)
  echo "Ready when killed: $ready_at_kill of 100"
  [ "$ready_at_kill" -lt 100 ] || { echo "the kill did not land mid-reconcile" >&2; return 1; }

  step "restart after kill -9 (waits for the old lease to expire)"
  _start_operator "$log.2" --leader-elect --leader-election-id e2e-crash
  wait_for 120 bash -c "[ \$(kubectl get ms -n $ns -o jsonpath='{range .items[*]}{.status.conditions[?(@.type==\"Ready\")].status}{\"\\n\"}{end}' | grep -c True) -eq 100 ]"
  step "exactly one of each child: no duplicates"
  assert_eq 100 "$(kubectl get svc -n "$ns" --no-headers | wc -l | tr -d ' ')" "one Service each"
  assert_eq 100 "$(kubectl get endpointslice -n "$ns" -l endpointslice.kubernetes.io/managed-by=meshgate.io --no-headers | wc -l | tr -d ' ')" "one static EndpointSlice each"
  assert_eq 100 "$(kubectl get secret -n "$ns" -l app.kubernetes.io/managed-by=meshgate --no-headers | wc -l | tr -d ' ')" "one identity Secret each"
}

# _log_ms LOG PATTERN — the time (ms since the epoch) of the first log line matching PATTERN.
_log_ms() {
  local stamp
  stamp=$(grep -m1 -E "$2" "$1" | sed -nE 's/^\[([0-9-]+ [0-9:.]+)\].*/\1/p')
  date -d "$stamp" +%s%3N
}

test_two_operators_one_leader_and_failover_on_kill() {
  _prepare_operator
  local ns log_a log_b pid_a pid_b ready_a ready_b leader survivor leader_log survivor_log survivor_ready killed_at took
  ns=$(new_namespace failover)
  log_a=$(mktemp)
  log_b=$(mktemp)
  trap 'kill -9 $pid_a $pid_b 2>/dev/null || true; rm -f $log_a $log_b' RETURN
  _launch_operator "$log_a" --leader-elect --leader-election-id e2e-two
  pid_a=$OPERATOR_PID ready_a=$READYZ_URL
  _launch_operator "$log_b" --leader-elect --leader-election-id e2e-two
  pid_b=$OPERATOR_PID ready_b=$READYZ_URL
  OPERATOR_PID=""
  wait_for 60 bash -c "grep -q 'meshgate-operator: running' $log_a || grep -q 'meshgate-operator: running' $log_b"

  step "exactly one leads; the other waits as a standby — ready too, since it serves the config stream"
  local holder
  holder=$(kubectl -n meshgate-system get lease e2e-two -o jsonpath='{.spec.holderIdentity}')
  if grep -q 'meshgate-operator: running' "$log_a"; then
    leader=$pid_a leader_log=$log_a survivor=$pid_b survivor_log=$log_b survivor_ready=$ready_b
  else
    leader=$pid_b leader_log=$log_b survivor=$pid_a survivor_log=$log_a survivor_ready=$ready_a
  fi
  wait_for 30 curl -sf --max-time 2 "$ready_a"
  wait_for 30 curl -sf --max-time 2 "$ready_b"
  assert_eq 0 "$(grep -c 'leading: ' "$survivor_log" || true)" "the standby has not led"
  assert_eq 0 "$(grep -c 'meshgate-operator: running' "$survivor_log" || true)" "the standby's leader parts"
  grep -q 'meshgate-operator: campaigning' "$survivor_log"
  grep -q "$holder campaigning" "$leader_log"
  _apply_static_ms "$ns" before
  wait_for 30 bash -c "[ \"\$(kubectl get ms before -n $ns -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}')\" = True ]"

  step "kill -9 the leader: the standby takes over within lease + retry and reconciles"
  killed_at=$(date +%s%3N)
  kill -9 "$leader"
  wait_for 40 grep -q 'leading: ' "$survivor_log"
  took=$(($(_log_ms "$survivor_log" 'leading: ') - killed_at))
  echo "operator failover after kill -9: ${took} ms (bound: lease 15000 + retry 2000 ms + 500 ms)"
  [ "$took" -le 17500 ] || { echo "failover took ${took} ms, more than lease + retry" >&2; return 1; }
  mkdir -p .local
  echo "$took" >.local/operator-failover-ms
  wait_for 60 curl -sf --max-time 2 "$survivor_ready"
  _apply_static_ms "$ns" after
  wait_for 30 bash -c "[ \"\$(kubectl get ms after -n $ns -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}')\" = True ]"
  kill -TERM "$survivor"
  wait "$survivor" 2>/dev/null || true
}

# The published trust bundle, read once, names root $1 (SHA-256, lower-case hex) as retired and
# still holds $2 roots.
_bundle_retires_and_holds() {
  local bundle
  bundle=$(kubectl get configmap meshgate-ca-bundle -n meshgate-system \
    -o jsonpath='{.metadata.annotations.meshgate\.io/retired-roots}{"\n"}{.data.ca\.crt}') || return 1
  grep -q "\"$1\"" <<<"$bundle" && [ "$(grep -c 'BEGIN CERTIFICATE' <<<"$bundle")" = "$2" ]
}

# Last in this file: it leaves the cluster with a rotated CA (later suites verify against the
# published bundle, whichever root it holds).
test_ca_rotation_overlaps_then_drops_the_old_root() {
  _prepare_operator
  local ns log dir
  ns=$(new_namespace rotate)
  log=$(mktemp)
  dir=$(mktemp -d)
  trap '_stop_operator; rm -rf $log $dir' RETURN
  _start_operator "$log" --leader-elect --leader-election-id e2e-rotate --trust-bundle-grace 5s
  _apply_static_ms "$ns" payments
  wait_for 30 kubectl get secret meshgate-identity-payments -n "$ns"
  kubectl get secret meshgate-ca -n meshgate-system -o jsonpath='{.data.tls\.crt}' | base64 -d >"$dir/old.pem"
  kubectl get secret meshgate-identity-payments -n "$ns" -o jsonpath='{.data.tls\.crt}' | base64 -d >"$dir/leaf-before.pem"
  openssl verify -CAfile "$dir/old.pem" "$dir/leaf-before.pem"

  step "replace the CA Secret with a new root"
  openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$dir/new.key" -out "$dir/new.pem" -days 3650 -subj "/CN=rotated-mesh-ca" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  kubectl create secret tls meshgate-ca -n meshgate-system --cert "$dir/new.pem" --key "$dir/new.key" \
    --dry-run=client -o yaml | kubectl replace -f - >/dev/null

  step "the leaf is re-issued by the new root"
  wait_for 30 bash -c "kubectl get secret meshgate-identity-payments -n $ns -o jsonpath='{.data.tls\\.crt}' | base64 -d >'$dir/leaf-after.pem' && openssl verify -CAfile '$dir/new.pem' '$dir/leaf-after.pem'"

  step "the bundle overlapped (both roots) while old leaves lived and for the grace after the last, then holds only the new root"
  grep 'trust:' "$log"  # shown when the test fails
  grep -qE '\(rotated\), bundle of [2-9] root' "$log"
  local oldfp newfp retired_at dropped_at
  oldfp=$(openssl x509 -in "$dir/old.pem" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr 'A-F' 'a-f')
  newfp=$(openssl x509 -in "$dir/new.pem" -noout -fingerprint -sha256)
  wait_for 30 _bundle_retires_and_holds "$oldfp" 2
  wait_for 30 bash -c "[ \"\$(kubectl get configmap meshgate-ca-bundle -n meshgate-system -o jsonpath='{.data.ca\\.crt}' | grep -c 'BEGIN CERTIFICATE')\" = 1 ]"
  assert_eq "" "$(kubectl get configmap meshgate-ca-bundle -n meshgate-system -o jsonpath='{.metadata.annotations.meshgate\.io/retired-roots}')" "no root left retired"
  retired_at=$(_log_ms "$log" 'signs no leaf any more, kept for 5s')
  dropped_at=$(_log_ms "$log" 'dropped retired root')
  echo "old root dropped $((dropped_at - retired_at)) ms after it signed its last leaf (grace 5s)"
  # Both lines follow a write to the apiserver: allow for the first one being slower.
  [ $((dropped_at - retired_at)) -ge 4000 ] || { grep 'trust:' "$log"; echo "the old root left before its grace" >&2; return 1; }
  assert_eq "$newfp" "$(kubectl get configmap meshgate-ca-bundle -n meshgate-system -o jsonpath='{.data.ca\.crt}' | openssl x509 -noout -fingerprint -sha256)"
  wait_for 30 bash -c "[ \"\$(kubectl get secret meshgate-identity-payments -n $ns -o jsonpath='{.data.ca\\.crt}' | base64 -d | grep -c 'BEGIN CERTIFICATE')\" = 1 ]"
  expect_fail openssl verify -CAfile "$dir/old.pem" "$dir/leaf-after.pem" >/dev/null
}
