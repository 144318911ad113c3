// The routes of meshgate-test-backend; see backend_routes.h. Any method; HEAD gets the GET's
// headers and no body; every response (and the WebSocket handshake) carries x-backend: NAME.
//   /health                         200 "ok", or 503 "fail" after /control/health?state=fail
//   POST /control/health?state=S    S = ok | fail: what /health answers from now on;
//                                   S = serving | not_serving: what the gRPC health check
//                                   answers over HTTP/2 (backend_http2.cc)
//   POST /control/errors?state=S    S = on: every request but /control/* and /requests is
//                                   answered 503 "fail" from now on (a broken replica that still
//                                   accepts connections); off: served again
//   /status/N                       status N (200..599), body "N\n" (none for 204 and 304)
//   /headers                        the request as JSON: {"method": ..., "target": ...,
//                                   "headers": {"<lower-case name>": "value", ...}} (a repeated
//                                   header's values joined with ", ")
//   /echo                           the request's body and content-type
//   /delay?ms=N                     NAME after N ms
//   /bytes?n=N                      N bytes of a..z repeated
//   /chunked?n=N&chunks=K           the same, in K chunks (Transfer-Encoding: chunked)
//   /close                          NAME, then closes the connection
//   /requests                       how many requests the backend has read (not counting these;
//                                   gRPC calls over HTTP/2 count)
//   /ws                             WebSocket upgrade: echoes every message (426 otherwise)
//   anything else                   200 NAME
// A bad query value gives 400. Over HTTP/2 (backend_http2.cc) the same routes answer, and gRPC.
#include "test/tools/backend_routes.h"

#include <charconv>
#include <optional>
#include <string_view>

#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <nlohmann/json.hpp>

#include "base/ascii.h"

namespace meshgate::testtools {
namespace {

namespace http = boost::beast::http;

// Bigger bodies are refused: the backend builds bodies in memory.
constexpr std::uint64_t kMaxBodyBytes = std::uint64_t{1} << 30;
constexpr std::uint64_t kMaxDelayMs = 3'600'000;

struct Target {
  std::string path;
  std::optional<boost::urls::url_view> url;
};

Target parseTarget(std::string_view target) {
  // Origin form ("/p?q") normally; absolute form too, should a proxy forward one.
  auto parsed = boost::urls::parse_uri_reference(target);
  if (!parsed) return {std::string(target.substr(0, target.find('?'))), std::nullopt};
  return {std::string(parsed->encoded_path()), *parsed};
}

// The value of query parameter `key` as an unsigned number no bigger than max.
std::optional<std::uint64_t> numberParam(const Target& target, std::string_view key,
                                         std::uint64_t max) {
  if (!target.url) return std::nullopt;
  auto params = target.url->params();
  auto it = params.find(key);
  if (it == params.end() || !(*it).has_value) return std::nullopt;
  const std::string value = (*it).value;
  std::uint64_t number = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), number);
  if (ec != std::errc() || end != value.data() + value.size() || number > max) return std::nullopt;
  return number;
}

std::optional<std::string> textParam(const Target& target, std::string_view key) {
  if (!target.url) return std::nullopt;
  auto params = target.url->params();
  auto it = params.find(key);
  if (it == params.end()) return std::nullopt;
  return std::string((*it).value);
}

Response makeResponse(const Request& request, http::status status, std::string body) {
  Response response{status, request.version()};
  response.body() = std::move(body);
  response.set(http::field::content_type, "text/plain");
  return response;
}

Response badRequest(const Request& request, std::string_view why) {
  return makeResponse(request, http::status::bad_request, std::string(why) + "\n");
}

std::string headersJson(const Request& request) {
  nlohmann::json headers = nlohmann::json::object();
  for (const auto& field : request) {
    const std::string name = asciiLower(std::string(field.name_string()));
    const std::string value(field.value());
    auto it = headers.find(name);
    if (it == headers.end()) {
      headers[name] = value;
    } else {
      it->get_ref<std::string&>() += ", " + value;
    }
  }
  nlohmann::json out = {{"method", std::string(request.method_string())},
                        {"target", std::string(request.target())},
                        {"headers", std::move(headers)}};
  // Replace, not throw, on bytes that are not UTF-8: a test may send any header value.
  return out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

Reply routeTarget(const Request& request, const Target& target, BackendState& state) {
  const std::string& path = target.path;
  Reply reply;
  if (state.failing.load() && !path.starts_with("/control/") && path != "/requests") {
    reply.response = makeResponse(request, http::status::service_unavailable, "fail\n");
  } else if (path == "/control/errors") {
    auto wanted = textParam(target, "state");
    if (request.method() != http::verb::post || !wanted || (*wanted != "on" && *wanted != "off")) {
      reply.response = badRequest(request, "want POST /control/errors?state=on|off");
    } else {
      state.failing = *wanted == "on";
      reply.response = makeResponse(request, http::status::ok, *wanted + "\n");
    }
  } else if (path == "/health") {
    const bool healthy = state.healthy.load();
    reply.response =
        makeResponse(request, healthy ? http::status::ok : http::status::service_unavailable,
                     healthy ? "ok" : "fail");
  } else if (path == "/control/health") {
    auto wanted = textParam(target, "state");
    const bool httpState = wanted && (*wanted == "ok" || *wanted == "fail");
    const bool grpcState = wanted && (*wanted == "serving" || *wanted == "not_serving");
    if (request.method() != http::verb::post || (!httpState && !grpcState)) {
      reply.response =
          badRequest(request, "want POST /control/health?state=ok|fail|serving|not_serving");
    } else {
      if (httpState) state.healthy = *wanted == "ok";
      if (grpcState) state.grpcServing = *wanted == "serving";
      reply.response = makeResponse(request, http::status::ok, *wanted + "\n");
    }
  } else if (path.starts_with("/status/")) {
    unsigned code = 0;
    const std::string_view digits = std::string_view(path).substr(8);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), code);
    if (ec != std::errc() || end != digits.data() + digits.size() || code < 200 || code > 599) {
      reply.response = badRequest(request, "want /status/200..599");
    } else {
      reply.response = makeResponse(request, http::status::ok, "");
      reply.response.result(code);
      // Beast knows no reason phrase for some codes (418); clients ignore it anyway.
      if (http::int_to_status(code) == http::status::unknown) reply.response.reason("Status");
      // 204 and 304 carry no body; the others say which status they are.
      if (code == 204 || code == 304) {
        reply.response.erase(http::field::content_type);
      } else {
        reply.response.body() = std::to_string(code) + "\n";
      }
    }
  } else if (path == "/headers") {
    reply.response = makeResponse(request, http::status::ok, headersJson(request));
    reply.response.set(http::field::content_type, "application/json");
  } else if (path == "/echo") {
    reply.response = makeResponse(request, http::status::ok, request.body());
    reply.response.erase(http::field::content_type);
    if (auto type = request.find(http::field::content_type); type != request.end()) {
      reply.response.set(http::field::content_type, type->value());
    }
  } else if (path == "/delay") {
    auto ms = numberParam(target, "ms", kMaxDelayMs);
    if (!ms) {
      reply.response = badRequest(request, "want /delay?ms=N");
    } else {
      reply.response = makeResponse(request, http::status::ok, state.name + "\n");
      reply.delay = std::chrono::milliseconds(*ms);
    }
  } else if (path == "/bytes") {
    auto n = numberParam(target, "n", kMaxBodyBytes);
    if (!n) {
      reply.response = badRequest(request, "want /bytes?n=N");
    } else {
      reply.response = makeResponse(request, http::status::ok, patternBody(*n));
      reply.response.set(http::field::content_type, "application/octet-stream");
    }
  } else if (path == "/chunked") {
    auto n = numberParam(target, "n", kMaxBodyBytes);
    auto chunks = numberParam(target, "chunks", kMaxBodyBytes);
    if (!n || !chunks || *chunks == 0) {
      reply.response = badRequest(request, "want /chunked?n=N&chunks=K (K >= 1)");
    } else {
      reply.response = makeResponse(request, http::status::ok, patternBody(*n));
      reply.response.set(http::field::content_type, "application/octet-stream");
      reply.chunks = static_cast<std::size_t>(*chunks);
    }
  } else if (path == "/close") {
    reply.response = makeResponse(request, http::status::ok, state.name + "\n");
    reply.close = true;
  } else if (path == "/requests") {
    reply.response =
        makeResponse(request, http::status::ok, std::to_string(state.requests.load()) + "\n");
  } else if (path == "/ws") {
    reply.response = makeResponse(request, http::status::upgrade_required, "websocket only\n");
  } else {
    reply.response = makeResponse(request, http::status::ok, state.name + "\n");
  }
  return reply;
}

}  // namespace

bool isWebSocketRequest(const Request& request) {
  return boost::beast::websocket::is_upgrade(request) &&
         parseTarget(request.target()).path == "/ws";
}

Reply route(const Request& request, BackendState& state) {
  const Target target = parseTarget(request.target());
  if (target.path != "/requests") ++state.requests;
  Reply reply = routeTarget(request, target, state);
  Response& response = reply.response;
  response.set("x-backend", state.name);
  if (!request.keep_alive()) reply.close = true;
  response.keep_alive(!reply.close);
  if (reply.chunks > 0) {
    // The connection code writes the chunks itself; the header must say chunked.
    response.chunked(true);
  } else if (request.method() == http::verb::head) {
    // HEAD: the length the GET would have, no body.
    const auto length = response.body().size();
    response.body().clear();
    response.content_length(length);
  } else {
    response.prepare_payload();
    // A 204 must not carry Content-Length (RFC 9110 8.6); prepare_payload sets it to 0.
    if (response.result() == http::status::no_content) response.erase(http::field::content_length);
  }
  return reply;
}

std::string patternBody(std::size_t size) {
  std::string body(size, '\0');
  for (std::size_t i = 0; i < size; ++i)
    body[i] = static_cast<char>('a' + i % 26);
  return body;
}

}  // namespace meshgate::testtools
