// WatchEventDecoder: framing across arbitrary pieces, large events, malformed input.
#include "kube/watch_event_decoder.h"

#include <gtest/gtest.h>

namespace kube {
namespace {

std::string eventLine(const std::string& type, const std::string& name) {
  return R"({"type":")" + type + R"(","object":{"metadata":{"name":")" + name +
         R"("}}})"
         "\n";
}

TEST(WatchEventDecoderTest, DecodesEventsSplitAtEveryByte) {
  const std::string body = eventLine("ADDED", "a") + eventLine("MODIFIED", "b") +
                           eventLine("DELETED", "c") + eventLine("BOOKMARK", "d");
  WatchEventDecoder decoder;
  std::vector<WatchEvent> events;
  for (char c : body)
    ASSERT_TRUE(decoder.feed(std::string_view(&c, 1), events).ok());
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].type, WatchEventType::Added);
  EXPECT_EQ(events[1].type, WatchEventType::Modified);
  EXPECT_EQ(events[2].type, WatchEventType::Deleted);
  EXPECT_EQ(events[3].type, WatchEventType::Bookmark);
  EXPECT_EQ((*events[3].object)["metadata"]["name"], "d");
  EXPECT_EQ(decoder.pending(), 0u);
}

TEST(WatchEventDecoderTest, HoldsAPartialLineUntilItsNewline) {
  WatchEventDecoder decoder;
  std::vector<WatchEvent> events;
  const std::string line = eventLine("ADDED", "a");
  ASSERT_TRUE(decoder.feed(line.substr(0, 10), events).ok());
  EXPECT_TRUE(events.empty());
  EXPECT_EQ(decoder.pending(), 10u);
  ASSERT_TRUE(decoder.feed(line.substr(10), events).ok());
  EXPECT_EQ(events.size(), 1u);
}

TEST(WatchEventDecoderTest, DropsManagedFieldsAndKeepsTheRestOfTheMetadata) {
  WatchEventDecoder decoder;
  std::vector<WatchEvent> events;
  ASSERT_TRUE(decoder
                  .feed(R"({"type":"ADDED","object":{"metadata":{"name":"a","resourceVersion":"7",)"
                        R"("managedFields":[{"manager":"kubectl","operation":"Apply"}]}}})"
                        "\n",
                        events)
                  .ok());
  ASSERT_EQ(events.size(), 1u);
  const auto& metadata = (*events[0].object)["metadata"];
  EXPECT_FALSE(metadata.contains("managedFields"));
  EXPECT_EQ(metadata["name"], "a");
  EXPECT_EQ(metadata["resourceVersion"], "7");
}

TEST(WatchEventDecoderTest, DecodesAHugeObject) {
  std::string big(8 * 1024 * 1024, 'x');
  const std::string line =
      R"({"type":"ADDED","object":{"metadata":{"name":"big"},"data":{"k":")" + big + "\"}}}\n";
  WatchEventDecoder decoder;
  std::vector<WatchEvent> events;
  for (size_t i = 0; i < line.size(); i += 65536) {
    ASSERT_TRUE(decoder.feed(std::string_view(line).substr(i, 65536), events).ok());
  }
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ((*events[0].object)["data"]["k"].get<std::string>().size(), big.size());
}

TEST(WatchEventDecoderTest, RefusesAnEventAboveTheBound) {
  WatchEventDecoder decoder(1024);
  std::vector<WatchEvent> events;
  auto status = decoder.feed(std::string(2048, 'x'), events);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message.find("larger than 1024"), std::string::npos);
}

TEST(WatchEventDecoderTest, ReportsErrorEventsAsErrorType) {
  WatchEventDecoder decoder;
  std::vector<WatchEvent> events;
  const std::string line =
      R"({"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired","message":"too old resource version"}})"
      "\n";
  ASSERT_TRUE(decoder.feed(line, events).ok());
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, WatchEventType::Error);
  EXPECT_EQ((*events[0].object)["code"], 410);
}

TEST(WatchEventDecoderTest, RejectsMalformedJsonAndUnknownTypes) {
  std::vector<WatchEvent> events;
  WatchEventDecoder broken;
  const auto malformed = broken.feed("{not json}\n", events);
  ASSERT_FALSE(malformed.ok());
  EXPECT_EQ(malformed.error().kind, FailureKind::InvalidResponse);
  EXPECT_FALSE(malformed.error().retryable());
  WatchEventDecoder unknown;
  EXPECT_FALSE(unknown.feed(eventLine("EXPLODED", "a"), events).ok());
  WatchEventDecoder noObject;
  EXPECT_FALSE(noObject
                   .feed(R"({"type":"ADDED"})"
                         "\n",
                         events)
                   .ok());
}

TEST(WatchEventDecoderTest, SkipsBlankLines) {
  WatchEventDecoder decoder;
  std::vector<WatchEvent> events;
  ASSERT_TRUE(decoder.feed("\n\r\n" + eventLine("ADDED", "a"), events).ok());
  EXPECT_EQ(events.size(), 1u);
}

}  // namespace
}  // namespace kube
