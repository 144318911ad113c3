# shellcheck shell=bash
# gRPC through meshgate-proxy end to end, as real processes on loopback (file mode): the cluster
# lists its service port in http2Ports, so the proxy calls meshgate-test-backend over h2c (prior
# knowledge), where the backend serves a gRPC echo service (test/tools/backend_http2.h). The
# client is curl --http2-prior-knowledge with hand-made length-prefixed messages (curl -D writes
# the response headers, an empty line, then the HTTP/2 trailers), and nghttp for the answers the
# proxy gives from the request head alone (_grpc_nghttp says why). Asserted: a unary echo arrives
# byte-exact with grpc-status 0 as a trailer (and grpc-timeout reaches the backend); the backend
# was called over HTTP/2, also for an HTTP/1.1 client; a forced grpc-status 7 comes back
# trailers-only; the proxy's own answers are gRPC statuses (14 for a closed upstream port, 12 for
# an unknown host); a 1 MiB message echoes byte-exact (flow control both ways); a streaming call
# with several messages in one body echoes them all; retryOn [unavailable] hides two UNAVAILABLE
# answers. After each, the proxy exits 0 on SIGTERM (proxy_lib.sh). Needs no control plane. Run
# by test/e2e/run.sh.

# shellcheck source=proxy_lib.sh
source "$REPO_ROOT/test/e2e/proxy_lib.sh"

# The service port route backends name; the clusters list it in http2Ports.
GRPC_SERVICE_PORT=50051

# _start_grpc_proxy [RULE_FIELDS] — backend b1 on 127.0.0.2 behind route "grpc" (host grpc.test,
# cluster "grpc": b1, HTTP/2) and route "dead" (host dead.test, cluster "dead": a port on
# 127.0.0.1 nothing listens on, HTTP/2); RULE_FIELDS (e.g. "retries: {...}") are added to the
# "grpc" route's rule. Then _start_proxy. Sets GRPC_URL and H2C (curl options for h2c with prior
# knowledge to grpc.test).
_start_grpc_proxy() {
  _proxy_setup
  _start_backend b1 127.0.0.2
  local dead_port
  read -r dead_port < <(_free_ports 1)
  _write_config <<YAML
routes:
  - metadata: {name: grpc}
    spec:
      hosts: [grpc.test]
      rules: [{backends: [{service: grpc, port: $GRPC_SERVICE_PORT}]${1:+, $1}}]
  - metadata: {name: dead}
    spec:
      hosts: [dead.test]
      rules: [{backends: [{service: dead, port: $GRPC_SERVICE_PORT}]}]
clusters:
  - {name: grpc, endpoints: [$(_endpoint b1)], http2Ports: [$GRPC_SERVICE_PORT]}
  - name: dead
    endpoints: [{address: 127.0.0.1, port: $dead_port}]
    http2Ports: [$GRPC_SERVICE_PORT]
YAML
  # shellcheck disable=SC2119 # no extra proxy arguments
  _start_proxy
  GRPC_URL="http://grpc.test:$PROXY_PORT"
  H2C=(--http2-prior-knowledge --resolve "grpc.test:$PROXY_PORT:127.0.0.1")
}

# _grpc_frame OUT PAYLOAD_FILE... — OUT: one gRPC length-prefixed message per PAYLOAD_FILE
# (compressed flag 0, 4-byte big-endian length, the bytes).
_grpc_frame() {
  local out=$1 payload n
  shift
  : >"$out"
  for payload in "$@"; do
    n=$(stat -c %s "$payload")
    printf '%b' "$(printf '\\x%02x' 0 $((n >> 24 & 255)) $((n >> 16 & 255)) $((n >> 8 & 255)) \
      $((n & 255)))" >>"$out"
    cat "$payload" >>"$out"
  done
}

# _grpc URL MESSAGE_FILE [CURL_ARGS...] — a gRPC call (POST, content-type application/grpc, te:
# trailers) over h2c with prior knowledge, bounded (20 s); the response body in PX_DIR/body, the
# headers in PX_DIR/headers, the trailers in PX_DIR/trailers. Prints "HTTP_STATUS WHERE:STATUS"
# where WHERE says where grpc-status came: "trailers:0" after a body, "headers:7" in a
# trailers-only response, "none" without one ("000 none" when curl failed: its reason on stderr).
_grpc() {
  local url=$1 message=$2 code
  shift 2
  code=$(curl -sS --max-time 20 "${H2C[@]}" -H 'content-type: application/grpc' -H 'te: trailers' \
    --data-binary "@$message" -D "$PX_DIR/dump" -o "$PX_DIR/body" -w '%{http_code}' "$@" "$url" \
    2>"$PX_DIR/curl.err") || echo "curl failed: $(cat "$PX_DIR/curl.err")" >&2
  # curl -D: the header block, an empty line, then the trailers (HTTP/2 trailers follow the body).
  tr -d '\r' <"$PX_DIR/dump" | awk 'NF == 0 { exit } { print }' >"$PX_DIR/headers"
  tr -d '\r' <"$PX_DIR/dump" | awk 'seen && NF > 0 { print } NF == 0 { seen = 1 }' \
    >"$PX_DIR/trailers"
  if grep -qi '^grpc-status:' "$PX_DIR/trailers"; then
    echo "${code:-000} trailers:$(_field grpc-status "$PX_DIR/trailers")"
  elif grep -qi '^grpc-status:' "$PX_DIR/headers"; then
    echo "${code:-000} headers:$(_field grpc-status "$PX_DIR/headers")"
  else
    echo "${code:-000} none"
  fi
}

# _grpc_nghttp AUTHORITY PATH MESSAGE_FILE — the same call with nghttp (-v), to the plain listener
# with :authority AUTHORITY, bounded (20 s); for answers the proxy gives from the request head
# alone. It then ends the stream with RST_STREAM NO_ERROR while the request body may still be on
# its way (RFC 9113 section 8.1 allows it), and curl 7.88 sometimes reports that as error 92
# instead of the response it got; nghttp does not. The received fields (headers and trailers) in
# PX_DIR/headers, the trace in PX_DIR/nghttp.out; prints "HTTP_STATUS WHERE:STATUS" as _grpc
# (WHERE "headers" when the response was one HEADERS frame: trailers-only).
_grpc_nghttp() {
  local out=$PX_DIR/nghttp.out frames status
  timeout 20 nghttp -v -t 10 -H ":authority: $1" -H 'content-type: application/grpc' \
    -H 'te: trailers' -d "$3" "http://127.0.0.1:$PROXY_PORT$2" >"$out" 2>&1 ||
    echo "nghttp failed: $(tail -n 3 "$out")" >&2
  sed -nE 's/^.*recv \(stream_id=[0-9]+\) (:?[^:]+): (.*)$/\1: \2/p' "$out" >"$PX_DIR/headers"
  frames=$(grep -c 'recv HEADERS frame' "$out" || true)
  status=$(_field :status "$PX_DIR/headers")
  if ! grep -qi '^grpc-status:' "$PX_DIR/headers"; then
    echo "${status:-000} none"
  elif [ "$frames" = 1 ]; then
    echo "${status:-000} headers:$(_field grpc-status "$PX_DIR/headers")"
  else
    echo "${status:-000} trailers:$(_field grpc-status "$PX_DIR/headers")"
  fi
}

# _field NAME FILE — the value of field NAME (case-insensitive) in FILE's "name: value" lines.
_field() {
  awk -v name="$1" 'index(tolower($0), name ":") == 1 {
    value = substr($0, length(name) + 2); sub(/^[ \t]+/, "", value); sub(/[ \t\r]+$/, "", value)
    print value; exit }' "$2"
}

# _sha FILE — its SHA-256.
_sha() { sha256sum "$1" | cut -d' ' -f1; }

test_grpc_calls_reach_an_h2c_backend_through_the_proxy() {
  _start_grpc_proxy
  local before json

  step "a. unary echo (h2c client -> proxy -> h2c backend): byte-exact, grpc-status 0 as a trailer"
  printf 'hello \x00\x01\x02\xff gRPC' >"$PX_DIR/hello"
  _grpc_frame "$PX_DIR/hello.msg" "$PX_DIR/hello"
  before=$(_requests_served b1)
  assert_eq "200 trailers:0" "$(_grpc "$GRPC_URL/meshgate.test.Echo/Unary" "$PX_DIR/hello.msg" \
    -H 'grpc-timeout: 5S')" "unary call"
  assert_eq "$(_sha "$PX_DIR/hello.msg")" "$(_sha "$PX_DIR/body")" "the echoed message (framed)"
  assert_eq "application/grpc" "$(_field content-type "$PX_DIR/headers")" "content-type"
  assert_eq b1 "$(_field x-backend "$PX_DIR/headers")" "x-backend"
  assert_eq 5S "$(_field x-grpc-timeout-seen "$PX_DIR/headers")" "grpc-timeout at the backend"
  assert_eq $((before + 1)) "$(_requests_served b1)" "calls the backend served"

  step "b. the backend was called over HTTP/2: x-backend-protocol h2, no HTTP/1.1-only header"
  assert_eq h2 "$(_field x-backend-protocol "$PX_DIR/headers")" "x-backend-protocol (gRPC)"
  curl -sS --max-time 10 "${H2C[@]}" -D "$PX_DIR/dump" -o "$PX_DIR/body" "$GRPC_URL/headers?via=h2c"
  assert_eq h2 "$(tr -d '\r' <"$PX_DIR/dump" | _field x-backend-protocol /dev/stdin)" \
    "x-backend-protocol (h2c client)"
  json=$(cat "$PX_DIR/body")
  assert_eq "GET /headers?via=h2c" "$(jq -r '.method + " " + .target' <<<"$json")" "request: $json"
  assert_eq "" "$(jq -r '.headers | keys[] |
    select(. == "connection" or . == "keep-alive" or . == "transfer-encoding" or . == "upgrade")' \
    <<<"$json")" "HTTP/1.1-only headers upstream: $json"

  step "b. HTTP/1.1 in, HTTP/2 out: an HTTP/1.1 client's request reaches the backend over h2"
  curl -sS --max-time 10 --http1.1 -H 'Host: grpc.test' -D "$PX_DIR/dump" -o "$PX_DIR/body" \
    "$PROXY_URL/headers?via=http1"
  assert_contains "$(head -n 1 "$PX_DIR/dump")" "HTTP/1.1 200" "status line"
  assert_eq h2 "$(tr -d '\r' <"$PX_DIR/dump" | _field x-backend-protocol /dev/stdin)" \
    "x-backend-protocol (HTTP/1.1 client)"
  json=$(cat "$PX_DIR/body")
  assert_eq "GET /headers?via=http1" "$(jq -r '.method + " " + .target' <<<"$json")" \
    "request: $json"
  assert_eq "grpc.test" "$(jq -r '.headers.host' <<<"$json")" "Host (from :authority): $json"
  head -c 307200 /dev/urandom >"$PX_DIR/up.bin"
  curl -sS --max-time 10 --http1.1 -H 'Host: grpc.test' --data-binary "@$PX_DIR/up.bin" \
    -o "$PX_DIR/body" "$PROXY_URL/echo"
  assert_eq "$(_sha "$PX_DIR/up.bin")" "$(_sha "$PX_DIR/body")" "a 300 KiB HTTP/1.1 POST echoed"

  step "c. a forced x-grpc-status 7 comes back trailers-only"
  assert_eq "200 headers:7" "$(_grpc "$GRPC_URL/meshgate.test.Echo/Unary" "$PX_DIR/hello.msg" \
    -H 'x-grpc-status: 7')" "x-grpc-status: 7"
  assert_eq forced "$(_field grpc-message "$PX_DIR/headers")" "grpc-message"
  assert_eq 0 "$(stat -c %s "$PX_DIR/body")" "body bytes of a trailers-only response"

  step "f. a 1 MiB message echoes byte-exact (flow control both ways)"
  head -c 1048576 /dev/urandom >"$PX_DIR/big"
  _grpc_frame "$PX_DIR/big.msg" "$PX_DIR/big"
  assert_eq "200 trailers:0" "$(_grpc "$GRPC_URL/meshgate.test.Echo/Unary" "$PX_DIR/big.msg")" \
    "1 MiB unary call"
  assert_eq $((1048576 + 5)) "$(stat -c %s "$PX_DIR/body")" "bytes echoed"
  assert_eq "$(_sha "$PX_DIR/big.msg")" "$(_sha "$PX_DIR/body")" "SHA-256 of the echo"

  step "g. the streaming method echoes every message of the request (3, one of 300 KiB)"
  printf 'one' >"$PX_DIR/m1"
  printf 'three' >"$PX_DIR/m3"
  _grpc_frame "$PX_DIR/stream.msg" "$PX_DIR/m1" "$PX_DIR/up.bin" "$PX_DIR/m3"
  assert_eq "200 trailers:0" "$(_grpc "$GRPC_URL/meshgate.test.Echo/Stream" \
    "$PX_DIR/stream.msg")" "streaming call"
  assert_eq "$(_sha "$PX_DIR/stream.msg")" "$(_sha "$PX_DIR/body")" "the echoed messages"
}

test_grpc_errors_the_proxy_answers_itself_are_grpc_statuses() {
  command -v nghttp >/dev/null || {
    echo "nghttp not found: scripts/deps.sh (make deps) installs nghttp2-client" >&2
    return 1
  }
  _start_grpc_proxy
  printf 'ping' >"$PX_DIR/ping"
  _grpc_frame "$PX_DIR/ping.msg" "$PX_DIR/ping"

  step "d. the backend port is closed: HTTP 200 with grpc-status 14 (UNAVAILABLE) from the proxy"
  assert_eq "200 headers:14" "$(_grpc_nghttp "dead.test:$PROXY_PORT" \
    /meshgate.test.Echo/Unary "$PX_DIR/ping.msg")" "a call to a closed port"
  assert_eq "" "$(_field x-backend "$PX_DIR/headers")" "x-backend (no backend answered)"
  assert_eq "application/grpc" "$(_field content-type "$PX_DIR/headers")" "content-type"

  step "e. an unknown host: grpc-status 12 (UNIMPLEMENTED)"
  assert_eq "200 headers:12" "$(_grpc_nghttp "nope.test:$PROXY_PORT" \
    /meshgate.test.Echo/Unary "$PX_DIR/ping.msg")" "a call for an unknown host"

  step "the backend still answers through the proxy"
  assert_eq "200 trailers:0" "$(_grpc "$GRPC_URL/meshgate.test.Echo/Unary" "$PX_DIR/ping.msg")" \
    "a call afterwards"
}

test_grpc_retry_on_unavailable_hides_failures() {
  _start_grpc_proxy "retries: {attempts: 3, retryOn: [unavailable]}"
  printf 'retry me' >"$PX_DIR/payload"
  _grpc_frame "$PX_DIR/retry.msg" "$PX_DIR/payload"
  local before

  step "h. the first 2 calls with key k1 get UNAVAILABLE from the backend: retried, grpc-status 0"
  before=$(_requests_served b1)
  assert_eq "200 trailers:0" "$(_grpc "$GRPC_URL/meshgate.test.Echo/Unary" "$PX_DIR/retry.msg" \
    -H 'x-fail-times: 2' -H 'x-fail-key: k1')" "a call whose first 2 tries fail"
  assert_eq "$(_sha "$PX_DIR/retry.msg")" "$(_sha "$PX_DIR/body")" "the echoed message"
  assert_eq $((before + 3)) "$(_requests_served b1)" "calls the backend saw"
  assert_ge "$(_stat meshgate_proxy_retries_total 'cluster="grpc"')" 2 "retries counted"

  step "a status not in retryOn (7) is not retried"
  before=$(_requests_served b1)
  assert_eq "200 headers:7" "$(_grpc "$GRPC_URL/meshgate.test.Echo/Unary" "$PX_DIR/retry.msg" \
    -H 'x-grpc-status: 7')" "x-grpc-status: 7"
  assert_eq $((before + 1)) "$(_requests_served b1)" "calls the backend saw"
}
