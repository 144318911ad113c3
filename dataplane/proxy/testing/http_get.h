// Blocking HTTP/1.1 GET for in-process proxy tests, header-only: one request on a connection of
// its own to 127.0.0.1:port, with a 5 s deadline, and the status and body (or what failed).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace meshgate::dp::testing {

struct HttpResult {
  int status = 0;
  std::string body;
  std::string error;  // "connect: …", "write: …" or "read: …" when no response came
};

using HeaderList = std::vector<std::pair<std::string, std::string>>;

inline HttpResult httpGet(uint16_t port, const std::string& target, const std::string& host,
                          const HeaderList& headers = {}) {
  namespace asio = boost::asio;
  namespace beast = boost::beast;
  namespace http = beast::http;
  constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
  asio::io_context context;
  HttpResult result;
  auto fetch = [&]() -> asio::awaitable<void> {
    beast::tcp_stream connection(co_await asio::this_coro::executor);
    connection.expires_after(std::chrono::seconds(5));
    auto [connectError] = co_await connection.async_connect(
        asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), kNoThrow);
    if (connectError) {
      result.error = "connect: " + connectError.message();
      co_return;
    }
    http::request<http::empty_body> request{http::verb::get, target, 11};
    request.set(http::field::host, host);
    for (const auto& [name, value] : headers)
      request.set(name, value);
    auto [writeError, written] = co_await http::async_write(connection, request, kNoThrow);
    if (writeError) {
      result.error = "write: " + writeError.message();
      co_return;
    }
    beast::flat_buffer buffer;
    http::response<http::string_body> response;
    auto [readError, read] = co_await http::async_read(connection, buffer, response, kNoThrow);
    if (readError) {
      result.error = "read: " + readError.message();
      co_return;
    }
    result.status = response.result_int();
    result.body = response.body();
  };
  asio::co_spawn(context, fetch(), asio::detached);
  context.run();
  return result;
}

}  // namespace meshgate::dp::testing
