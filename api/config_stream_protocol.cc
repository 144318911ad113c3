// Config stream frames; see config_stream_protocol.h.
#include "api/config_stream_protocol.h"

#include <tuple>

namespace meshgate::api::stream {

namespace {

using nlohmann::json;

// Reads the string member `name` of `object` into `out` ("" when absent). Returns the error, or
// "" when the member is fine.
std::string readString(const json& object, const char* name, bool required, std::string& out) {
  const auto found = object.find(name);
  if (found == object.end() || found->is_null()) {
    out.clear();
    return required ? std::string(name) + ": required" : std::string();
  }
  if (!found->is_string()) return std::string(name) + ": expected a string";
  out = found->get<std::string>();
  return {};
}

Expected<json, std::string> parseObject(std::string_view frame) {
  json j = json::parse(frame, nullptr, false);
  if (j.is_discarded()) return std::string("not JSON");
  if (!j.is_object()) return std::string("not a JSON object");
  return j;
}

}  // namespace

std::string encode(const ClientMessage& message) {
  json j;
  if (const auto* hello = std::get_if<Hello>(&message)) {
    j = {{"type", "Hello"},           {"node", hello->node},
         {"mode", hello->mode},       {"ingressClass", hello->ingressClass},
         {"version", hello->version}, {"proxyVersion", hello->proxyVersion}};
  } else if (const auto* ack = std::get_if<Ack>(&message)) {
    j = {{"type", "Ack"}, {"version", ack->version}};
    if (!ack->refused.empty()) j["refused"] = ack->refused;
  } else {
    const auto& nack = std::get<Nack>(message);
    j = {{"type", "Nack"}, {"version", nack.version}, {"errors", nack.errors}};
  }
  return j.dump();
}

std::string encode(const ServerMessage& message) {
  if (const auto* snapshot = std::get_if<Snapshot>(&message))
    return encodeSnapshotFrame(snapshot->version, snapshot->config.dump());
  const auto& delta = std::get<Delta>(message);
  // The same member order as api/config_delta.cc writes: type and version first.
  std::string frame = R"({"type":"Delta","version":)";
  frame += json(delta.version).dump();
  frame += R"(,"base":)";
  frame += json(delta.base).dump();
  frame += R"(,"set":)";
  frame += delta.set.dump();
  frame += R"(,"unset":)";
  frame += json(delta.unset).dump();
  frame += R"(,"patch":)";
  frame += delta.patch.dump();
  frame += '}';
  return frame;
}

std::string_view frameVersion(std::string_view frame) {
  for (std::string_view head : {std::string_view(R"({"type":"Snapshot","version":")"),
                                std::string_view(R"({"type":"Delta","version":")")}) {
    if (frame.substr(0, head.size()) != head) continue;
    frame.remove_prefix(head.size());
    const auto end = frame.find('"');
    // Versions are hex digests: no escapes to undo.
    if (end == std::string_view::npos || frame.substr(0, end).find('\\') != std::string_view::npos)
      return {};
    return frame.substr(0, end);
  }
  return {};
}

std::string encodeSnapshotFrame(std::string_view version, std::string_view configJson) {
  std::string frame = R"({"type":"Snapshot","version":)";
  frame += json(std::string(version)).dump();
  frame += R"(,"config":)";
  frame += configJson;
  frame += '}';
  return frame;
}

Expected<ClientMessage, std::string> decodeClientMessage(std::string_view frame) {
  auto parsed = parseObject(frame);
  if (!parsed) return parsed.error();
  const json& j = *parsed;
  std::string type;
  std::string version;
  if (auto error = readString(j, "type", true, type); !error.empty()) return error;
  if (auto error = readString(j, "version", type != "Hello", version); !error.empty()) return error;
  if (type == "Hello") {
    Hello hello;
    hello.version = version;
    for (auto [name, out, required] :
         {std::tuple{"node", &hello.node, true}, std::tuple{"mode", &hello.mode, true},
          std::tuple{"ingressClass", &hello.ingressClass, false},
          std::tuple{"proxyVersion", &hello.proxyVersion, false}}) {
      if (auto error = readString(j, name, required, *out); !error.empty()) return error;
    }
    if (hello.mode != kModeGateway && hello.mode != kModeSidecar)
      return "mode: must be \"gateway\" or \"sidecar\", not \"" + hello.mode + "\"";
    return ClientMessage{hello};
  }
  if (type == "Ack") {
    Ack ack{version, {}};
    const auto refused = j.find("refused");
    if (refused != j.end() && !refused->is_null()) {
      if (!refused->is_object()) return std::string("refused: expected an object");
      for (const auto& [route, errors] : refused->items()) {
        if (!errors.is_array()) return "refused." + route + ": expected an array of strings";
        for (const auto& e : errors) {
          if (!e.is_string()) return "refused." + route + ": expected an array of strings";
          ack.refused[route].push_back(e.get<std::string>());
        }
      }
    }
    return ClientMessage{ack};
  }
  if (type == "Nack") {
    Nack nack{version, {}};
    const auto errors = j.find("errors");
    if (errors != j.end() && !errors->is_null()) {
      if (!errors->is_array()) return std::string("errors: expected an array of strings");
      for (const auto& e : *errors) {
        if (!e.is_string()) return std::string("errors: expected an array of strings");
        nack.errors.push_back(e.get<std::string>());
      }
    }
    return ClientMessage{nack};
  }
  return "type: unknown message type \"" + type + "\" (want Hello, Ack or Nack)";
}

Expected<ServerMessage, std::string> decodeServerMessage(std::string_view frame) {
  auto parsed = parseObject(frame);
  if (!parsed) return parsed.error();
  json& j = *parsed;
  std::string type;
  std::string version;
  if (auto error = readString(j, "type", true, type); !error.empty()) return error;
  if (type != "Snapshot" && type != "Delta")
    return "type: unknown message type \"" + type + "\" (want Snapshot or Delta)";
  if (auto error = readString(j, "version", true, version); !error.empty()) return error;
  if (type == "Delta") {
    Delta delta;
    delta.version = version;
    if (auto error = readString(j, "base", true, delta.base); !error.empty()) return error;
    for (auto [name, out] : {std::pair{"set", &delta.set}, std::pair{"patch", &delta.patch}}) {
      const auto found = j.find(name);
      if (found == j.end() || found->is_null()) continue;
      if (!found->is_object()) return std::string(name) + ": expected an object";
      *out = std::move(*found);
    }
    const auto unset = j.find("unset");
    if (unset != j.end() && !unset->is_null()) {
      if (!unset->is_array()) return std::string("unset: expected an array of strings");
      for (const auto& member : *unset) {
        if (!member.is_string()) return std::string("unset: expected an array of strings");
        delta.unset.push_back(member.get<std::string>());
      }
    }
    return ServerMessage{std::move(delta)};
  }
  const auto config = j.find("config");
  if (config == j.end() || !config->is_object()) return std::string("config: expected an object");
  return ServerMessage{Snapshot{version, std::move(*config)}};
}

}  // namespace meshgate::api::stream
