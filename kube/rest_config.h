// RestConfig is everything needed to reach one apiserver as one identity: the address, how to
// trust it, how to authenticate, and client-side limits. Built by loadKubeconfig() or
// inClusterConfig(); consumed by the transport and the REST client. Secrets it holds (keys,
// tokens) are never logged: describe() prints only what is safe.
#pragma once

#include <chrono>
#include <string>

namespace kube {

struct RestConfig {
  std::string server;  // https://host:port (a path prefix is allowed: https://h:6443/prefix)
  std::string caPem;   // trusted roots; empty means the system store
  std::string clientCertPem;
  std::string clientKeyPem;
  std::string bearerToken;
  // Re-read when it changes on disk (projected service-account tokens rotate).
  std::string bearerTokenFile;
  // Only honoured when the caller explicitly allowed it (loadKubeconfig's allowInsecure).
  bool insecureSkipTlsVerify = false;
  std::string tlsServerName;  // overrides the name verified in the server certificate

  std::chrono::milliseconds timeout{std::chrono::seconds(30)};  // per request, not for watches
  std::chrono::milliseconds connectTimeout{std::chrono::seconds(10)};
  double qps = 50;
  int burst = 100;
  std::string userAgent = "meshgate";

  // "server=https://127.0.0.1:6443 auth=client-cert ca=inline" — no secret material.
  std::string describe() const;
};

}  // namespace kube
