# shellcheck shell=bash
# meshgate-proxy end to end, as real processes on loopback: the proxy on a config file, real
# upstreams (meshgate-test-backend on 127.0.0.2-4), clients from curl, wrk and python3 raw
# sockets. Load balancing by policy and weight, routing (weights, subsets, rewrite, header
# filters, redirect, precedence), retries over a killed backend, active health checks, outlier
# ejection, reloads under load and refused configs, malformed requests and slowloris, WebSocket,
# bodies and keep-alive, circuit breaker, timeouts, SIGTERM drain, TLS with SNI, the access log.
# Needs no control plane. Run by test/e2e/run.sh.

# shellcheck source=proxy_lib.sh
source "$REPO_ROOT/test/e2e/proxy_lib.sh"

test_balancers_split_by_policy_weight_and_hash_key() {
  _proxy_setup
  _start_backend b1 127.0.0.2
  _start_backend b2 127.0.0.3
  _start_backend b3 127.0.0.4
  local all counts
  all="[$(_endpoint b1), $(_endpoint b2), $(_endpoint b3)]"
  _write_config <<YAML
routes:
$(_route rr rr.test rr)
$(_route weighted weighted.test weighted)
$(_route least least.test least)
$(_route random random.test random)
$(_route hash hash.test hash)
clusters:
  - {name: rr, endpoints: $all}
  - {name: weighted, endpoints: [$(_endpoint b1 'weight: 3'), $(_endpoint b2)]}
  - {name: least, endpoints: $all, loadBalancer: {policy: LeastRequest}}
  - {name: random, endpoints: $all, loadBalancer: {policy: Random}}
  - {name: hash, endpoints: $all, loadBalancer: {policy: RingHash, hash: {header: x-user}}}
YAML
  _start_proxy

  step "RoundRobin, equal weights: 300 requests, 100 each (within 10%)"
  counts=$(_count 300 rr.test /)
  for b in b1 b2 b3; do
    _assert_near "$(_count_of "$b" "$counts")" 100 10 "RoundRobin share of $b: $counts"
  done

  step "RoundRobin, weights 3:1: 400 requests, 300 and 100"
  counts=$(_count 400 weighted.test /)
  _assert_near "$(_count_of b1 "$counts")" 300 10 "weight-3 share: $counts"
  _assert_near "$(_count_of b2 "$counts")" 100 10 "weight-1 share: $counts"
  assert_eq 0 "$(_count_of b3 "$counts")" "b3 is not in the cluster"

  step "LeastRequest and Random use all three endpoints (each at least 10% of 300)"
  for policy in least random; do
    counts=$(_count 300 "$policy.test" /)
    for b in b1 b2 b3; do
      assert_ge "$(_count_of "$b" "$counts")" 30 "$policy share of $b: $counts"
    done
  done

  step "RingHash on x-user: one user always lands on one backend; 20 users use several"
  local user
  for user in alice bob carol; do
    counts=$(_count 20 hash.test / -H "x-user: $user")
    assert_eq 1 "$(wc -l <<<"$counts")" "user $user was spread: $counts"
    assert_eq 20 "$(awk '{ print $2 }' <<<"$counts")" "user $user: $counts"
  done
  counts=$(_count 20 hash.test / -H 'x-user: user-{i}')
  assert_ge "$(grep -c '^b' <<<"$counts")" 2 "20 users on one backend: $counts"
  step "the stats counted every request as 2xx"
  assert_eq 1380 "$(_stat meshgate_proxy_requests_total 'code_class="2xx"')"
}

test_routes_split_rewrite_filter_redirect_and_pick_by_precedence() {
  _proxy_setup
  _start_backend b1 127.0.0.2
  _start_backend b2 127.0.0.3
  _start_backend b3 127.0.0.4
  _write_config <<YAML
routes:
  - metadata: {name: split}
    spec:
      hosts: [split.test]
      rules:
        - backends:
            - {service: main, port: 80, subset: v1, weight: 90}
            - {service: canary, port: 80, weight: 10}
  - metadata: {name: shop, namespace: team}
    spec:
      hosts: [shop.test]
      rules:
        - matches: [{path: {type: PathPrefix, value: /api}}]
          backends: [{service: one, port: 80}]
        - matches: [{path: {type: Exact, value: /api/exact}}]
          backends: [{service: two, port: 80}]
        - matches: [{path: {type: PathPrefix, value: /api/v2}}]
          backends: [{service: three, port: 80}]
        - matches: [{path: {type: PathPrefix, value: /api}, headers: [{name: x-variant, value: blue}]}]
          backends: [{service: two, port: 80}]
        - matches: [{path: {type: RegularExpression, value: "/api/[0-9]+"}}]
          backends: [{service: three, port: 80}]
        - matches: [{path: {type: PathPrefix, value: /old}}]
          filters:
            redirect: {scheme: https, hostname: new.example.com, port: 8443, path: /new, statusCode: 301}
        - matches: [{path: {type: PathPrefix, value: /rewrite}}]
          filters:
            rewrite: {pathPrefix: /headers, hostname: internal.example.com}
          backends: [{service: one, port: 80}]
        - matches: [{path: {type: Exact, value: /headers}}]
          filters:
            requestHeaders:
              set: [{name: x-set, value: by-proxy}]
              add: [{name: x-add, value: second}]
              remove: [x-remove]
            responseHeaders:
              set: [{name: x-resp, value: r1}, {name: x-backend-note, value: from-proxy}]
          backends: [{service: one, port: 80}]
clusters:
  - name: main
    endpoints:
      - {address: 127.0.0.2, port: ${BACKEND_PORT[b1]}, labels: {version: v1}}
      - {address: 127.0.0.3, port: ${BACKEND_PORT[b2]}, labels: {version: v2}}
    subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}]
  - {name: canary, endpoints: [$(_endpoint b3)]}
  - {name: one, endpoints: [$(_endpoint b1)]}
  - {name: two, endpoints: [$(_endpoint b2)]}
  - {name: three, endpoints: [$(_endpoint b3)]}
YAML
  _start_proxy
  local counts h json
  local -a opts

  step "weighted backends across two clusters, the first by subset: 90/10 of 400, none to v2"
  counts=$(_count 400 split.test /)
  _assert_near "$(_count_of b1 "$counts")" 360 10 "subset v1 of main: $counts"
  _assert_near "$(_count_of b3 "$counts")" 40 25 "canary: $counts"
  assert_eq 0 "$(_count_of b2 "$counts")" "subset v2 got traffic: $counts"

  step "precedence: Exact before PathPrefix, the longer prefix first, a header match first"
  opts=(-s -o /dev/null -w '%header{x-backend}' -H 'Host: shop.test')
  assert_eq b1 "$(curl "${opts[@]}" "$PROXY_URL/api/anything")" "PathPrefix /api"
  assert_eq b2 "$(curl "${opts[@]}" "$PROXY_URL/api/exact")" "Exact /api/exact beats PathPrefix /api"
  assert_eq b1 "$(curl "${opts[@]}" "$PROXY_URL/api/exact/more")" "Exact does not match a longer path"
  assert_eq b3 "$(curl "${opts[@]}" "$PROXY_URL/api/v2/items")" "longer PathPrefix /api/v2 wins"
  assert_eq b1 "$(curl "${opts[@]}" "$PROXY_URL/api/v2x")" "prefixes match on segment boundaries"
  assert_eq b2 "$(curl "${opts[@]}" -H 'x-variant: blue' "$PROXY_URL/api/anything")" "header match wins"
  assert_eq b1 "$(curl "${opts[@]}" -H 'x-variant: green' "$PROXY_URL/api/anything")" "header value differs"
  assert_eq b1 "$(curl "${opts[@]}" "$PROXY_URL/api/123")" "PathPrefix beats RegularExpression"

  step "404 for an unknown host and for a path no rule matches"
  assert_eq 404 "$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: nope.test' "$PROXY_URL/api")"
  assert_eq 404 "$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: shop.test' "$PROXY_URL/elsewhere")"

  step "redirect: status and Location from the filter, no upstream"
  local before
  before=$(_requests_served b1)
  h=$(curl -s -D - -o /dev/null -H 'Host: shop.test' "$PROXY_URL/old/page?q=1")
  assert_contains "$h" "HTTP/1.1 301"
  assert_contains "$(grep -i '^location:' <<<"$h" | tr -d '\r')" "location: https://new.example.com:8443/new"
  assert_eq "$before" "$(_requests_served b1)" "a redirect reached an upstream"

  step "rewrite: path prefix and host as the backend sees them"
  json=$(curl -sf -H 'Host: shop.test' "$PROXY_URL/rewrite?a=1")
  assert_eq "/headers?a=1" "$(jq -r .target <<<"$json")" "rewritten target: $json"
  assert_eq internal.example.com "$(jq -r .headers.host <<<"$json")" "rewritten host: $json"

  step "request headers set/add/remove, forwarding headers, hop-by-hop stripped; response header set"
  h=$(curl -s -D "$PX_DIR/resp.h" -H 'Host: shop.test' -H 'x-set: by-client' -H 'x-add: first' \
    -H 'x-remove: gone' -H 'x-keep: kept' -H 'Connection: keep-alive, x-hop' -H 'x-hop: hop' \
    "$PROXY_URL/headers")
  json=$h
  assert_eq by-proxy "$(jq -r '.headers["x-set"]' <<<"$json")" "set replaces: $json"
  assert_eq "first, second" "$(jq -r '.headers["x-add"]' <<<"$json")" "add appends: $json"
  assert_eq null "$(jq -r '.headers["x-remove"]' <<<"$json")" "remove: $json"
  assert_eq kept "$(jq -r '.headers["x-keep"]' <<<"$json")"
  assert_eq null "$(jq -r '.headers["x-hop"]' <<<"$json")" "a header named by Connection is hop-by-hop"
  assert_eq http "$(jq -r '.headers["x-forwarded-proto"]' <<<"$json")"
  assert_eq shop.test "$(jq -r '.headers["x-forwarded-host"]' <<<"$json")"
  assert_eq 127.0.0.1 "$(jq -r '.headers["x-forwarded-for"]' <<<"$json")"
  assert_contains "$(jq -r '.headers.via' <<<"$json")" "1.1"
  [ -n "$(jq -r '.headers["x-request-id"] // empty' <<<"$json")" ] || {
    echo "no x-request-id at the backend: $json" >&2
    return 1
  }
  assert_eq "from-proxy" "$(grep -i '^x-backend-note:' "$PX_DIR/resp.h" | cut -d' ' -f2 | tr -d '\r')"
  assert_eq "r1" "$(grep -i '^x-resp:' "$PX_DIR/resp.h" | cut -d' ' -f2 | tr -d '\r')"
  assert_eq 1 "$(grep -ci '^x-resp:' "$PX_DIR/resp.h")"
  assert_eq shop.test "$(jq -r '.headers.host' <<<"$json")" "host kept without rewrite"
  json=$(curl -sf -H 'Host: shop.test' -H 'x-request-id: client-chosen-id' "$PROXY_URL/headers")
  assert_eq client-chosen-id "$(jq -r '.headers["x-request-id"]' <<<"$json")" "a client's x-request-id is kept"
  assert_ge "$(_stat meshgate_proxy_requests_total 'route="team/shop/2"' 'code_class="2xx"')" 1 \
    "stats name the route <namespace>/<name>/<rule index>"
}

test_retries_hide_a_backend_killed_under_load() {
  _proxy_setup
  _start_backend b1 127.0.0.2
  _start_backend b2 127.0.0.3
  _start_backend b3 127.0.0.4
  _write_config <<YAML
routes:
$(_route pool pool.test pool)
clusters:
  - name: pool
    endpoints: [$(_endpoint b1), $(_endpoint b2), $(_endpoint b3)]
    retries: {attempts: 2, retryOn: [connect-failure, reset]}
    # Concurrent retries are capped by maxRetries (default 3, as Envoy): with no outlier
    # detection a third of the requests hit the dead endpoint and wait out a backoff, so the
    # default budget would (rightly) refuse some with 503 + x-meshgate-overflow.
    circuitBreaker: {maxRetries: 1000}
YAML
  _start_proxy
  local out=$PX_DIR/wrk.out summary at_kill1 at_kill2
  step "wrk for 4s (GET, keep-alive); b3 is killed with SIGKILL once it has served 200 requests"
  _wrk 4 "$out" pool.test "/delay?ms=2" &
  local wrk_pid=$!
  wait_for 10 bash -c "[ \$(curl -sf http://127.0.0.4:${BACKEND_PORT[b3]}/requests) -ge 200 ]"
  _kill9_backend b3
  at_kill1=$(_requests_served b1)
  at_kill2=$(_requests_served b2)
  wait "$wrk_pid"
  summary=$(_wrk_summary "$out")
  echo "$summary"
  assert_contains "$summary" "non2xx=0 errors=0" "$(cat "$out")"
  step "the remaining backends served the rest"
  assert_ge "$(_requests_served b1)" $((at_kill1 + 100)) "b1 after the kill"
  assert_ge "$(_requests_served b2)" $((at_kill2 + 100)) "b2 after the kill"
  assert_ge "$(_stat meshgate_proxy_retries_total 'cluster="pool"')" 1 "retries were counted"
  assert_eq 0 "$(_stat meshgate_proxy_requests_total 'code_class="5xx"')" "5xx answers counted"
}

test_health_checks_eject_a_failing_endpoint_and_readmit_it() {
  _proxy_setup
  _start_backend b1 127.0.0.2
  _start_backend b2 127.0.0.3
  _write_config <<YAML
routes:
$(_route hc hc.test hc)
clusters:
  - name: hc
    endpoints: [$(_endpoint b1), $(_endpoint b2)]
    healthCheck: {path: /health, interval: 200ms, timeout: 150ms, healthyThreshold: 2, unhealthyThreshold: 2}
YAML
  _start_proxy
  local b2key="endpoint=\"127.0.0.3:${BACKEND_PORT[b2]}\"" counts
  step "both endpoints start healthy and share the traffic"
  assert_eq 1 "$(_stat meshgate_proxy_endpoint_healthy 'cluster="hc"' "$b2key")"
  counts=$(_count 20 hc.test /)
  assert_eq 10 "$(_count_of b2 "$counts")" "$counts"

  step "b2's /health fails: the checker marks it unhealthy and it gets no more traffic"
  curl -sf -X POST "http://127.0.0.3:${BACKEND_PORT[b2]}/control/health?state=fail" >/dev/null
  wait_for 10 _stat_is 0 meshgate_proxy_endpoint_healthy 'cluster="hc"' "$b2key"
  assert_eq 1 "$(_stat meshgate_proxy_endpoint_healthy 'cluster="hc"' 'endpoint="127.0.0.2:')"
  counts=$(_count 50 hc.test /)
  assert_eq 50 "$(_count_of b1 "$counts")" "an unhealthy endpoint got traffic: $counts"

  step "b1 fails too: with no healthy endpoint left, the proxy balances over all of them anyway"
  curl -sf -X POST "http://127.0.0.2:${BACKEND_PORT[b1]}/control/health?state=fail" >/dev/null
  wait_for 10 _stat_is 0 meshgate_proxy_endpoint_healthy 'cluster="hc"'
  counts=$(_count 20 hc.test /)
  assert_eq 20 $(($(_count_of b1 "$counts") + $(_count_of b2 "$counts"))) "all unhealthy: $counts"
  assert_ge "$(_count_of b1 "$counts")" 5 "all unhealthy (panic), RoundRobin: $counts"
  assert_ge "$(_count_of b2 "$counts")" 5 "all unhealthy (panic), RoundRobin: $counts"

  step "both recover: readmitted after healthyThreshold passing checks"
  curl -sf -X POST "http://127.0.0.2:${BACKEND_PORT[b1]}/control/health?state=ok" >/dev/null
  curl -sf -X POST "http://127.0.0.3:${BACKEND_PORT[b2]}/control/health?state=ok" >/dev/null
  wait_for 10 _stat_is 2 meshgate_proxy_endpoint_healthy 'cluster="hc"'
  counts=$(_count 40 hc.test /)
  assert_eq 20 "$(_count_of b2 "$counts")" "b2 after recovery: $counts"
}

test_outlier_detection_ejects_a_dead_endpoint_without_client_errors() {
  _proxy_setup
  _start_backend b1 127.0.0.2
  local dead_port counts retries
  read -r dead_port < <(_free_ports 1)
  _write_config <<YAML
routes:
$(_route od od.test od)
clusters:
  - name: od
    endpoints: [$(_endpoint b1), {address: 127.0.0.5, port: $dead_port}]
    outlierDetection: {consecutiveErrors: 2, interval: 1s, baseEjectionTime: 3s, maxEjectionPercent: 50}
YAML
  _start_proxy
  step "one live and one dead endpoint: no client sees an error (connect failures are retried once)"
  counts=$(_count 40 od.test /)
  assert_eq "b1 40" "$counts"
  step "the dead endpoint is ejected, the live one is not"
  wait_for 5 _stat_is 1 meshgate_proxy_endpoint_ejected 'cluster="od"' "endpoint=\"127.0.0.5:$dead_port\""
  assert_eq 0 "$(_stat meshgate_proxy_endpoint_ejected 'cluster="od"' 'endpoint="127.0.0.2:')"
  retries=$(_stat meshgate_proxy_retries_total 'cluster="od"')
  assert_ge "$retries" 2 "the connect failures were retried"
  step "while ejected it is not tried at all: no more retries"
  counts=$(_count 40 od.test /)
  assert_eq "b1 40" "$counts"
  assert_eq "$retries" "$(_stat meshgate_proxy_retries_total 'cluster="od"')" "an ejected endpoint was tried"
  step "after baseEjectionTime (3s) it is tried again, fails again and is ejected again"
  wait_for 10 _stat_is 0 meshgate_proxy_endpoint_ejected 'cluster="od"'
  counts=$(_count 20 od.test /)
  assert_eq "b1 20" "$counts"
  assert_ge "$(_stat meshgate_proxy_retries_total 'cluster="od"')" $((retries + 1)) "tried again after the ejection"
  assert_eq 1 "$(_stat meshgate_proxy_endpoint_ejected 'cluster="od"' "endpoint=\"127.0.0.5:$dead_port\"")"
  step "upstream errors are counted by kind: connect failures, no resets"
  assert_ge "$(_stat meshgate_proxy_upstream_errors_total 'cluster="od"' 'kind="connect"')" 2
  assert_eq 0 "$(_stat meshgate_proxy_upstream_errors_total 'cluster="od"' 'kind="reset"')" \
    "refused connections counted as resets"
}

# The reload test's config: VERSION, the endpoint weights of b1 and b2, an optional response
# header x-config.
_reload_config() {
  local version=$1 w1=$2 w2=$3 header=${4:-}
  cat <<YAML
version: "$version"
admin: {address: 127.0.0.1, port: $ADMIN_PORT}
listeners:
  - {name: public, address: 127.0.0.1, port: $PROXY_PORT}
routes:
  - metadata: {name: web}
    spec:
      hosts: [web.test]
      rules:
        - backends: [{service: web, port: 80}]
YAML
  if [ -n "$header" ]; then
    echo "          filters: {responseHeaders: {set: [{name: x-config, value: $header}]}}"
  fi
  cat <<YAML
clusters:
  - {name: web, endpoints: [$(_endpoint b1 "weight: $w1"), $(_endpoint b2 "weight: $w2")]}
YAML
}

test_reloads_under_load_lose_nothing_and_invalid_configs_are_refused() {
  _proxy_setup
  _start_backend b1 127.0.0.2
  _start_backend b2 127.0.0.3
  # The proxy reads the config through a symlink, as from a ConfigMap volume: editing the target
  # (in a directory the watcher does not see) needs SIGHUP; swapping the link is a file change.
  mkdir "$PX_DIR/data"
  _reload_config v1 1 1 >"$PX_DIR/data/v1.yaml"
  ln -s data/v1.yaml "$PX_CONFIG"
  _start_proxy
  local out=$PX_DIR/wrk.out ok fail summary counts dump
  ok=$(_stat meshgate_proxy_config_reloads_total 'result="success"')
  fail=$(_stat meshgate_proxy_config_reloads_total 'result="failure"')
  assert_eq 1 "$(_stat meshgate_proxy_config_info 'version="v1"')"

  step "wrk for 5s while the config changes three times"
  _wrk 5 "$out" web.test / &
  local wrk_pid=$!
  wait_for 5 bash -c "[ \$(curl -sf http://127.0.0.2:${BACKEND_PORT[b1]}/requests) -ge 100 ]"
  step "v2 (weights 3:1): the link's target edited, then SIGHUP"
  _reload_config v2 3 1 >"$PX_DIR/data/v1.yaml.new"
  mv "$PX_DIR/data/v1.yaml.new" "$PX_DIR/data/v1.yaml"
  kill -HUP "$PROXY_PID"
  wait_for 5 _stat_is 1 meshgate_proxy_config_info 'version="v2"'
  assert_eq $((ok + 1)) "$(_stat meshgate_proxy_config_reloads_total 'result="success"')"
  step "v3 (a response header): the symlink swapped, no signal"
  _reload_config v3 3 1 v3 >"$PX_DIR/data/v3.yaml"
  ln -s data/v3.yaml "$PX_CONFIG.new"
  mv -T "$PX_CONFIG.new" "$PX_CONFIG"
  wait_for 5 _stat_is 1 meshgate_proxy_config_info 'version="v3"'
  step "v4 (weights 1:3, header v4): a regular file renamed over the link, no signal"
  _reload_config v4 1 3 v4 | _write_config_raw
  wait_for 5 _stat_is 1 meshgate_proxy_config_info 'version="v4"'
  assert_eq $((ok + 3)) "$(_stat meshgate_proxy_config_reloads_total 'result="success"')"
  wait "$wrk_pid"
  summary=$(_wrk_summary "$out")
  echo "$summary"
  assert_contains "$summary" "non2xx=0 errors=0" "$(cat "$out")"
  assert_eq "$fail" "$(_stat meshgate_proxy_config_reloads_total 'result="failure"')"

  step "the new config serves: its header, its weights"
  assert_eq v4 "$(curl -s -o /dev/null -w '%header{x-config}' -H 'Host: web.test' "$PROXY_URL/")"
  counts=$(_count 40 web.test /)
  assert_eq "b1 10
b2 30" "$counts"

  step "an invalid config (a backend naming no cluster), written in place, is refused"
  _reload_config v5 1 1 v5 | sed 's/service: web/service: nosuch/' >"$PX_CONFIG"
  wait_for 5 _stat_is $((fail + 1)) meshgate_proxy_config_reloads_total 'result="failure"'
  dump=$(curl -sf "$ADMIN_URL/config_dump")
  assert_eq v4 "$(jq -r .version <<<"$dump")"
  assert_contains "$(jq -r .lastRefused <<<"$dump")" \
    'routes[0].spec.rules[0].backends[0].service: Not found: "nosuch"'
  step "v4 keeps serving"
  assert_eq 1 "$(_stat meshgate_proxy_config_info 'version="v4"')"
  assert_eq v4 "$(curl -s -o /dev/null -w '%header{x-config}' -H 'Host: web.test' "$PROXY_URL/")"

  step "a bad regex is refused too, named by its field path"
  _reload_config v6 1 1 |
    sed 's/- backends: \[/- matches: [{path: {type: RegularExpression, value: "(unclosed"}}]\n          backends: [/' |
    _write_config_raw
  wait_for 5 _stat_is $((fail + 2)) meshgate_proxy_config_reloads_total 'result="failure"'
  dump=$(curl -sf "$ADMIN_URL/config_dump")
  assert_contains "$(jq -r .lastRefused <<<"$dump")" "routes[0].spec.rules[0].matches[0].path.value"
  assert_eq v4 "$(jq -r .version <<<"$dump")"
  counts=$(_count 8 web.test /)
  assert_eq "b1 2
b2 6" "$counts"
  assert_eq $((ok + 3)) "$(_stat meshgate_proxy_config_reloads_total 'result="success"')"
}

test_malformed_requests_get_4xx_and_their_connection_is_closed() {
  _proxy_setup
  _start_web_proxy 'limits: {maxRequestLineBytes: 256, maxHeaderBytes: 2048, maxHeaders: 10, maxBodyBytes: 1000}'
  local long many big out code name payload
  long="GET /$(printf 'a%.0s' {1..400}) HTTP/1.1\r\nHost: web.test\r\n\r\n"
  many="GET / HTTP/1.1\r\nHost: web.test\r\n$(for i in {1..12}; do printf 'x-h%d: v\\r\\n' "$i"; done)\r\n"
  big="GET / HTTP/1.1\r\nHost: web.test\r\nx-big: $(printf 'b%.0s' {1..3000})\r\n\r\n"
  # name|expected status|payload; the body of each is on the same connection.
  local cases=(
    "Content-Length with Transfer-Encoding|400|POST /echo HTTP/1.1\r\nHost: web.test\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: web.test\r\n\r\n"
    "two different Content-Lengths|400|POST /echo HTTP/1.1\r\nHost: web.test\r\nContent-Length: 3\r\nContent-Length: 5\r\n\r\nhello"
    "Content-Length not a number|400|POST /echo HTTP/1.1\r\nHost: web.test\r\nContent-Length: 5x\r\n\r\nhello"
    "negative Content-Length|400|POST /echo HTTP/1.1\r\nHost: web.test\r\nContent-Length: -5\r\n\r\nhello"
    "invalid chunk size|400|POST /echo HTTP/1.1\r\nHost: web.test\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n"
    "chunked not the final coding|400 501|POST /echo HTTP/1.1\r\nHost: web.test\r\nTransfer-Encoding: chunked, gzip\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
    "obs-fold|400|GET / HTTP/1.1\r\nHost: web.test\r\nX-Folded: a\r\n  b\r\n\r\n"
    "bare LF line endings|400|GET / HTTP/1.1\nHost: web.test\n\n"
    "space before the colon|400|GET / HTTP/1.1\r\nHost: web.test\r\nX-Bad : v\r\n\r\n"
    "NUL in a header value|400|GET / HTTP/1.1\r\nHost: web.test\r\nX-Nul: a\x00b\r\n\r\n"
    "HTTP/1.1 without Host|400|GET / HTTP/1.1\r\nX-No-Host: 1\r\n\r\n"
    "unsupported transfer coding|501 400|POST /echo HTTP/1.1\r\nHost: web.test\r\nTransfer-Encoding: gzip\r\n\r\nhello"
    "HTTP/2.0 request line|505|GET / HTTP/2.0\r\nHost: web.test\r\n\r\n"
    "over-long request line|414|$long"
    "too many header fields|431|$many"
    "head over maxHeaderBytes|431|$big"
    "Content-Length over maxBodyBytes|413|POST /echo HTTP/1.1\r\nHost: web.test\r\nContent-Length: 5000\r\n\r\nhello"
  )
  local entry
  for entry in "${cases[@]}"; do
    name=${entry%%|*}
    payload=${entry#*|}
    code=${payload%%|*}
    payload=${payload#*|}
    step "$name: $code and the connection closed"
    out=$(_raw "$payload" --wait 3)
    local first
    first=$(head -n 1 <<<"$out" | tr -d '\r')
    local got=${first#HTTP/1.1 }
    got=${got%% *}
    [[ " $code " == *" $got "* ]] || {
      echo "$name: want $code, got: $first" >&2
      printf '%s\n' "$out" | head -n 15 | sed 's/^/  | /' >&2
      return 1
    }
    assert_contains "$(tail -n 1 <<<"$out")" "--- closed" "$name: the connection must be closed"
    assert_eq 1 "$(grep -c '^HTTP/1.1 ' <<<"$out")" "$name: one answer only"
  done
  step "none of them reached the upstream; they are counted"
  assert_eq 0 "$(_requests_served b1)"
  assert_ge "$(_stat meshgate_proxy_bad_requests_total)" 10
  step "a normal request on a new connection still gets 200"
  assert_eq 200 "$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: web.test' "$PROXY_URL/")"
  assert_eq 1 "$(_requests_served b1)"
}

test_slowloris_is_cut_at_header_read_timeout_while_others_are_served() {
  _proxy_setup
  _start_web_proxy 'timeouts: {headerRead: 1s}'
  step "a client trickles its head one byte every 300 ms"
  _proxy_client slowloris "$PROXY_PORT" web.test 0.3 >"$PX_DIR/slow.out" &
  local slow_pid=$! served=0 line
  step "meanwhile normal requests get 200 fast"
  while kill -0 "$slow_pid" 2>/dev/null; do
    line=$(curl -s -o /dev/null --max-time 2 -w '%{http_code} %{time_total}' -H 'Host: web.test' "$PROXY_URL/")
    assert_eq 200 "${line%% *}" "a normal request during slowloris"
    awk -v t="${line#* }" 'BEGIN { exit !(t < 0.5) }' || {
      echo "a normal request took ${line#* }s" >&2
      return 1
    }
    served=$((served + 1))
    sleep 0.1
  done
  wait "$slow_pid"
  read -r line <"$PX_DIR/slow.out"
  echo "slowloris: $line"
  assert_ge "$served" 3 "normal requests while the slow one was open"
  step "the slow client got 408 after about 1s, and its connection was closed"
  assert_eq 408 "${line%% *}" "$line"
  assert_contains "$line" " closed" "$line"
  local elapsed=${line#* }
  elapsed=${elapsed%% *}
  awk -v t="$elapsed" 'BEGIN { exit !(t >= 0.8 && t < 2.5) }' || {
    echo "cut after ${elapsed}s, want about 1s" >&2
    return 1
  }
  assert_eq "$served" "$(_requests_served b1)" "the slow head reached the upstream"
}

test_websocket_echo_through_the_proxy() {
  _proxy_setup
  _start_backend b1 127.0.0.2
  _write_config <<YAML
routes:
$(_route ws ws.test ws)
clusters:
  - {name: ws, endpoints: [$(_endpoint b1)]}
YAML
  _start_proxy
  step "Upgrade handshake, a masked text frame, its echo"
  local out
  out=$(_proxy_client ws "$PROXY_PORT" ws.test /ws "hello through meshgate")
  assert_eq "HTTP/1.1 101 Switching Protocols" "$(sed -n 1p <<<"$out")" "$out"
  assert_eq accept-ok "$(sed -n 2p <<<"$out")" "Sec-WebSocket-Accept: $out"
  assert_eq "opcode 1" "$(sed -n 3p <<<"$out")" "a text frame: $out"
  assert_eq "hello through meshgate" "$(sed -n 4p <<<"$out")"
  step "a large message (200 KiB) echoes intact"
  local big
  big=$(head -c 150000 /dev/urandom | base64 -w0 | head -c 204800)
  out=$(_proxy_client ws "$PROXY_PORT" ws.test /ws - <<<"$big")
  assert_eq "opcode 1" "$(sed -n 3p <<<"$out")" "$out"
  assert_eq "$(sha256sum <<<"$big")" "$(sed -n 4p <<<"$out" | sha256sum)"
  step "plain requests on the same route still work"
  assert_eq 200 "$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: ws.test' "$PROXY_URL/")"
}

test_bodies_stream_intact_head_has_no_body_keepalive_and_pipelining() {
  _proxy_setup
  _start_web_proxy
  local direct="http://127.0.0.2:${BACKEND_PORT[b1]}" want got out conns
  head -c 1048576 /dev/urandom >"$PX_DIR/body.bin"
  want=$(sha256sum <"$PX_DIR/body.bin")

  step "a 1 MiB request body with Content-Length echoes intact"
  got=$(curl -sf -H 'Host: web.test' --data-binary "@$PX_DIR/body.bin" "$PROXY_URL/echo" | sha256sum)
  assert_eq "$want" "$got"
  step "a 1 MiB chunked request body echoes intact"
  got=$(curl -sf -H 'Host: web.test' -H 'Transfer-Encoding: chunked' --data-binary "@$PX_DIR/body.bin" "$PROXY_URL/echo" | sha256sum)
  assert_eq "$want" "$got"
  step "a 1 MiB chunked response (37 chunks) and a 1 MiB fixed one arrive intact"
  want=$(curl -sf "$direct/bytes?n=1048576" | sha256sum)
  got=$(curl -sf -H 'Host: web.test' "$PROXY_URL/chunked?n=1048576&chunks=37" | sha256sum)
  assert_eq "$want" "$got" "chunked response"
  got=$(curl -sf -H 'Host: web.test' "$PROXY_URL/bytes?n=1048576" | sha256sum)
  assert_eq "$want" "$got" "fixed-length response"

  step "HEAD: the headers of the GET, no body (a pipelined GET follows it on the connection)"
  out=$(_raw 'HEAD /bytes?n=1000 HTTP/1.1\r\nHost: web.test\r\n\r\nGET / HTTP/1.1\r\nHost: web.test\r\nConnection: close\r\n\r\n')
  assert_eq 2 "$(grep -c '^HTTP/1.1 200' <<<"$out")" "$out"
  assert_contains "$(tr -d '\r' <<<"$out" | tr '[:upper:]' '[:lower:]')" "content-length: 1000"
  assert_eq "b1" "$(tr -d '\r' <<<"$out" | tail -n 2 | head -n 1)" "the GET's body right after: $out"
  assert_ge 600 "$(wc -c <<<"$out")" "HEAD carried a body: $out"

  step "keep-alive: three requests on one client connection"
  conns=$(_stat meshgate_proxy_downstream_connections_total)
  out=$(curl -sv -H 'Host: web.test' "$PROXY_URL/" "$PROXY_URL/status/201" "$PROXY_URL/headers" 2>&1)
  assert_eq 2 "$(grep -c 'Re-using existing connection' <<<"$out")" "$out"
  assert_eq $((conns + 1)) "$(_stat meshgate_proxy_downstream_connections_total)"

  step "pipelining: two requests in one write, answered in order"
  out=$(_raw 'GET /status/201 HTTP/1.1\r\nHost: web.test\r\n\r\nGET /status/202 HTTP/1.1\r\nHost: web.test\r\nConnection: close\r\n\r\n')
  assert_eq "HTTP/1.1 201 HTTP/1.1 202" "$(grep '^HTTP/1.1' <<<"$out" | cut -d' ' -f1,2 | tr '\n' ' ' | sed 's/ $//')" "$out"
  assert_contains "$(tail -n 1 <<<"$out")" "--- closed"
}

test_circuit_breaker_refuses_the_second_concurrent_request_with_overflow() {
  _proxy_setup
  _start_backend b1 127.0.0.2
  _write_config <<YAML
routes:
$(_route cb cb.test cb)
clusters:
  - {name: cb, endpoints: [$(_endpoint b1)], circuitBreaker: {maxRequests: 1}}
YAML
  _start_proxy
  step "one /delay?ms=1000 in flight; a second concurrent one is refused at once"
  curl -s -o "$PX_DIR/first.body" -w '%{http_code}' -H 'Host: cb.test' "$PROXY_URL/delay?ms=1000" >"$PX_DIR/first.code" &
  local first_pid=$! line
  wait_for 5 bash -c "[ \$(curl -sf http://127.0.0.2:${BACKEND_PORT[b1]}/requests) -ge 1 ]"
  line=$(curl -s -D "$PX_DIR/second.h" -o /dev/null -w '%{http_code} %{time_total}' -H 'Host: cb.test' "$PROXY_URL/delay?ms=1000")
  assert_eq 503 "${line%% *}" "the second request"
  assert_eq "x-meshgate-overflow: 1" "$(grep -i '^x-meshgate-overflow:' "$PX_DIR/second.h" | tr -d '\r' | tr '[:upper:]' '[:lower:]')"
  awk -v t="${line#* }" 'BEGIN { exit !(t < 0.5) }' || {
    echo "the refusal took ${line#* }s: it waited for the first" >&2
    return 1
  }
  wait "$first_pid"
  assert_eq 200 "$(cat "$PX_DIR/first.code")" "the first request"
  assert_eq b1 "$(cat "$PX_DIR/first.body")"
  assert_eq 1 "$(_requests_served b1)" "the refused request reached the upstream"
  assert_ge "$(_stat meshgate_proxy_overflow_total 'cluster="cb"')" 1
  step "once the first is done, the next request passes"
  assert_eq 200 "$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: cb.test' "$PROXY_URL/delay?ms=10")"
}

test_route_timeout_answers_504_in_time() {
  _proxy_setup
  _start_backend b1 127.0.0.2
  _write_config <<YAML
routes:
  - metadata: {name: slow}
    spec:
      hosts: [slow.test]
      rules:
        - matches: [{path: {value: /delay}}]
          backends: [{service: web, port: 80}]
          timeout: 300ms
        - backends: [{service: web, port: 80}]
clusters:
  - {name: web, endpoints: [$(_endpoint b1)], timeout: 10s}
YAML
  _start_proxy
  step "a rule timeout of 300ms against a 2 s upstream: 504 after about 300 ms"
  local line
  line=$(curl -s -o /dev/null --max-time 5 -w '%{http_code} %{time_total}' -H 'Host: slow.test' "$PROXY_URL/delay?ms=2000")
  echo "$line"
  assert_eq 504 "${line%% *}"
  awk -v t="${line#* }" 'BEGIN { exit !(t >= 0.25 && t < 1.0) }' || {
    echo "504 after ${line#* }s, want about 0.3s" >&2
    return 1
  }
  step "under the timeout the response passes"
  assert_eq 200 "$(curl -s -o /dev/null --max-time 5 -w '%{http_code}' -H 'Host: slow.test' "$PROXY_URL/delay?ms=50")"
  assert_eq 1 "$(_stat meshgate_proxy_requests_total 'route="default/slow/0"' 'code_class="5xx"')"
}

test_sigterm_drains_in_flight_requests_and_exits_0() {
  _proxy_setup
  _start_web_proxy 'timeouts: {drain: 8s}'
  step "an idle keep-alive client and a /delay?ms=1500 request in flight"
  _raw 'GET / HTTP/1.1\r\nHost: web.test\r\n\r\n' --wait 6 >"$PX_DIR/idle.out" &
  local idle_pid=$!
  curl -s -o "$PX_DIR/slow.body" -w '%{http_code}' -H 'Host: web.test' "$PROXY_URL/delay?ms=1500" >"$PX_DIR/slow.code" &
  local slow_pid=$! start rc=0
  wait_for 5 bash -c "[ \$(curl -sf http://127.0.0.2:${BACKEND_PORT[b1]}/requests) -ge 2 ]"
  step "SIGTERM: /ready says 503, new connections are refused"
  start=$SECONDS
  kill -TERM "$PROXY_PID"
  wait_for 2 bash -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' $ADMIN_URL/ready)\" = 503 ]"
  expect_fail curl -s --max-time 1 -H 'Host: web.test' "$PROXY_URL/" >/dev/null
  step "the in-flight request completes with 200, the idle connection is closed, exit 0"
  wait "$PROXY_PID" || rc=$?
  PROXY_PID=""
  assert_eq 0 "$rc" "the proxy's exit status"
  assert_ge 4 $((SECONDS - start)) "exited long after the last request finished (drain deadline 8s)"
  wait "$slow_pid"
  assert_eq 200 "$(cat "$PX_DIR/slow.code")"
  assert_eq b1 "$(cat "$PX_DIR/slow.body")"
  wait "$idle_pid"
  assert_contains "$(cat "$PX_DIR/idle.out")" "HTTP/1.1 200"
  assert_eq "--- closed" "$(tail -n 1 "$PX_DIR/idle.out")" "the idle keep-alive connection"
  assert_contains "$(cat "$PX_LOG")" "draining"
}

# _make_cert DIR NAME — a key and a leaf certificate for NAME.example.com (SAN) in DIR, signed by
# DIR/ca.pem.
_make_cert() {
  local dir=$1 name=$2
  openssl req -new -newkey rsa:2048 -nodes -keyout "$dir/$name.key" -subj "/CN=$name.example.com" \
    -out "$dir/$name.csr" 2>/dev/null
  printf 'subjectAltName=DNS:%s.example.com\nextendedKeyUsage=serverAuth\n' "$name" >"$dir/$name.ext"
  openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial \
    -days 2 -extfile "$dir/$name.ext" -out "$dir/$name.pem" 2>/dev/null
}

test_tls_listener_picks_the_certificate_by_sni() {
  _proxy_setup
  _start_backend b1 127.0.0.2
  local dir=$PX_DIR/tls tls_port tls13_port out json
  mkdir "$dir"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$dir/ca.key" -subj "/CN=meshgate e2e CA" \
    -days 2 -out "$dir/ca.pem" 2>/dev/null
  _make_cert "$dir" a
  _make_cert "$dir" b
  read -r tls_port tls13_port < <(_free_ports 2)
  _write_config_raw <<YAML
admin: {address: 127.0.0.1, port: $ADMIN_PORT}
listeners:
  - {name: public, address: 127.0.0.1, port: $PROXY_PORT}
  - name: secure
    address: 127.0.0.1
    port: $tls_port
    tls:
      minVersion: TLSv1.2
      certificates:
        - {certFile: $dir/a.pem, keyFile: $dir/a.key}
        - {certFile: $dir/b.pem, keyFile: $dir/b.key}
  - name: modern
    address: 127.0.0.1
    port: $tls13_port
    tls:
      minVersion: TLSv1.3
      certificates: [{certFile: $dir/a.pem, keyFile: $dir/a.key}]
routes:
  - metadata: {name: web}
    spec:
      hosts: [a.example.com, b.example.com]
      rules: [{backends: [{service: web, port: 80}]}]
clusters:
  - {name: web, endpoints: [$(_endpoint b1)]}
YAML
  _start_proxy
  local host
  for host in a b; do
    step "$host.example.com: its own certificate, ALPN http/1.1 (asked for), x-forwarded-proto https"
    out=$(curl -sv --http1.1 --cacert "$dir/ca.pem" --resolve "$host.example.com:$tls_port:127.0.0.1" \
      "https://$host.example.com:$tls_port/headers" 2>&1)
    assert_contains "$out" "subject: CN=$host.example.com"
    assert_contains "$out" "ALPN: server accepted http/1.1"
    assert_contains "$out" "SSL certificate verify ok"
    json=$(grep '^{"' <<<"$out")
    assert_eq https "$(jq -r '.headers["x-forwarded-proto"]' <<<"$json")" "$json"
    assert_eq "$host.example.com:$tls_port" "$(jq -r '.headers.host' <<<"$json")"
    out=$(openssl s_client -connect "127.0.0.1:$tls_port" -servername "$host.example.com" \
      -CAfile "$dir/ca.pem" </dev/null 2>/dev/null)
    assert_contains "$out" "subject=CN = $host.example.com"
    assert_contains "$out" "Verify return code: 0 (ok)"
  done
  step "an SNI name no certificate has gets the first (default) certificate"
  out=$(openssl s_client -connect "127.0.0.1:$tls_port" -servername other.example.com </dev/null 2>/dev/null)
  assert_contains "$out" "subject=CN = a.example.com"
  step "plain HTTP to the TLS port fails; the plain listener still serves"
  expect_fail curl -sf --max-time 3 -H 'Host: a.example.com' "http://127.0.0.1:$tls_port/" >/dev/null
  json=$(curl -sf -H 'Host: a.example.com' "$PROXY_URL/headers")
  assert_eq http "$(jq -r '.headers["x-forwarded-proto"]' <<<"$json")"
  step "minVersion: TLS 1.2 is refused by the TLSv1.3 listener, accepted by the TLSv1.2 one"
  local tls12=(-s -o /dev/null -w '%{http_code}' --max-time 3 --tls-max 1.2 --cacert "$dir/ca.pem")
  assert_eq 200 "$(curl "${tls12[@]}" --resolve "a.example.com:$tls_port:127.0.0.1" "https://a.example.com:$tls_port/")"
  expect_fail curl "${tls12[@]}" --resolve "a.example.com:$tls13_port:127.0.0.1" \
    "https://a.example.com:$tls13_port/" >/dev/null
  assert_eq 200 "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$dir/ca.pem" \
    --resolve "a.example.com:$tls13_port:127.0.0.1" "https://a.example.com:$tls13_port/")"
}

test_access_log_writes_one_json_line_per_request() {
  _proxy_setup
  _start_backend b1 127.0.0.2
  _write_config <<YAML
routes:
  - metadata: {name: web}
    spec:
      hosts: [web.test]
      rules:
        - matches: [{path: {value: /echo}}]
          backends: [{service: web, port: 80}]
        - backends: [{service: web, port: 80}]
clusters:
  - {name: web, endpoints: [$(_endpoint b1)]}
accessLog: {enabled: true, path: $PX_DIR/access.log}
YAML
  _start_proxy
  step "four requests: GET 200, GET 503 from upstream, POST /echo, an unknown host"
  curl -s -o /dev/null -H 'Host: web.test' "$PROXY_URL/"
  curl -s -o /dev/null -H 'Host: web.test' "$PROXY_URL/status/503"
  curl -s -o /dev/null -H 'Host: web.test' -d hello "$PROXY_URL/echo"
  curl -s -o /dev/null -H 'Host: nope.test' "$PROXY_URL/x"
  wait_for 5 bash -c "[ \$(wc -l <'$PX_DIR/access.log') -ge 4 ]"
  step "one JSON object per line with status, method, route, upstream (workers write in any order)"
  local got
  got=$(python3 - "$PX_DIR/access.log" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    print(r["method"], r["target"], r["status"], r["route"] or "-", r["upstream"] or "-")
PY
  )
  got=$(LC_ALL=C sort <<<"$got")
  local up="127.0.0.2:${BACKEND_PORT[b1]}"
  assert_eq "GET / 200 default/web/1 $up
GET /status/503 503 default/web/1 $up
GET /x 404 - -
POST /echo 200 default/web/0 $up" "$got"
}

# _make_cert_with DIR NAME CN SAN — a leaf signed by DIR/ca with the given subject CN and SAN.
_make_cert_with() {
  local dir=$1 name=$2 cn=$3 san=$4
  openssl req -new -newkey rsa:2048 -nodes -keyout "$dir/$name.key" -subj "/CN=$cn" \
    -out "$dir/$name.csr" 2>/dev/null
  printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\n' "$san" >"$dir/$name.ext"
  openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial \
    -days 2 -extfile "$dir/$name.ext" -out "$dir/$name.pem" 2>/dev/null
}

test_upstream_tls_verifies_the_server_name_against_the_san_only() {
  _proxy_setup
  local dir=$PX_DIR/up port out
  mkdir "$dir"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$dir/ca.key" -subj "/CN=meshgate e2e CA" \
    -days 2 -out "$dir/ca.pem" 2>/dev/null
  # The certificate's CN says cn.internal, its SAN says up.internal: only the SAN may count.
  _make_cert_with "$dir" up cn.internal DNS:up.internal
  read -r port < <(_free_ports 1)
  openssl s_server -accept "127.0.0.6:$port" -cert "$dir/up.pem" -key "$dir/up.key" -www \
    -quiet </dev/null >"$dir/s_server.log" 2>&1 &
  PX_PIDS+=($!)
  wait_for 10 openssl s_client -connect "127.0.0.6:$port" -CAfile "$dir/ca.pem" </dev/null
  _write_config <<YAML
routes:
  - metadata: {name: tls}
    spec:
      hosts: [good.test, cn.test, wrong.test]
      rules:
        - matches: [{headers: [{name: x-target, value: good}]}]
          backends: [{service: good, port: $port}]
        - matches: [{headers: [{name: x-target, value: cn}]}]
          backends: [{service: cn-only, port: $port}]
        - backends: [{service: wrong, port: $port}]
clusters:
  - name: good
    endpoints: [{address: 127.0.0.6}]
    tls: {serverName: up.internal, caFile: $dir/ca.pem}
  - name: cn-only
    endpoints: [{address: 127.0.0.6}]
    tls: {serverName: cn.internal, caFile: $dir/ca.pem}
  - name: wrong
    endpoints: [{address: 127.0.0.6}]
    tls: {serverName: other.internal, caFile: $dir/ca.pem}
YAML
  _start_proxy
  step "serverName matching the SAN: the TLS upstream answers through the proxy"
  out=$(curl -sS -H 'Host: good.test' -H 'x-target: good' "$PROXY_URL/")
  assert_contains "$out" "s_server"
  step "serverName matching only the CN is refused (strict SAN checking), as is a wrong name"
  assert_eq 503 "$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: cn.test' -H 'x-target: cn' "$PROXY_URL/")"
  assert_eq 503 "$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: wrong.test' "$PROXY_URL/")"
  assert_ge "$(_stat meshgate_proxy_upstream_errors_total 'cluster="cn-only"' 'kind="connect"')" 1
  assert_ge "$(_stat meshgate_proxy_upstream_errors_total 'cluster="wrong"' 'kind="connect"')" 1
  step "the good cluster still works after the refusals"
  out=$(curl -sS -H 'Host: good.test' -H 'x-target: good' "$PROXY_URL/")
  assert_contains "$out" "s_server"
}
