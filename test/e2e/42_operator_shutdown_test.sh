# shellcheck shell=bash
# SIGTERM at every phase of start-up (kube::Manager): meshgate-operator while its caches cannot
# sync (an identity without RBAC, so every list is refused), while its CA bootstrap retries (a
# system namespace that does not exist) and while it leads (the Lease is then released), and
# meshgate-webhook while its caches cannot sync: each exits 0 within a bound, with no sanitizer
# report (CI runs these binaries under ASan and UBSan). Run by test/e2e/run.sh.

# shellcheck source=operator_lib.sh
source "$REPO_ROOT/test/e2e/operator_lib.sh"

# _nobody_kubeconfig DIR — DIR/nobody.kubeconfig: the operator's apiserver and CA, a client
# certificate for a user no RBAC rule names.
_nobody_kubeconfig() {
  local dir=$1 pki=$MESHGATE_CLUSTER_DIR/pki
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$dir/nobody.key" 2>/dev/null
  openssl req -new -key "$dir/nobody.key" -subj "/CN=meshgate-e2e-nobody" -out "$dir/nobody.csr" 2>/dev/null
  openssl x509 -req -in "$dir/nobody.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -days 1 -sha256 \
    -set_serial "0x$(openssl rand -hex 16)" -out "$dir/nobody.crt" 2>/dev/null
  sed -E -e "s|(client-certificate-data:).*|\1 $(base64 -w0 "$dir/nobody.crt")|" \
    -e "s|(client-key-data:).*|\1 $(base64 -w0 "$dir/nobody.key")|" \
    "$MESHGATE_CLUSTER_DIR/operator.kubeconfig" >"$dir/nobody.kubeconfig"
  chmod 600 "$dir/nobody.kubeconfig"
}

# _terminate_expecting_zero PID LOG — SIGTERM, then the exit code must be 0 within 30 s and the
# log free of sanitizer reports.
_terminate_expecting_zero() {
  local pid=$1 log=$2 rc=0 watchdog
  kill -TERM "$pid"
  # A bound, not a wait for a condition: a process that hangs is killed and the test fails.
  (sleep 30 && kill -9 "$pid" 2>/dev/null) &
  watchdog=$!
  wait "$pid" || rc=$?
  kill "$watchdog" 2>/dev/null || true
  wait "$watchdog" 2>/dev/null || true
  tail -5 "$log"
  assert_eq 0 "$rc" "exit code after SIGTERM"
  assert_not_contains "$(cat "$log")" "AddressSanitizer" "sanitizer report"
  assert_not_contains "$(cat "$log")" "runtime error:" "sanitizer report"
}

_launch_unready_operator() {
  local log=$1 kubeconfig=$2
  shift 2
  : >"$log"
  "$(_operator_bin)" --kubeconfig "$kubeconfig" --metrics-bind-address 127.0.0.1:0 \
    --health-probe-bind-address 127.0.0.1:0 --config-server-bind-address 127.0.0.1:0 "$@" \
    >>"$log" 2>&1 &
  OPERATOR_PID=$!
}

test_operator_sigterm_while_its_caches_cannot_sync() {
  _prepare_operator
  local log dir pid
  log=$(mktemp)
  dir=$(mktemp -d)
  trap 'kill -9 $pid 2>/dev/null || true; rm -rf $log $dir' RETURN
  _nobody_kubeconfig "$dir"
  _launch_unready_operator "$log" "$dir/nobody.kubeconfig" --leader-elect \
    --leader-election-id e2e-shutdown-sync
  pid=$OPERATOR_PID OPERATOR_PID=""
  step "every list is refused: the operator stays in the cache sync"
  wait_for 30 grep -q 'list failed.*Forbidden' "$log"
  grep -q 'syncing caches' "$log"
  step "SIGTERM: exit 0, no Lease taken"
  _terminate_expecting_zero "$pid" "$log"
  expect_fail kubectl -n meshgate-system get lease e2e-shutdown-sync
}

test_operator_sigterm_while_its_bootstrap_retries() {
  _prepare_operator
  local log pid
  log=$(mktemp)
  trap 'kill -9 $pid 2>/dev/null || true; rm -f $log' RETURN
  # The admin identity reads everything; the CA Secret cannot be created in a namespace that
  # does not exist, so the bootstrap retries with backoff.
  _launch_unready_operator "$log" "$MESHGATE_CLUSTER_DIR/kubeconfig" \
    --system-namespace e2e-absent-system
  pid=$OPERATOR_PID OPERATOR_PID=""
  step "the bootstrap fails and retries"
  wait_for 60 grep -q 'bootstrap: .*retrying in' "$log"
  step "SIGTERM during the retry: exit 0 at once"
  _terminate_expecting_zero "$pid" "$log"
  assert_eq 0 "$(grep -c 'controller .*started' "$log" || true)" "no controller started"
}

test_operator_sigterm_while_leading_releases_the_lease() {
  _prepare_operator
  local log pid
  log=$(mktemp)
  trap 'kill -9 $pid 2>/dev/null || true; rm -f $log' RETURN
  _start_operator "$log" --leader-elect --leader-election-id e2e-shutdown-lead
  pid=$OPERATOR_PID OPERATOR_PID=""
  assert_eq "$(grep -m1 -oE 'leader election: [^ ]+ campaigning' "$log" | cut -d' ' -f3)" \
    "$(kubectl -n meshgate-system get lease e2e-shutdown-lead -o jsonpath='{.spec.holderIdentity}')" \
    "the Lease is held by this replica"
  step "SIGTERM: controllers stop, then the Lease is released, exit 0"
  _terminate_expecting_zero "$pid" "$log"
  assert_eq "" "$(kubectl -n meshgate-system get lease e2e-shutdown-lead -o jsonpath='{.spec.holderIdentity}')" \
    "holderIdentity after the release"
  grep -q 'released lease' "$log"
}

test_webhook_sigterm_while_its_caches_cannot_sync() {
  _prepare_operator
  local log dir pid
  log=$(mktemp)
  dir=$(mktemp -d)
  trap 'kill -9 $pid 2>/dev/null || true; rm -rf $log $dir' RETURN
  _nobody_kubeconfig "$dir"
  # A serving certificate the webhook can load (any; nothing calls it in this test).
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
    -subj "/CN=webhook" -addext "subjectAltName=DNS:webhook" \
    -keyout "$dir/tls.key" -out "$dir/tls.crt" 2>/dev/null
  "${MESHGATE_BUILD_DIR:-build}/bin/meshgate-webhook" --kubeconfig "$dir/nobody.kubeconfig" \
    --cert-dir "$dir" --bind-address 127.0.0.1:0 --metrics-bind-address 127.0.0.1:0 \
    --health-probe-bind-address 127.0.0.1:0 >"$log" 2>&1 &
  pid=$!
  step "the webhook's lists are refused: it never opens its listener"
  wait_for 30 grep -q 'list failed.*Forbidden' "$log"
  assert_eq 0 "$(grep -c 'serving admission' "$log" || true)" "no admission listener"
  step "SIGTERM: exit 0"
  _terminate_expecting_zero "$pid" "$log"
}
