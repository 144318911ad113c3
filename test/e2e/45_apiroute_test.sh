# shellcheck shell=bash
# The ApiRoute controller of meshgate-operator against the real control plane: the Ingress with
# owner reference, class and paths; the host certificate (DNS SANs, verifies against the mesh
# CA); BackendNotFound and recovery; drift; conflicts (oldest wins, the loser keeps its other
# paths and is re-admitted when the winner goes); hosts outside meshgate.io/allowed-hosts.
# Run by test/e2e/run.sh.

# shellcheck source=operator_lib.sh
source "$REPO_ROOT/test/e2e/operator_lib.sh"

test_route_ingress_certificate_missing_backend_and_drift() {
  _prepare_operator
  local ns log dir
  ns=$(new_namespace route)
  log=$(mktemp)
  dir=$(mktemp -d)
  trap '_stop_operator; rm -rf $log $dir' RETURN
  _start_operator "$log" --leader-elect --leader-election-id e2e-route
  kubectl apply -n "$ns" -f - >/dev/null <<YAML
apiVersion: meshgate.io/v1alpha1
kind: ApiRoute
metadata:
  name: shop
spec:
  hosts: [shop.example.com]
  tls: {}
  rules:
  - matches:
    - path: {type: PathPrefix, value: /orders}
    - path: {type: Exact, value: /health}
    backends:
    - {service: orders, port: 80}
YAML
  step "a backend that names no MeshService: BackendNotFound, nothing programmed"
  _wait_route "$ns" shop ResolvedRefs False BackendNotFound
  assert_contains "$(_route_field "$ns" shop ResolvedRefs message)" "MeshService $ns/orders not found"
  _wait_route "$ns" shop Programmed False NothingToServe
  expect_fail kubectl get ingress shop -n "$ns" >/dev/null
  kubectl get events -n "$ns" --field-selector involvedObject.name=shop -o jsonpath='{.items[*].reason}' | grep -q BackendNotFound

  step "the MeshService appears: refs resolve, the Ingress is applied"
  _apply_static_ms "$ns" orders
  _wait_route "$ns" shop ResolvedRefs True
  _wait_route "$ns" shop Ready False NoDataplane
  _wait_route "$ns" shop Programmed False NoDataplane
  assert_contains "$(_route_field "$ns" shop Programmed message)" "no gateway of ingress class meshgate is connected"
  assert_eq 0 "$(kubectl get ar shop -n "$ns" -o jsonpath='{.status.dataplanes.total}')"
  assert_eq True "$(_route_field "$ns" shop Accepted status)"
  assert_eq shop "$(kubectl get ar shop -n "$ns" -o jsonpath='{.status.ingress}')"
  assert_eq "$(kubectl get ar shop -n "$ns" -o jsonpath='{.metadata.uid}')" \
    "$(kubectl get ingress shop -n "$ns" -o jsonpath='{.metadata.ownerReferences[?(@.controller==true)].uid}')"
  assert_eq meshgate "$(kubectl get ingress shop -n "$ns" -o jsonpath='{.spec.ingressClassName}')"
  assert_eq "shop.example.com" "$(kubectl get ingress shop -n "$ns" -o jsonpath='{.spec.rules[0].host}')"
  assert_eq "/orders:Prefix /health:Exact" "$(kubectl get ingress shop -n "$ns" -o jsonpath='{range .spec.rules[0].http.paths[*]}{.path}:{.pathType} {end}' | sed 's/ $//')"
  assert_eq "orders:80" "$(kubectl get ingress shop -n "$ns" -o jsonpath='{.spec.rules[0].http.paths[0].backend.service.name}:{.spec.rules[0].http.paths[0].backend.service.port.number}')"

  step "the host certificate: a kubernetes.io/tls Secret whose DNS SANs are the hosts"
  local secret=shop-meshgate-tls
  assert_eq "$secret" "$(kubectl get ingress shop -n "$ns" -o jsonpath='{.spec.tls[0].secretName}')"
  assert_eq "$secret" "$(kubectl get ar shop -n "$ns" -o jsonpath='{.status.certificate.secretName}')"
  assert_eq kubernetes.io/tls "$(kubectl get secret "$secret" -n "$ns" -o jsonpath='{.type}')"
  kubectl get secret "$secret" -n "$ns" -o jsonpath='{.data.tls\.crt}' | base64 -d >"$dir/leaf.pem"
  kubectl get configmap meshgate-ca-bundle -n meshgate-system -o jsonpath='{.data.ca\.crt}' >"$dir/bundle.pem"
  openssl verify -CAfile "$dir/bundle.pem" "$dir/leaf.pem"
  assert_contains "$(openssl x509 -in "$dir/leaf.pem" -noout -ext subjectAltName)" "DNS:shop.example.com"

  step "drift: a deleted Ingress comes back"
  kubectl delete ingress shop -n "$ns" >/dev/null
  wait_for 30 kubectl get ingress shop -n "$ns"

  step "delete: the controller-manager collects the Ingress and the certificate"
  kubectl delete ar shop -n "$ns" >/dev/null
  wait_gone 60 ingress shop -n "$ns"
  wait_gone 60 secret "$secret" -n "$ns"
}

test_conflicting_routes_oldest_wins_and_the_loser_is_readmitted() {
  _prepare_operator
  local a b log first
  a=$(new_namespace team-a)
  b=$(new_namespace team-b)
  log=$(mktemp)
  trap '_stop_operator; rm -f $log' RETURN
  _start_operator "$log" --leader-elect --leader-election-id e2e-conflict
  _apply_static_ms "$a" web
  _apply_static_ms "$b" web
  _apply_route "$a" winner shared.example.com /api web
  _wait_route "$a" winner Accepted True
  _wait_route "$a" winner Programmed False NoDataplane
  # creationTimestamp has one-second resolution: the loser must be visibly younger.
  first=$(kubectl get ar winner -n "$a" -o jsonpath='{.metadata.creationTimestamp}')
  wait_for 5 bash -c "[ \"\$(date -u +%Y-%m-%dT%H:%M:%SZ)\" \> '$first' ]"
  _apply_route "$b" loser shared.example.com /api web /extra

  step "the younger route loses only the colliding path, and says to whom"
  _wait_route "$b" loser Accepted False Conflicted
  assert_contains "$(_route_field "$b" loser Accepted message)" "host shared.example.com PathPrefix /api is served by the older ApiRoute $a/winner"
  wait_for 30 kubectl get ingress loser -n "$b"
  assert_eq "/extra" "$(kubectl get ingress loser -n "$b" -o jsonpath='{.spec.rules[0].http.paths[*].path}')"
  assert_eq True "$(_route_field "$a" winner Accepted status)"
  assert_eq "/api" "$(kubectl get ingress winner -n "$a" -o jsonpath='{.spec.rules[0].http.paths[*].path}')"

  step "the winner goes: the loser is re-admitted with every path"
  kubectl delete ar winner -n "$a" >/dev/null
  _wait_route "$b" loser Accepted True
  wait_for 30 bash -c "[ \"\$(kubectl get ingress loser -n $b -o jsonpath='{.spec.rules[0].http.paths[*].path}')\" = '/api /extra' ]"
}

test_hosts_outside_allowed_hosts_are_not_allowed() {
  _prepare_operator
  local ns log
  ns=$(new_namespace policy)
  log=$(mktemp)
  trap '_stop_operator; rm -f $log' RETURN
  kubectl annotate namespace "$ns" meshgate.io/allowed-hosts='*.team.example.com' >/dev/null
  _start_operator "$log" --leader-elect --leader-election-id e2e-allowed
  _apply_static_ms "$ns" web
  kubectl apply -n "$ns" -f - >/dev/null <<YAML
apiVersion: meshgate.io/v1alpha1
kind: ApiRoute
metadata:
  name: mixed
spec:
  hosts: [api.team.example.com, evil.example.com]
  rules:
  - backends:
    - {service: web, port: 80}
YAML
  _wait_route "$ns" mixed Accepted False NotAllowed
  assert_contains "$(_route_field "$ns" mixed Accepted message)" "hosts not allowed in namespace $ns (meshgate.io/allowed-hosts): evil.example.com"
  wait_for 30 kubectl get ingress mixed -n "$ns"
  assert_eq "api.team.example.com" "$(kubectl get ingress mixed -n "$ns" -o jsonpath='{.spec.rules[*].host}')"

  step "the namespace allows the host: the route is accepted whole"
  kubectl annotate namespace "$ns" --overwrite meshgate.io/allowed-hosts='*.team.example.com,evil.example.com' >/dev/null
  _wait_route "$ns" mixed Accepted True
  wait_for 30 bash -c "[ \"\$(kubectl get ingress mixed -n $ns -o jsonpath='{.spec.rules[*].host}')\" = 'api.team.example.com evil.example.com' ]"
}
