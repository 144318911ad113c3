// `meshgate-test-backend tcp`: a TCP client for pods without nc, the TCP counterpart of `call`.
//   meshgate-test-backend tcp HOST:PORT --send TEXT [--timeout-ms T]
// Resolves HOST (getaddrinfo, so resolv.conf search domains apply), connects, writes TEXT,
// half-closes, and reads until the server ends the stream; prints what it read on stdout and exits
// 0. Exits 1 with "tcp: <what failed>" on stderr when the name does not resolve, the connection
// is refused, reset or cut before the server's end, or T milliseconds (default 5000) pass — for
// the whole exchange. With an echo server, stdout is TEXT exactly.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>

#include <CLI/CLI.hpp>

namespace meshgate::testtools {

struct TcpCallOptions {
  std::string target;  // HOST:PORT
  std::string send;
  std::uint64_t timeoutMs = 5000;
};

// Adds the `tcp` subcommand, which fills options, to app; returns it.
CLI::App* addTcpCallCommand(CLI::App& app, TcpCallOptions& options);
int runTcpCallCommand(const TcpCallOptions& options, std::ostream& out, std::ostream& err);

}  // namespace meshgate::testtools
