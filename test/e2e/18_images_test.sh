# shellcheck shell=bash
# The OCI images of scripts/images.sh (make images): each archive names the user 65532:65532,
# the entrypoint, the OCI labels and the reference ${IMAGE_REGISTRY}/<name>:${VERSION}; and each
# unpacked root filesystem runs its binary as 65532 in a chroot, which proves the image holds
# every library (the ASan/UBSan runtimes of a sanitized build too) and the loader; meshgate-init,
# run in its image as root in a network namespace of its own on a read-only root, installs the
# capture rules with the image's iptables alone. The chroot needs root; without it the test says
# so and checks the archives only. Run by test/e2e/run.sh.

_image_names=(meshgate-operator meshgate-webhook meshgate-proxy meshgate-init meshgate-pause)

# _build_images OUT_DIR [VERSION] — scripts/images.sh on the binaries under test.
_build_images() {
  bash "$REPO_ROOT/scripts/images.sh" "$MESHGATE_BUILD_DIR" "$@"
}

# _image_ref ARCHIVE — the reference an OCI archive gives its image (what ctr import names it).
_image_ref() {
  tar -xOf "$1" index.json | jq -r '.manifests[0].annotations["org.opencontainers.image.ref.name"]'
}

# _label CONFIG_JSON KEY — org.opencontainers.image.KEY of an image config ("" when absent).
_label() {
  jq -r --arg k "org.opencontainers.image.$2" '.config.Labels[$k] // ""' <<<"$1"
}

# _run_in_rootfs ROOTFS ARGS... — runs ARGS in ROOTFS as 65532:65532. /proc is bind-mounted in
# a private mount namespace, as a container runtime would, because the sanitizer runtimes of a
# CI build read it; where mounts are refused, leak detection (the part that needs it) is off.
_run_in_rootfs() {
  local rootfs=$1
  shift
  mkdir -p "$rootfs/proc"
  if unshare --mount --propagation private true 2>/dev/null; then
    # shellcheck disable=SC2016 # expanded by sh
    unshare --mount --propagation private \
      sh -c 'mount --bind /proc "$0/proc" && exec chroot --userspec=65532:65532 "$0" "$@"' \
      "$rootfs" "$@"
  else
    ASAN_OPTIONS=detect_leaks=0 chroot --userspec=65532:65532 "$rootfs" "$@"
  fi
}

# _pause_exits_zero_on_term ROOTFS — the pause binary runs in its image as 65532 until TERM, and
# TERM ends it with 0 (a pod sandbox stopped by the runtime is not a failure).
_pause_exits_zero_on_term() {
  local rootfs=$1 job pid rc=0
  step "meshgate-pause inside its root filesystem as 65532:65532, then TERM"
  _run_in_rootfs "$rootfs" /usr/local/bin/meshgate-pause &
  job=$!
  # unshare, sh and chroot exec one another, so the job's status is the binary's.
  wait_for 10 pgrep -x meshgate-pause
  pid=$(pgrep -n -x meshgate-pause)
  # TERM is caught (bit 15 of SigCgt) once the handlers are in.
  # shellcheck disable=SC2016 # expanded by the inner shell (or a literal)
  wait_for 10 bash -c '(( 0x$(awk "/^SigCgt:/ {print \$2}" /proc/$0/status) & 0x4000 ))' "$pid"
  assert_eq 65532 "$(awk '/^Uid:/ {print $2}' "/proc/$pid/status")" "meshgate-pause uid"
  kill -TERM "$pid"
  wait "$job" || rc=$?
  assert_eq 0 "$rc" "meshgate-pause exit code after TERM"
}

test_image_archives_name_user_entrypoint_labels_and_reference() {
  local out name archive config revision
  out=$(mktemp -d)
  trap 'rm -rf "$out"' RETURN
  step "scripts/images.sh with IMAGE_REGISTRY=e2e.example/mesh and VERSION 9.8.7-e2e"
  IMAGE_REGISTRY=e2e.example/mesh _build_images "$out" 9.8.7-e2e
  revision=$(git -C "$REPO_ROOT" rev-parse HEAD)
  for name in "${_image_names[@]}"; do
    archive="$out/$name.oci.tar"
    step "$name: skopeo inspect --config oci-archive:$archive"
    config=$(skopeo inspect --config "oci-archive:$archive")
    assert_eq "65532:65532" "$(jq -r .config.User <<<"$config")" "$name user"
    assert_eq "[\"/usr/local/bin/$name\"]" "$(jq -c .config.Entrypoint <<<"$config")" \
      "$name entrypoint"
    assert_eq "/" "$(jq -r .config.WorkingDir <<<"$config")" "$name working dir"
    assert_eq "$name" "$(_label "$config" title)" "$name title label"
    assert_eq "9.8.7-e2e" "$(_label "$config" version)" "$name version label"
    assert_eq "$revision" "$(_label "$config" revision)" "$name revision label"
    [ -n "$(_label "$config" source)" ]
    assert_eq "linux/amd64" "$(jq -r '.os + "/" + .architecture' <<<"$config")" "$name platform"
    assert_eq "e2e.example/mesh/$name:9.8.7-e2e" "$(_image_ref "$archive")" "$name reference"
  done
  step "a second run replaces the archives"
  IMAGE_REGISTRY=e2e.example/mesh _build_images "$out" 9.8.7-e2e >/dev/null
  assert_eq "${#_image_names[@]}" "$(find "$out" -mindepth 1 | wc -l)" "only the archives in OUT_DIR"
}

test_images_run_their_binary_as_nonroot_with_only_their_own_files() {
  local out name archive rootfs usage project_version rc
  out=$(mktemp -d)
  trap 'rm -rf "$out"' RETURN
  step "scripts/images.sh with the default registry and version"
  _build_images "$out/archives"
  project_version=$(sed -nE 's/^project\(meshgate .*VERSION ([0-9.]+).*/\1/p' \
    "$REPO_ROOT/CMakeLists.txt")
  for name in "${_image_names[@]}"; do
    archive="$out/archives/$name.oci.tar"
    assert_eq "localhost/meshgate/$name:$project_version" "$(_image_ref "$archive")" \
      "$name reference"
    step "$name: skopeo copy to an OCI layout, umoci unpack"
    skopeo --insecure-policy copy --quiet "oci-archive:$archive" "oci:$out/$name-layout:e2e"
    umoci unpack --image "$out/$name-layout:e2e" "$out/$name-bundle" >/dev/null
    rootfs="$out/$name-bundle/rootfs"
    [ -x "$rootfs/usr/local/bin/$name" ]
    [ -s "$rootfs/etc/ssl/certs/ca-certificates.crt" ]
    assert_contains "$(cat "$rootfs/etc/passwd")" "nonroot:x:65532:65532:"
    assert_contains "$(cat "$rootfs/etc/group")" "nonroot:x:65532:"
    if [ "$(id -u)" -ne 0 ]; then
      echo "NOTE: not root, so no chroot: $name is not run inside its image (archives checked)"
      continue
    fi
    if [ "$name" = meshgate-pause ]; then
      _pause_exits_zero_on_term "$rootfs"
      continue
    fi
    step "$name --help inside its root filesystem as 65532:65532"
    rc=0
    usage=$(_run_in_rootfs "$rootfs" "/usr/local/bin/$name" --help 2>&1) || rc=$?
    printf '%s\n' "$usage" | head -n 3
    assert_eq 0 "$rc" "$name --help exit code in the image"
    assert_contains "$usage" "Usage: /usr/local/bin/$name"
    assert_not_contains "$usage" "error while loading shared libraries"
    assert_not_contains "$usage" "Sanitizer"
  done
}

# _nat_rules NETNS — the rules of the nat table in NETNS, as the host's iptables-legacy-save
# prints them.
_nat_rules() {
  ip netns exec "$1" iptables-legacy-save -t nat | grep '^-A ' || true
}

test_init_image_installs_the_capture_rules_in_a_network_namespace() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "NOTE: not root, so no network namespace: meshgate-init is not run inside its image"
    return 0
  fi
  local out rootfs netns rules output file
  out=$(mktemp -d)
  netns=meshgate-e2e-init-$$
  trap 'umount "$out/bundle/rootfs/proc" 2>/dev/null || true; ip netns delete "$netns" 2>/dev/null || true; rm -rf --one-file-system "$out"' RETURN
  IMAGE_NAMES=meshgate-init _build_images "$out/archives" >/dev/null
  skopeo --insecure-policy copy --quiet "oci-archive:$out/archives/meshgate-init.oci.tar" \
    "oci:$out/layout:e2e"
  umoci unpack --image "$out/layout:e2e" "$out/bundle" >/dev/null
  rootfs=$out/bundle/rootfs
  for file in usr/sbin/xtables-legacy-multi usr/sbin/iptables-legacy-restore \
    usr/sbin/iptables-legacy-save usr/lib/x86_64-linux-gnu/xtables/libxt_owner.so \
    usr/lib/x86_64-linux-gnu/xtables/libxt_REDIRECT.so run/xtables.lock; do
    [ -e "$rootfs/$file" ] || {
      echo "the meshgate-init image lacks /$file" >&2
      return 1
    }
  done
  ip netns add "$netns"
  # The /proc a container runtime gives every container (a sanitized build reads it at exit).
  mkdir -p "$rootfs/proc"
  mount -t proc proc "$rootfs/proc"

  step "meshgate-init in its image, in a new network namespace, read-only root, NET_ADMIN and NET_RAW only"
  # (CAP_SYS_CHROOT too, for chroot itself; the pod's container needs no chroot.)
  # shellcheck disable=SC2016 # expanded by sh
  output=$(ip netns exec "$netns" unshare --mount --propagation private sh -c \
    'mount --rbind "$0" "$0" && mount -o remount,bind,ro "$0" &&
     exec setpriv --bounding-set=-all,+net_admin,+net_raw,+sys_chroot \
       chroot "$0" /usr/local/bin/meshgate-init --exclude-inbound-ports 15020 \
       --exclude-outbound-cidrs 169.254.169.254/32 --exclude-outbound-ports 5432' "$rootfs" 2>&1)
  assert_contains "$output" "meshgate-init: capture installed and verified"
  rules=$(_nat_rules "$netns")
  assert_eq "-A PREROUTING -p tcp -j MESHGATE_INBOUND
-A OUTPUT -p tcp -j MESHGATE_OUTPUT
-A MESHGATE_INBOUND -p tcp -m tcp --dport 15000 -j RETURN
-A MESHGATE_INBOUND -p tcp -m tcp --dport 15006 -j RETURN
-A MESHGATE_INBOUND -p tcp -m tcp --dport 15001 -j RETURN
-A MESHGATE_INBOUND -p tcp -m tcp --dport 15020 -j RETURN
-A MESHGATE_INBOUND -p tcp -j REDIRECT --to-ports 15006
-A MESHGATE_OUTPUT -m owner --uid-owner 1337 -j RETURN
-A MESHGATE_OUTPUT -m owner --gid-owner 1337 -j RETURN
-A MESHGATE_OUTPUT -o lo -j RETURN
-A MESHGATE_OUTPUT -d 169.254.169.254/32 -j RETURN
-A MESHGATE_OUTPUT -p tcp -m tcp --dport 5432 -j RETURN
-A MESHGATE_OUTPUT -p tcp -j REDIRECT --to-ports 15001" "$rules" "the nat table after meshgate-init"

  step "a second run with the same flags leaves the same table (the whole table is restored)"
  ip netns exec "$netns" chroot "$rootfs" /usr/local/bin/meshgate-init --exclude-inbound-ports 15020 \
    --exclude-outbound-cidrs 169.254.169.254/32 --exclude-outbound-ports 5432 >/dev/null
  assert_eq "$rules" "$(_nat_rules "$netns")" "the nat table after a second run"

  step "without NET_ADMIN it fails, with iptables' reason"
  local rc=0
  output=$(ip netns exec "$netns" setpriv --bounding-set=-all,+sys_chroot \
    chroot "$rootfs" /usr/local/bin/meshgate-init 2>&1) || rc=$?
  assert_eq 1 "$rc" "meshgate-init exit code without NET_ADMIN"
  assert_contains "$output" "iptables-legacy-restore failed"
}
