#!/usr/bin/env bash
# Authentication benchmark (issue 14): what a JWT route (ES256 and RS256) and an API-key route cost
# meshgate-proxy per request, as ratios to a plain route (no auth) measured in the same run on the
# same process. Two proxy processes, one worker each, pinned to CPU 1, load the same config: one
# with the per-worker verified-token cache (auth.verifiedTokenCacheSize, default 4096: a token's
# signature is verified once, exp still checked per request), one with
# `auth: {verifiedTokenCacheSize: 0}` (every request verifies its signature). Each variant is a
# route chosen by the Host header; wrk (-t1, one token or key for every request) and an nginx
# backend returning 64 bytes share CPU 0. Per variant, medians over REPEATS runs interleaved
# round-robin over both processes: req/s and the proxy's CPU time per request (utime+stime from
# /proc, and utime alone); the ratios to plain are medians of each round's ratio to the plain route
# of the same process. Goal: a JWT route costs at most 1.15 × the plain route's CPU per request.
# Then, if valgrind is there, instructions per request under callgrind over a fixed number of
# requests on one keep-alive connection (less noisy than CPU time on a 2-core VM). Every response
# must be 200 (a curl first; no non-2xx in any wrk run), and the JWT and API-key routes must refuse
# a request without credentials, and the JWT route one with a forged signature (401), or the script
# stops. Prints markdown on stdout; progress on stderr.
#   bash bench/proxy/auth.sh                              (DURATION=10 REPEATS=5 CONNECTIONS=32)
#   DURATION=5 REPEATS=3 SKIP_BUILD=1 bash bench/proxy/auth.sh
# More knobs: BUILD_DIR (default build-release), CG_REQUESTS=2000 (requests per callgrind
# variant), SKIP_CALLGRIND=1.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
duration=${DURATION:-10}
repeats=${REPEATS:-5}
connections=${CONNECTIONS:-32}
cg_requests=${CG_REQUESTS:-2000}
skip_callgrind=${SKIP_CALLGRIND:-0}
goal=1.15
build=${BUILD_DIR:-build-release}
[[ $build = /* ]] || build=$repo/$build

# Fixed ports (127.0.0.1), apart from run.sh's 18180-18193 so the two never meet.
port_backend=18200
port_cached=18201 admin_cached=18211 port_nocache=18202 admin_nocache=18212
port_cg_cached=18203 admin_cg_cached=18213 port_cg_nocache=18204 admin_cg_nocache=18214

cd "$repo"
bash scripts/deps.sh
BENCH_NAME=bench/proxy/auth
tmp=$(mktemp -d)
pids=()
# shellcheck source=bench/proxy/lib.sh
source "$here/lib.sh"

die_if_port_used $port_backend $port_cached $admin_cached $port_nocache $admin_nocache $port_cg_cached \
  $admin_cg_cached $port_cg_nocache $admin_cg_nocache


# --- Build ------------------------------------------------------------------------------------
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  log "building Release into $build"
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMESHGATE_BUILD_TESTS=OFF \
    >"$tmp/build.log" 2>&1 || die "cmake configure failed: $(tail -5 "$tmp/build.log")"
  cmake --build "$build" --target meshgate-proxy meshgate-jwt-mint -j "$(nproc)" \
    >>"$tmp/build.log" 2>&1 || die "the build failed: $(tail -20 "$tmp/build.log")"
fi
proxy=$build/bin/meshgate-proxy
mint=$build/bin/meshgate-jwt-mint
[ -x "$proxy" ] || die "$proxy missing"
[ -x "$mint" ] || die "$mint missing"

# --- Helpers ------------------------------------------------------------------------------------
# Socket errors (connect, read, write, timeout) of one wrk run.
wrk_socket_errors() {
  awk '/Socket errors:/ {for (i = 3; i <= NF; i += 2) n += $(i + 1) + 0} END {print n + 0}' <<<"$1"
}

# --- Keys, tokens, configs ------------------------------------------------------------------------
log "keys and tokens (meshgate-jwt-mint)"
"$mint" keygen --alg ES256 --kid es --dir "$tmp" >/dev/null
"$mint" keygen --alg RS256 --kid rs --dir "$tmp" >/dev/null
"$mint" jwks "$tmp/es.jwk.json" "$tmp/rs.jwk.json" >"$tmp/jwks.json"
sign() {  # sign ALG KID — a token valid for an hour, far longer than the run
  "$mint" sign --alg "$1" --kid "$2" --key "$tmp/$2.key.pem" --iss https://id.bench --aud bench \
    --sub alice --ttl 3600
}
token_es=$(sign ES256 es)
token_rs=$(sign RS256 rs)
# The ES256 token with its signature's first character changed: must be refused.
signature=${token_es##*.}
forged_first=A
[ "${signature:0:1}" != A ] || forged_first=B
token_es_forged=${token_es%.*}.$forged_first${signature:1}
api_key=$(openssl rand -hex 16)  # 32 characters

# meshgate_conf NAME PORT ADMIN_PORT [extra top-level YAML] — one route per variant, by host.
meshgate_conf() {
  local file=$tmp/$1.yaml
  cat >"$file" <<EOF
admin: {address: 127.0.0.1, port: $3}
listeners:
- {name: bench, address: 127.0.0.1, port: $2}
secrets:
- name: bench-jwks
  files: {jwks.json: $tmp/jwks.json}
- name: bench-keys
  data: {api-keys: "bench: $api_key"}
routes:
- metadata: {name: plain}
  spec:
    hosts: [plain.bench]
    rules:
    - backends: [{service: backend, port: $port_backend}]
- metadata: {name: jwt}
  spec:
    hosts: [jwt.bench]
    auth:
      jwt:
        issuer: https://id.bench
        audiences: [bench]
        jwks: {secretRef: {name: bench-jwks}}
    rules:
    - backends: [{service: backend, port: $port_backend}]
- metadata: {name: apikey}
  spec:
    hosts: [apikey.bench]
    auth:
      apiKey: {secretRef: {name: bench-keys}}
    rules:
    - backends: [{service: backend, port: $port_backend}]
clusters:
- name: backend
  endpoints: [{address: 127.0.0.1, port: $port_backend}]
timeouts: {idle: 300s}
${4:-}
EOF
  echo "$file"
}
conf_cached=$(meshgate_conf cached "$port_cached" "$admin_cached")
conf_nocache=$(meshgate_conf nocache "$port_nocache" "$admin_nocache" \
  "auth: {verifiedTokenCacheSize: 0}")

# Variants: NAME → process (cached | nocache) and the request headers that pick its route.
variants=(plain jwt-es256 jwt-rs256 apikey plain@nocache jwt-es256@nocache jwt-rs256@nocache)
declare -A variant_proc variant_headers
for v in "${variants[@]}"; do
  variant_proc[$v]=cached
  [[ $v != *@nocache ]] || variant_proc[$v]=nocache
done
headers_of() {  # headers_of VARIANT — "Header: value" lines
  case ${1%@nocache} in
    plain) echo "Host: plain.bench" ;;
    jwt-es256) printf 'Host: jwt.bench\nAuthorization: Bearer %s\n' "$token_es" ;;
    jwt-rs256) printf 'Host: jwt.bench\nAuthorization: Bearer %s\n' "$token_rs" ;;
    apikey) printf 'Host: apikey.bench\nx-api-key: %s\n' "$api_key" ;;
  esac
}
for v in "${variants[@]}"; do variant_headers[$v]=$(headers_of "$v"); done
# header_args VARIANT — -H 'Header: value' for each of the variant's headers, one per line.
header_args() {
  local h
  while IFS= read -r h; do printf -- '-H\n%s\n' "$h"; done <<<"${variant_headers[$1]}"
}
declare -A proc_port proc_pid
proc_port[cached]=$port_cached
proc_port[nocache]=$port_nocache

# status PORT VARIANT [curl args] — the status code of one GET / with the variant's headers.
status() {
  local port=$1 v=$2 args
  shift 2
  mapfile -t args < <(header_args "$v")
  curl -s -o /dev/null -w '%{http_code}' --max-time 5 "${args[@]}" "$@" "http://127.0.0.1:$port/" ||
    true
}
# check_variants PORT PROC — every variant of PROC answers 200; the auth routes 401 without
# credentials (so the benchmark measures routes that really check them).
check_variants() {
  local port=$1 p=$2 v code host
  for v in "${variants[@]}"; do
    [ "${variant_proc[$v]}" = "$p" ] || continue
    code=$(status "$port" "$v")
    [ "$code" = 200 ] || die "$v ($p proxy, port $port) answered $code, not 200"
  done
  for host in jwt.bench apikey.bench; do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H "Host: $host" \
      "http://127.0.0.1:$port/" || true)
    [ "$code" = 401 ] || die "$host without credentials ($p proxy) answered $code, not 401"
  done
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H 'Host: jwt.bench' \
    -H "Authorization: Bearer $token_es_forged" "http://127.0.0.1:$port/" || true)
  [ "$code" = 401 ] || die "jwt.bench with a bad signature ($p proxy) answered $code, not 401"
}

# --- Backend and proxies ----------------------------------------------------------------------
start_nginx backend "$(backend_conf)" taskset -c 0
wait_http "http://127.0.0.1:$port_backend/" 10
start proxy-cached taskset -c 1 "$proxy" --config "$conf_cached" --concurrency 1 --log-level warn
proc_pid[cached]=$started
start proxy-nocache taskset -c 1 "$proxy" --config "$conf_nocache" --concurrency 1 --log-level warn
proc_pid[nocache]=$started
wait_http "http://127.0.0.1:$admin_cached/ready" 20
wait_http "http://127.0.0.1:$admin_nocache/ready" 20
check_variants "$port_cached" cached
check_variants "$port_nocache" nocache

# --- Throughput and CPU per request ---------------------------------------------------------------
wrk_run() {  # wrk_run VARIANT SECONDS — wrk's output on stdout
  local v=$1 args
  mapfile -t args < <(header_args "$v")
  taskset -c 0 wrk -t1 -c"$connections" -d"$2s" "${args[@]}" \
    "http://127.0.0.1:${proc_port[${variant_proc[$v]}]}/"
}
declare -A rps_runs cpu_runs user_runs cpu_ratio_runs rps_ratio_runs socket_errors
log "warm-up: 2 s per variant"
for v in "${variants[@]}"; do wrk_run "$v" 2 >/dev/null; done
for r in $(seq "$repeats"); do
  declare -A round_cpu=() round_rps=()
  for v in "${variants[@]}"; do
    log "run $r/$repeats: $v (${duration}s)"
    pid=${proc_pid[${variant_proc[$v]}]}
    alive "$pid" ||
      die "the ${variant_proc[$v]} proxy exited: $(tail -5 "$tmp/proxy-${variant_proc[$v]}.log")"
    read -r user_before kernel_before <<<"$(cpu_ticks "$pid")"
    out=$(wrk_run "$v" "$duration")
    read -r user_after kernel_after <<<"$(cpu_ticks "$pid")"
    requests=$(wrk_requests "$out")
    if [ -z "$requests" ] || [ "$requests" -eq 0 ]; then die "wrk against $v served nothing: $out"; fi
    ! grep -q 'Non-2xx' <<<"$out" || die "wrk against $v got non-2xx responses: $out"
    socket_errors[$v]=$((${socket_errors[$v]:-0} + $(wrk_socket_errors "$out")))
    round_rps[$v]=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
    user=$((user_after - user_before))
    round_cpu[$v]=$(per_request $((user + kernel_after - kernel_before)) "$requests")
    user_runs[$v]+="$(per_request "$user" "$requests") "
    rps_runs[$v]+="${round_rps[$v]} "
    cpu_runs[$v]+="${round_cpu[$v]} "
  done
  for v in "${variants[@]}"; do
    base=plain
    [ "${variant_proc[$v]}" = cached ] || base=plain@nocache
    cpu_ratio_runs[$v]+="$(ratio "${round_cpu[$v]}" "${round_cpu[$base]}") "
    rps_ratio_runs[$v]+="$(ratio "${round_rps[$v]}" "${round_rps[$base]}") "
  done
done
stop "${proc_pid[cached]}" "${proc_pid[nocache]}"

# --- Instructions per request (callgrind) ---------------------------------------------------------
# Valgrind starts with instrumentation off; per variant: a warm-up, uncounted (it also fills the
# token cache), then instrumentation on for exactly CG_REQUESTS requests on one keep-alive
# connection (curl fetching /1 … /N in turn), off, dump (a dump holds only what was counted since
# the last one). Ir/req = the dump's total / N.
cg_variants=(plain jwt-es256 jwt-rs256 apikey plain@nocache jwt-es256@nocache jwt-rs256@nocache)
declare -A ir_per_request
# fetch PORT VARIANT N — N requests on one connection; prints how many answered 200.
fetch() {
  local args
  mapfile -t args < <(header_args "$2")
  curl -s --max-time 600 -w '\n%{http_code}\n' "${args[@]}" "http://127.0.0.1:$1/[1-$3]" |
    grep -c '^200$' || true
}
callgrind_measure() {  # callgrind_measure VARIANT PORT PID
  local v=$1 port=$2 vpid=$3 ok total dump mark=$tmp/cg-mark
  fetch "$port" "$v" 50 >/dev/null
  touch "$mark"
  callgrind_control -i on "$vpid" >/dev/null 2>&1
  ok=$(fetch "$port" "$v" "$cg_requests")
  callgrind_control -i off "$vpid" >/dev/null 2>&1
  callgrind_control -d "$vpid" >/dev/null 2>&1
  [ "$ok" = "$cg_requests" ] || die "callgrind $v: $ok of $cg_requests requests answered 200"
  dump=$(find "$tmp" -name 'callgrind.*' -newer "$mark" -printf '%T@ %p\n' | sort -n | tail -1 |
    cut -d' ' -f2)
  # The totals line: summary can be garbage in a dump after a zeroing.
  total=$(awk '/^totals:/ {print $2; exit}' "${dump:-/dev/null}")
  if [ -n "$total" ]; then
    ir_per_request[$v]=$((total / cg_requests))
    log "callgrind $v: $total Ir / $cg_requests requests"
  else
    log "warning: callgrind $v gave no figure (dump: ${dump:-none})"
  fi
}
if [ "$skip_callgrind" != 1 ] && command -v valgrind >/dev/null &&
  command -v callgrind_control >/dev/null; then
  valgrind_cmd=(taskset -c 1 valgrind --tool=callgrind --instr-atstart=no)
  for p in cached nocache; do
    if [ "$p" = cached ]; then
      port=$port_cg_cached admin=$admin_cg_cached
      conf=$(meshgate_conf cg-cached "$port" "$admin")
    else
      port=$port_cg_nocache admin=$admin_cg_nocache
      conf=$(meshgate_conf cg-nocache "$port" "$admin" "auth: {verifiedTokenCacheSize: 0}")
    fi
    log "callgrind: $p proxy"
    start "cg-$p" "${valgrind_cmd[@]}" --callgrind-out-file="$tmp/callgrind.$p.%p" "$proxy" \
      --config "$conf" --concurrency 1 --log-level warn
    cg_pid=$started
    wait_http "http://127.0.0.1:$admin/ready" 90
    for v in "${cg_variants[@]}"; do
      [ "${variant_proc[$v]}" = "$p" ] || continue
      callgrind_measure "$v" "$port" "$cg_pid"
    done
    stop "$cg_pid"
  done
fi

# --- Table --------------------------------------------------------------------------------------
label() {
  case $1 in
    plain) echo "plain (no auth)" ;;
    jwt-es256) echo "JWT ES256, cached" ;;
    jwt-rs256) echo "JWT RS256, cached" ;;
    apikey) echo "API key" ;;
    plain@nocache) echo "plain (no auth)" ;;
    jwt-es256@nocache) echo "JWT ES256, verified every request" ;;
    jwt-rs256@nocache) echo "JWT RS256, verified every request" ;;
  esac
}
echo
echo "| variant | proxy process | req/s | req/s ratio to plain | CPU µs/req | of it user | CPU ratio to plain | goal ≤ $goal | Ir/req | Ir ratio to plain |"
echo "|---|---|---:|---:|---:|---:|---:|---|---:|---:|"
for v in "${variants[@]}"; do
  p=${variant_proc[$v]}
  base=plain
  [ "$p" = cached ] || base=plain@nocache
  cpu_ratio=$(med "${cpu_ratio_runs[$v]}")
  goal_cell=—
  [[ $v != jwt-* ]] || goal_cell=$(met "$cpu_ratio" "$goal")
  ir=${ir_per_request[$v]:-}
  printf '| %s | %s | %.0f | %.2f | %s | %s | %.2f | %s | %s | %s |\n' "$(label "$v")" \
    "$([ "$p" = cached ] && echo "cache 4096" || echo "cache 0")" "$(med "${rps_runs[$v]}")" \
    "$(med "${rps_ratio_runs[$v]}")" "$(med "${cpu_runs[$v]}")" "$(med "${user_runs[$v]}")" \
    "$cpu_ratio" "$goal_cell" \
    "${ir:-—}" "$(ratio "$ir" "${ir_per_request[$base]:-}")"
done
echo
echo "Command: \`DURATION=$duration REPEATS=$repeats CONNECTIONS=$connections bash bench/proxy/auth.sh\`."
echo "Machine: $(nproc) CPUs, $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo), load average at the end $(cut -d' ' -f1-3 /proc/loadavg)."
echo "Medians of $repeats interleaved runs of wrk -t1 -c$connections -d${duration}s per variant (wrk and an nginx backend of 64 bytes on CPU 0; each meshgate-proxy one worker on CPU 1). CPU µs/req: the proxy's utime+stime / requests wrk counted; of it user: utime alone (the rest is kernel time, mostly loopback TCP). Ratios: the median over runs of each run's figure / the plain route's of the same process in the same round. Cache 4096: the default auth.verifiedTokenCacheSize (the one token is verified once, then found by its bytes; exp checked per request); cache 0: every request verifies the signature. Keys from meshgate-jwt-mint (P-256, RSA 2048); the JWKS holds both."
if [ -n "${ir_per_request[plain]:-}" ]; then
  echo "Ir/req: instructions under callgrind over $cg_requests requests on one keep-alive connection (curl), after 50 unmeasured ones, divided by $cg_requests."
else
  echo "Ir/req: not measured (valgrind missing, SKIP_CALLGRIND=1 or no figure)."
fi
echo "Tokens: ES256 ${#token_es} bytes, RS256 ${#token_rs} bytes, in each request's Authorization header (the plain request has none); API key ${#api_key} characters."
goal_of() {  # goal_of VARIANT — "RATIO (met|not met)"
  local r
  r=$(med "${cpu_ratio_runs[$1]}")
  echo "$r ($(met "$r" "$goal"))"
}
echo
echo "Goal (issue 14), a JWT route at most $goal × the plain route's CPU per request: with the token cache ES256 $(goal_of jwt-es256), RS256 $(goal_of jwt-rs256); verifying every request ES256 $(goal_of jwt-es256@nocache), RS256 $(goal_of jwt-rs256@nocache)."
for v in "${variants[@]}"; do
  [ "${socket_errors[$v]:-0}" -eq 0 ] ||
    echo "Warning: $v: ${socket_errors[$v]} socket errors over its runs."
done
