// Tests of formatLocalReply: framing of the proxy's own answers, with and without keep-alive,
// extra headers, and the HEAD form that announces a length without sending the body.
#include "dataplane/proxy/local_reply.h"

#include <gtest/gtest.h>

namespace meshgate::dp {
namespace {

TEST(LocalReplyTest, CarriesLengthAndExtraHeaders) {
  std::string out;
  formatLocalReply(out, 503, "busy\n", "x-meshgate-overflow: 1\r\n", true, false);
  EXPECT_EQ(out,
            "HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\n"
            "content-length: 5\r\nx-meshgate-overflow: 1\r\n\r\nbusy\n");
}

TEST(LocalReplyTest, ClosingReplySaysSo) {
  std::string out;
  formatLocalReply(out, 400, "bad\n", "", false, false);
  EXPECT_EQ(out,
            "HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain; charset=utf-8\r\n"
            "content-length: 4\r\nconnection: close\r\n\r\nbad\n");
}

TEST(LocalReplyTest, HeadAnnouncesTheBodyLengthWithoutTheBody) {
  std::string out;
  formatLocalReply(out, 404, "no route for this host and path\n", "", true, true);
  EXPECT_EQ(out,
            "HTTP/1.1 404 Not Found\r\ncontent-type: text/plain; charset=utf-8\r\n"
            "content-length: 32\r\n\r\n");
}

TEST(LocalReplyTest, ReusesTheBufferWithoutLeftovers) {
  std::string out = "previous contents that are longer than the reply";
  formatLocalReply(out, 301, "", "location: https://a.example/\r\n", true, false);
  EXPECT_EQ(out,
            "HTTP/1.1 301 Moved Permanently\r\ncontent-type: text/plain; charset=utf-8\r\n"
            "content-length: 0\r\nlocation: https://a.example/\r\n\r\n");
}

TEST(LocalReplyTest, NoContentHasNeitherLengthNorBody) {
  std::string out;
  formatLocalReply(out, 204, "ignored", "vary: origin\r\n", true, false);
  EXPECT_EQ(out, "HTTP/1.1 204 No Content\r\nvary: origin\r\n\r\n");
}

TEST(LocalReplyTest, HeaderLinesAreAppendedInOrder) {
  std::string out = "a: 1\r\n";
  appendHeaderLines(out, {{"retry-after", "3"}, {"ratelimit-limit", "10"}});
  EXPECT_EQ(out, "a: 1\r\nretry-after: 3\r\nratelimit-limit: 10\r\n");
}

}  // namespace
}  // namespace meshgate::dp
