// Config stream frames: each message round-trips, and malformed frames are errors, not throws.
#include "api/config_stream_protocol.h"

#include <gtest/gtest.h>

namespace meshgate::api::stream {
namespace {

TEST(ConfigStreamProtocol, ClientMessagesRoundTrip) {
  const std::vector<ClientMessage> messages = {
      Hello{"gateway~h1", "gateway", "meshgate", "abc", "0.1.0"},
      Ack{"v1"},
      Ack{"v3", {{"shop/cart", {"spec.rules[0].rateLimit: Forbidden: not supported"}}}},
      Nack{"v2", {"routes[0].spec.rules[0].rateLimit: Forbidden: not supported", "second"}},
  };
  for (const auto& message : messages) {
    const auto decoded = decodeClientMessage(encode(message));
    ASSERT_TRUE(decoded.ok()) << decoded.error();
    EXPECT_EQ(*decoded, message);
  }
}

TEST(ConfigStreamProtocol, SnapshotFrameCarriesTheConfigVerbatim) {
  const std::string frame = encodeSnapshotFrame("v\"7", R"({"clusters":[],"routes":[]})");
  const auto decoded = decodeServerMessage(frame);
  ASSERT_TRUE(decoded.ok()) << decoded.error();
  const auto& snapshot = std::get<Snapshot>(*decoded);
  EXPECT_EQ(snapshot.version, "v\"7");
  EXPECT_EQ(snapshot.config, nlohmann::json::parse(R"({"clusters":[],"routes":[]})"));
  EXPECT_EQ(encode(ServerMessage{snapshot}), frame);
}

TEST(ConfigStreamProtocol, MalformedFramesAreErrorsWithTheReason) {
  EXPECT_EQ(decodeClientMessage("{").error(), "not JSON");
  EXPECT_EQ(decodeClientMessage("[1]").error(), "not a JSON object");
  EXPECT_EQ(decodeClientMessage(R"({"version":"1"})").error(), "type: required");
  EXPECT_EQ(decodeClientMessage(R"({"type":"Ack"})").error(), "version: required");
  EXPECT_EQ(decodeClientMessage(R"({"type":"Hello","node":"n","mode":"edge"})").error(),
            "mode: must be \"gateway\" or \"sidecar\", not \"edge\"");
  EXPECT_EQ(decodeClientMessage(R"({"type":"Hello","mode":"gateway"})").error(), "node: required");
  EXPECT_EQ(decodeClientMessage(R"({"type":"Nack","version":"1","errors":[1]})").error(),
            "errors: expected an array of strings");
  EXPECT_EQ(decodeClientMessage(R"({"type":"Ack","version":"1","refused":{"a/b":"x"}})").error(),
            "refused.a/b: expected an array of strings");
  EXPECT_EQ(decodeClientMessage(R"({"type":"Bye","version":"1"})").error(),
            "type: unknown message type \"Bye\" (want Hello, Ack or Nack)");
  EXPECT_EQ(decodeServerMessage(R"({"type":"Snapshot","version":"1"})").error(),
            "config: expected an object");
  EXPECT_EQ(decodeServerMessage(R"({"type":"Ack","version":"1"})").error(),
            "type: unknown message type \"Ack\" (want Snapshot or Delta)");
}

}  // namespace
}  // namespace meshgate::api::stream
