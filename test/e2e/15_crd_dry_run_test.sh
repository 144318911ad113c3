# shellcheck shell=bash
# Server-side dry runs against the real apiserver, which persist nothing: the apply variant of
# the codec's round-trip fixtures (api/testdata/roundtrip-apply/, every spec field the codec
# knows) passes the CRD schema with strict field validation; a field the schema does not know is
# refused by name; and the Services, EndpointSlices and Ingresses `meshgatectl render` prints are
# objects the apiserver accepts. Run by test/e2e/run.sh.

_meshgatectl() { "${MESHGATE_BUILD_DIR:-build}/bin/meshgatectl" "$@"; }

# Idempotent, so every test can run alone (run.sh PATTERN). kubectl wait fails at once, rather
# than waiting, while a just-created CRD has no conditions yet: hence wait_for around it.
_install_crds() {
  kubectl apply -f crds/ >/dev/null
  wait_for 60 kubectl wait --for condition=established --timeout=10s \
    crd/meshservices.meshgate.io crd/apiroutes.meshgate.io
}

test_every_codec_field_passes_the_crd_schema_strictly() {
  _install_crds
  local ns out
  ns=$(new_namespace dry-run)
  out=$(kubectl apply -n "$ns" --dry-run=server --validate=strict -f api/testdata/roundtrip-apply/ 2>&1)
  local object
  for object in meshservice.meshgate.io/pay meshservice.meshgate.io/pay-by-cookie \
    meshservice.meshgate.io/pay-by-source-ip apiroute.meshgate.io/shop \
    apiroute.meshgate.io/shop-jwks-uri; do
    assert_contains "$out" "$object created (server dry run)"
  done
  assert_not_contains "$out" "Warning"
  assert_eq "" "$(kubectl get ms,ar -n "$ns" -o name)" "a dry run stores nothing"
}

test_unknown_field_is_refused_by_name_under_strict_validation() {
  _install_crds
  local ns out
  ns=$(new_namespace dry-run)
  out=$(expect_fail kubectl apply -n "$ns" --dry-run=server --validate=strict -f - <<'YAML'
apiVersion: meshgate.io/v1alpha1
kind: MeshService
metadata:
  name: typo
spec:
  selector:
    app: typo
  ports:
  - name: http
    port: 8080
    protocoll: HTTP
YAML
  )
  assert_contains "$out" 'unknown field "spec.ports[0].protocoll"'
}

test_rendered_children_are_accepted_by_the_apiserver() {
  _install_crds
  local ns inputs stored rendered out
  ns=$(new_namespace render)
  inputs=$(cat <<'YAML'
apiVersion: meshgate.io/v1alpha1
kind: MeshService
metadata:
  name: orders
spec:
  endpoints:
  - address: 10.40.0.1
  - address: 10.40.0.2
  - address: "fd00::40"
    port: 9090
  ports:
  - name: http
    port: 80
    targetPort: 8080
---
apiVersion: meshgate.io/v1alpha1
kind: ApiRoute
metadata:
  name: storefront
spec:
  hosts:
  - shop.render.test
  tls: {}
  rules:
  - matches:
    - path:
        type: RegularExpression
        value: ^/orders/[0-9]+$
    backends:
    - service: orders
      port: 80
  - matches:
    - path:
        type: Exact
        value: /healthz
    backends:
    - service: orders
      port: 80
YAML
  )
  # The owners as the apiserver would store them (uid, creationTimestamp), without storing
  # them: render puts their uid in the children's ownerReferences, as the operator does.
  stored=$(kubectl apply -n "$ns" --dry-run=server -o yaml -f - <<<"$inputs")
  assert_contains "$stored" "uid:"
  rendered=$(_meshgatectl render -n "$ns" --show objects -f - <<<"$stored")
  assert_contains "$rendered" "kind: Service"
  assert_contains "$rendered" "uid:" "owner references carry the owners' uids"
  out=$(kubectl apply -n "$ns" --dry-run=server --validate=strict -f - <<<"$rendered" 2>&1)
  local object
  for object in service/orders endpointslice.discovery.k8s.io/orders-static-ipv4 \
    endpointslice.discovery.k8s.io/orders-static-ipv6-9090 \
    ingress.networking.k8s.io/storefront; do
    assert_contains "$out" "$object created (server dry run)"
  done
  assert_not_contains "$out" "Warning"
  assert_eq "" "$(kubectl get svc,endpointslices,ingress,ms,ar -n "$ns" -o name)" \
    "a dry run stores nothing"
}
