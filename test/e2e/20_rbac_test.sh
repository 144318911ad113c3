# shellcheck shell=bash
# The roles in config/rbac/ give the operator and the webhook what they need and no more,
# checked with the identities up.sh issued (operator.kubeconfig, webhook.kubeconfig), which
# authenticate exactly as the service accounts meshgate-system/meshgate-operator and
# meshgate-system/meshgate-webhook. Run by test/e2e/run.sh.

_apply_rbac() {
  local files
  files=$(find -L config/rbac -name '*.yaml' | wc -l)
  assert_ge "$files" 1 "manifests in config/rbac/"
  ensure_namespace meshgate-system
  kubectl apply -R -f config/rbac/ >/dev/null
}

# can_i IDENTITY VERB RESOURCE [FLAGS...] — "yes" or "no" for operator or webhook.
_can_i() {
  local identity=$1
  shift
  kubectl --kubeconfig "$MESHGATE_CLUSTER_DIR/$identity.kubeconfig" auth can-i "$@" || true
}

test_rbac_manifests_apply() {
  _apply_rbac
  local again
  again=$(kubectl apply -R -f config/rbac/)
  assert_not_contains "$again" configured "a second apply must change nothing"
}

test_operator_may_manage_meshgate_resources() {
  _apply_rbac
  assert_eq yes "$(_can_i operator list meshservices.meshgate.io -A)" "operator: list meshservices"
  assert_eq yes "$(_can_i operator watch apiroutes.meshgate.io -A)" "operator: watch apiroutes"
  # Status is written by server-side apply: the patch verb on the status subresource.
  assert_eq yes "$(_can_i operator patch meshservices.meshgate.io --subresource=status -A)" "operator: patch meshservices/status"
  assert_eq yes "$(_can_i operator patch apiroutes.meshgate.io --subresource=status -A)" "operator: patch apiroutes/status"
  # The spec belongs to the user: the operator never writes it.
  assert_eq no "$(_can_i operator update meshservices.meshgate.io -A)" "operator: update meshservices"
  assert_eq no "$(_can_i operator patch apiroutes.meshgate.io -A)" "operator: patch apiroutes"
}

test_operator_may_not_touch_nodes() {
  _apply_rbac
  assert_eq no "$(_can_i operator delete nodes)" "operator: delete nodes"
  assert_eq no "$(_can_i operator create clusterrolebindings)" "operator: create clusterrolebindings"
}

test_operator_writes_configmaps_only_in_the_system_namespace() {
  _apply_rbac
  # The trust bundle and the replicas' dataplane reports, by server-side apply; reports are deleted.
  assert_eq yes "$(_can_i operator create configmaps -n meshgate-system)" "operator: create configmaps in meshgate-system"
  assert_eq yes "$(_can_i operator patch configmaps -n meshgate-system)" "operator: patch configmaps in meshgate-system"
  assert_eq yes "$(_can_i operator delete configmaps -n meshgate-system)" "operator: delete configmaps in meshgate-system"
  assert_eq no "$(_can_i operator update configmaps -n meshgate-system)" "operator: update configmaps (every write is an apply)"
  assert_eq no "$(_can_i operator create configmaps -n default)" "operator: create configmaps in default"
  assert_eq no "$(_can_i operator delete configmaps -n default)" "operator: delete configmaps in default"
}

test_webhook_may_not_write_meshgate_resources() {
  _apply_rbac
  assert_eq no "$(_can_i webhook delete nodes)" "webhook: delete nodes"
  assert_eq no "$(_can_i webhook create meshservices.meshgate.io -A)" "webhook: create meshservices"
  assert_eq no "$(_can_i webhook delete apiroutes.meshgate.io -A)" "webhook: delete apiroutes"
}
