# shellcheck shell=bash
# meshgate-proxy's HTTP/2 downstream end to end, as real processes on loopback (file mode): h2c
# with prior knowledge on the plain listener beside HTTP/1.1, h2 over TLS chosen by ALPN (preferred
# to http/1.1, which still works, as does a client without ALPN), requests routed by :authority
# and forwarded as HTTP/1.1 to meshgate-test-backend — headers as the backend saw them, a 1 MiB
# upload and a 4 MiB download byte-exact, a body of unknown length, 404 for an unknown host, 10
# concurrent streams on one connection (nghttp) — and h2spec --strict with no failed case over h2c
# and over TLS. After each, the proxy still serves HTTP/1.1 and exits 0 on SIGTERM.
# h2spec comes from test/e2e/cluster/build.sh (make control-plane). Needs no control plane.
# Run by test/e2e/run.sh.

# shellcheck source=proxy_lib.sh
source "$REPO_ROOT/test/e2e/proxy_lib.sh"

# _h2spec_bin — the path of h2spec, which test/e2e/cluster/build.sh builds from the Go module
# proxy into the control plane's cache (~/.cache/meshgate/k8s/<version>/bin); fails saying how to
# build it when it is not there.
_h2spec_bin() {
  local version bin
  version=$(awk '$1 == "k8s.io/kubernetes" && $2 ~ /^v1\./ { print $2; exit }' \
    "$REPO_ROOT/test/e2e/cluster/go.mod")
  bin=${XDG_CACHE_HOME:-$HOME/.cache}/meshgate/k8s/${version}/bin/h2spec
  if [ ! -x "$bin" ]; then
    echo "h2spec is not built ($bin): run test/e2e/cluster/build.sh (make control-plane)" >&2
    return 1
  fi
  echo "$bin"
}

# _need_nghttp — nghttp is there (Debian's nghttp2-client, installed by scripts/deps.sh).
_need_nghttp() {
  command -v nghttp >/dev/null || {
    echo "nghttp not found: scripts/deps.sh (make deps) installs nghttp2-client" >&2
    return 1
  }
}

# _start_h2_proxy — backend b1 on 127.0.0.2 behind route "web" for web.test (plain listener on
# PROXY_PORT), web.example.com (TLS listener on TLS_PORT, a certificate for that name signed by
# TLS_DIR/ca.pem) and 127.0.0.1 (the :authority h2spec sends); then _start_proxy. Sets H2C (curl
# options for h2c with prior knowledge to web.test), TLS (curl options for web.example.com over
# TLS), H2C_URL, TLS_URL.
_start_h2_proxy() {
  _proxy_setup
  _start_backend b1 127.0.0.2
  TLS_DIR=$PX_DIR/tls
  mkdir "$TLS_DIR"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TLS_DIR/ca.key" -subj "/CN=meshgate e2e CA" \
    -days 2 -out "$TLS_DIR/ca.pem" 2>/dev/null
  openssl req -new -newkey rsa:2048 -nodes -keyout "$TLS_DIR/web.key" -subj "/CN=web.example.com" \
    -out "$TLS_DIR/web.csr" 2>/dev/null
  printf 'subjectAltName=DNS:web.example.com\nextendedKeyUsage=serverAuth\n' >"$TLS_DIR/web.ext"
  openssl x509 -req -in "$TLS_DIR/web.csr" -CA "$TLS_DIR/ca.pem" -CAkey "$TLS_DIR/ca.key" \
    -CAcreateserial -days 2 -extfile "$TLS_DIR/web.ext" -out "$TLS_DIR/web.pem" 2>/dev/null
  read -r TLS_PORT < <(_free_ports 1)
  _write_config_raw <<YAML
admin: {address: 127.0.0.1, port: $ADMIN_PORT}
listeners:
  - {name: public, address: 127.0.0.1, port: $PROXY_PORT}
  - name: secure
    address: 127.0.0.1
    port: $TLS_PORT
    tls:
      certificates: [{certFile: $TLS_DIR/web.pem, keyFile: $TLS_DIR/web.key}]
routes:
  - metadata: {name: web}
    spec:
      hosts: [web.test, web.example.com, 127.0.0.1]
      rules: [{backends: [{service: web, port: 80}]}]
clusters:
  - {name: web, endpoints: [$(_endpoint b1)]}
YAML
  _start_proxy
  H2C_URL="http://web.test:$PROXY_PORT"
  TLS_URL="https://web.example.com:$TLS_PORT"
  H2C=(--http2-prior-knowledge --resolve "web.test:$PROXY_PORT:127.0.0.1")
  TLS=(--cacert "$TLS_DIR/ca.pem" --resolve "web.example.com:$TLS_PORT:127.0.0.1")
}

# _fetch CURL_ARGS... — one request, bounded (10 s); prints "STATUS HTTP_VERSION X_BACKEND"
# ("000 0 " when it failed: curl's reason is on stderr), the body in PX_DIR/body, curl's -v
# trace in PX_DIR/trace.
_fetch() {
  curl -sS -v --max-time 10 -o "$PX_DIR/body" -w '%{http_code} %{http_version} %header{x-backend}' \
    "$@" 2>"$PX_DIR/trace" || {
    echo "curl failed: $(grep '^curl: ' "$PX_DIR/trace" || true)" >&2
  }
}

# _sha FILE — its SHA-256.
_sha() { sha256sum "$1" | cut -d' ' -f1; }

# _assert_saw_request JSON METHOD TARGET HOST PROTO — what /headers reports: the backend got
# METHOD TARGET for Host HOST with x-forwarded-proto PROTO, and no HTTP/2 pseudo-header.
_assert_saw_request() {
  local json=$1
  assert_eq "$2 $3" "$(jq -r '.method + " " + .target' <<<"$json")" "request line upstream: $json"
  assert_eq "$4" "$(jq -r '.headers.host' <<<"$json")" "Host upstream (from :authority): $json"
  assert_eq "$5" "$(jq -r '.headers["x-forwarded-proto"]' <<<"$json")" "x-forwarded-proto: $json"
  assert_eq "" "$(jq -r '.headers | keys[] | select(startswith(":"))' <<<"$json")" \
    "pseudo-headers forwarded upstream: $json"
}

# _nghttp_streams OUT URL AUTHORITY — nghttp -nv with 10 streams (-m 10) of URL on one
# connection, bounded, :authority AUTHORITY; its trace in OUT; fails unless all 10 got 200 on one
# connection.
_nghttp_streams() {
  local out=$1 url=$2 authority=$3 rc=0 ok ids
  timeout 30 nghttp -nv -m 10 -t 20 -H ":authority: $authority" "$url" >"$out" 2>&1 || rc=$?
  ok=$(grep -cE 'recv \(stream_id=[0-9]+\) :status: 200$' "$out" || true)
  ids=$(sed -nE 's/.*recv \(stream_id=([0-9]+)\) :status: 200$/\1/p' "$out" | sort -u | wc -l)
  if [ "$rc" -ne 0 ] || [ "$ok" != 10 ] || [ "$ids" != 10 ]; then
    echo "nghttp -m 10 $url: exit $rc, $ok responses with :status 200 on $ids streams (want 10)" >&2
    grep -vE '^\s*$' "$out" | grep -E 'recv|send (HEADERS|GOAWAY|RST)|Connected|ALPN|rror|^\[ERROR' |
      head -n 25 | sed 's/^/  | /' >&2 || true
    return 1
  fi
  assert_eq 1 "$(grep -c 'Connected' "$out")" "nghttp connections (all streams on one)"
}

# _h2spec NAME MAY_FAIL ARGS... — h2spec --strict against the proxy (ARGS: -p PORT, and -t -k
# for TLS), bounded (140 s); prints its summary line; fails unless it finished and every failed
# case is one of MAY_FAIL (space-separated h2spec ids, e.g. "http2/3.5/2"), listing the others.
# The whole report is kept in the cluster's logs (run.sh copies them to .local/e2e-logs/ when a
# test failed), else in PX_DIR.
_h2spec() {
  local name=$1 may_fail=$2 bin rc=0 summary failed id unexpected=() report kept
  shift 2
  bin=$(_h2spec_bin)
  if [ -n "${MESHGATE_CLUSTER_DIR:-}" ]; then
    report=$MESHGATE_CLUSTER_DIR/logs/h2spec-$name
    kept=".local/e2e-logs/h2spec-$name.out"
  else
    report=$PX_DIR/h2spec-$name
    kept="$report.out"
  fi
  mkdir -p "$(dirname "$report")"
  timeout 140 "$bin" --strict -h 127.0.0.1 -o 3 -j "$report.xml" "$@" >"$report.out" 2>&1 || rc=$?
  summary=$(grep -E '^[0-9]+ tests, [0-9]+ passed, [0-9]+ skipped, [0-9]+ failed$' "$report.out" ||
    true)
  echo "h2spec --strict $* ($name): ${summary:-no summary, exit $rc}"
  if [ -z "$summary" ] || [ ! -s "$report.xml" ]; then
    [ "$rc" -ne 124 ] || echo "h2spec did not finish within 140 s" >&2
    tail -n 20 "$report.out" | sed 's/^/  | /' >&2
    return 1
  fi
  assert_ge "${summary%% tests*}" 140 "h2spec ran fewer cases than it has: $summary"
  # "<id> <description>" of each failed case, from the JUnit report (case N of a suite is id/N).
  failed=$(python3 - "$report.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
for suite in ET.parse(sys.argv[1]).getroot().iter("testsuite"):
    for n, case in enumerate(suite.findall("testcase"), 1):
        if case.find("failure") is not None or case.find("error") is not None:
            print(f"{case.get('package')}/{n} {case.get('classname')}")
PY
  )
  while read -r id _; do
    [ -n "$id" ] || continue
    if [[ " $may_fail " == *" $id "* ]]; then
      echo "h2spec: $id failed, as it may here"
    else
      unexpected+=("$id")
    fi
  done <<<"$failed"
  if [ ${#unexpected[@]} -gt 0 ]; then
    echo "h2spec: ${#unexpected[@]} failed cases: ${unexpected[*]:0:12}$([ ${#unexpected[@]} -le 12 ] ||
      echo ' ...') (full report: $kept)" >&2
    # (head may end the pipe early: its SIGPIPE is not the failure to report)
    sed -n '/^Failures:/,$p' "$report.out" | grep -E '×|->|Expected:|Actual:' | head -n 24 |
      sed 's/^/  | /' >&2 || true
    return 1
  fi
}

# _assert_http1_still_served — the proxy process is alive and answers HTTP/1.1 on the plain
# listener.
_assert_http1_still_served() {
  kill -0 "$PROXY_PID" || {
    echo "meshgate-proxy is gone" >&2
    return 1
  }
  assert_eq "200 1.1 b1" "$(_fetch --http1.1 -H 'Host: web.test' "$PROXY_URL/")" "HTTP/1.1 afterwards"
}

test_h2c_with_prior_knowledge_is_routed_like_http1_on_the_plain_listener() {
  _need_nghttp
  _start_h2_proxy
  local json before up_sha

  step "HTTP/1.1 on the plain listener, as before"
  assert_eq "200 1.1 b1" "$(_fetch --http1.1 -H 'Host: web.test' "$PROXY_URL/")" "HTTP/1.1"

  step "h2c with prior knowledge: 200 from b1 over HTTP/2, the backend saw the request"
  before=$(_requests_served b1)
  assert_eq "200 2 b1" "$(_fetch "${H2C[@]}" -H 'x-e2e: h2c' "$H2C_URL/headers?via=h2c")" \
    "curl --http2-prior-knowledge $H2C_URL/headers"
  json=$(cat "$PX_DIR/body")
  _assert_saw_request "$json" GET "/headers?via=h2c" "web.test:$PROXY_PORT" http
  assert_eq h2c "$(jq -r '.headers["x-e2e"]' <<<"$json")" "a request header reached the backend"
  assert_eq $((before + 1)) "$(_requests_served b1)" "requests the backend served"

  step "cookie crumbs (two cookie fields, as HTTP/2 allows) reach the backend as one cookie header"
  json=$(timeout 20 nghttp -t 10 -H ":authority: web.test:$PROXY_PORT" -H 'cookie: a=1' \
    -H 'cookie: b=2' "http://127.0.0.1:$PROXY_PORT/headers")
  assert_eq "a=1; b=2" "$(jq -r '.headers.cookie' <<<"$json")" "cookie upstream: $json"

  step "a 1 MiB POST over h2c arrives byte-exact (/echo sends it back)"
  head -c 1048576 /dev/urandom >"$PX_DIR/up.bin"
  up_sha=$(_sha "$PX_DIR/up.bin")
  assert_eq "200 2 b1" "$(_fetch "${H2C[@]}" --data-binary "@$PX_DIR/up.bin" \
    -H 'content-type: application/octet-stream' "$H2C_URL/echo")" "POST 1 MiB"
  assert_eq 1048576 "$(stat -c %s "$PX_DIR/body")" "bytes echoed"
  assert_eq "$up_sha" "$(_sha "$PX_DIR/body")" "SHA-256 of the echoed body"

  step "a body of unknown length (no content-length, END_STREAM ends it): 300 KiB echoed exactly"
  head -c 307200 /dev/urandom >"$PX_DIR/up2.bin"
  assert_eq "200 2 b1" "$(_fetch "${H2C[@]}" -X POST -T - "$H2C_URL/echo" <"$PX_DIR/up2.bin")" \
    "POST from stdin"
  assert_eq "$(_sha "$PX_DIR/up2.bin")" "$(_sha "$PX_DIR/body")" "SHA-256 of the echoed body"

  step "a 4 MiB response over h2c, byte-exact (the backend's own /bytes as reference)"
  curl -sf --max-time 10 -o "$PX_DIR/ref.bin" \
    "http://127.0.0.2:${BACKEND_PORT[b1]}/bytes?n=4194304"
  assert_eq "200 2 b1" "$(_fetch "${H2C[@]}" "$H2C_URL/bytes?n=4194304")" "GET 4 MiB"
  assert_eq "$(_sha "$PX_DIR/ref.bin")" "$(_sha "$PX_DIR/body")" "SHA-256 of the 4 MiB body"

  step "an unknown host over h2c: 404 from the proxy, the backend not asked"
  before=$(_requests_served b1)
  assert_eq "404 2 " "$(_fetch --http2-prior-knowledge --resolve "nope.test:$PROXY_PORT:127.0.0.1" \
    "http://nope.test:$PROXY_PORT/")" "unknown host"
  assert_eq "$before" "$(_requests_served b1)" "requests the backend served"

  step "nghttp: 10 concurrent streams on one h2c connection, each 200 (/delay?ms=500: < 3 s together)"
  before=$(_requests_served b1)
  local start=$SECONDS
  _nghttp_streams "$PX_DIR/nghttp.out" "http://127.0.0.1:$PROXY_PORT/delay?ms=500" \
    "web.test:$PROXY_PORT"
  assert_ge 3 $((SECONDS - start)) "10 streams of 0.5 s took $((SECONDS - start)) s: not concurrent"
  assert_eq $((before + 10)) "$(_requests_served b1)" "requests the backend served"

  step "HTTP/1.1 still served on the same listener"
  _assert_http1_still_served
}

test_tls_alpn_prefers_h2_and_still_serves_http1() {
  _need_nghttp
  _start_h2_proxy
  local json out

  step "--http1.1 over TLS: ALPN http/1.1, HTTP/1.1"
  assert_eq "200 1.1 b1" "$(_fetch --http1.1 "${TLS[@]}" "$TLS_URL/")" "HTTP/1.1 over TLS"
  assert_contains "$(cat "$PX_DIR/trace")" "ALPN: server accepted http/1.1"

  step "a client without ALPN gets HTTP/1.1"
  assert_eq "200 1.1 b1" "$(_fetch --no-alpn "${TLS[@]}" "$TLS_URL/")" "TLS without ALPN"

  step "--http2 over TLS: ALPN h2, HTTP/2, routed by :authority, x-forwarded-proto https"
  assert_eq "200 2 b1" "$(_fetch --http2 "${TLS[@]}" -H 'x-e2e: tls' "$TLS_URL/headers?via=tls")" \
    "curl --http2 $TLS_URL/headers"
  assert_contains "$(cat "$PX_DIR/trace")" "ALPN: server accepted h2"
  json=$(cat "$PX_DIR/body")
  _assert_saw_request "$json" GET "/headers?via=tls" "web.example.com:$TLS_PORT" https
  assert_eq tls "$(jq -r '.headers["x-e2e"]' <<<"$json")" "a request header reached the backend"

  step "the server prefers h2: a client offering http/1.1 first still gets h2"
  out=$(timeout 10 openssl s_client -connect "127.0.0.1:$TLS_PORT" -servername web.example.com \
    -alpn 'http/1.1,h2' </dev/null 2>/dev/null || true)
  assert_contains "$out" "ALPN protocol: h2" "openssl s_client -alpn http/1.1,h2"

  step "a client offering only protocols other than h2 and http/1.1 is refused"
  out=$(timeout 10 openssl s_client -connect "127.0.0.1:$TLS_PORT" -servername web.example.com \
    -alpn 'spdy/3,h3' </dev/null 2>&1 || true)
  assert_contains "$out" "no application protocol" "openssl s_client -alpn spdy/3,h3"

  step "a 1 MiB POST over h2 with TLS arrives byte-exact"
  head -c 1048576 /dev/urandom >"$PX_DIR/up.bin"
  assert_eq "200 2 b1" "$(_fetch --http2 "${TLS[@]}" --data-binary "@$PX_DIR/up.bin" \
    "$TLS_URL/echo")" "POST 1 MiB over TLS"
  assert_eq "$(_sha "$PX_DIR/up.bin")" "$(_sha "$PX_DIR/body")" "SHA-256 of the echoed body"

  step "an unknown host over h2 with TLS: 404 from the proxy"
  assert_eq "404 2 " "$(_fetch --http2 -k --resolve "nope.example.com:$TLS_PORT:127.0.0.1" \
    "https://nope.example.com:$TLS_PORT/")" "unknown host over TLS"

  step "nghttp over TLS: 10 streams on one connection, each 200"
  _nghttp_streams "$PX_DIR/nghttp.out" "https://127.0.0.1:$TLS_PORT/" "web.example.com:$TLS_PORT"

  step "HTTP/1.1 still served, over TLS and on the plain listener"
  assert_eq "200 1.1 b1" "$(_fetch --http1.1 "${TLS[@]}" "$TLS_URL/")" "HTTP/1.1 over TLS afterwards"
  _assert_http1_still_served
}

test_h2spec_strict_finds_no_failure_over_h2c() {
  _start_h2_proxy
  # The listener serves HTTP/1.1 too: bytes that are not the HTTP/2 preface are an HTTP/1.1
  # request, and h2spec's "invalid connection preface" (http2/3.5/2) gets the 400 of a malformed
  # one before the close it wants (haproxy's h2c listeners answer the same). That is checked here
  # instead.
  step "h2spec --strict -p PROXY_PORT (h2c with prior knowledge; http2/3.5/2 may fail)"
  _h2spec h2c http2/3.5/2 -p "$PROXY_PORT"
  step "h2spec's invalid preface is a malformed HTTP/1.1 request: 400, then the connection closes"
  local out
  out=$(_raw 'INVALID CONNECTION PREFACE\r\n\r\n' --wait 3)
  assert_contains "$out" "HTTP/1.1 400"
  assert_eq "--- closed" "$(tail -n 1 <<<"$out")" "the connection after the 400"
  step "the proxy still serves HTTP/2 and HTTP/1.1"
  assert_eq "200 2 b1" "$(_fetch "${H2C[@]}" "$H2C_URL/")" "h2c afterwards"
  _assert_http1_still_served
}

test_h2spec_strict_finds_no_failure_over_tls() {
  _start_h2_proxy
  step "h2spec --strict -t -k -p TLS_PORT (h2 by ALPN)"
  _h2spec tls "" -t -k -p "$TLS_PORT"
  step "the proxy still serves HTTP/2 over TLS and HTTP/1.1"
  assert_eq "200 2 b1" "$(_fetch --http2 "${TLS[@]}" "$TLS_URL/")" "h2 over TLS afterwards"
  _assert_http1_still_served
}
