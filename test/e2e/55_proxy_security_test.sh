# shellcheck shell=bash
# meshgate-proxy's gateway security end to end, as real processes on loopback (file mode): JWT
# (ES256 and RS256 from meshgate-jwt-mint, the JWKS in a secrets[] file), API keys, claim headers
# reaching the backend and spoofed copies not, a JWKS file rotated and picked up on reload, rate
# limits accurate within 10 % over 10 s with 2 workers and 32 connections, and CORS preflights.
# Needs no control plane. Run by test/e2e/run.sh.

# shellcheck source=proxy_lib.sh
source "$REPO_ROOT/test/e2e/proxy_lib.sh"

_mint() { "${MESHGATE_BUILD_DIR:-build}/bin/meshgate-jwt-mint" "$@"; }

# _status HOST PATH [curl args...] — the HTTP status of one request through the proxy.
_status() {
  local host=$1 path=$2
  shift 2
  curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H "Host: $host" "$@" "$PROXY_URL$path"
}

test_jwt_and_api_keys_guard_a_route_and_a_rotated_jwks_is_picked_up_on_reload() {
  _proxy_setup
  _start_backend b1 127.0.0.2
  _mint keygen --alg ES256 --kid es1 --dir "$PX_DIR"
  _mint keygen --alg RS256 --kid rs1 --dir "$PX_DIR"
  _mint keygen --alg ES256 --kid es2 --dir "$PX_DIR"
  _mint jwks "$PX_DIR/es1.jwk.json" "$PX_DIR/rs1.jwk.json" >"$PX_DIR/jwks.json"
  printf 'mobile: e2e-key-of-the-mobile-app-01\n' >"$PX_DIR/api-keys"
  _write_config <<YAML
secrets:
  - name: id-keys
    files: {jwks.json: $PX_DIR/jwks.json}
  - name: app-keys
    files: {api-keys: $PX_DIR/api-keys}
routes:
  - metadata: {name: api}
    spec:
      hosts: [api.test]
      auth:
        jwt:
          issuer: https://id.e2e.test
          audiences: [orders]
          jwks: {secretRef: {name: id-keys}}
          claimHeaders: [{claim: sub, header: x-user}]
      rules: [{backends: [{service: web, port: 80}]}]
  - metadata: {name: keyed}
    spec:
      hosts: [keyed.test]
      auth: {apiKey: {secretRef: {name: app-keys}}}
      rules: [{backends: [{service: web, port: 80}]}]
clusters:
  - {name: web, endpoints: [$(_endpoint b1)]}
YAML
  _start_proxy
  local es rs expired es2
  es=$(_mint sign --alg ES256 --kid es1 --key "$PX_DIR/es1.key.pem" --iss https://id.e2e.test --aud orders --sub alice)
  rs=$(_mint sign --alg RS256 --kid rs1 --key "$PX_DIR/rs1.key.pem" --iss https://id.e2e.test --aud orders --sub bob)
  expired=$(_mint sign --alg ES256 --kid es1 --key "$PX_DIR/es1.key.pem" --iss https://id.e2e.test --aud orders --ttl -600)
  es2=$(_mint sign --alg ES256 --kid es2 --key "$PX_DIR/es2.key.pem" --iss https://id.e2e.test --aud orders --sub carol)

  step "no token: 401 with a Bearer challenge; ES256 and RS256 tokens: 200"
  local headers
  headers=$(curl -s -D - -o /dev/null -H 'Host: api.test' "$PROXY_URL/")
  assert_contains "$headers" "HTTP/1.1 401"
  assert_contains "$headers" 'www-authenticate: Bearer realm="meshgate"'
  assert_eq 200 "$(_status api.test / -H "Authorization: Bearer $es")"
  assert_eq 200 "$(_status api.test / -H "Authorization: Bearer $rs")"

  step "the backend sees the subject from the token, never the client's own x-user"
  local echoed
  echoed=$(curl -s -H 'Host: api.test' -H "Authorization: Bearer $es" -H 'X-User: mallory' "$PROXY_URL/headers")
  assert_contains "$echoed" '"x-user":"alice"'
  assert_not_contains "$echoed" mallory

  step "an expired token and an unknown kid: 401 invalid_token with the category only"
  headers=$(curl -s -D - -o /dev/null -H 'Host: api.test' -H "Authorization: Bearer $expired" "$PROXY_URL/")
  assert_contains "$headers" 'error="invalid_token"'
  assert_contains "$headers" 'error_description="token expired"'
  assert_eq 401 "$(_status api.test / -H "Authorization: Bearer $es2")"

  step "API keys: right 200, wrong 401, in the query 401 (the route reads the header only)"
  assert_eq 200 "$(_status keyed.test / -H 'x-api-key: e2e-key-of-the-mobile-app-01')"
  assert_eq 401 "$(_status keyed.test / -H 'x-api-key: e2e-key-of-the-mobile-app-02')"
  assert_eq 401 "$(_status keyed.test '/?x-api-key=e2e-key-of-the-mobile-app-01')"

  step "the JWKS file gains key es2: after SIGHUP the new key's tokens pass, without a restart"
  _mint jwks "$PX_DIR/es1.jwk.json" "$PX_DIR/rs1.jwk.json" "$PX_DIR/es2.jwk.json" >"$PX_DIR/jwks.json"
  kill -HUP "$PROXY_PID"
  wait_for 10 bash -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: api.test' -H 'Authorization: Bearer $es2' $PROXY_URL/)\" = 200 ]"
  assert_eq 200 "$(_status api.test / -H "Authorization: Bearer $es")"

  step "the proxy's stats and log never hold a token or a key"
  local stats
  stats=$(curl -sf "$ADMIN_URL/stats")
  assert_contains "$stats" 'meshgate_proxy_auth_denied_total'
  assert_not_contains "$stats$(cat "$PX_LOG")" "$es"
  assert_not_contains "$stats$(cat "$PX_LOG")" "e2e-key-of-the-mobile-app"
}

test_rate_limit_is_accurate_within_ten_percent_with_two_workers() {
  _proxy_setup
  _start_backend b1 127.0.0.2
  # 400 requests per second, burst 1: over 10 s the proxy admits 4,001 at most, whatever the load.
  _write_config <<YAML
routes:
  - metadata: {name: limited}
    spec:
      hosts: [limited.test]
      rules:
        - backends: [{service: web, port: 80}]
          rateLimit: {requests: 400, unit: Second, burst: 1, key: {type: Header, name: x-tenant}}
clusters:
  - {name: web, endpoints: [$(_endpoint b1)]}
YAML
  _start_proxy
  step "wrk: 32 connections for 10 s, all one tenant, through 2 workers"
  wrk -t2 -c32 -d10s --timeout 5s -H 'Host: limited.test' -H 'x-tenant: acme' \
    "$PROXY_URL/" >"$PX_DIR/wrk.out" 2>&1
  local summary requests non2xx admitted
  summary=$(_wrk_summary "$PX_DIR/wrk.out")
  echo "wrk: $summary"
  requests=$(sed -E 's/.*requests=([0-9]+).*/\1/' <<<"$summary")
  non2xx=$(sed -E 's/.*non2xx=([0-9]+).*/\1/' <<<"$summary")
  admitted=$((requests - non2xx))
  step "admitted $admitted of $requests: within 10 % of 4,000, and the rest were 429"
  [ "$requests" -gt 8000 ] || { echo "wrk sent only $requests requests: the limit was not under pressure" >&2; return 1; }
  _assert_near "$admitted" 4000 10 "admitted over 10 s at 400/s"
  # The proxy counts every 429 it sent; wrk misses those still in flight when it stops (one per
  # connection at most).
  local counted
  counted=$(_stat meshgate_proxy_rate_limited_total)
  assert_ge "$counted" "$non2xx"
  assert_ge $((non2xx + 32)) "$counted"
  step "another tenant has its own bucket"
  assert_eq 200 "$(_status limited.test / -H 'x-tenant: other')"
}

test_cors_preflight_is_answered_by_the_proxy() {
  _proxy_setup
  _start_backend b1 127.0.0.2
  _write_config <<YAML
routes:
  - metadata: {name: web}
    spec:
      hosts: [web.test]
      rules:
        - backends: [{service: web, port: 80}]
          cors: {allowOrigins: ["https://*.e2e.test"], allowMethods: [GET, DELETE], maxAge: 300}
clusters:
  - {name: web, endpoints: [$(_endpoint b1)]}
YAML
  _start_proxy
  step "an allowed origin's preflight: 204 with the policy; the backend sees nothing"
  local headers before
  before=$(_requests_served b1)
  headers=$(curl -s -D - -o /dev/null -X OPTIONS -H 'Host: web.test' -H 'Origin: https://app.e2e.test' \
    -H 'Access-Control-Request-Method: DELETE' "$PROXY_URL/items")
  assert_contains "$headers" "HTTP/1.1 204"
  assert_contains "$headers" "access-control-allow-origin: https://app.e2e.test"
  assert_contains "$headers" "access-control-max-age: 300"
  assert_eq "$before" "$(_requests_served b1)"
  step "another origin: no CORS headers; an actual request gets them on the backend's response"
  headers=$(curl -s -D - -o /dev/null -X OPTIONS -H 'Host: web.test' -H 'Origin: https://evil.test' \
    -H 'Access-Control-Request-Method: DELETE' "$PROXY_URL/items")
  assert_not_contains "$headers" "access-control-allow-origin"
  headers=$(curl -s -D - -o /dev/null -H 'Host: web.test' -H 'Origin: https://app.e2e.test' "$PROXY_URL/items")
  assert_contains "$headers" "HTTP/1.1 200"
  assert_contains "$headers" "access-control-allow-origin: https://app.e2e.test"
}
