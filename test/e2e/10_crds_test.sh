# shellcheck shell=bash
# The CustomResourceDefinitions in crds/ as an admin meets them through kubectl: they are
# established, print useful columns, explain themselves, group under the `meshgate` category,
# accept every sample in config/samples/ and reject the invalid objects in api/testdata/invalid/
# with the message each file names. Run by test/e2e/run.sh.

# Idempotent, so every test can start from here and run alone (run.sh PATTERN).
_apply_crds() {
  local files=(crds/*.yaml)
  [ -e "${files[0]}" ] || files=()
  assert_ge "${#files[@]}" 2 "CRD files in crds/"
  kubectl apply -f crds/ >/dev/null
  wait_for 60 kubectl wait --for condition=established --timeout=10s \
    crd/meshservices.meshgate.io crd/apiroutes.meshgate.io >/dev/null
}

# The sample files that hold meshgate kinds.
_meshgate_samples() {
  grep -lE '^apiVersion:[[:space:]]*meshgate\.io/' config/samples/*.yaml 2>/dev/null || true
}

# _ensure_namespaces_of FILE... — creates the namespaces the objects in FILEs are placed in, so
# an object is judged on itself, not on a missing namespace. Objects without one go to default.
_ensure_namespaces_of() {
  local ns
  while read -r ns; do
    ensure_namespace "$ns"
  done < <(sed -nE 's/^  namespace:[[:space:]]*"?([a-z0-9-]+)"?[[:space:]]*$/\1/p' "$@" | sort -u)
}

_apply_samples() {
  local f ns samples
  samples=$(_meshgate_samples)
  [ -n "$samples" ] || {
    echo "no file in config/samples/ holds a meshgate kind" >&2
    return 1
  }
  # shellcheck disable=SC2086 # file names without spaces, one per line
  _ensure_namespaces_of $samples
  for f in $samples; do
    kubectl apply -f "$f" >/dev/null || {
      echo "sample $f was rejected" >&2
      return 1
    }
  done
}

test_crds_are_established() {
  _apply_crds
  local names
  names=$(kubectl get crd -o name | grep 'meshgate\.io' | sort | tr '\n' ' ')
  assert_eq "customresourcedefinition.apiextensions.k8s.io/apiroutes.meshgate.io customresourcedefinition.apiextensions.k8s.io/meshservices.meshgate.io " "$names"
  # Applying again changes nothing (GitOps re-applies the same files).
  local again
  again=$(kubectl apply -f crds/)
  assert_not_contains "$again" configured
}

test_every_sample_is_accepted() {
  _apply_crds
  _apply_samples
}

test_printer_columns() {
  _apply_crds
  _apply_samples
  local out ms_header ar_header
  out=$(kubectl get ms,ar -A)
  ms_header=$(grep -m1 -E '^NAMESPACE +NAME' <<<"$out")
  ar_header=$(grep -E '^NAMESPACE +NAME' <<<"$out" | sed -n 2p)
  local col
  for col in PORTS ENDPOINTS READY; do
    assert_contains "$ms_header" "$col" "MeshService column $col"
  done
  for col in HOSTS BACKENDS ACCEPTED PROGRAMMED; do
    assert_contains "$ar_header" "$col" "ApiRoute column $col"
  done
}

test_short_names_and_category_list_both_kinds() {
  _apply_crds
  _apply_samples
  local out
  out=$(kubectl get meshgate -A -o name)
  assert_contains "$out" "meshservice.meshgate.io/"
  assert_contains "$out" "apiroute.meshgate.io/"
  assert_eq "$(kubectl get ms -A -o name | sort)" "$(kubectl get meshservices.meshgate.io -A -o name | sort)"
  assert_eq "$(kubectl get ar -A -o name | sort)" "$(kubectl get apiroutes.meshgate.io -A -o name | sort)"
}

test_explain_shows_descriptions() {
  _apply_crds
  local out missing
  out=$(kubectl explain apiroute.spec.rules)
  assert_contains "$out" "FIELDS:"
  assert_not_contains "$out" "<empty>" "a field or the kind without a description"
  # Every field line (two spaces, a name, a tab or spaces and its <type>) must be followed by
  # an indented description line.
  missing=$(awk '
    /^FIELDS:/ { fields = 1; next }
    fields && /^  [A-Za-z][A-Za-z0-9]*[\t ]+</ { if (pending) print pending; pending = $1; next }
    fields && pending && /^    [^ ]/ { pending = ""; next }
    END { if (pending) print pending }
  ' <<<"$out")
  assert_eq "" "$missing" "fields of apiroute.spec.rules without a description"
  assert_contains "$out" "matches"
  assert_contains "$out" "backends"
  out=$(kubectl explain meshservice.spec)
  assert_not_contains "$out" "<empty>"
}

test_invalid_objects_are_rejected_with_their_message() {
  _apply_crds
  local files=() f want out bad=0
  for f in api/testdata/invalid/*.yaml; do
    [ -e "$f" ] || continue
    grep -qE '^#[[:space:]]*apiserver:' "$f" && files+=("$f")
  done
  assert_ge "${#files[@]}" 10 "files in api/testdata/invalid/ with a '# apiserver: <message>' line"
  _ensure_namespaces_of "${files[@]}"
  for f in "${files[@]}"; do
    want=$(sed -nE 's/^#[[:space:]]*apiserver:[[:space:]]*//p' "$f" | head -n 1 | sed -E 's/[[:space:]]+$//')
    if out=$(kubectl apply -f "$f" 2>&1); then
      echo "ACCEPTED $f (want rejection containing: $want)"
      kubectl delete -f "$f" --ignore-not-found >/dev/null 2>&1 || true
      bad=$((bad + 1))
    elif [[ $out != *"$want"* ]]; then
      echo "WRONG MESSAGE $f"
      echo "  want: $want"
      printf '%s\n' "$out" | head -n 5 | sed 's/^/  got:  /'
      bad=$((bad + 1))
    fi
  done
  assert_eq 0 "$bad" "invalid objects not rejected as their files say (of ${#files[@]})"
}
