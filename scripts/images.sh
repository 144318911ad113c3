#!/usr/bin/env bash
# Builds the OCI images of meshgate-operator, meshgate-webhook, meshgate-proxy, meshgate-init (the
# injected traffic-capture init container) and meshgate-pause (the test node's pod sandbox) from
# binaries already built, with umoci and skopeo: no container daemon, no network. Called by
# `make images`.
#
#   scripts/images.sh BUILD_DIR OUT_DIR [VERSION]
#
# Each image is one layer: the binary at /usr/local/bin/<name>, every shared library ldd names
# (at the path ldd names; the ASan/UBSan runtimes too, for sanitized builds), the dynamic loader,
# /etc/passwd and /etc/group with the non-root user 65532 (nonroot) and the host's CA bundle.
# It runs as 65532:65532. Output: OUT_DIR/<name>.oci.tar (an OCI archive for `ctr images import`
# or `skopeo copy oci-archive:...`). Re-running replaces the archives.
#
# The meshgate-init image also holds the host's iptables, legacy backend (Debian package
# iptables): /usr/sbin/xtables-legacy-multi with its iptables-legacy-restore and
# iptables-legacy-save links, every xtables extension module and the libraries of all of them,
# and the lock file /run/xtables.lock.
# The injected init container runs it as root with NET_ADMIN and NET_RAW (the pod spec's
# securityContext overrides the image's user).
#
# VERSION defaults to project(... VERSION) in CMakeLists.txt, else `git describe --always`.
# Environment: IMAGE_REGISTRY (default localhost/meshgate): images are named
# ${IMAGE_REGISTRY}/<name>:${VERSION}; IMAGE_STRIP (default 1): strip debug sections from the
# binary copied into the image (symbols stay, so sanitizer stacks still name functions);
# IMAGE_NAMES: which binaries of BUILD_DIR/bin to package (default the five above; the e2e tests
# also package meshgate-test-backend).
set -euo pipefail

if [ $# -lt 2 ] || [ $# -gt 3 ]; then
  echo "usage: $0 BUILD_DIR OUT_DIR [VERSION]" >&2
  exit 2
fi
build_dir=$1
out_dir=$2
repo_root=$(cd "$(dirname "$0")/.." && pwd)
registry=${IMAGE_REGISTRY:-localhost/meshgate}
strip_debug=${IMAGE_STRIP:-1}
read -r -a names <<<"${IMAGE_NAMES:-meshgate-operator meshgate-webhook meshgate-proxy meshgate-init meshgate-pause}"

for tool in umoci skopeo ldd; do
  command -v "$tool" >/dev/null || {
    echo "images: $tool not found (make deps installs it)" >&2
    exit 1
  }
done
for name in "${names[@]}"; do
  [ -x "$build_dir/bin/$name" ] || {
    echo "images: $build_dir/bin/$name not found (make build BUILD_DIR=$build_dir)" >&2
    exit 1
  }
done
# iptables for meshgate-init: the legacy multi-call binary and the directory of its extension
# modules, which it dlopen()s from the path compiled into libxtables (Debian amd64's below;
# XTABLES_LIBDIR is the variable iptables itself reads for another directory).
xtables_multi=/usr/sbin/xtables-legacy-multi
xtables_libdir=${XTABLES_LIBDIR:-/usr/lib/x86_64-linux-gnu/xtables}
for name in "${names[@]}"; do
  [ "$name" = meshgate-init ] || continue
  [ -x "$xtables_multi" ] && compgen -G "$xtables_libdir/*.so" >/dev/null || {
    echo "images: $xtables_multi or $xtables_libdir/*.so not found (make deps installs iptables)" >&2
    exit 1
  }
done
ca_bundle=/etc/ssl/certs/ca-certificates.crt
[ -r "$ca_bundle" ] || {
  echo "images: $ca_bundle not found (apt-get install ca-certificates)" >&2
  exit 1
}

version=${3:-}
if [ -z "$version" ]; then
  version=$(sed -nE 's/^project\([[:alnum:]_-]+ .*VERSION ([0-9][0-9A-Za-z.]*).*/\1/p' \
    "$repo_root/CMakeLists.txt" | head -n 1)
fi
[ -n "$version" ] || version=$(git -C "$repo_root" describe --always 2>/dev/null || echo dev)
# An OCI tag allows [A-Za-z0-9_.-] only.
tag=$(printf '%s' "$version" | tr -c 'A-Za-z0-9_.-' '-')
revision=$(git -C "$repo_root" rev-parse HEAD 2>/dev/null || echo unknown)
remote=$(git -C "$repo_root" remote 2>/dev/null | head -n 1 || true)
source_url=meshgate
if [ -n "$remote" ]; then
  source_url=$(git -C "$repo_root" remote get-url "$remote" 2>/dev/null || echo meshgate)
fi

rootless=()
[ "$(id -u)" -eq 0 ] || rootless=(--rootless)

# copy_with_path FILE ROOTFS — FILE's content at the same path under ROOTFS (symlinks resolved:
# ldd names the path the loader looks up, which is all the image needs).
copy_with_path() {
  local file=$1 rootfs=$2
  mkdir -p "$rootfs$(dirname "$file")"
  cp -L --preserve=mode "$file" "$rootfs$file"
}

# copy_libraries FILE ROOTFS — every shared library ldd names for FILE, and the dynamic loader.
# "libfoo.so => /path/libfoo.so (0x...)" and "/lib64/ld-linux-x86-64.so.2 (0x...)"; the vDSO
# has no path. "not found" is an error: the image would not start. A static binary
# (meshgate-pause) is not dynamic for ldd and needs none of this.
copy_libraries() {
  local file=$1 rootfs=$2 lib
  ldd "$file" >/dev/null 2>&1 || return 0
  if ldd "$file" | grep -q 'not found'; then
    echo "images: $file has unresolved libraries:" >&2
    ldd "$file" | grep 'not found' >&2
    return 1
  fi
  while read -r lib; do
    copy_with_path "$lib" "$rootfs"
  done < <(ldd "$file" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' | sort -u)
}

# add_iptables ROOTFS — iptables-legacy-restore and iptables-legacy-save (links to
# xtables-legacy-multi, as in Debian), the extension modules, and their libraries.
add_iptables() {
  local rootfs=$1 module
  copy_with_path "$xtables_multi" "$rootfs"
  copy_libraries "$xtables_multi" "$rootfs"
  ln -sf xtables-legacy-multi "$rootfs/usr/sbin/iptables-legacy-restore"
  ln -sf xtables-legacy-multi "$rootfs/usr/sbin/iptables-legacy-save"
  # iptables-restore opens its lock file with O_CREAT and gives up when it cannot ("Fatal: can't
  # open lock file /run/xtables.lock"). On the container's read-only root an existing file still
  # opens (and flock()s), so the image brings it.
  install -d -m 0755 "$rootfs/run"
  install -m 0600 /dev/null "$rootfs/run/xtables.lock"
  for module in "$xtables_libdir"/*.so; do
    copy_with_path "$module" "$rootfs"
    copy_libraries "$module" "$rootfs"
  done
}

# populate_rootfs NAME ROOTFS
populate_rootfs() {
  local name=$1 rootfs=$2 bin=$build_dir/bin/$1
  install -d -m 0755 "$rootfs/usr/local/bin" "$rootfs/etc/ssl/certs"
  install -d -m 1777 "$rootfs/tmp"
  if [ "$strip_debug" = 1 ]; then
    objcopy --strip-debug "$bin" "$rootfs/usr/local/bin/$name"
    chmod 0755 "$rootfs/usr/local/bin/$name"
  else
    install -m 0755 "$bin" "$rootfs/usr/local/bin/$name"
  fi
  copy_libraries "$bin" "$rootfs"
  if [ "$name" = meshgate-init ]; then
    add_iptables "$rootfs"
  fi
  cp "$ca_bundle" "$rootfs/etc/ssl/certs/ca-certificates.crt"
  chmod 0644 "$rootfs/etc/ssl/certs/ca-certificates.crt"
  printf '%s\n' 'root:x:0:0:root:/root:/sbin/nologin' \
    'nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin' >"$rootfs/etc/passwd"
  printf '%s\n' 'root:x:0:' 'nonroot:x:65532:' >"$rootfs/etc/group"
  printf '%s\n' 'passwd: files' 'group: files' 'hosts: files dns' >"$rootfs/etc/nsswitch.conf"
  chmod 0644 "$rootfs/etc/passwd" "$rootfs/etc/group" "$rootfs/etc/nsswitch.conf"
  install -d -m 0700 "$rootfs/home/nonroot"
  [ ${#rootless[@]} -gt 0 ] || chown 65532:65532 "$rootfs/home/nonroot"
}

mkdir -p "$out_dir"
work="$out_dir/.work"
refs=()
for name in "${names[@]}"; do
  layout="$work/$name/layout"
  bundle="$work/$name/bundle"
  rm -rf "${work:?}/$name"
  mkdir -p "$work/$name"
  umoci init --layout "$layout"
  umoci new --image "$layout:$tag"
  umoci unpack "${rootless[@]}" --image "$layout:$tag" "$bundle" >/dev/null
  populate_rootfs "$name" "$bundle/rootfs"
  umoci repack --image "$layout:$tag" "$bundle"
  umoci config --image "$layout:$tag" \
    --config.user 65532:65532 \
    --config.entrypoint "/usr/local/bin/$name" \
    --config.workingdir / \
    --config.env PATH=/usr/local/bin:/usr/bin:/bin \
    --config.env SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
    --config.label "org.opencontainers.image.title=$name" \
    --config.label "org.opencontainers.image.version=$version" \
    --config.label "org.opencontainers.image.source=$source_url" \
    --config.label "org.opencontainers.image.revision=$revision" \
    --author meshgate
  umoci gc --layout "$layout"
  ref="$registry/$name:$tag"
  archive="$out_dir/$name.oci.tar"
  rm -f "$archive"
  # Local to local: no registry, so no signature policy to consult.
  skopeo --insecure-policy copy --quiet "oci:$layout:$tag" "oci-archive:$archive:$ref"
  refs+=("$ref  $archive ($(du -h "$archive" | cut -f1))")
done
rm -rf "$work"

echo "images: ${#refs[@]} OCI archives (ctr images import FILE; skopeo copy oci-archive:FILE ...)"
printf '  %s\n' "${refs[@]}"
