# shellcheck shell=bash
# `meshgatectl diff` against the real apiserver and what the real operator applied: the manifests
# as exported by `kubectl get -o yaml` (uids included) are up to date (exit 0); a changed port and
# an added endpoint are named by path (exit 1); a MeshService not yet applied would be created; a
# static EndpointSlice render no longer produces would be deleted; an identity without read
# rights and an unreachable apiserver exit 3 naming what failed. diff writes nothing.
# Run by test/e2e/run.sh.

# shellcheck source=operator_lib.sh
source "$REPO_ROOT/test/e2e/operator_lib.sh"

_meshgatectl() { "${MESHGATE_BUILD_DIR:-build}/bin/meshgatectl" "$@"; }

# _shop_manifests NS WEB_UID ROUTE_UID TARGET_PORT ADDRESS... — MeshService web (port 80 →
# TARGET_PORT, these static endpoints) and ApiRoute storefront to it; a uid only when given.
_shop_manifests() {
  local ns=$1 web_uid=$2 route_uid=$3 target_port=$4 endpoints="" address
  shift 4
  for address in "$@"; do endpoints+="${endpoints:+, }{address: \"$address\"}"; done
  cat <<YAML
apiVersion: meshgate.io/v1alpha1
kind: MeshService
metadata: {name: web, namespace: $ns${web_uid:+, uid: $web_uid}}
spec:
  endpoints: [$endpoints]
  ports: [{name: http, port: 80, targetPort: $target_port}]
---
apiVersion: meshgate.io/v1alpha1
kind: ApiRoute
metadata: {name: storefront, namespace: $ns${route_uid:+, uid: $route_uid}}
spec:
  hosts: [shop.$ns.test]
  rules:
  - matches: [{path: {type: PathPrefix, value: /}}]
    backends: [{service: web, port: 80}]
YAML
}

# _diff ARGS... — runs meshgatectl diff; its exit code in $DIFF_CODE, stdout in $DIFF_OUT and
# stderr in $DIFF_ERR.
_diff() {
  local err
  err=$(mktemp)
  DIFF_CODE=0
  DIFF_OUT=$(_meshgatectl diff "$@" 2>"$err") || DIFF_CODE=$?
  DIFF_ERR=$(cat "$err")
  rm -f "$err"
  # In the test's output, shown when it fails.
  echo "meshgatectl diff $* → exit $DIFF_CODE"
  printf '%s\n%s\n' "$DIFF_OUT" "$DIFF_ERR" | head -n 30 | sed 's/^/  | /'
}

test_diff_reports_what_the_operator_would_change() {
  _prepare_operator
  local ns log dir web_uid route_uid versions
  ns=$(new_namespace diff)
  log=$(mktemp)
  dir=$(mktemp -d)
  trap '_stop_operator; rm -rf $log $dir' RETURN
  _shop_manifests "$ns" "" "" 8080 10.20.0.1 10.20.0.2 | kubectl apply -f - >/dev/null
  _start_operator "$log"
  wait_for 30 bash -c "[ \"\$(kubectl get ms web -n $ns -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}')\" = True ]"
  wait_for 30 kubectl get ingress storefront -n "$ns"
  kubectl get endpointslice web-static-ipv4 -n "$ns" >/dev/null
  versions=$(kubectl get svc,endpointslice,ingress -n "$ns" -o jsonpath='{.items[*].metadata.resourceVersion}')

  step "the manifests as the cluster holds them (uids included): up to date, exit 0"
  kubectl get ms,ar -n "$ns" -o yaml >"$dir/exported.yaml"
  _diff -f "$dir/exported.yaml"
  assert_eq 0 "$DIFF_CODE" "diff of the exported manifests"
  assert_contains "$DIFF_OUT" "= EndpointSlice $ns/web-static-ipv4: up to date (applied-hash equal)"
  assert_contains "$DIFF_OUT" "= Ingress $ns/storefront: up to date (applied-hash equal)"
  assert_contains "$DIFF_OUT" "= Service $ns/web: up to date (applied-hash equal)"
  assert_contains "$DIFF_OUT" "0 to create, 0 to update, 0 to delete, 3 unchanged"

  web_uid=$(kubectl get ms web -n "$ns" -o jsonpath='{.metadata.uid}')
  route_uid=$(kubectl get ar storefront -n "$ns" -o jsonpath='{.metadata.uid}')
  step "a local copy with another target port and one more endpoint: exit 1, the paths named"
  _shop_manifests "$ns" "$web_uid" "$route_uid" 9090 10.20.0.1 10.20.0.2 10.20.0.3 >"$dir/changed.yaml"
  _diff -f "$dir/changed.yaml"
  assert_eq 1 "$DIFF_CODE" "diff of the changed copy"
  assert_contains "$DIFF_OUT" "~ Service $ns/web: would be updated"
  assert_contains "$DIFF_OUT" "    spec.ports[0].targetPort: live 8080, rendered 9090"
  assert_contains "$DIFF_OUT" "~ EndpointSlice $ns/web-static-ipv4: would be updated"
  assert_contains "$DIFF_OUT" "    ports[0].port: live 8080, rendered 9090"
  assert_contains "$DIFF_OUT" '    endpoints[2]: live (absent), rendered {"addresses":["10.20.0.3"],"conditions":{"ready":true}}'
  assert_contains "$DIFF_OUT" "= Ingress $ns/storefront: up to date"

  step "a MeshService not applied yet: would be created, the rest still up to date"
  cat >"$dir/new.yaml" <<YAML
apiVersion: meshgate.io/v1alpha1
kind: MeshService
metadata: {name: search, namespace: $ns}
spec:
  endpoints: [{address: 10.20.0.9}]
  ports: [{name: http, port: 80, targetPort: 8080}]
YAML
  _diff -f "$dir/exported.yaml" -f "$dir/new.yaml"
  assert_eq 1 "$DIFF_CODE"
  assert_contains "$DIFF_OUT" "+ Service $ns/search: would be created"
  assert_contains "$DIFF_OUT" "+ EndpointSlice $ns/search-static-ipv4: would be created"
  assert_contains "$DIFF_OUT" "    - addresses:"
  assert_contains "$DIFF_OUT" "= Service $ns/web: up to date (applied-hash equal)"
  assert_contains "$DIFF_OUT" "2 to create, 0 to update, 0 to delete, 3 unchanged"

  step "only IPv6 endpoints left: the IPv4 static slice would be deleted by the operator"
  _shop_manifests "$ns" "$web_uid" "$route_uid" 8080 fd00::20 >"$dir/ipv6.yaml"
  _diff -f "$dir/ipv6.yaml"
  assert_eq 1 "$DIFF_CODE"
  assert_contains "$DIFF_OUT" "+ EndpointSlice $ns/web-static-ipv6: would be created"
  assert_contains "$DIFF_OUT" "- EndpointSlice $ns/web-static-ipv4: would be deleted (the operator deletes it: MeshService $ns/web no longer produces it)"

  step "an identity that may not read Services, EndpointSlices or Ingresses: exit 3, named"
  _diff -f "$dir/exported.yaml" --kubeconfig "$MESHGATE_CLUSTER_DIR/webhook.kubeconfig"
  assert_eq 3 "$DIFF_CODE"
  assert_eq "" "$DIFF_OUT" "no report after a cluster error"
  assert_contains "$DIFF_ERR" "meshgatectl diff: EndpointSlice $ns/web-static-ipv4: "
  assert_contains "$DIFF_ERR" "code=403"

  step "an apiserver that does not answer: exit 3"
  sed -E 's#server: https://[^ ]+#server: https://127.0.0.1:1#' "$KUBECONFIG" >"$dir/nowhere.kubeconfig"
  KUBECONFIG=$dir/nowhere.kubeconfig _diff -f "$dir/exported.yaml"
  assert_eq 3 "$DIFF_CODE"
  assert_contains "$DIFF_ERR" "meshgatectl diff: EndpointSlice $ns/web-static-ipv4: "

  step "an unreadable input: exit 2"
  _diff -f "$dir/missing.yaml"
  assert_eq 2 "$DIFF_CODE"

  step "diff wrote nothing"
  assert_eq "$versions" "$(kubectl get svc,endpointslice,ingress -n "$ns" -o jsonpath='{.items[*].metadata.resourceVersion}')"
}
