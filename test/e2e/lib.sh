# shellcheck shell=bash
# Helpers for the e2e tests (test/e2e/*_test.sh). run.sh sources this file, then the test file,
# in a fresh bash for each test_* function, with errexit on: the first failing command fails the
# test. Every wait has a deadline; nothing sleeps where a condition can be polled.
#
# From run.sh: REPO_ROOT, MESHGATE_CLUSTER_DIR (the cluster's directory, with operator.kubeconfig
# and webhook.kubeconfig), KUBECONFIG (admin) and the built kubectl first on PATH.

# wait_for TIMEOUT_SECONDS COMMAND... — runs COMMAND until it succeeds. After the deadline it
# fails, showing the command and its last output.
wait_for() {
  local timeout=$1 deadline out
  shift
  deadline=$((SECONDS + timeout))
  while true; do
    if out=$("$@" 2>&1); then
      return 0
    fi
    if [ $SECONDS -ge $deadline ]; then
      echo "timed out after ${timeout}s waiting for: $*" >&2
      [ -z "$out" ] || printf '%s\n' "$out" | tail -n 20 | sed 's/^/  | /' >&2
      return 1
    fi
    sleep 0.25
  done
}

# wait_gone TIMEOUT_SECONDS KUBECTL_GET_ARGS... — waits until `kubectl get ARGS` says NotFound.
wait_gone() {
  local timeout=$1
  shift
  wait_for "$timeout" _is_not_found "$@"
}

_is_not_found() {
  local out
  if out=$(kubectl get "$@" -o name 2>&1); then
    echo "still present: $out"
    return 1
  fi
  [[ $out == *NotFound* || $out == *"not found"* ]] || {
    echo "$out"
    return 1
  }
}

# assert_eq EXPECTED ACTUAL [MESSAGE]
assert_eq() {
  if [ "$1" != "$2" ]; then
    echo "assert_eq failed${3:+: $3}" >&2
    echo "  expected: $1" >&2
    echo "  actual:   $2" >&2
    return 1
  fi
}

# assert_contains HAYSTACK NEEDLE [MESSAGE] — fixed-string match.
assert_contains() {
  if [[ $1 != *"$2"* ]]; then
    echo "assert_contains failed${3:+: $3}" >&2
    echo "  wanted: $2" >&2
    printf '%s\n' "$1" | head -n 40 | sed 's/^/  | /' >&2
    return 1
  fi
}

# assert_not_contains HAYSTACK NEEDLE [MESSAGE]
assert_not_contains() {
  if [[ $1 == *"$2"* ]]; then
    echo "assert_not_contains failed${3:+: $3}" >&2
    echo "  unwanted: $2" >&2
    printf '%s\n' "$1" | head -n 40 | sed 's/^/  | /' >&2
    return 1
  fi
}

# assert_ge ACTUAL MINIMUM [MESSAGE] — integers.
assert_ge() {
  if [ "$1" -lt "$2" ]; then
    echo "assert_ge failed${3:+: $3}: $1 < $2" >&2
    return 1
  fi
}

# expect_fail COMMAND... — succeeds when COMMAND fails; prints COMMAND's output (stdout and
# stderr) so the caller can check why: out=$(expect_fail kubectl apply -f bad.yaml)
expect_fail() {
  local out
  if out=$("$@" 2>&1); then
    echo "expected failure, but it succeeded: $*" >&2
    printf '%s\n' "$out" | head -n 40 | sed 's/^/  | /' >&2
    return 1
  fi
  printf '%s\n' "$out"
}

# new_namespace PREFIX — creates a namespace with a unique name and prints the name.
new_namespace() {
  local ns
  ns="$1-$(head -c 4 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  kubectl create namespace "$ns" >/dev/null
  echo "$ns"
}

# ensure_namespace NAME — creates NAME unless it exists.
ensure_namespace() {
  kubectl create namespace "$1" --dry-run=client -o yaml | kubectl apply -f - >/dev/null
}

# step MESSAGE — a progress line in the test's output (shown when the test fails).
step() {
  echo "--- $*"
}
