#!/usr/bin/env bash
# Informer benchmark: 10,000 ConfigMaps of 1 KiB against a real kube-apiserver. Measures, in the
# same run, the time for a meshgate informer to list+sync them versus `kubectl get cm -A -o json`,
# and the informer's resident memory versus the raw JSON bytes the apiserver sent (the floor).
# Prints a markdown table of medians over REPEATS runs.
#   bench/kube/run.sh [COUNT] [REPEATS]     (defaults 10000, 5)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
count=${1:-10000}
repeats=${2:-5}
build=$repo/build-bench
dir=$repo/.local/bench-kube-$$

cd "$repo"
bash scripts/deps.sh
bash test/e2e/cluster/build.sh
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMESHGATE_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" --target informer_sync_bench -j "$(nproc)" >/dev/null

trap 'bash test/e2e/cluster/down.sh "$dir" >/dev/null 2>&1 || true' EXIT
bash test/e2e/cluster/up.sh "$dir" >/dev/null
# shellcheck source=/dev/null
source "$dir/env"
kubectl create namespace bench >/dev/null
echo "populating $count ConfigMaps..." >&2
"$build/bench/informer_sync_bench" populate "$count" bench

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

# The floor: the apiserver's own JSON for the whole collection, in one response.
raw_bytes=$(curl -sS --max-time 120 --cacert "$dir/pki/ca.crt" --cert "$dir/pki/admin.crt" \
  --key "$dir/pki/admin.key" "$MESHGATE_APISERVER/api/v1/configmaps" | wc -c)

kubectl_times=()
informer_times=()
informer_mem=()
for _ in $(seq "$repeats"); do
  start=${EPOCHREALTIME/[.,]/}
  kubectl get cm -A -o json >/dev/null
  end=${EPOCHREALTIME/[.,]/}
  kubectl_times+=("$(awk -v d=$((end - start)) 'BEGIN {printf "%.3f", d / 1e6}')")
  line=$("$build/bench/informer_sync_bench" sync)
  informer_times+=("$(jq -r '.seconds' <<<"$line")")
  informer_mem+=("$(jq -r '(.rss_after_kib - .rss_before_kib) * 1024' <<<"$line")")
  objects=$(jq -r '.objects' <<<"$line")
done

k=$(printf '%s\n' "${kubectl_times[@]}" | median)
i=$(printf '%s\n' "${informer_times[@]}" | median)
m=$(printf '%s\n' "${informer_mem[@]}" | median)
echo
echo "Informer sync, $objects ConfigMaps of 1 KiB, medians of $repeats runs ($(nproc) cores, same run)"
echo
echo "| measure | meshgate informer | baseline | ratio (goal) |"
echo "|---|---|---|---|"
awk -v i="$i" -v k="$k" 'BEGIN {printf "| time to sync (s) | %.3f | kubectl get cm -A -o json: %.3f | %.2f (<= 2) |\n", i, k, i / k}'
awk -v m="$m" -v r="$raw_bytes" 'BEGIN {printf "| memory held (MiB) | %.1f (RSS growth) | raw JSON: %.1f | %.2f (<= 3) |\n", m / 1048576, r / 1048576, m / r}'
