#!/usr/bin/env bash
# Installs every Debian package meshgate needs to build, test and benchmark. Idempotent: it asks
# dpkg first and runs apt-get only for what is missing, so a machine that has everything is quiet.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git openssl
  libboost1.81-dev libboost-url1.81-dev libboost-system1.81-dev
  libssl-dev nlohmann-json3-dev libyaml-cpp-dev libspdlog-dev libfmt-dev libre2-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev libgoogle-perftools-dev
  clang-format clang-tidy
  clang-14 libclang-rt-14-dev
  libnghttp2-dev nghttp2-client
  wrk nginx-light haproxy valgrind strace curl jq procps util-linux python3 iproute2
  umoci skopeo ca-certificates
  containerd runc containernetworking-plugins iptables
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ "$status" = "installed" ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
# Package install scripts must not start nginx/haproxy as system services: benchmarks start their own.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
  $SUDO chmod +x "$policy"
  created_policy=1
fi
trap '[ $created_policy -eq 1 ] && $SUDO rm -f "$policy"' EXIT
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "deps: done"
