// Plain and TLS reads and writes of ByteStream.
#include "dataplane/proxy/byte_stream.h"

#include <algorithm>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace meshgate::dp {

namespace {
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
}

ByteStream::ByteStream(tcp::socket socket) : socket_(std::move(socket)) {
  // User-level non-blocking mode for writeNow(); Asio's asynchronous operations are unaffected.
  error_code ignored;
  socket_.non_blocking(true, ignored);
}

ByteStream::ByteStream(tcp::socket socket, asio::ssl::context& context)
    : socket_(socket.get_executor()),
      tls_(std::make_unique<asio::ssl::stream<tcp::socket>>(std::move(socket), context)) {}

asio::awaitable<error_code> ByteStream::handshakeAsServer() {
  auto [ec] = co_await tls_->async_handshake(asio::ssl::stream_base::server, kNoThrow);
  co_return ec;
}

asio::awaitable<error_code> ByteStream::handshakeAsClient(const std::string& serverName) {
  // SNI, and hostname verification against the certificate's SAN only (OpenSSL's host check
  // with X509_CHECK_FLAG_NEVER_CHECK_SUBJECT: a matching CN alone is not enough).
  if (!SSL_set_tlsext_host_name(tls_->native_handle(), serverName.c_str()))
    co_return error_code(static_cast<int>(::ERR_get_error()), asio::error::get_ssl_category());
  X509_VERIFY_PARAM* param = SSL_get0_param(tls_->native_handle());
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NEVER_CHECK_SUBJECT);
  error_code parseError;
  asio::ip::make_address(serverName, parseError);
  const int set = parseError ? X509_VERIFY_PARAM_set1_host(param, serverName.c_str(), 0)
                             : X509_VERIFY_PARAM_set1_ip_asc(param, serverName.c_str());
  if (set != 1)
    co_return error_code(static_cast<int>(::ERR_get_error()), asio::error::get_ssl_category());
  tls_->set_verify_mode(asio::ssl::verify_peer);
  auto [ec] = co_await tls_->async_handshake(asio::ssl::stream_base::client, kNoThrow);
  co_return ec;
}

asio::awaitable<error_code> ByteStream::handshakeAsMeshClient() {
  tls_->set_verify_mode(asio::ssl::verify_peer);
  auto [ec] = co_await tls_->async_handshake(asio::ssl::stream_base::client, kNoThrow);
  co_return ec;
}

asio::awaitable<IoResult> ByteStream::readSome(asio::mutable_buffer buffer) {
  if (tls_) return tls_->async_read_some(buffer, kNoThrow);
  return socket_.async_read_some(buffer, kNoThrow);
}

asio::awaitable<IoResult> ByteStream::writeAll(std::span<const asio::const_buffer> buffers) {
  if (tls_) return asio::async_write(*tls_, buffers, kNoThrow);
  return asio::async_write(socket_, buffers, kNoThrow);
}

asio::awaitable<IoResult> ByteStream::writeAll(asio::const_buffer buffer) {
  if (tls_) return asio::async_write(*tls_, buffer, kNoThrow);
  return asio::async_write(socket_, buffer, kNoThrow);
}

bool ByteStream::writeNow(asio::const_buffer& buffer) {
  if (tls_) return false;
  error_code ec;
  const size_t written = socket_.write_some(buffer, ec);
  if (ec) return false;
  buffer += written;
  return buffer.size() == 0;
}

bool ByteStream::writeNow(std::span<asio::const_buffer> buffers) {
  if (tls_) return false;
  error_code ec;
  size_t written = socket_.write_some(buffers, ec);
  if (ec) return false;  // would block, or a failure writeAll() will report
  for (auto& buffer : buffers) {
    const size_t taken = std::min(written, buffer.size());
    buffer += taken;
    written -= taken;
    if (buffer.size() > 0) return false;
  }
  return true;
}

asio::awaitable<void> ByteStream::finishSending() {
  if (tls_) {
    // Asio sends TLS output only from inside its own operations, and its async_shutdown would also
    // read, racing the relay's pending read. So the alert is made by OpenSSL into a memory BIO put
    // in place of the stream's write BIO for the one call, and written to the socket directly.
    SSL* ssl = tls_->native_handle();
    BIO* streamBio = SSL_get_wbio(ssl);
    BIO* alert = BIO_new(BIO_s_mem());
    if (streamBio != nullptr && alert != nullptr && BIO_up_ref(streamBio) == 1) {
      SSL_set0_wbio(ssl, alert);  // drops one reference to streamBio: ours keeps it alive
      SSL_shutdown(ssl);          // queues close_notify; reading stays possible
      char* bytes = nullptr;
      const long length = BIO_get_mem_data(alert, &bytes);
      const std::string pending(bytes != nullptr && length > 0 ? bytes : "",
                                length > 0 ? static_cast<size_t>(length) : 0);
      SSL_set0_wbio(ssl, streamBio);  // frees `alert`, takes our reference back
      if (!pending.empty())
        co_await asio::async_write(tls_->next_layer(), asio::buffer(pending), kNoThrow);
    } else if (alert != nullptr) {
      BIO_free(alert);
    }
  }
  shutdownSend();
}

}  // namespace meshgate::dp
