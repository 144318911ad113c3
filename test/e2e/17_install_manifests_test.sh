# shellcheck shell=bash
# The install manifests (kubectl apply -k config/default): they render with kustomize, every
# container image comes from the one images: block, the apiserver accepts every object, and the
# operator and gateway Deployments come out as specified. The control plane has no kubelet, so
# pods never run: only the objects are checked. Run by test/e2e/run.sh.
#
# Later tests apply config/rbac, crds/ and config/webhook themselves and create MeshServices
# and ApiRoutes: the real apply here leaves the webhook configurations out (failurePolicy Fail
# against a webhook that never runs would reject their CRs) and the cleanup removes only what
# this file created (the operator's and the gateway's objects), never the namespace, the CRDs or
# the roles.

registry=localhost/meshgate
tag=0.1.0
# The operator's and the gateway's objects of the full install, images set as config/default sets them.
selector='app.kubernetes.io/component in (operator,gateway)'

_jp() { # _jp KIND/NAME JSONPATH — a field of an object in meshgate-system.
  kubectl get -n meshgate-system "$1" -o jsonpath="$2"
}

test_default_kustomization_renders_with_one_image_registry() {
  local out images image
  out=$(kubectl kustomize config/default)
  for kind in CustomResourceDefinition Namespace ClusterRole ClusterRoleBinding Role RoleBinding \
    ServiceAccount Deployment Service PodDisruptionBudget ConfigMap \
    MutatingWebhookConfiguration ValidatingWebhookConfiguration; do
    assert_contains "$out" "kind: $kind"
  done
  # Every container's image, whatever the kind: exactly the three, under the one registry and tag.
  # (Not the ConfigMap meshgate-webhook-config's injection.image and injection.initImage: the
  # webhook's --sidecar-image and --init-image, checked below, win over them. No container of the
  # install runs meshgate-init: the webhook injects it into meshed pods.)
  images=$(printf '%s\n' "$out" | sed -nE 's/^ +(- )?image: +//p' | sort -u)
  assert_eq "$registry/meshgate-operator:$tag
$registry/meshgate-proxy:$tag
$registry/meshgate-webhook:$tag" "$images" "container images of config/default"
  for image in $images; do
    [[ $image == "$registry/"*":$tag" ]]
  done
  # The sidecar the webhook injects is the gateway's image, and its init container the
  # meshgate-init entry's, also when an overlay moves them.
  _assert_injected_image "$out" SIDECAR "$registry/meshgate-proxy:$tag"
  _assert_injected_image "$out" INIT "$registry/meshgate-init:$tag"
  local overlay
  overlay=$(mktemp -d "$REPO_ROOT/config/.e2e-overlay.XXXXXX")
  trap 'rm -rf "$overlay"' RETURN
  cat >"$overlay/kustomization.yaml" <<YAML
resources: [../default]
images:
  - {name: localhost/meshgate/meshgate-proxy, newName: registry.example/mesh/proxy, newTag: "7.1"}
  - {name: localhost/meshgate/meshgate-init, newName: registry.example/mesh/init, newTag: "7.2"}
YAML
  out=$(kubectl kustomize "$overlay")
  _assert_injected_image "$out" SIDECAR registry.example/mesh/proxy:7.1
  _assert_injected_image "$out" INIT registry.example/mesh/init:7.2
}

# _assert_injected_image RENDERED SIDECAR|INIT IMAGE — the webhook Deployment's
# MESHGATE_SIDECAR_IMAGE or MESHGATE_INIT_IMAGE, which its --sidecar-image=$(MESHGATE_SIDECAR_IMAGE)
# or --init-image=$(MESHGATE_INIT_IMAGE) argument passes on.
_assert_injected_image() {
  local deployment variable=MESHGATE_$2_IMAGE flag
  flag=--$(tr 'A-Z' 'a-z' <<<"$2")-image
  deployment=$(printf '%s\n' "$1" | kubectl create --dry-run=client -f - -o json 2>/dev/null |
    jq -c '.items[]? // . | select(.kind == "Deployment" and .metadata.name == "meshgate-webhook")')
  assert_eq "$3" "$(jq -r --arg v "$variable" '.spec.template.spec.containers[0].env[] |
    select(.name == $v) | .value' <<<"$deployment")" "the webhook's $variable"
  assert_contains "$(jq -c '.spec.template.spec.containers[0].args' <<<"$deployment")" \
    "\"$flag=\$($variable)\""
}

test_shared_folders_still_apply_as_plain_directories() {
  # config/rbac, config/webhook and crds hold a file named Kustomization (not *.yaml), so the
  # `kubectl apply -f DIR` the other tests and scripts use does not read it as an object.
  ensure_namespace meshgate-system
  kubectl apply --dry-run=server -f crds/ >/dev/null
  kubectl apply --dry-run=server -R -f config/rbac/ >/dev/null
  kubectl apply --dry-run=server -f config/webhook/ >/dev/null
}

test_default_kustomization_is_accepted_by_the_apiserver() {
  # The namespace exists first, as after the first real apply (a server dry run creates nothing,
  # so namespaced objects of a dry-run-created namespace would be refused).
  ensure_namespace meshgate-system
  local out
  out=$(kubectl apply --dry-run=server -k config/default 2>&1)
  for object in customresourcedefinition.apiextensions.k8s.io/meshservices.meshgate.io \
    customresourcedefinition.apiextensions.k8s.io/apiroutes.meshgate.io \
    clusterrole.rbac.authorization.k8s.io/meshgate-operator \
    deployment.apps/meshgate-operator service/meshgate-operator \
    deployment.apps/meshgate-webhook service/meshgate-webhook \
    deployment.apps/meshgate-gateway service/meshgate-gateway \
    poddisruptionbudget.policy/meshgate-gateway serviceaccount/meshgate-gateway \
    validatingwebhookconfiguration.admissionregistration.k8s.io/meshgate-webhook \
    mutatingwebhookconfiguration.admissionregistration.k8s.io/meshgate-webhook; do
    assert_contains "$out" "$object " "server dry run of config/default"
  done
  assert_not_contains "$out" "rror"
}

test_operator_and_gateway_deployments_install_and_uninstall() {
  ensure_namespace meshgate-system
  kubectl apply -f crds/ >/dev/null
  trap 'kubectl delete -k config/gateway --ignore-not-found --wait=false >/dev/null 2>&1 || true
        kubectl delete -k config/manager --ignore-not-found --wait=false >/dev/null 2>&1 || true' RETURN

  step "apply: the operator's and the gateway's objects of config/default (no webhook configurations)"
  kubectl apply -k config/default -l "$selector" >/dev/null
  local ctx
  for d in meshgate-operator meshgate-gateway; do
    assert_eq 2 "$(_jp "deployment/$d" '{.spec.replicas}')" "$d replicas"
    ctx=$(_jp "deployment/$d" '{.spec.template.spec.securityContext.runAsNonRoot} {.spec.template.spec.securityContext.runAsUser} {.spec.template.spec.securityContext.seccompProfile.type}')
    assert_eq "true 65532 RuntimeDefault" "$ctx" "$d pod securityContext"
    ctx=$(_jp "deployment/$d" '{.spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem} {.spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation} {.spec.template.spec.containers[0].securityContext.capabilities.drop}')
    assert_eq 'true false ["ALL"]' "$ctx" "$d container securityContext"
  done
  assert_eq "$registry/meshgate-operator:$tag" "$(_jp deployment/meshgate-operator '{.spec.template.spec.containers[0].image}')"
  assert_eq "$registry/meshgate-proxy:$tag" "$(_jp deployment/meshgate-gateway '{.spec.template.spec.containers[0].image}')"
  assert_eq meshgate-operator "$(_jp deployment/meshgate-operator '{.spec.template.spec.serviceAccountName}')"
  assert_eq meshgate-gateway "$(_jp deployment/meshgate-gateway '{.spec.template.spec.serviceAccountName}')"

  local args
  args=$(_jp deployment/meshgate-operator '{.spec.template.spec.containers[0].args}')
  for flag in --leader-elect --system-namespace=meshgate-system --metrics-bind-address=:8080 \
    --health-probe-bind-address=:8081 --config-server-bind-address=:15012; do
    assert_contains "$args" "\"$flag\"" "operator args"
  done
  assert_eq "/healthz 8081 /readyz 8081" "$(_jp deployment/meshgate-operator '{.spec.template.spec.containers[0].livenessProbe.httpGet.path} {.spec.template.spec.containers[0].ports[?(@.name=="probes")].containerPort} {.spec.template.spec.containers[0].readinessProbe.httpGet.path} {.spec.template.spec.containers[0].ports[?(@.name=="probes")].containerPort}')"
  assert_eq "POD_NAME=metadata.name POD_UID=metadata.uid POD_NAMESPACE=metadata.namespace" \
    "$(_jp deployment/meshgate-operator '{range .spec.template.spec.containers[0].env[*]}{.name}={.valueFrom.fieldRef.fieldPath} {end}' | sed 's/ $//')"
  assert_eq "metrics:8080 config-stream:15012" \
    "$(_jp service/meshgate-operator '{range .spec.ports[*]}{.name}:{.port} {end}' | sed 's/ $//')"

  args=$(_jp deployment/meshgate-gateway '{.spec.template.spec.containers[0].args}')
  for flag in --mode=gateway --control-plane=https://meshgate-operator.meshgate-system.svc:15012 \
    --cert-dir=/etc/meshgate/gateway-identity --http-address=0.0.0.0:8080 --https-address=0.0.0.0:8443 \
    --admin-address=127.0.0.1:15000; do
    assert_contains "$args" "\"$flag\"" "gateway args"
  done
  assert_eq meshgate-gateway-identity "$(_jp deployment/meshgate-gateway '{.spec.template.spec.volumes[?(@.name=="identity")].secret.secretName}')"
  assert_eq "LoadBalancer http:80>http https:443>https" \
    "$(_jp service/meshgate-gateway '{.spec.type} {range .spec.ports[*]}{.name}:{.port}>{.targetPort} {end}' | sed 's/ $//')"
  assert_eq 1 "$(_jp pdb/meshgate-gateway '{.spec.minAvailable}')"
  # Nothing of the webhook came with the selector.
  _is_not_found validatingwebhookconfiguration meshgate-webhook >/dev/null
  _is_not_found deployment meshgate-webhook -n meshgate-system >/dev/null

  step "diff: the live objects are what config/default renders"
  # (kubectl diff, not a second apply's output: client-side apply reports Deployments and PDBs
  # "configured" even when its patch changes nothing.)
  kubectl diff -k config/default -l "$selector"

  step "delete: the Deployments, Services, PDB and gateway ServiceAccount go; the namespace, CRDs and roles stay"
  kubectl delete -k config/gateway --wait=false >/dev/null
  kubectl delete -k config/manager --wait=false >/dev/null
  wait_gone 30 deployment meshgate-operator -n meshgate-system
  wait_gone 30 deployment meshgate-gateway -n meshgate-system
  wait_gone 30 service meshgate-gateway -n meshgate-system
  wait_gone 30 service meshgate-operator -n meshgate-system
  wait_gone 30 pdb meshgate-gateway -n meshgate-system
  wait_gone 30 serviceaccount meshgate-gateway -n meshgate-system
  kubectl get namespace/meshgate-system crd/meshservices.meshgate.io >/dev/null
  kubectl get serviceaccount/meshgate-operator clusterrole/meshgate-operator -n meshgate-system >/dev/null
}
