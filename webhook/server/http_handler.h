// The contract between the admission HTTPS server and what answers requests: one HTTP/1.1 request
// in (body already read, at most AdmissionServerOptions::maxBodyBytes), one response out. The
// webhook's request router implements it; AdmissionServer and its sessions call it.
#pragma once

#include <functional>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

namespace meshgate::webhook {

using HttpRequest = boost::beast::http::request<boost::beast::http::string_body>;
using HttpResponse = boost::beast::http::response<boost::beast::http::string_body>;

/**
 * Called concurrently from the server's threads, one call per request, so it must be thread-safe;
 * it runs on a server thread and should not block on I/O. The server sets the version, the
 * keep-alive flag (the request's) and Content-Length on what it returns. An exception it throws is
 * caught and answered with 500.
 */
using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

}  // namespace meshgate::webhook
