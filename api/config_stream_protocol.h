// The messages of the config stream between meshgate-operator (server, port 15012) and
// meshgate-proxy (client): a WebSocket over mutually authenticated TLS whose text frames are the
// JSON objects below (docs/CONFIG_STREAM.md). Shared by both ends so that they cannot disagree;
// pure, no I/O. Decoding never throws: a malformed frame is an error string.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/expected.h"

namespace meshgate::api::stream {

inline constexpr std::uint16_t kDefaultPort = 15012;
// The WebSocket upgrade request's target.
inline constexpr std::string_view kPath = "/v1alpha1/stream";
// A frame larger than this is a protocol error (a snapshot of 5,000 routes is about 10 MiB).
inline constexpr std::size_t kMaxFrameBytes = 64 << 20;

inline constexpr std::string_view kModeGateway = "gateway";
inline constexpr std::string_view kModeSidecar = "sidecar";

// Client → server, the first frame of a connection.
struct Hello {
  std::string node;          // unique per proxy: "gateway~<host>" or "sidecar~<pod>.<namespace>"
  std::string mode;          // kModeGateway or kModeSidecar
  std::string ingressClass;  // gateway mode: which ApiRoutes it serves (default "meshgate")
  std::string version;       // the version it serves now (persisted or from an earlier stream)
  std::string proxyVersion;  // meshgate-proxy's build version, for /dataplanes and logs
  bool operator==(const Hello&) const = default;
};

// Server → client: one complete ProxyConfig (api/proxy_config_codec.h), whose `version` equals
// `version`. The version is a digest of the config and of the generations it was built from, so
// every operator replica names the same content the same way.
struct Snapshot {
  std::string version;
  nlohmann::json config;
  bool operator==(const Snapshot&) const = default;
};

// Client → server: the snapshot of `version` is serving. `refused` lists the routes the proxy
// left out of it ("<namespace>/<name>" → errors): a route whose new form the proxy refuses keeps
// serving its last good form, if any, so one bad route never blocks the others.
struct Ack {
  std::string version;
  std::map<std::string, std::vector<std::string>> refused{};
  bool operator==(const Ack&) const = default;
};

// Client → server: the snapshot of `version` was refused (validation or compile errors, one per
// line as the proxy logged them); the previous version keeps serving.
struct Nack {
  std::string version;
  std::vector<std::string> errors;
  bool operator==(const Nack&) const = default;
};

// Server → client: the config of `version` as the changes from the config of `base`, the version
// this connection carried last (api/config_delta.h builds and applies it). Top-level members in
// `set` are added or replaced, those in `unset` removed; each member of `patch` is an array rebuilt
// from pieces in order: a [start, count] pair copies that run of the base array's elements, an
// object is a new element. Whatever is not mentioned is as in `base`.
struct Delta {
  std::string version;
  std::string base;
  nlohmann::json set = nlohmann::json::object();
  std::vector<std::string> unset{};
  nlohmann::json patch = nlohmann::json::object();
  bool operator==(const Delta&) const = default;
};

using ClientMessage = std::variant<Hello, Ack, Nack>;
using ServerMessage = std::variant<Snapshot, Delta>;

std::string encode(const ClientMessage& message);
std::string encode(const ServerMessage& message);

// A server frame's `version` (Snapshot or Delta), read from its head without parsing the rest;
// empty when the frame does not start as the encoders below write it.
std::string_view frameVersion(std::string_view frame);

// "Snapshot" frames are built once per version and sent to many proxies: this writes the frame
// from an already serialized config without parsing it again.
std::string encodeSnapshotFrame(std::string_view version, std::string_view configJson);

Expected<ClientMessage, std::string> decodeClientMessage(std::string_view frame);
Expected<ServerMessage, std::string> decodeServerMessage(std::string_view frame);

}  // namespace meshgate::api::stream
