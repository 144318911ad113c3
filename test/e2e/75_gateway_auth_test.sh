# shellcheck shell=bash
# ApiRoute authentication through the operator: Secrets created with kubectl (a JWKS from
# meshgate-jwt-mint, API keys) reach meshgate-proxy in gateway mode through the config stream,
# the gateway answers 401 / 200 by the credentials, a route naming a Secret that does not exist is
# `ResolvedRefs=False, SecretNotFound` and answers 503 (never open) until the Secret is created,
# and a rotated JWKS is served without restarting anything.
# Run by test/e2e/run.sh; helpers in gateway_lib.sh.

# shellcheck source=gateway_lib.sh
source "$REPO_ROOT/test/e2e/gateway_lib.sh"

_jwt_mint() { "${MESHGATE_BUILD_DIR:-build}/bin/meshgate-jwt-mint" "$@"; }

AUTH_ISSUER=https://issuer.auth.e2e.test
AUTH_AUDIENCE=meshgate-e2e

# _auth_secret NS NAME KEY FILE — Secret NAME (type Opaque) whose KEY holds FILE, created or
# replaced by kubectl apply.
_auth_secret() {
  kubectl create secret generic "$2" -n "$1" --from-file="$3=$4" --dry-run=client -o yaml |
    kubectl apply -f - >/dev/null
}

# _auth_keygen KID — an ES256 key pair in $PX_DIR/jwt and the JWKS of its public key in
# $PX_DIR/jwt/KID.jwks.json.
_auth_keygen() {
  mkdir -p "$PX_DIR/jwt"
  _jwt_mint keygen --alg ES256 --kid "$1" --dir "$PX_DIR/jwt" >/dev/null
  _jwt_mint jwks "$PX_DIR/jwt/$1.jwk.json" >"$PX_DIR/jwt/$1.jwks.json"
}

# _auth_token KID [AUDIENCE] — a token for alice signed by KID, for AUTH_ISSUER and AUDIENCE
# (default AUTH_AUDIENCE).
_auth_token() {
  _jwt_mint sign --alg ES256 --kid "$1" --key "$PX_DIR/jwt/$1.key.pem" --iss "$AUTH_ISSUER" \
    --aud "${2:-$AUTH_AUDIENCE}" --sub alice --ttl 600
}

# _auth_answer HOST PATH [CURL_ARGS...] — "<status> <www-authenticate>" of one request through
# the gateway.
_auth_answer() {
  local host=$1 path=$2
  shift 2
  curl -s --max-time 2 -o /dev/null -w '%{http_code} %header{www-authenticate}' -H "Host: $host" \
    "$@" "$PROXY_URL$path"
}

# _auth_status_is CODE HOST PATH [CURL_ARGS...] — one request through the gateway gets CODE.
_auth_status_is() {
  local code=$1 got
  shift
  got=$(_auth_answer "$@")
  [ "${got%% *}" = "$code" ] || {
    echo "$1$2 answered '$got', want $code"
    return 1
  }
}

# _auth_route NS NAME HOST AUTH_YAML RULES_YAML — an ApiRoute of GW_CLASS with that route-level
# auth (may be empty) and those rules (indented as items of spec.rules).
_auth_route() {
  kubectl apply -n "$1" -f - >/dev/null <<YAML
apiVersion: meshgate.io/v1alpha1
kind: ApiRoute
metadata: {name: $2}
spec:
  ingressClassName: $GW_CLASS
  hosts: [$3]$4
  rules:
$5
YAML
}

test_auth_secrets_from_kubectl_reach_the_gateway_and_the_route_status() {
  _gateway_setup
  local ns good_key token token2 got operator_pid gateway_pid
  ns=$(new_namespace gateway-auth)
  _start_backend a1 127.0.0.51
  _ms_static "$ns" api a1

  step "a JWKS and API keys in Opaque Secrets; a JWT route and an API-key route name them"
  _auth_keygen k1
  _auth_secret "$ns" api-jwks jwks.json "$PX_DIR/jwt/k1.jwks.json"
  good_key=e2e-mobile-key-0123456789abcdef
  printf 'mobile-app: %s\n' "$good_key" >"$PX_DIR/api-keys"
  _auth_secret "$ns" api-keys api-keys "$PX_DIR/api-keys"
  _auth_route "$ns" jwt-route jwt.auth.e2e.test "
  auth:
    jwt:
      issuer: $AUTH_ISSUER
      audiences: [$AUTH_AUDIENCE]
      jwks: {secretRef: {name: api-jwks}}" \
    "  - backends: [{service: api, port: 80}]"
  _auth_route "$ns" key-route keys.auth.e2e.test "" \
    "  - matches: [{path: {type: PathPrefix, value: /health}}]
    backends: [{service: api, port: 80}]
    auth: {disabled: true}
  - backends: [{service: api, port: 80}]
    auth: {apiKey: {secretRef: {name: api-keys}}}"
  _start_gateway
  _wait_route "$ns" jwt-route ResolvedRefs True ResolvedRefs
  _wait_route "$ns" key-route ResolvedRefs True ResolvedRefs
  _wait_route "$ns" jwt-route Programmed True Programmed
  _wait_route "$ns" key-route Programmed True Programmed
  # What the operator streamed: the Secrets' keys the routes name, redacted by /config_dump.
  got=$(curl -sf --max-time 2 "$ADMIN_URL/config_dump" | jq -c '[.config.secrets[] | {name, namespace, data}]')
  assert_contains "$got" "{\"name\":\"api-jwks\",\"namespace\":\"$ns\",\"data\":{\"jwks.json\":\"<redacted>\"}}"
  assert_contains "$got" "{\"name\":\"api-keys\",\"namespace\":\"$ns\",\"data\":{\"api-keys\":\"<redacted>\"}}"

  step "JWT: no token → 401 with www-authenticate, a valid token → 200, another audience's → 401"
  got=$(_auth_answer jwt.auth.e2e.test /orders)
  assert_eq '401 Bearer realm="meshgate"' "$got" "no credentials"
  token=$(_auth_token k1)
  _auth_status_is 200 jwt.auth.e2e.test /orders -H "Authorization: Bearer $token"
  got=$(_auth_answer jwt.auth.e2e.test /orders -H "Authorization: Bearer $(_auth_token k1 someone-else)")
  assert_contains "$got" '401 Bearer realm="meshgate", error="invalid_token"' "another audience"

  step "API key: the right key → 200, a wrong one → 401, none → 401; the disabled rule is open"
  _auth_status_is 200 keys.auth.e2e.test /items -H "x-api-key: $good_key"
  got=$(_auth_answer keys.auth.e2e.test /items -H "x-api-key: e2e-wrong-key-0123456789abcdef")
  assert_contains "$got" '401 ApiKey realm="meshgate", error="invalid_key"' "a wrong key"
  got=$(_auth_answer keys.auth.e2e.test /items)
  assert_eq '401 ApiKey realm="meshgate"' "$got" "no key"
  _auth_status_is 200 keys.auth.e2e.test /health

  step "a route naming a Secret that does not exist: SecretNotFound, and 503 — never open"
  operator_pid=$OPERATOR_PID
  gateway_pid=$PROXY_PID
  _auth_route "$ns" late-route late.auth.e2e.test "" \
    "  - backends: [{service: api, port: 80}]
    auth: {apiKey: {secretRef: {name: late-keys}}}"
  _wait_route "$ns" late-route ResolvedRefs False SecretNotFound
  assert_eq "Secret $ns/late-keys not found" "$(_route_field "$ns" late-route ResolvedRefs message)"
  wait_for 10 _auth_status_is 503 late.auth.e2e.test / -H "x-api-key: $good_key"

  step "the Secret is created with kubectl: ResolvedRefs True and 200, nothing restarted"
  _auth_secret "$ns" late-keys api-keys "$PX_DIR/api-keys"
  _wait_route "$ns" late-route ResolvedRefs True ResolvedRefs
  wait_for 10 _auth_status_is 200 late.auth.e2e.test / -H "x-api-key: $good_key"
  kill -0 "$operator_pid"
  kill -0 "$gateway_pid"
  assert_eq "$operator_pid $gateway_pid" "$OPERATOR_PID $PROXY_PID" "the same processes"

  step "the JWKS Secret is rotated to a new key: its tokens pass, the old key's no longer"
  _auth_keygen k2
  _auth_secret "$ns" api-jwks jwks.json "$PX_DIR/jwt/k2.jwks.json"
  token2=$(_auth_token k2)
  wait_for 10 _auth_status_is 200 jwt.auth.e2e.test /orders -H "Authorization: Bearer $token2"
  _auth_status_is 401 jwt.auth.e2e.test /orders -H "Authorization: Bearer $token"
  _wait_route "$ns" jwt-route Programmed True Programmed
}
