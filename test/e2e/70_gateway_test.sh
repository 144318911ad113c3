# shellcheck shell=bash
# From `kubectl apply` to traffic: meshgate-operator streams gateway snapshots to meshgate-proxy
# in gateway mode (docs/CONFIG_STREAM.md), the gateway routes real requests to real backends on
# 127.0.0.x, and the objects' Programmed condition says what the gateway really serves.
# Run by test/e2e/run.sh; helpers in gateway_lib.sh.

# shellcheck source=gateway_lib.sh
source "$REPO_ROOT/test/e2e/gateway_lib.sh"

# _shop_route NS [BILLING_SERVICE] [EXTRA_RULE_YAML] — ApiRoute "shop" of GW_CLASS: two hosts,
# three rules (/orders → orders, /billing → BILLING_SERVICE (billing), /split → 90 % orders,
# 10 % canary).
_shop_route() {
  local ns=$1 billing=${2:-billing} extra=${3:-}
  kubectl apply -n "$ns" -f - >/dev/null <<YAML
apiVersion: meshgate.io/v1alpha1
kind: ApiRoute
metadata: {name: shop}
spec:
  ingressClassName: $GW_CLASS
  hosts: [shop.e2e.test, www.shop.e2e.test]
  rules:
  - matches: [{path: {type: PathPrefix, value: /orders}}]
    backends: [{service: orders, port: 80}]
  - matches: [{path: {type: PathPrefix, value: /billing}}]
    backends: [{service: $billing, port: 80}]$extra
  - matches: [{path: {type: PathPrefix, value: /split}}]
    backends: [{service: orders, port: 80, weight: 90}, {service: canary, port: 80, weight: 10}]
YAML
}

# _shop_backends NS — backends o1, o2 (orders), b1 (billing), c1 (canary) and their MeshServices.
_shop_backends() {
  local ns=$1
  _start_backend o1 127.0.0.41
  _start_backend o2 127.0.0.42
  _start_backend b1 127.0.0.43
  _start_backend c1 127.0.0.44
  _ms_static "$ns" orders o1 o2
  _ms_static "$ns" billing b1
  _ms_static "$ns" canary c1
}

test_an_apiroute_applied_with_kubectl_routes_real_traffic() {
  _gateway_setup
  local ns counts out
  _gateway_webhook
  ns=$(_gateway_webhook_namespace gateway)
  _shop_backends "$ns"
  _shop_route "$ns"
  assert_eq orders "$(kubectl get ms orders -n "$ns" -o jsonpath='{.spec.serviceAccount}')" "defaulted by the webhook"

  step "no gateway yet: Programmed=False NoDataplane, and Ready follows"
  _wait_route "$ns" shop Programmed False NoDataplane
  _wait_route "$ns" shop Ready False NoDataplane

  step "a gateway connects: it gets the route, ACKs it, and the status says so"
  _start_gateway
  _wait_route "$ns" shop Programmed True Programmed
  _wait_route "$ns" shop Ready True
  assert_eq "1/1" "$(kubectl get ar shop -n "$ns" -o jsonpath='{.status.dataplanes.programmed}/{.status.dataplanes.total}')"
  assert_contains "$(_route_field "$ns" shop Programmed message)" "1 of 1 dataplane(s) serve generation 1"
  # The MeshService the route names is carried by the gateway too.
  wait_for 30 bash -c "[ \"\$(kubectl get ms orders -n $ns -o jsonpath='{.status.conditions[?(@.type==\"Programmed\")].reason}')\" = Programmed ]"
  assert_eq 1 "$(_stat meshgate_proxy_control_plane_connected)"

  step "each rule reaches its backend, on both hosts"
  _gateway_answers b1 shop.e2e.test /billing/invoices
  _gateway_answers b1 www.shop.e2e.test /billing
  _gateway_status_is 404 other.e2e.test /orders

  step "balancing spreads /orders over both endpoints"
  counts=$(_count 200 shop.e2e.test /orders)
  assert_eq 200 $(($(_count_of o1 "$counts") + $(_count_of o2 "$counts"))) "$counts"
  assert_ge "$(_count_of o1 "$counts")" 60 "$counts"
  assert_ge "$(_count_of o2 "$counts")" 60 "$counts"

  step "the 90/10 split holds over 2,000 requests"
  counts=$(_count 2000 shop.e2e.test /split)
  assert_eq 2000 $(($(_count_of o1 "$counts") + $(_count_of o2 "$counts") + $(_count_of c1 "$counts"))) "$counts"
  # 10 % of 2,000 is 200; three standard deviations of the binomial are about 40.
  _assert_near "$(_count_of c1 "$counts")" 200 25 "canary share: $counts"

  step "an invalid change is refused at kubectl apply by the webhook; the gateway serves on"
  out=$(expect_fail kubectl apply -n "$ns" -f - <<YAML
apiVersion: meshgate.io/v1alpha1
kind: ApiRoute
metadata: {name: shop}
spec:
  ingressClassName: $GW_CLASS
  hosts: [shop.e2e.test]
  rules:
  - matches: [{path: {type: RegularExpression, value: "^/orders/([0-9]+\$"}}]
    backends: [{service: orders, port: 80}]
YAML
  )
  assert_contains "$out" 'admission webhook "vapiroute.meshgate.io" denied the request'
  assert_contains "$out" 'spec.rules[0].matches[0].path.value: Invalid value: "^/orders/([0-9]+$": must be a valid RE2 regular expression'
  _gateway_answers b1 shop.e2e.test /billing
  _wait_route "$ns" shop Programmed True
}

test_edits_conflicts_and_refusals_reach_the_gateway_and_the_status() {
  _gateway_setup
  local ns other before changed_at took version
  ns=$(new_namespace gateway)
  other=$(new_namespace gateway-other)
  _shop_backends "$ns"
  _shop_route "$ns"
  _start_gateway
  _wait_route "$ns" shop Programmed True
  wait_for 10 _gateway_answers b1 shop.e2e.test /billing

  step "kubectl edits the route: the new backend answers, and generation 2 is programmed"
  changed_at=$(date +%s%3N)
  _shop_route "$ns" canary
  wait_for 10 _gateway_answers c1 shop.e2e.test /billing
  took=$(($(date +%s%3N) - changed_at))
  echo "kubectl apply → first request served by the new rule: ${took} ms"
  _wait_route "$ns" shop Programmed True
  assert_contains "$(_route_field "$ns" shop Programmed message)" "serve generation 2"

  step "a younger route in another namespace claiming the same host and path is not served"
  _ms_static "$other" orders c1
  kubectl apply -n "$other" -f - >/dev/null <<YAML
apiVersion: meshgate.io/v1alpha1
kind: ApiRoute
metadata: {name: thief}
spec:
  ingressClassName: $GW_CLASS
  hosts: [shop.e2e.test, thief.e2e.test]
  rules:
  - matches: [{path: {type: PathPrefix, value: /orders}}]
    backends: [{service: orders, port: 80}]
YAML
  _wait_route "$other" thief Accepted False Conflicted
  _wait_route "$other" thief Programmed True
  wait_for 10 _gateway_answers c1 thief.e2e.test /orders
  counts=$(_count 50 shop.e2e.test /orders)
  assert_eq 50 $(($(_count_of o1 "$counts") + $(_count_of o2 "$counts"))) "the winner keeps the host: $counts"

  step "a host the namespace does not allow is not served"
  kubectl annotate namespace "$other" meshgate.io/allowed-hosts='allowed.e2e.test' >/dev/null
  _wait_route "$other" thief Accepted False NotAllowed
  wait_for 10 _gateway_status_is 404 thief.e2e.test /orders
  _wait_route "$other" thief Programmed False NothingToServe
  wait_gone 30 ingress thief -n "$other"

  step "a change the gateway refuses: Programmed=False with its message; the old rule serves on"
  version=$(_gateway_version)
  _shop_route "$ns" canary "
    rateLimit: {requests: 10, unit: Second, key: {type: JwtClaim, name: sub}}"
  _wait_route "$ns" shop Programmed False Refused
  assert_contains "$(_route_field "$ns" shop Programmed message)" "gateway~e2e refused route $ns/shop"
  assert_contains "$(_route_field "$ns" shop Programmed message)" "rateLimit"
  _wait_route "$ns" shop Ready False Refused
  wait_for 10 bash -c "[ \"\$(curl -sf --max-time 2 $ADMIN_URL/config_dump | jq -r .version)\" != '$version' ]"
  _gateway_answers c1 shop.e2e.test /billing
  _gateway_answers o1 shop.e2e.test /orders || _gateway_answers o2 shop.e2e.test /orders
  wait_for 10 bash -c "[[ \"\$(kubectl get events -n $ns --field-selector involvedObject.name=shop -o jsonpath='{.items[*].reason}')\" == *Refused* ]]"

  step "the route is fixed: programmed again"
  _shop_route "$ns" billing
  _wait_route "$ns" shop Programmed True
  wait_for 10 _gateway_answers b1 shop.e2e.test /billing
}

# _orders_served_at_least N — backends o1 and o2 have served N requests between them.
_orders_served_at_least() {
  [ $(($(_requests_served o1) + $(_requests_served o2))) -ge "$1" ]
}

test_operator_kill_drops_no_request_and_a_restarted_gateway_serves_its_snapshot() {
  _gateway_setup
  local ns load counts
  ns=$(new_namespace gateway)
  _shop_backends "$ns"
  _shop_route "$ns"
  _start_gateway
  _wait_route "$ns" shop Programmed True
  wait_for 10 _gateway_answers b1 shop.e2e.test /billing
  [ "$(stat -c %a "$GW_SNAPSHOT")" = 600 ] || { echo "the persisted snapshot holds keys: want mode 600" >&2; return 1; }

  step "kill -9 the operator under load, then start it again: not one request fails"
  load=$PX_DIR/load.out
  _count 4000 shop.e2e.test /orders >"$load" &
  local load_pid=$!
  wait_for 10 _orders_served_at_least 200
  kill -9 "$OPERATOR_PID"
  wait "$OPERATOR_PID" 2>/dev/null || true
  OPERATOR_PID=""
  wait_for 40 _stat_is 0 meshgate_proxy_control_plane_connected
  _gateway_start_operator
  wait_for 40 _stat_is 1 meshgate_proxy_control_plane_connected
  wait "$load_pid"
  counts=$(cat "$load")
  assert_eq 4000 $(($(_count_of o1 "$counts") + $(_count_of o2 "$counts"))) "every request answered by a backend: $counts"
  _wait_route "$ns" shop Programmed True

  step "operator down, gateway restarted: it serves its persisted snapshot at once"
  _stop_operator
  kill -TERM "$PROXY_PID"
  wait "$PROXY_PID"
  PROXY_PID=""
  _start_gateway
  wait_for 10 _gateway_answers b1 shop.e2e.test /billing
  assert_eq 0 "$(_stat meshgate_proxy_control_plane_connected)"
  assert_eq persistedSnapshot "$(curl -sf "$ADMIN_URL/config_dump" | jq -r .source.kind)"

  step "the operator comes back: the gateway reconnects and the route stays programmed"
  _gateway_start_operator
  wait_for 40 _stat_is 1 meshgate_proxy_control_plane_connected
  _wait_route "$ns" shop Programmed True
}

test_https_serves_the_operator_issued_host_certificate_by_sni() {
  _gateway_setup
  local ns dir
  ns=$(new_namespace gateway)
  dir=$PX_DIR/tls
  mkdir -p "$dir"
  _start_backend b1 127.0.0.43
  _ms_static "$ns" billing b1
  kubectl apply -n "$ns" -f - >/dev/null <<YAML
apiVersion: meshgate.io/v1alpha1
kind: ApiRoute
metadata: {name: secure}
spec:
  ingressClassName: $GW_CLASS
  hosts: [secure.e2e.test]
  tls: {redirectHTTP: true}
  rules:
  - backends: [{service: billing, port: 80}]
YAML
  _start_gateway
  _wait_route "$ns" secure Programmed True
  kubectl get configmap meshgate-ca-bundle -n meshgate-system -o jsonpath='{.data.ca\.crt}' >"$dir/bundle.pem"

  step "HTTPS by SNI: the host certificate verifies against the mesh CA (SAN only)"
  wait_for 10 curl -sf --max-time 2 --cacert "$dir/bundle.pem" \
    --resolve "secure.e2e.test:$HTTPS_PORT:127.0.0.1" "https://secure.e2e.test:$HTTPS_PORT/pay"
  assert_eq b1 "$(curl -s --max-time 2 --cacert "$dir/bundle.pem" -o /dev/null -w '%header{x-backend}' \
    --resolve "secure.e2e.test:$HTTPS_PORT:127.0.0.1" "https://secure.e2e.test:$HTTPS_PORT/pay")"
  # Whole outputs, no early-exiting reader: under pipefail a SIGPIPE would fail the pipeline.
  local served
  served=$(openssl s_client -connect "127.0.0.1:$HTTPS_PORT" -servername secure.e2e.test </dev/null 2>/dev/null)
  assert_contains "$(openssl x509 -noout -ext subjectAltName <<<"$served")" "DNS:secure.e2e.test"

  step "plain HTTP redirects to HTTPS (redirectHTTP)"
  assert_eq "301 https://secure.e2e.test/pay" \
    "$(curl -s --max-time 2 -o /dev/null -w '%{http_code} %{redirect_url}' -H 'Host: secure.e2e.test' "$PROXY_URL/pay")"

  step "/config_dump never shows a private key"
  assert_not_contains "$(curl -sf "$ADMIN_URL/config_dump")" "PRIVATE KEY"
  assert_contains "$(curl -sf "$ADMIN_URL/config_dump")" "<redacted>"
}

test_pods_discovered_by_selector_are_balanced_and_leave_rotation() {
  _gateway_setup
  _pod_network
  local ns counts
  ns=$(new_namespace discovery)
  _pod_backend p1 11
  _pod_backend p2 12
  _pod_backend p3 13
  kubectl apply -n "$ns" -f - >/dev/null <<YAML
apiVersion: meshgate.io/v1alpha1
kind: MeshService
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: 8080}]
  subsets: [{name: v2, labels: {version: v2}}]
---
apiVersion: meshgate.io/v1alpha1
kind: ApiRoute
metadata: {name: web}
spec:
  ingressClassName: $GW_CLASS
  hosts: [web.e2e.test]
  rules:
  - matches: [{path: {type: PathPrefix, value: /v2}}]
    backends: [{service: web, port: 80, subset: v2}]
  - backends: [{service: web, port: 80}]
YAML
  _pod "$ns" web-1 '{app: web, version: v1}' 11
  _pod "$ns" web-2 '{app: web, version: v1}' 12
  _pod "$ns" web-3 '{app: web, version: v2}' 13
  _pod "$ns" other '{app: other}' 14

  step "the EndpointSlice controller lists the three ready pods; the gateway balances over them"
  wait_for 30 bash -c "[ \"\$(kubectl get ms web -n $ns -o jsonpath='{.status.endpoints.ready}')\" = 3 ]"
  _start_gateway
  _wait_route "$ns" web Programmed True
  wait_for 10 bash -c "curl -sf $ADMIN_URL/config_dump | jq -e '[.config.clusters[0].endpoints[].address] | sort == [\"$POD_PREFIX.11\", \"$POD_PREFIX.12\", \"$POD_PREFIX.13\"]'"
  counts=$(_count 300 web.e2e.test /)
  assert_eq 300 $(($(_count_of p1 "$counts") + $(_count_of p2 "$counts") + $(_count_of p3 "$counts"))) "$counts"
  for b in p1 p2 p3; do assert_ge "$(_count_of $b "$counts")" 70 "$counts"; done
  counts=$(_count 50 web.e2e.test /v2)
  assert_eq 50 "$(_count_of p3 "$counts")" "subset v2 selects the pods labelled version=v2: $counts"

  step "a pod that turns unready leaves rotation"
  _pod_ready "$ns" web-3 False
  wait_for 15 bash -c "curl -sf $ADMIN_URL/config_dump | jq -e '[.config.clusters[0].endpoints[].address] | length == 2'"
  counts=$(_count 200 web.e2e.test /)
  assert_eq 0 "$(_count_of p3 "$counts")" "$counts"
  assert_eq 200 $(($(_count_of p1 "$counts") + $(_count_of p2 "$counts"))) "$counts"

  step "a deleted pod leaves rotation; the endpoint-only changes did not rebuild the routes"
  kubectl delete pod web-2 -n "$ns" --grace-period=0 --force >/dev/null 2>&1
  wait_for 15 bash -c "curl -sf $ADMIN_URL/config_dump | jq -e '[.config.clusters[0].endpoints[].address] == [\"$POD_PREFIX.11\"]'"
  counts=$(_count 50 web.e2e.test /)
  assert_eq 50 "$(_count_of p1 "$counts")" "$counts"
  _wait_route "$ns" web Programmed True
  assert_contains "$(curl -s "$METRICS_URL")" 'meshgate_config_builds_total{scope="endpoints"}'
}

# _reported_nodes REPLICA — the nodes the report of REPLICA lists, one a line (none when the
# report is absent).
_reported_nodes() {
  kubectl get configmap "meshgate-dataplanes-$1" -n meshgate-system --ignore-not-found \
    -o jsonpath='{.data.report\.json}' | jq -r '.dataplanes[]?.node'
}

# _reported_nodes_are REPLICA NODES — for wait_for.
_reported_nodes_are() {
  local got
  got=$(_reported_nodes "$1")
  [ "$got" = "$2" ] || {
    echo "the report of $1 lists '$got', want '$2'"
    return 1
  }
}

test_a_gateway_on_a_standby_replica_is_counted_by_the_leader() {
  _gateway_setup
  local ns message
  ns=$(new_namespace gateway)
  _shop_backends "$ns"
  _shop_route "$ns"

  step "a second operator for the same Lease stands by; both serve the config stream, both ready"
  _gateway_start_standby
  curl -sf --max-time 2 "$READYZ_URL" >/dev/null
  wait_for 30 curl -sf --max-time 2 "$STANDBY_READYZ_URL"
  grep -q 'meshgate-operator: campaigning' "$STANDBY_LOG"
  assert_eq 0 "$(grep -c 'meshgate-operator: running' "$STANDBY_LOG" || true)" "the standby's leader parts"
  _wait_route "$ns" shop Programmed False NoDataplane

  step "a gateway connected to the standby only: the leader counts it — programmed 1 of 1"
  CONFIG_PORT=$STANDBY_CONFIG_PORT _start_gateway
  wait_for 30 _reported_nodes_are "$STANDBY_REPLICA" gateway~e2e
  _wait_route "$ns" shop Programmed True Programmed
  assert_eq "1/1" "$(kubectl get ar shop -n "$ns" -o jsonpath='{.status.dataplanes.programmed}/{.status.dataplanes.total}')"
  assert_contains "$(_route_field "$ns" shop Programmed message)" "1 of 1 dataplane(s) serve generation 1"
  assert_contains "$(curl -s "$METRICS_URL")" 'meshgate_config_dataplanes_connected{mode="gateway"} 0'
  wait_for 10 _gateway_answers b1 shop.e2e.test /billing

  step "the standby's gateway refuses a change: the leader writes Refused with its message"
  _shop_route "$ns" billing "
    rateLimit: {requests: 10, unit: Second, key: {type: JwtClaim, name: sub}}"
  _wait_route "$ns" shop Programmed False Refused
  message=$(_route_field "$ns" shop Programmed message)
  assert_contains "$message" "gateway~e2e refused route $ns/shop"
  assert_contains "$message" "rateLimit"
  _gateway_answers b1 shop.e2e.test /billing

  step "the route is fixed, then the gateway stops: NoDataplane, and the report is gone"
  _shop_route "$ns" billing
  _wait_route "$ns" shop Programmed True
  kill -TERM "$PROXY_PID"
  wait "$PROXY_PID"
  PROXY_PID=""
  _wait_route "$ns" shop Programmed False NoDataplane
  wait_gone 30 configmap "meshgate-dataplanes-$STANDBY_REPLICA" -n meshgate-system

  step "the standby shuts down cleanly with a gateway connected: it deletes its report"
  CONFIG_PORT=$STANDBY_CONFIG_PORT _start_gateway
  _wait_route "$ns" shop Programmed True
  _gateway_stop_standby
  wait_gone 30 configmap "meshgate-dataplanes-$STANDBY_REPLICA" -n meshgate-system
  _wait_route "$ns" shop Programmed False NoDataplane
}
