#!/usr/bin/env bash
# Stops the local control plane that up.sh started in DIR (default .local/cluster, relative to
# the repository root) and removes DIR. Called by `make cluster-down` and by test/e2e/run.sh.
# Signals exactly the recorded pids (TERM, then KILL after a deadline); safe when nothing runs.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo_root=$(cd "$here/../../.." && pwd)
# shellcheck source=test/e2e/cluster/daemon.sh
source "$here/daemon.sh"
# shellcheck source=test/e2e/cluster/node.sh
source "$here/node.sh"

dir=${1:-.local/cluster}
case "$dir" in
  /*) ;;
  *) dir="$repo_root/$dir" ;;
esac

if [ ! -d "$dir" ]; then
  echo "cluster: nothing in $dir"
  exit 0
fi
if [ ! -f "$dir/.meshgate-cluster" ]; then
  echo "cluster: $dir is not a cluster directory made by up.sh; leaving it alone" >&2
  exit 1
fi

k8s_version=$(awk '$1 == "k8s.io/kubernetes" && $2 ~ /^v1\./ { print $2; exit }' "$here/go.mod")
bin_dir=${XDG_CACHE_HOME:-$HOME/.cache}/meshgate/k8s/${k8s_version}/bin
# The node first (its pods, mounts, bridge, chains, cgroups), while the apiserver still runs.
node_down "$dir"
# Clients first, etcd last, so the apiserver can shut down cleanly against a live etcd.
for name in kwok kube-scheduler kube-controller-manager kube-apiserver etcd; do
  daemon_stop "$dir" "$name"
done
rm -rf "$dir"
echo "cluster: stopped and removed $dir"
