# shellcheck shell=bash
# Helpers of the e2e tests that run on the real node (*_node_test.sh): the kustomization they
# install meshgate with, the node's containerd, pods' addresses and what a failed rollout needs
# to be understood.

# _install_kustomization — what the tests apply: config/default itself, or, when the binaries
# under test are sanitized (CI's ASan/UBSan build), an overlay of it that only raises the memory
# limits, since ASan needs about three times the memory (the operator's 256Mi was OOM-killed
# with the suite's objects in its caches).
_install_kustomization() {
  if ! ldd "$MESHGATE_BUILD_DIR/bin/meshgate-operator" | grep -q libasan; then
    echo config/default
    return
  fi
  local overlay=$REPO_ROOT/.local/e2e-install-sanitized deployment
  mkdir -p "$overlay"
  {
    echo "resources: [../../config/default]"
    echo "patches:"
    for deployment in meshgate-operator meshgate-webhook meshgate-gateway; do
      cat <<YAML
  - target: {kind: Deployment, name: $deployment}
    patch: |-
      - {op: replace, path: /spec/template/spec/containers/0/resources/limits/memory, value: 1Gi}
YAML
    done
  } >"$overlay/kustomization.yaml"
  echo "$overlay"
}

_ctr() {
  ctr --address "$MESHGATE_NODE_CONTAINERD" --namespace k8s.io "$@"
}

# _import ARCHIVE... — OCI archives into the node's image store.
_import() {
  local archive
  for archive in "$@"; do
    _ctr images import "$archive" >/dev/null
  done
}

# _pod_ip NS SELECTOR — the address of the first pod SELECTOR matches.
_pod_ip() {
  kubectl get pods -n "$1" -l "$2" -o jsonpath='{.items[0].status.podIP}'
}

# _explain_pods NS — what a failed rollout needs to be understood: the pods, their events and
# the last lines of each container's log.
_explain_pods() {
  local pod
  kubectl get pods -n "$1" -o wide
  kubectl get events -n "$1" --sort-by=.lastTimestamp | tail -n 30
  for pod in $(kubectl get pods -n "$1" -o name); do
    echo "--- $pod"
    kubectl logs -n "$1" "$pod" --all-containers --tail=15 2>&1 || true
  done
}

# _gateway_route NS NAME HOST SERVICE PORT — an ApiRoute of ingress class meshgate sending HOST to
# port PORT of MeshService SERVICE, applied in NS; returns once the operator reports it
# Programmed (a gateway pod acknowledged it).
_gateway_route() {
  kubectl apply -n "$1" -f - >/dev/null <<YAML
apiVersion: meshgate.io/v1alpha1
kind: ApiRoute
metadata: {name: $2}
spec:
  ingressClassName: meshgate
  hosts: [$3]
  rules:
    - backends: [{service: $4, port: $5}]
YAML
  wait_for 60 bash -c "[ \"\$(kubectl get apiroute $2 -n $1 -o jsonpath='{.status.conditions[?(@.type==\"Programmed\")].status}')\" = True ]"
}

# _gateway_ip — the ClusterIP of the installed gateway Service (kube-proxy spreads it over the pods).
_gateway_ip() {
  kubectl get service meshgate-gateway -n meshgate-system -o jsonpath='{.spec.clusterIP}'
}
