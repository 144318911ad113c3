#!/usr/bin/env bash
# Copies the gateway identity the operator keeps in Secret meshgate-system/meshgate-gateway-identity
# (a kubernetes.io/tls Secret: tls.crt, tls.key and ca.crt) into DIR, for a meshgate-proxy gateway
# running outside the cluster (--cert-dir DIR): make demo, the e2e gateway tests and
# bench/propagation use it; docs/CONFIG_STREAM.md explains it. kubectl must reach the cluster.
#   scripts/gateway-identity.sh DIR [SYSTEM_NAMESPACE]
set -euo pipefail
dir=${1:?usage: scripts/gateway-identity.sh DIR [SYSTEM_NAMESPACE]}
ns=${2:-meshgate-system}
mkdir -p "$dir"
umask 077
for f in tls.crt tls.key ca.crt; do
  kubectl get secret meshgate-gateway-identity -n "$ns" -o jsonpath="{.data.${f//./\\.}}" |
    base64 -d >"$dir/$f.new"
  [ -s "$dir/$f.new" ] || { echo "gateway-identity: Secret $ns/meshgate-gateway-identity has no $f" >&2; exit 1; }
  mv -f "$dir/$f.new" "$dir/$f"
done
