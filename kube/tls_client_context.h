// TLS for talking to an apiserver: an OpenSSL client context built from a RestConfig (pinned CA,
// client certificate) and strict per-connection server verification that checks the SAN only —
// a certificate whose CN matches but whose SANs do not is refused (unlike cpprestsdk).
#pragma once

#include <memory>
#include <string>

#include <boost/asio/ssl/context.hpp>

#include "kube/rest_config.h"
#include "kube/result.h"

namespace kube {

using TlsContextSharedPtr = std::shared_ptr<boost::asio::ssl::context>;

Result<TlsContextSharedPtr> makeTlsClientContext(const RestConfig& config);

// Sets SNI (for DNS names) and the expected identity on one connection: DNS names are matched
// against SAN dNSName entries, IP literals against SAN iPAddress entries; never the subject CN.
// Returns an empty string on success, else the reason.
std::string configureServerVerification(SSL* ssl, const std::string& host, bool verifyPeer);

}  // namespace kube
