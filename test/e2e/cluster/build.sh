#!/usr/bin/env bash
# Builds the real control plane for the e2e tests from Go modules: kube-apiserver,
# kube-controller-manager, kube-scheduler, kubectl and etcd; kubelet and kube-proxy for the
# optional node (node.sh) — all pinned in this folder's go.mod — and CoreDNS (the node's cluster
# DNS), KWOK (fake nodes) and h2spec (HTTP/2 conformance of meshgate-proxy, 52_proxy_http2_test.sh)
# at the versions below, each with its own module graph.
# Called by `make control-plane`.
# Binaries go to ${XDG_CACHE_HOME:-$HOME/.cache}/meshgate/k8s/<version>/bin, outside the clone, so
# a fresh clone (CI) reuses them. Only missing or out-of-date binaries are built; each is written
# under a temporary name and renamed, so an interrupted build never leaves a half binary behind.
set -euo pipefail
cd "$(dirname "$0")"

K8S_VERSION=$(awk '$1 == "k8s.io/kubernetes" && $2 ~ /^v1\./ { print $2; exit }' go.mod)
if [ -z "$K8S_VERSION" ]; then
  echo "build: go.mod does not require k8s.io/kubernetes" >&2
  exit 1
fi
minor=${K8S_VERSION#v1.}
minor=${minor%%.*}
BIN_DIR=${XDG_CACHE_HOME:-$HOME/.cache}/meshgate/k8s/${K8S_VERSION}/bin
GO_JOBS=${GO_JOBS:-2}

# name=package; kubectl reports its client version from client-go, the servers from component-base.
binaries=(
  etcd=./etcd
  kube-apiserver=k8s.io/kubernetes/cmd/kube-apiserver
  kube-controller-manager=k8s.io/kubernetes/cmd/kube-controller-manager
  kube-scheduler=k8s.io/kubernetes/cmd/kube-scheduler
  kubectl=k8s.io/kubernetes/cmd/kubectl
  kubelet=k8s.io/kubernetes/cmd/kubelet
  kube-proxy=k8s.io/kubernetes/cmd/kube-proxy
  coredns=github.com/coredns/coredns@v1.14.7
  kwok=sigs.k8s.io/kwok/cmd/kwok@v0.8.0
  # The newest h2spec the module proxy serves: later tags (v2.3+) have a go.mod without /v2. This
  # one has no go.mod, so its few dependencies (x/net/http2, cobra, color) resolve when it is built.
  h2spec=github.com/summerwind/h2spec/cmd/h2spec@v2.2.1+incompatible
)

# A reproducible build date: the release's own timestamp from the module proxy.
info=$(go mod download -json "k8s.io/kubernetes@${K8S_VERSION}" | jq -r .Info)
build_date=$(jq -r '.Time // "1970-01-01T00:00:00Z"' "$info")
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X ${pkg}.gitVersion=${K8S_VERSION} -X ${pkg}.gitMajor=1 -X ${pkg}.gitMinor=${minor}"
  ldflags+=" -X ${pkg}.gitCommit= -X ${pkg}.gitTreeState=clean -X ${pkg}.buildDate=${build_date}"
done

# A binary is current when its stamp matches the inputs it was built from (its entry names the
# version of a tool built outside this module).
stamp=$( { cat go.mod go.sum etcd/main.go; echo "$ldflags"; go version; } | sha256sum | cut -c1-16)
entry_stamp() {
  echo "$stamp $1" | sha256sum | cut -c1-16
}

missing=()
for entry in "${binaries[@]}"; do
  name=${entry%%=*}
  if [ ! -x "$BIN_DIR/$name" ] || [ "$(cat "$BIN_DIR/.$name.stamp" 2>/dev/null)" != "$(entry_stamp "$entry")" ]; then
    missing+=("$entry")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "control plane ${K8S_VERSION}: up to date in $BIN_DIR"
  exit 0
fi

mkdir -p "$BIN_DIR"
echo "control plane ${K8S_VERSION}: building ${#missing[@]} binaries into $BIN_DIR"
echo "  (a cold build takes about 20-25 minutes on 2 cores; later runs reuse the Go build cache)"
log=$(mktemp)
tmp=""
heartbeat_pid=""
cleanup() {
  [ -z "$heartbeat_pid" ] || kill "$heartbeat_pid" 2>/dev/null || true
  rm -f "$log" ${tmp:+"$tmp"}
}
trap cleanup EXIT

# Progress every 30s while go builds: go build -v names each package it compiles (cached ones
# are not listed). Its sleeps hold no output open, so killing it never delays a pipe's end.
heartbeat() {
  local start=$SECONDS
  while true; do
    for _ in $(seq 30); do
      sleep 1 >/dev/null 2>&1
    done
    echo "      ... $(grep -vc '^#' "$log" || true) packages compiled, $((SECONDS - start))s"
  done
}

i=0
for entry in "${missing[@]}"; do
  i=$((i + 1))
  name=${entry%%=*}
  pkg=${entry#*=}
  tmp="$BIN_DIR/.$name.tmp.$$"
  start=$SECONDS
  echo "[$i/${#missing[@]}] $name ($pkg)"
  heartbeat &
  heartbeat_pid=$!
  rc=0
  # In the foreground, so Ctrl-C reaches go build and it stops its compilers.
  if [[ $pkg == *@* ]]; then
    # A tool outside this module: go install builds it with its own go.mod, into a private GOBIN.
    gobin=$(mktemp -d)
    CGO_ENABLED=0 GOBIN=$gobin go install -p "$GO_JOBS" -trimpath -v -ldflags "-s -w" "$pkg" \
      >"$log" 2>&1 || rc=$?
    [ $rc -ne 0 ] || mv -f "$gobin/$(basename "${pkg%@*}")" "$tmp"
    rm -rf "$gobin"
  else
    CGO_ENABLED=0 go build -p "$GO_JOBS" -trimpath -buildvcs=false -v -ldflags "$ldflags" \
      -o "$tmp" "$pkg" >"$log" 2>&1 || rc=$?
  fi
  kill "$heartbeat_pid" 2>/dev/null || true
  wait "$heartbeat_pid" 2>/dev/null || true
  heartbeat_pid=""
  if [ $rc -ne 0 ]; then
    tail -n 40 "$log" >&2
    echo "build: $name failed" >&2
    exit 1
  fi
  mv -f "$tmp" "$BIN_DIR/$name"
  entry_stamp "$entry" >"$BIN_DIR/.$name.stamp"
  tmp=""
  echo "      done in $((SECONDS - start))s"
done
echo "control plane ${K8S_VERSION}: built; kubectl reports $("$BIN_DIR/kubectl" version --client -o json | jq -r .clientVersion.gitVersion)"
