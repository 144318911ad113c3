# shellcheck shell=bash
# Helpers for the e2e tests that run meshgate-operator as a local process with only its RBAC
# (operator.kubeconfig); sourced by 40_operator_test.sh and 45_apiroute_test.sh.

_operator_bin() { echo "${MESHGATE_BUILD_DIR:-build}/bin/meshgate-operator"; }

_prepare_operator() {
  ensure_namespace meshgate-system
  kubectl apply -R -f config/rbac/ >/dev/null
  kubectl apply -f crds/ >/dev/null
  wait_for 60 kubectl wait --for condition=established --timeout=10s crd/meshservices.meshgate.io crd/apiroutes.meshgate.io >/dev/null
}

# _launch_operator LOG [ARGS...] — starts the operator in the background and waits for its probe
# servers; sets OPERATOR_PID, METRICS_URL and READYZ_URL. The config server listens on
# $OPERATOR_CONFIG_SERVER (default 127.0.0.1:0, an ephemeral port the log names).
_launch_operator() {
  local log=$1
  shift
  # Emptied here, not by the background job's redirection: a restart reuses the log, and the
  # wait below must not read the previous run's lines before the new process truncates them.
  : >"$log"
  "$(_operator_bin)" --kubeconfig "$MESHGATE_CLUSTER_DIR/operator.kubeconfig" \
    --metrics-bind-address 127.0.0.1:0 --health-probe-bind-address 127.0.0.1:0 \
    --config-server-bind-address "${OPERATOR_CONFIG_SERVER:-127.0.0.1:0}" "$@" >>"$log" 2>&1 &
  OPERATOR_PID=$!
  wait_for 20 bash -c "[ \$(grep -c 'probe server listening' '$log') -ge 2 ]"
  local ports
  ports=$(sed -nE 's/.*probe server listening on 127\.0\.0\.1:([0-9]+).*/\1/p' "$log")
  METRICS_URL="http://127.0.0.1:$(sed -n 1p <<<"$ports")/metrics"
  READYZ_URL="http://127.0.0.1:$(sed -n 2p <<<"$ports")/readyz"
}

# _start_operator LOG [ARGS...] — _launch_operator, then waits until every part has started
# (with --leader-elect, until it leads: /readyz is ok for a standby as well).
_start_operator() {
  _launch_operator "$@"
  wait_for 60 curl -sf --max-time 2 "$READYZ_URL"
  wait_for 60 grep -q 'meshgate-operator: running' "$1"
}

_stop_operator() {
  [ -z "${OPERATOR_PID:-}" ] || { kill -TERM "$OPERATOR_PID" 2>/dev/null || true; wait "$OPERATOR_PID" 2>/dev/null || true; }
  OPERATOR_PID=""
}

_condition() { kubectl get ms "$2" -n "$1" -o jsonpath="{.status.conditions[?(@.type==\"$3\")].status}"; }

_apply_static_ms() {
  local ns=$1 name=$2 port=${3:-80}
  kubectl apply -n "$ns" -f - >/dev/null <<YAML
apiVersion: meshgate.io/v1alpha1
kind: MeshService
metadata:
  name: $name
spec:
  endpoints:
  - address: 10.20.0.1
  - address: 127.0.0.20
  ports:
  - name: http
    port: $port
    targetPort: 8080
YAML
}

# _apply_route NS NAME HOST PATH SERVICE [EXTRA_PATH] — an ApiRoute with one host, a PathPrefix
# rule to SERVICE:80, and optionally a second rule to SERVICE:80 on EXTRA_PATH.
_apply_route() {
  local ns=$1 name=$2 host=$3 path=$4 service=$5 extra=${6:-}
  {
    cat <<YAML
apiVersion: meshgate.io/v1alpha1
kind: ApiRoute
metadata:
  name: $name
spec:
  hosts: [$host]
  rules:
  - matches:
    - path: {type: PathPrefix, value: $path}
    backends:
    - {service: $service, port: 80}
YAML
    if [ -n "$extra" ]; then
      cat <<YAML
  - matches:
    - path: {type: PathPrefix, value: $extra}
    backends:
    - {service: $service, port: 80}
YAML
    fi
  } | kubectl apply -n "$ns" -f - >/dev/null
}

# _ms_yaml NS NAME ADDRESS... — one MeshService document (port 80 → 8080) with these static
# endpoints, for building many objects into one server-side apply.
_ms_yaml() {
  local ns=$1 name=$2 endpoints="" address
  shift 2
  for address in "$@"; do endpoints+="${endpoints:+, }{address: $address}"; done
  cat <<YAML
---
apiVersion: meshgate.io/v1alpha1
kind: MeshService
metadata: {name: $name, namespace: $ns}
spec:
  endpoints: [$endpoints]
  ports: [{name: http, port: 80, targetPort: 8080}]
YAML
}

# _route_field NS NAME TYPE FIELD — a field (status, reason, message) of an ApiRoute condition.
_route_field() {
  kubectl get ar "$2" -n "$1" -o jsonpath="{.status.conditions[?(@.type==\"$3\")].$4}"
}

# _route_is NS NAME TYPE STATUS [REASON] — true when the ApiRoute condition says so.
_route_is() {
  [ "$(_route_field "$1" "$2" "$3" status)" = "$4" ] || return 1
  [ -z "${5:-}" ] || [ "$(_route_field "$1" "$2" "$3" reason)" = "$5" ]
}

# _wait_route NS NAME TYPE STATUS [REASON] — waits (30 s) until the condition says so.
_wait_route() {
  wait_for 30 _route_is "$@"
}
