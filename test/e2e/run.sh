#!/usr/bin/env bash
# Runs the e2e suite against a fresh real control plane. Called by `make e2e`, which first builds
# meshgate and the control plane; this script builds nothing.
#
#   test/e2e/run.sh [PATTERN]
#
# One cluster per run (in .local/e2e-<pid>), always torn down; on failure its logs are copied to
# .local/e2e-logs/. Each test_* function of each test/e2e/*_test.sh runs in file order in a fresh
# bash with errexit, with lib.sh's helpers; PATTERN (a bash regex) keeps the tests whose
# "file:function" matches it. The last line is "N passed, N failed"; any failure exits 1.
# Environment: E2E_TEST_TIMEOUT (seconds per test, default 180); MESHGATE_BUILD_DIR (where tests
# find meshgate's binaries; default $BUILD_DIR, which make exports when given on its command
# line, else build); MESHGATE_NODE=1 starts the cluster with a real node (cluster/node.sh) and
# runs the *_node_test.sh files too (the node imports the images of $MESHGATE_BUILD_DIR/images,
# `make images`); without the node, or where up.sh had to skip it, those files are not run and
# the summary says why.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo_root=$(cd "$here/../.." && pwd)
pattern=${1:-}
test_timeout=${E2E_TEST_TIMEOUT:-180}
cluster_dir="$repo_root/.local/e2e-$$"
logs_dest="$repo_root/.local/e2e-logs"

# Collect the tests first, so a PATTERN that matches nothing fails before a cluster starts.
tests=()
for file in "$here"/*_test.sh; do
  [ -e "$file" ] || continue
  while read -r fn; do
    id="$(basename "$file" .sh):$fn"
    if [ -z "$pattern" ] || [[ $id =~ $pattern ]]; then
      tests+=("$file:$fn")
    fi
  done < <(sed -nE 's/^(function[[:space:]]+)?(test_[A-Za-z0-9_]+)[[:space:]]*\(\).*/\2/p' "$file")
done
if [ ${#tests[@]} -eq 0 ]; then
  echo "e2e: no test matches '${pattern}'" >&2
  exit 1
fi

passed=0
failed=0
out=""
test_pid=""
finish() {
  local rc=$?
  trap - EXIT INT TERM
  [ -z "$test_pid" ] || kill -TERM "$test_pid" 2>/dev/null || true
  [ -z "$out" ] || rm -f "$out"
  if [ $failed -gt 0 ] || [ $rc -ne 0 ]; then
    if [ -d "$cluster_dir/logs" ]; then
      rm -rf "$logs_dest"
      mkdir -p "$logs_dest"
      cp -r "$cluster_dir/logs/." "$logs_dest/"
      echo "e2e: control-plane logs copied to ${logs_dest#"$repo_root"/}/"
    fi
  fi
  bash "$here/cluster/down.sh" "$cluster_dir" >/dev/null || true
  if [ $rc -ne 0 ] && [ $((passed + failed)) -lt ${#tests[@]} ]; then
    echo "e2e: aborted after $((passed + failed)) of ${#tests[@]} tests" >&2
  fi
  echo "$passed passed, $failed failed"
  if [ $failed -gt 0 ] || [ $rc -ne 0 ]; then
    exit 1
  fi
  exit 0
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

export MESHGATE_BUILD_DIR=${MESHGATE_BUILD_DIR:-${BUILD_DIR:-build}}
case "$MESHGATE_BUILD_DIR" in
  /*) export MESHGATE_NODE_IMAGES=${MESHGATE_NODE_IMAGES:-$MESHGATE_BUILD_DIR/images} ;;
  *) export MESHGATE_NODE_IMAGES=${MESHGATE_NODE_IMAGES:-$repo_root/$MESHGATE_BUILD_DIR/images} ;;
esac
# Only up.sh's first line ("ready in Ns"): its how-to-use lines are for clusters people keep.
bash "$here/cluster/up.sh" "$cluster_dir" | sed -n '1s/^/e2e: /p'
# shellcheck source=/dev/null
source "$cluster_dir/env"
export REPO_ROOT=$repo_root
cd "$repo_root"

# The node's tests run only on a cluster with a node.
if [ -z "${MESHGATE_NODE_NAME:-}" ]; then
  if [ -f "$cluster_dir/node.skipped" ]; then
    why="the node was skipped: $(cat "$cluster_dir/node.skipped")"
  else
    why="MESHGATE_NODE is not 1 (make test MESHGATE_NODE=1 runs them)"
  fi
  kept=()
  skipped_node_tests=0
  for t in "${tests[@]}"; do
    if [[ ${t%:*} == *_node_test.sh ]]; then
      skipped_node_tests=$((skipped_node_tests + 1))
    else
      kept+=("$t")
    fi
  done
  if [ $skipped_node_tests -gt 0 ]; then
    echo "e2e: $skipped_node_tests node tests not run: $why"
    tests=("${kept[@]}")
  fi
fi

# now_ms — wall clock in milliseconds.
now_ms() {
  local t=${EPOCHREALTIME/[.,]/}
  echo $((t / 1000))
}

# The shell each test runs in. On the first failing command its ERR trap names the line of the
# test file that failed (also when the failure came from inside a lib.sh helper) and the
# command itself.
# shellcheck disable=SC2016 # expanded by the test's bash
test_shell='
  set -Eeuo pipefail
  _on_err() {
    local rc=$1 cmd=$2 i
    # A failure inside $(...) or a pipeline also fails the command around it: report that one.
    [ "$BASH_SUBSHELL" -eq 0 ] || return 0
    trap - ERR
    for ((i = 0; i < ${#BASH_SOURCE[@]} - 1; i++)); do
      if [ "${BASH_SOURCE[i + 1]}" = "$TEST_FILE" ]; then
        local line=${BASH_LINENO[i]}
        echo "FAILED at ${TEST_FILE##*/}:$line: $(sed -n "${line}{s/^[[:space:]]*//;p}" "$TEST_FILE")" >&2
        break
      fi
    done
    echo "  (command: $cmd; exit $rc)" >&2
  }
  trap '\''_on_err $? "$BASH_COMMAND"'\'' ERR
  TEST_FILE=$2
  source "$1"
  source "$2"
  "$3"
'

out=$(mktemp)
for t in "${tests[@]}"; do
  file=${t%:*}
  fn=${t##*:}
  name="$(basename "$file" _test.sh)/${fn#test_}"
  start=$(now_ms)
  # A fresh bash per test: errexit holds inside its functions and no state leaks between tests.
  # It runs in the background so that a trapped Ctrl-C interrupts `wait` at once; timeout
  # signals the test's whole process group.
  timeout --kill-after=10 "$test_timeout" bash -c "$test_shell" _ "$here/lib.sh" "$file" "$fn" \
    >"$out" 2>&1 </dev/null &
  test_pid=$!
  rc=0
  wait "$test_pid" || rc=$?
  # What the test left running (a process started in the background by a test that failed
  # before its cleanup) must not act on the shared cluster during the next tests: timeout ran
  # the test in a process group of its own, which ends with it.
  kill -KILL -- "-$test_pid" 2>/dev/null || true
  test_pid=""
  ms=$(($(now_ms) - start))
  elapsed="$((ms / 1000)).$(((ms % 1000) / 100))s"
  if [ $rc -eq 0 ]; then
    passed=$((passed + 1))
    echo "PASS $name ($elapsed)"
  else
    failed=$((failed + 1))
    [ $rc -ne 124 ] || echo "timed out after ${test_timeout}s (E2E_TEST_TIMEOUT)" >>"$out"
    echo "FAIL $name ($elapsed)"
    tail -n 60 "$out" | sed 's/^/    /'
  fi
done
