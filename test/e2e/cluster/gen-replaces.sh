#!/usr/bin/env bash
# Pins every Kubernetes staging module in test/e2e/cluster/go.mod to the release we build.
# Run by hand when K8S_VERSION changes, then `go mod tidy`; build.sh does not call it.
# k8s.io/kubernetes refers to its staging modules (k8s.io/api, k8s.io/client-go, ...) as
# `=> ./staging/src/...`, which resolves only inside its own repository, so a module requiring
# it must replace each of them with the published tag v0.<minor>.<patch>.
set -euo pipefail
cd "$(dirname "$0")"

K8S_VERSION=${K8S_VERSION:-v1.36.3}
staging_version="v0.${K8S_VERSION#v1.}"

gomod=$(go mod download -json "k8s.io/kubernetes@${K8S_VERSION}" | jq -r .GoMod)

# The release's lines look like: "	k8s.io/api => ./staging/src/k8s.io/api"
mapfile -t staging < <(awk '$2 == "=>" && $3 ~ /^\.\/staging\// { print $1 }' "$gomod" | sort -u)
if [ ${#staging[@]} -eq 0 ]; then
  echo "gen-replaces: no staging replaces found in $gomod" >&2
  exit 1
fi

# Drop the k8s.io replaces written before, then append the current set as one block.
edits=()
while read -r old; do
  edits+=("-dropreplace=$old")
done < <(go mod edit -json | jq -r '.Replace[]?.Old.Path | select(startswith("k8s.io/"))')
go mod edit "-require=k8s.io/kubernetes@${K8S_VERSION}" "${edits[@]}"
{
  echo
  echo "// Staging modules of k8s.io/kubernetes ${K8S_VERSION}, written by gen-replaces.sh."
  echo "replace ("
  for m in "${staging[@]}"; do
    printf '\t%s => %s %s\n' "$m" "$m" "$staging_version"
  done
  echo ")"
} >>go.mod
go mod edit -fmt
echo "gen-replaces: ${#staging[@]} staging modules pinned to ${staging_version}; now run: go mod tidy"
