// Peeking the ClientHello: wait for bytes, MSG_PEEK them, parse, and on kNeedMore wait for more.
#include "dataplane/proxy/tls_client_hello_peek.h"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <optional>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace meshgate::dp {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
constexpr size_t kInitialPeekBytes = 4096;
constexpr std::chrono::milliseconds kFirstPause{1};
constexpr std::chrono::milliseconds kLongestPause{50};

// Sets SO_RCVLOWAT while the peek waits for more bytes, and puts the socket's own value back when
// it goes (the relay after the peek reads with the socket as it was accepted).
class ReceiveLowWatermark {
 public:
  explicit ReceiveLowWatermark(int fd) : fd_(fd) {}
  ~ReceiveLowWatermark() {
    if (saved_) ::setsockopt(fd_, SOL_SOCKET, SO_RCVLOWAT, &*saved_, sizeof *saved_);
  }
  ReceiveLowWatermark(const ReceiveLowWatermark&) = delete;
  ReceiveLowWatermark& operator=(const ReceiveLowWatermark&) = delete;

  // Readable only once `bytes` are queued. Failing is harmless: the pauses bound the waking.
  void set(size_t bytes) {
    if (!saved_) {
      int value = 1;
      socklen_t length = sizeof value;
      if (::getsockopt(fd_, SOL_SOCKET, SO_RCVLOWAT, &value, &length) != 0) return;
      saved_ = value;
    }
    const int value = static_cast<int>(bytes);
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVLOWAT, &value, sizeof value);
  }

 private:
  int fd_;
  std::optional<int> saved_;
};

// The peer has shut down its sending side, or the connection failed: no more bytes will come.
bool peerFinished(int fd) {
  pollfd entry{.fd = fd, .events = POLLIN | POLLRDHUP, .revents = 0};
  return ::poll(&entry, 1, 0) > 0 && (entry.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

}  // namespace

asio::awaitable<ClientHelloInfo> peekClientHello(tcp::socket& socket,
                                                 std::chrono::milliseconds timeout,
                                                 size_t maxBytes) {
  using namespace asio::experimental::awaitable_operators;
  const auto deadline = asio::steady_timer::clock_type::now() + timeout;
  asio::steady_timer timer(co_await asio::this_coro::executor);
  const int fd = socket.native_handle();
  ReceiveLowWatermark lowWatermark(fd);
  std::vector<unsigned char> buffer(std::clamp(maxBytes, size_t{1}, kInitialPeekBytes));
  size_t peeked = 0;
  std::chrono::milliseconds pause = kFirstPause;

  for (;;) {
    if (asio::steady_timer::clock_type::now() >= deadline)
      co_return ClientHelloInfo{.status = ClientHelloStatus::kTimedOut};
    timer.expires_at(deadline);
    auto ready = co_await (socket.async_wait(tcp::socket::wait_read, kNoThrow) ||
                           timer.async_wait(kNoThrow));
    if (ready.index() != 0) co_return ClientHelloInfo{.status = ClientHelloStatus::kTimedOut};
    if (std::get<0>(std::get<0>(ready)))
      co_return ClientHelloInfo{.status = ClientHelloStatus::kClosed};

    const ssize_t n = ::recv(fd, buffer.data(), buffer.size(), MSG_PEEK | MSG_DONTWAIT);
    if (n == 0) co_return ClientHelloInfo{.status = ClientHelloStatus::kClosed};
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
      co_return ClientHelloInfo{.status = ClientHelloStatus::kClosed};
    const size_t size = n > 0 ? static_cast<size_t>(n) : peeked;
    if (size != peeked) {
      ClientHelloInfo info = parseClientHello(std::span(buffer.data(), size), maxBytes);
      if (info.status != ClientHelloStatus::kNeedMore) co_return info;
      // A full buffer: more may be queued already (kNeedMore: the buffer is under maxBytes).
      if (size == buffer.size()) buffer.resize(std::min(maxBytes, buffer.size() * 2));
    } else {
      // Readable with nothing new: the end of the stream (or an error), or a spurious wake.
      if (peerFinished(fd)) co_return ClientHelloInfo{.status = ClientHelloStatus::kClosed};
      timer.expires_at(std::min(deadline, asio::steady_timer::clock_type::now() + pause));
      co_await timer.async_wait(kNoThrow);
      pause = std::min(pause * 2, kLongestPause);
    }
    peeked = size;
    lowWatermark.set(size + 1);
  }
}

}  // namespace meshgate::dp
