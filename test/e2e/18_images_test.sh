# shellcheck shell=bash
# The OCI images of scripts/images.sh (make images): each archive names the user 65532:65532,
# the entrypoint, the OCI labels and the reference ${IMAGE_REGISTRY}/<name>:${VERSION}; and each
# unpacked root filesystem runs its binary as 65532 in a chroot, which proves the image holds
# every library (the ASan/UBSan runtimes of a sanitized build too) and the loader. The chroot
# needs root; without it the test says so and checks the archives only. Run by test/e2e/run.sh.

_image_names=(meshgate-operator meshgate-webhook meshgate-proxy meshgate-pause)

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
  assert_eq 4 "$(find "$out" -mindepth 1 | wc -l)" "only the four archives in OUT_DIR"
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
