// Request and response head parsing: accepted forms, every smuggling vector the parser refuses,
// the limits at and one past their boundary, incremental (NeedMore) parsing and response framing.
#include "dataplane/http/http1_parser.h"

#include <gtest/gtest.h>

#include <cstring>
#include <deque>
#include <memory>
#include <string>
#include <vector>

namespace meshgate::dp::http {
namespace {

using namespace std::string_literals;

// Parsed heads view into their text, so the texts the tests build are kept for the whole run.
std::string_view keep(std::string_view text) {
  static std::deque<std::string> texts;
  return texts.emplace_back(text);
}

ParseStatus parseRequest(std::string_view text, RequestHead& head, const Limits& limits = {}) {
  return parseRequestHead(keep(text), limits, head);
}

ParseStatus parseRequest(std::string_view text, const Limits& limits = {}) {
  RequestHead head;
  return parseRequestHead(text, limits, head);
}

ParseStatus parseResponse(std::string_view text, ResponseHead& head,
                          std::string_view method = "GET", const Limits& limits = {}) {
  return parseResponseHead(keep(text), method, limits, head);
}

// A request with the given request line and header lines (each without CRLF).
std::string request(std::string_view requestLine, const std::vector<std::string>& headers) {
  std::string text(requestLine);
  text += "\r\n";
  for (const auto& header : headers)
    text += header + "\r\n";
  return text + "\r\n";
}

std::string getWith(const std::vector<std::string>& extraHeaders) {
  std::vector<std::string> headers{"Host: example.com"};
  headers.insert(headers.end(), extraHeaders.begin(), extraHeaders.end());
  return request("GET / HTTP/1.1", headers);
}

struct Case {
  std::string text;
  ParseStatus expected;
  unsigned httpStatus;
};

void expectRequestCases(const std::vector<Case>& cases) {
  for (const auto& c : cases) {
    SCOPED_TRACE(testing::Message() << "request: " << testing::PrintToString(c.text));
    const ParseStatus status = parseRequest(c.text);
    EXPECT_EQ(status, c.expected) << describe(status);
    EXPECT_EQ(statusFor(status), c.httpStatus);
  }
}

TEST(Http1RequestTest, ParsesAnOriginFormGet) {
  const std::string text =
      "GET /search?q=mesh&page=2 HTTP/1.1\r\nHost: shop.example.com\r\nAccept: */*\r\n\r\n";
  RequestHead head;
  ASSERT_EQ(parseRequest(text, head), ParseStatus::Complete);
  EXPECT_EQ(head.method, "GET");
  EXPECT_EQ(head.target, "/search?q=mesh&page=2");
  EXPECT_EQ(head.path, "/search");
  EXPECT_EQ(head.query, "q=mesh&page=2");
  EXPECT_EQ(head.host, "shop.example.com");
  EXPECT_EQ(head.versionMinor, 1u);
  ASSERT_EQ(head.headers.size(), 2u);
  EXPECT_EQ(head.headers[0].name, "Host");
  EXPECT_EQ(head.headers[1].name, "Accept");
  EXPECT_EQ(head.headers[1].value, "*/*");
  EXPECT_EQ(head.framing, BodyFraming::None);
  EXPECT_TRUE(head.keepAlive);
  EXPECT_FALSE(head.expectContinue);
  EXPECT_FALSE(head.upgrade);
  EXPECT_EQ(head.headBytes, text.size());
}

TEST(Http1RequestTest, SplitsPathAndQueryAtTheFirstQuestionMark) {
  RequestHead head;
  ASSERT_EQ(parseRequest(request("GET /a/b?x=1?y HTTP/1.1", {"Host: h"}), head),
            ParseStatus::Complete);
  EXPECT_EQ(head.path, "/a/b");
  EXPECT_EQ(head.query, "x=1?y");
  ASSERT_EQ(parseRequest(request("GET /a? HTTP/1.1", {"Host: h"}), head), ParseStatus::Complete);
  EXPECT_EQ(head.path, "/a");
  EXPECT_EQ(head.query, "");
  ASSERT_EQ(parseRequest(request("GET / HTTP/1.1", {"Host: h"}), head), ParseStatus::Complete);
  EXPECT_EQ(head.path, "/");
  EXPECT_EQ(head.query, "");
}

TEST(Http1RequestTest, TrimsOptionalWhitespaceAroundValuesAndKeepsNameCase) {
  RequestHead head;
  ASSERT_EQ(
      parseRequest(getWith({"X-Custom-Name: \t  two  words \t", "X-Empty:", "X-Blank:   "}), head),
      ParseStatus::Complete);
  ASSERT_EQ(head.headers.size(), 4u);
  EXPECT_EQ(head.headers[1].name, "X-Custom-Name");
  EXPECT_EQ(head.headers[1].value, "two  words");
  EXPECT_EQ(head.headers[2].value, "");
  EXPECT_EQ(head.headers[3].value, "");
}

TEST(Http1RequestTest, AcceptsObsTextAndTabsInValues) {
  RequestHead head;
  ASSERT_EQ(parseRequest(getWith({"X-Latin: caf\xc3\xa9\tau lait \xff"}), head),
            ParseStatus::Complete);
  EXPECT_EQ(head.headers[1].value, "caf\xc3\xa9\tau lait \xff");
}

TEST(Http1RequestTest, AcceptsEveryTokenCharacterInMethodsAndNames) {
  RequestHead head;
  ASSERT_EQ(
      parseRequest(
          request("M-1!#$%&'*+.^_`|~ / HTTP/1.1", {"Host: h", "x!#$%&'*+-.^_`|~09azAZ: v"}), head),
      ParseStatus::Complete);
  EXPECT_EQ(head.method, "M-1!#$%&'*+.^_`|~");
  EXPECT_EQ(head.headers[1].name, "x!#$%&'*+-.^_`|~09azAZ");
}

TEST(Http1RequestTest, ReturnsNeedMoreForEveryProperPrefixOfAValidRequest) {
  const std::vector<std::string> requests = {
      getWith({"Content-Length: 5", "Connection: keep-alive"}),
      "\r\n\r\n" + getWith({}),
      request("POST /upload HTTP/1.1", {"Host: h", "Transfer-Encoding: chunked"}),
      request("GET /legacy HTTP/1.0", {}),
  };
  for (const auto& text : requests) {
    SCOPED_TRACE(text);
    for (size_t length = 0; length < text.size(); ++length) {
      ASSERT_EQ(parseRequest(std::string_view(text).substr(0, length)), ParseStatus::NeedMore)
          << "prefix length " << length;
    }
    RequestHead head;
    ASSERT_EQ(parseRequest(text, head), ParseStatus::Complete);
    EXPECT_EQ(head.headBytes, text.size());
  }
}

TEST(Http1RequestTest, PointsHeadBytesAtTheNextPipelinedRequest) {
  const std::string first = request("POST /a HTTP/1.1", {"Host: h", "Content-Length: 3"});
  const std::string second = request("GET /b HTTP/1.1", {"Host: h"});
  const std::string stream = first + "abc" + second + "GET /c";
  RequestHead head;
  ASSERT_EQ(parseRequest(stream, head), ParseStatus::Complete);
  EXPECT_EQ(head.path, "/a");
  EXPECT_EQ(head.headBytes, first.size());
  EXPECT_EQ(head.framing, BodyFraming::ContentLength);
  EXPECT_EQ(head.contentLength, 3u);

  const std::string_view rest = std::string_view(stream).substr(head.headBytes + 3);
  ASSERT_EQ(parseRequest(rest, head), ParseStatus::Complete);
  EXPECT_EQ(head.path, "/b");
  EXPECT_EQ(head.headBytes, second.size());
  EXPECT_EQ(parseRequest(rest.substr(head.headBytes), head), ParseStatus::NeedMore);
}

TEST(Http1RequestTest, SkipsLeadingEmptyLinesAndCountsThemInHeadBytes) {
  const std::string text = "\r\n\r\n" + getWith({});
  RequestHead head;
  ASSERT_EQ(parseRequest(text, head), ParseStatus::Complete);
  EXPECT_EQ(head.method, "GET");
  EXPECT_EQ(head.headBytes, text.size());
  EXPECT_EQ(parseRequest("\r\n\n" + getWith({})), ParseStatus::BareLineEnding);
  EXPECT_EQ(parseRequest("\r\r\n" + getWith({})), ParseStatus::BareLineEnding);
  EXPECT_EQ(parseRequest("\n" + getWith({})), ParseStatus::BareLineEnding);
}

TEST(Http1RequestTest, RejectsMalformedRequestLines) {
  expectRequestCases({
      {request("GET  / HTTP/1.1", {"Host: h"}), ParseStatus::BadRequestLine, 400},
      {request("GET /  HTTP/1.1", {"Host: h"}), ParseStatus::BadRequestLine, 400},
      {request(" GET / HTTP/1.1", {"Host: h"}), ParseStatus::BadRequestLine, 400},
      {request("GET / HTTP/1.1 ", {"Host: h"}), ParseStatus::BadRequestLine, 400},
      {request("GET\t/ HTTP/1.1", {"Host: h"}), ParseStatus::BadRequestLine, 400},
      {request("GET /\tx HTTP/1.1", {"Host: h"}), ParseStatus::BadRequestLine, 400},
      {request("GET HTTP/1.1", {"Host: h"}), ParseStatus::BadRequestLine, 400},
      {request("GET /", {"Host: h"}), ParseStatus::BadRequestLine, 400},
      {request("G(T / HTTP/1.1", {"Host: h"}), ParseStatus::BadRequestLine, 400},
      {request("GÉT / HTTP/1.1", {"Host: h"}), ParseStatus::BadRequestLine, 400},
      {request("GET /\x01 HTTP/1.1", {"Host: h"}), ParseStatus::BadRequestLine, 400},
      {request("GET /\x7f HTTP/1.1", {"Host: h"}), ParseStatus::BadRequestLine, 400},
      {request("GET /\0 HTTP/1.1"s, {"Host: h"}), ParseStatus::BadRequestLine, 400},
      {request("GET /#fragment HTTP/1.1", {"Host: h"}), ParseStatus::BadRequestLine, 400},
      {request("GET / http/1.1", {"Host: h"}), ParseStatus::BadRequestLine, 400},
      {request("GET / HTTP/1", {"Host: h"}), ParseStatus::BadRequestLine, 400},
      {request("GET / HTTP/1.10", {"Host: h"}), ParseStatus::BadRequestLine, 400},
      {request("GET / HTTP/1.x", {"Host: h"}), ParseStatus::BadRequestLine, 400},
      {request("GET / HTTPS/1.1", {"Host: h"}), ParseStatus::BadRequestLine, 400},
  });
}

TEST(Http1RequestTest, RejectsOtherHttpVersionsWith505) {
  expectRequestCases({
      {request("GET / HTTP/2.0", {"Host: h"}), ParseStatus::UnsupportedVersion, 505},
      {request("GET / HTTP/1.2", {"Host: h"}), ParseStatus::UnsupportedVersion, 505},
      {request("GET / HTTP/0.9", {"Host: h"}), ParseStatus::UnsupportedVersion, 505},
      {"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", ParseStatus::UnsupportedVersion, 505},
  });
}

TEST(Http1RequestTest, AcceptsAsteriskFormOnlyForOptions) {
  RequestHead head;
  ASSERT_EQ(parseRequest(request("OPTIONS * HTTP/1.1", {"Host: h"}), head), ParseStatus::Complete);
  EXPECT_EQ(head.target, "*");
  EXPECT_EQ(head.path, "*");
  expectRequestCases({{request("GET * HTTP/1.1", {"Host: h"}), ParseStatus::BadRequestLine, 400}});
}

TEST(Http1RequestTest, AcceptsAuthorityFormOnlyForConnect) {
  RequestHead head;
  ASSERT_EQ(
      parseRequest(request("CONNECT db.internal:5432 HTTP/1.1", {"Host: db.internal:5432"}), head),
      ParseStatus::Complete);
  EXPECT_EQ(head.target, "db.internal:5432");
  EXPECT_EQ(head.host, "db.internal:5432");
  EXPECT_EQ(head.path, "");
  ASSERT_EQ(parseRequest(request("CONNECT [::1]:443 HTTP/1.1", {"Host: [::1]:443"}), head),
            ParseStatus::Complete);
  EXPECT_EQ(head.host, "[::1]:443");
  expectRequestCases({
      {request("GET db.internal:5432 HTTP/1.1", {"Host: h"}), ParseStatus::BadRequestLine, 400},
      {request("CONNECT / HTTP/1.1", {"Host: h"}), ParseStatus::BadRequestLine, 400},
      {request("CONNECT db.internal HTTP/1.1", {"Host: h"}), ParseStatus::BadRequestLine, 400},
      {request("CONNECT db.internal: HTTP/1.1", {"Host: h"}), ParseStatus::BadRequestLine, 400},
      {request("CONNECT :443 HTTP/1.1", {"Host: h"}), ParseStatus::BadRequestLine, 400},
      {request("CONNECT u@db:443 HTTP/1.1", {"Host: h"}), ParseStatus::BadRequestLine, 400},
      {request("CONNECT http://db:443/ HTTP/1.1", {"Host: h"}), ParseStatus::BadRequestLine, 400},
  });
}

TEST(Http1RequestTest, TakesHostPathAndQueryFromAnAbsoluteFormTarget) {
  RequestHead head;
  ASSERT_EQ(parseRequest(request("GET http://api.example.com:8080/v1/items?id=7 HTTP/1.1",
                                 {"Host: ignored.example.com"}),
                         head),
            ParseStatus::Complete);
  EXPECT_EQ(head.target, "http://api.example.com:8080/v1/items?id=7");
  EXPECT_EQ(head.host, "api.example.com:8080");
  EXPECT_EQ(head.path, "/v1/items");
  EXPECT_EQ(head.query, "id=7");

  ASSERT_EQ(parseRequest(request("GET HTTPS://Example.com HTTP/1.1", {"Host: x"}), head),
            ParseStatus::Complete);
  EXPECT_EQ(head.host, "Example.com");
  EXPECT_EQ(head.path, "/");
  EXPECT_EQ(head.query, "");

  ASSERT_EQ(parseRequest(request("GET http://example.com?a=b HTTP/1.1", {"Host: x"}), head),
            ParseStatus::Complete);
  EXPECT_EQ(head.host, "example.com");
  EXPECT_EQ(head.path, "/");
  EXPECT_EQ(head.query, "a=b");

  // HTTP/1.0 needs no Host header; the authority still names the host.
  ASSERT_EQ(parseRequest(request("GET http://old.example.com/x HTTP/1.0", {}), head),
            ParseStatus::Complete);
  EXPECT_EQ(head.host, "old.example.com");
}

TEST(Http1RequestTest, RejectsAbsoluteFormWithOtherSchemesUserinfoOrNoAuthority) {
  expectRequestCases({
      {request("GET ftp://example.com/ HTTP/1.1", {"Host: h"}), ParseStatus::BadRequestLine, 400},
      {request("GET http://user@evil.example/ HTTP/1.1", {"Host: h"}), ParseStatus::BadRequestLine,
       400},
      {request("GET http:/// HTTP/1.1", {"Host: h"}), ParseStatus::BadRequestLine, 400},
      {request("GET http:// HTTP/1.1", {"Host: h"}), ParseStatus::BadRequestLine, 400},
      {request("GET example.com/x HTTP/1.1", {"Host: h"}), ParseStatus::BadRequestLine, 400},
  });
}

TEST(Http1RequestTest, RejectsWhitespaceBeforeTheColonAndInvalidHeaderNames) {
  expectRequestCases({
      {getWith({"Content-Length : 5"}), ParseStatus::BadHeaderName, 400},
      {getWith({"Transfer-Encoding\t: chunked"}), ParseStatus::BadHeaderName, 400},
      {getWith({"X Y: z"}), ParseStatus::BadHeaderName, 400},
      {getWith({": no-name"}), ParseStatus::BadHeaderName, 400},
      {getWith({"NoColonHere"}), ParseStatus::BadHeaderName, 400},
      {getWith({"X(Y): z"}), ParseStatus::BadHeaderName, 400},
      {getWith({"X\xc3\xa9: z"}), ParseStatus::BadHeaderName, 400},
      {getWith({"X\x01: z"}), ParseStatus::BadHeaderName, 400},
  });
}

TEST(Http1RequestTest, RejectsControlCharactersInHeaderValues) {
  expectRequestCases({
      {getWith({"X: a\x01z"}), ParseStatus::BadHeaderValue, 400},
      {getWith({"X: a\x7fz"}), ParseStatus::BadHeaderValue, 400},
      {getWith({"X: a\x1b[31m"}), ParseStatus::BadHeaderValue, 400},
      {getWith({"X: a\0z"s}), ParseStatus::BadHeaderValue, 400},
      {getWith({"X: \x0b"}), ParseStatus::BadHeaderValue, 400},
  });
}

TEST(Http1RequestTest, RejectsObsoleteLineFolding) {
  expectRequestCases({
      {getWith({"X-Folded: a", " continued"}), ParseStatus::ObsFold, 400},
      {getWith({"X-Folded: a", "\tcontinued"}), ParseStatus::ObsFold, 400},
      {"GET / HTTP/1.1\r\n Host: h\r\n\r\n", ParseStatus::ObsFold, 400},
      {getWith({"Transfer-Encoding: gzip,", " chunked"}), ParseStatus::ObsFold, 400},
  });
}

TEST(Http1RequestTest, RejectsBareCarriageReturnsAndLineFeeds) {
  expectRequestCases({
      {"GET / HTTP/1.1\nHost: h\r\n\r\n", ParseStatus::BareLineEnding, 400},
      {"GET / HTTP/1.1\r\nHost: h\n\r\n", ParseStatus::BareLineEnding, 400},
      {"GET / HTTP/1.1\r\nHost: h\r\n\n", ParseStatus::BareLineEnding, 400},
      {"GET / HTTP/1.1\nHost: h\n\n", ParseStatus::BareLineEnding, 400},
      {"GET / HTTP/1.1\r\nHost: h\rX: y\r\n\r\n", ParseStatus::BareLineEnding, 400},
      {"GET / HTTP/1.1\r\nHost: h\r\r\n\r\n", ParseStatus::BareLineEnding, 400},
      {"GET / HTTP/1.1\r\nX\r: y\r\nHost: h\r\n\r\n", ParseStatus::BareLineEnding, 400},
      {"GET / HTTP/1.1\r\n\rX: y\r\nHost: h\r\n\r\n", ParseStatus::BareLineEnding, 400},
      {"GET /\r HTTP/1.1\r\nHost: h\r\n\r\n", ParseStatus::BareLineEnding, 400},
      {"GET / HTTP/1.1\r\r\nHost: h\r\n\r\n", ParseStatus::BareLineEnding, 400},
      {"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\rContent-Length: 5\r\nHost: h\r\n\r\n",
       ParseStatus::BareLineEnding, 400},
  });
}

TEST(Http1RequestTest, AcceptsStrictContentLengthValues) {
  RequestHead head;
  const std::vector<std::pair<std::string, uint64_t>> values = {
      {"0", 0},
      {"42", 42},
      {"007", 7},
      {" 12 ", 12},
      {"9223372036854775807", 9223372036854775807u}};
  for (const auto& [value, expected] : values) {
    ASSERT_EQ(parseRequest(getWith({"Content-Length:" + value}), head), ParseStatus::Complete)
        << value;
    EXPECT_EQ(head.framing, BodyFraming::ContentLength);
    EXPECT_EQ(head.contentLength, expected);
  }
}

TEST(Http1RequestTest, RejectsNonNumericOrOverflowingContentLength) {
  expectRequestCases({
      {getWith({"Content-Length:"}), ParseStatus::BadContentLength, 400},
      {getWith({"Content-Length: -1"}), ParseStatus::BadContentLength, 400},
      {getWith({"Content-Length: +1"}), ParseStatus::BadContentLength, 400},
      {getWith({"Content-Length: 1.0"}), ParseStatus::BadContentLength, 400},
      {getWith({"Content-Length: 0x10"}), ParseStatus::BadContentLength, 400},
      {getWith({"Content-Length: 1 2"}), ParseStatus::BadContentLength, 400},
      {getWith({"Content-Length: 5,5"}), ParseStatus::BadContentLength, 400},
      {getWith({"Content-Length: 5, 5"}), ParseStatus::BadContentLength, 400},
      {getWith({"Content-Length: 5, 6"}), ParseStatus::BadContentLength, 400},
      {getWith({"Content-Length: 9223372036854775808"}), ParseStatus::BadContentLength, 400},
      {getWith({"Content-Length: 18446744073709551616"}), ParseStatus::BadContentLength, 400},
      {getWith({"Content-Length: 99999999999999999999999"}), ParseStatus::BadContentLength, 400},
  });
}

TEST(Http1RequestTest, RejectsDuplicateContentLengthEvenWithEqualValues) {
  expectRequestCases({
      {getWith({"Content-Length: 5", "Content-Length: 5"}), ParseStatus::DuplicateContentLength,
       400},
      {getWith({"Content-Length: 5", "content-length: 6"}), ParseStatus::DuplicateContentLength,
       400},
      {getWith({"CONTENT-LENGTH: 0", "X: y", "Content-Length: 0"}),
       ParseStatus::DuplicateContentLength, 400},
  });
}

TEST(Http1RequestTest, RejectsContentLengthWithTransferEncoding) {
  expectRequestCases({
      {getWith({"Content-Length: 5", "Transfer-Encoding: chunked"}),
       ParseStatus::ContentLengthWithTransferEncoding, 400},
      {getWith({"Transfer-Encoding: chunked", "Content-Length: 5"}),
       ParseStatus::ContentLengthWithTransferEncoding, 400},
      {getWith({"transfer-encoding: gzip, chunked", "content-length: 0"}),
       ParseStatus::ContentLengthWithTransferEncoding, 400},
  });
}

TEST(Http1RequestTest, AcceptsChunkedTransferEncodingCaseInsensitively) {
  for (const std::string value : {"chunked", "Chunked", "CHUNKED", " chunked ", ", chunked"}) {
    RequestHead head;
    ASSERT_EQ(parseRequest(getWith({"Transfer-Encoding:" + value}), head), ParseStatus::Complete)
        << value;
    EXPECT_EQ(head.framing, BodyFraming::Chunked);
  }
}

TEST(Http1RequestTest, RejectsTransferEncodingUnlessChunkedIsLastAndOnlyOnce) {
  expectRequestCases({
      {getWith({"Transfer-Encoding: chunked, chunked"}), ParseStatus::BadTransferEncoding, 400},
      {getWith({"Transfer-Encoding: chunked", "Transfer-Encoding: chunked"}),
       ParseStatus::BadTransferEncoding, 400},
      {getWith({"Transfer-Encoding: chunked, gzip"}), ParseStatus::BadTransferEncoding, 400},
      {getWith({"Transfer-Encoding: chunked", "Transfer-Encoding: gzip"}),
       ParseStatus::BadTransferEncoding, 400},
      {getWith({"Transfer-Encoding: gzip"}), ParseStatus::BadTransferEncoding, 400},
      {getWith({"Transfer-Encoding: identity"}), ParseStatus::BadTransferEncoding, 400},
      {getWith({"Transfer-Encoding:"}), ParseStatus::BadTransferEncoding, 400},
      {getWith({"Transfer-Encoding: ,"}), ParseStatus::BadTransferEncoding, 400},
      {getWith({"Transfer-Encoding: xchunked"}), ParseStatus::BadTransferEncoding, 400},
      {getWith({"Transfer-Encoding: chunk"}), ParseStatus::BadTransferEncoding, 400},
      {getWith({"Transfer-Encoding: chunked;ext=1"}), ParseStatus::BadTransferEncoding, 400},
      {getWith({"Transfer-Encoding: \"chunked\""}), ParseStatus::BadTransferEncoding, 400},
      {getWith({"Transfer-Encoding: chun ked"}), ParseStatus::BadTransferEncoding, 400},
      {getWith({"Transfer-Encoding: \xff"
                "chunked"}),
       ParseStatus::BadTransferEncoding, 400},
  });
}

TEST(Http1RequestTest, RejectsUnsupportedTransferCodingsBeforeChunkedWith501) {
  expectRequestCases({
      {getWith({"Transfer-Encoding: gzip, chunked"}), ParseStatus::UnknownTransferCoding, 501},
      {getWith({"Transfer-Encoding: gzip", "Transfer-Encoding: chunked"}),
       ParseStatus::UnknownTransferCoding, 501},
      {getWith({"Transfer-Encoding: x-custom;q=1, chunked"}), ParseStatus::UnknownTransferCoding,
       501},
  });
}

TEST(Http1RequestTest, RejectsTransferEncodingInHttp10Requests) {
  expectRequestCases({
      {request("POST / HTTP/1.0", {"Transfer-Encoding: chunked"}), ParseStatus::BadTransferEncoding,
       400},
      {request("POST / HTTP/1.0", {"Host: h", "Transfer-Encoding: chunked"}),
       ParseStatus::BadTransferEncoding, 400},
  });
}

TEST(Http1RequestTest, RequiresExactlyOneHostInHttp11) {
  expectRequestCases({
      {request("GET / HTTP/1.1", {}), ParseStatus::MissingHost, 400},
      {request("GET / HTTP/1.1", {"Host: a", "Host: a"}), ParseStatus::MissingHost, 400},
      {request("GET / HTTP/1.1", {"Host: a", "host: b"}), ParseStatus::MissingHost, 400},
      {request("GET http://a/ HTTP/1.1", {}), ParseStatus::MissingHost, 400},
      {request("GET / HTTP/1.0", {"Host: a", "Host: b"}), ParseStatus::MissingHost, 400},
      {request("GET / HTTP/1.1", {"Host:"}), ParseStatus::Complete, 0},
  });
}

TEST(Http1RequestTest, RejectsHostValuesThatAreNotAnAuthority) {
  expectRequestCases({
      {request("GET / HTTP/1.1", {"Host: a b"}), ParseStatus::BadHeaderValue, 400},
      {request("GET / HTTP/1.1", {"Host: a/b"}), ParseStatus::BadHeaderValue, 400},
      {request("GET / HTTP/1.1", {"Host: user@a"}), ParseStatus::BadHeaderValue, 400},
      {request("GET / HTTP/1.1", {"Host: a?b"}), ParseStatus::BadHeaderValue, 400},
      {request("GET / HTTP/1.1", {"Host: caf\xc3\xa9"}), ParseStatus::BadHeaderValue, 400},
      {request("GET / HTTP/1.0", {"Host: a\tb"}), ParseStatus::BadHeaderValue, 400},
      {request("GET / HTTP/1.1", {"Host: Shop-1.example.com:8443"}), ParseStatus::Complete, 0},
      {request("GET / HTTP/1.1", {"Host: [2001:db8::1]:443"}), ParseStatus::Complete, 0},
      {request("GET / HTTP/1.1", {"Host: xn--caf-dma.example"}), ParseStatus::Complete, 0},
  });
}

TEST(Http1RequestTest, LetsHttp10OmitTheHost) {
  RequestHead head;
  ASSERT_EQ(parseRequest(request("GET /old HTTP/1.0", {}), head), ParseStatus::Complete);
  EXPECT_EQ(head.versionMinor, 0u);
  EXPECT_EQ(head.host, "");
  ASSERT_EQ(parseRequest(request("GET /old HTTP/1.0", {"Host: legacy"}), head),
            ParseStatus::Complete);
  EXPECT_EQ(head.host, "legacy");
}

TEST(Http1RequestTest, KeepsHttp11AliveUnlessConnectionClose) {
  RequestHead head;
  const std::vector<std::pair<std::vector<std::string>, bool>> cases = {
      {{}, true},
      {{"Connection: close"}, false},
      {{"Connection: CLOSE"}, false},
      {{"Connection: keep-alive, Close"}, false},
      {{"Connection: te", "Connection: close"}, false},
      {{"Connection: closed"}, true},
      {{"Connection: x-close"}, true},
      {{"Connection: keep-alive"}, true},
  };
  for (const auto& [headers, keepAlive] : cases) {
    ASSERT_EQ(parseRequest(getWith(headers), head), ParseStatus::Complete);
    EXPECT_EQ(head.keepAlive, keepAlive) << testing::PrintToString(headers);
  }
}

TEST(Http1RequestTest, KeepsHttp10AliveOnlyWithKeepAlive) {
  RequestHead head;
  const std::vector<std::pair<std::vector<std::string>, bool>> cases = {
      {{}, false},
      {{"Connection: keep-alive"}, true},
      {{"Connection: Keep-Alive"}, true},
      {{"Connection: foo, keep-alive"}, true},
      {{"Connection: foo", "Connection: keep-alive"}, true},
      {{"Connection: keep-alive, close"}, false},
      {{"Connection: keep-alive-ish"}, false},
      {{"Keep-Alive: timeout=5"}, false},
  };
  for (const auto& [headers, keepAlive] : cases) {
    ASSERT_EQ(parseRequest(request("GET / HTTP/1.0", headers), head), ParseStatus::Complete);
    EXPECT_EQ(head.keepAlive, keepAlive) << testing::PrintToString(headers);
  }
}

TEST(Http1RequestTest, RecognizesExpect100ContinueInHttp11Only) {
  RequestHead head;
  ASSERT_EQ(parseRequest(getWith({"Expect: 100-continue"}), head), ParseStatus::Complete);
  EXPECT_TRUE(head.expectContinue);
  ASSERT_EQ(parseRequest(getWith({"expect:  100-Continue "}), head), ParseStatus::Complete);
  EXPECT_TRUE(head.expectContinue);
  ASSERT_EQ(parseRequest(getWith({"Expect: 100-continued"}), head), ParseStatus::Complete);
  EXPECT_FALSE(head.expectContinue);
  ASSERT_EQ(parseRequest(request("POST / HTTP/1.0", {"Expect: 100-continue"}), head),
            ParseStatus::Complete);
  EXPECT_FALSE(head.expectContinue);
}

TEST(Http1RequestTest, FlagsUpgradeOnlyWithConnectionTokenAndUpgradeHeader) {
  RequestHead head;
  const std::vector<std::pair<std::vector<std::string>, bool>> cases = {
      {{"Connection: Upgrade", "Upgrade: websocket"}, true},
      {{"Connection: keep-alive, UPGRADE", "Upgrade: websocket"}, true},
      {{"Connection: keep-alive", "connection: upgrade", "Upgrade: h2c"}, true},
      {{"Upgrade: websocket"}, false},
      {{"Connection: upgrade"}, false},
      {{"Connection: upgraded", "Upgrade: websocket"}, false},
  };
  for (const auto& [headers, upgrade] : cases) {
    ASSERT_EQ(parseRequest(getWith(headers), head), ParseStatus::Complete);
    EXPECT_EQ(head.upgrade, upgrade) << testing::PrintToString(headers);
  }
}

// Small limits keep the boundary inputs readable.
constexpr Limits kSmallLimits{.maxRequestLineBytes = 32, .maxHeadBytes = 128, .maxHeaders = 4};

TEST(Http1RequestTest, AcceptsARequestLineExactlyAtTheLimitAndRejectsOneByteMore) {
  const std::string atLimit = "GET /" + std::string(32 - 14, 'a') + " HTTP/1.1";
  ASSERT_EQ(atLimit.size(), 32u);
  EXPECT_EQ(parseRequest(request(atLimit, {"Host: h"}), kSmallLimits), ParseStatus::Complete);
  const std::string overLimit = "GET /" + std::string(32 - 13, 'a') + " HTTP/1.1";
  const ParseStatus status = parseRequest(request(overLimit, {"Host: h"}), kSmallLimits);
  EXPECT_EQ(status, ParseStatus::RequestLineTooLong);
  EXPECT_EQ(statusFor(status), 414u);
}

TEST(Http1RequestTest, RejectsAnIncompleteRequestLineAsSoonAsItExceedsTheLimit) {
  const std::string line = "GET /" + std::string(100, 'a');
  EXPECT_EQ(parseRequest(line.substr(0, 32), kSmallLimits), ParseStatus::NeedMore);
  EXPECT_EQ(parseRequest(line.substr(0, 32) + "\r", kSmallLimits), ParseStatus::NeedMore);
  EXPECT_EQ(parseRequest(line.substr(0, 33), kSmallLimits), ParseStatus::RequestLineTooLong);
  EXPECT_EQ(parseRequest(line.substr(0, 32) + "\r\r", kSmallLimits),
            ParseStatus::RequestLineTooLong);
  // Leading empty lines do not count as part of the request line.
  EXPECT_EQ(parseRequest("\r\n" + line.substr(0, 32), kSmallLimits), ParseStatus::NeedMore);
  EXPECT_EQ(parseRequest("\r\n" + line.substr(0, 33), kSmallLimits),
            ParseStatus::RequestLineTooLong);
}

// A complete request whose head is exactly `size` bytes, padded with one header.
std::string requestOfHeadSize(size_t size) {
  const std::string prefix = "GET / HTTP/1.1\r\nHost: h\r\nX: ";
  return prefix + std::string(size - prefix.size() - 4, 'v') + "\r\n\r\n";
}

TEST(Http1RequestTest, AcceptsAHeadExactlyAtTheLimitAndRejectsOneByteMore) {
  RequestHead head;
  ASSERT_EQ(parseRequest(requestOfHeadSize(128), head, kSmallLimits), ParseStatus::Complete);
  EXPECT_EQ(head.headBytes, 128u);
  const ParseStatus status = parseRequest(requestOfHeadSize(129), head, kSmallLimits);
  EXPECT_EQ(status, ParseStatus::HeadTooLarge);
  EXPECT_EQ(statusFor(status), 431u);
  // Leading empty lines count against the head size.
  EXPECT_EQ(parseRequest("\r\n" + requestOfHeadSize(126), kSmallLimits), ParseStatus::Complete);
  EXPECT_EQ(parseRequest("\r\n" + requestOfHeadSize(127), kSmallLimits), ParseStatus::HeadTooLarge);
}

TEST(Http1RequestTest, RejectsAnIncompleteHeadAsSoonAsItExceedsTheLimit) {
  const std::string endless = requestOfHeadSize(400).substr(0, 300);
  EXPECT_EQ(parseRequest(endless.substr(0, 128), kSmallLimits), ParseStatus::NeedMore);
  EXPECT_EQ(parseRequest(endless.substr(0, 129), kSmallLimits), ParseStatus::HeadTooLarge);
  // A head whose blank line would end just past the limit.
  const std::string full = requestOfHeadSize(129);
  EXPECT_EQ(parseRequest(full.substr(0, 128), kSmallLimits), ParseStatus::NeedMore);
  EXPECT_EQ(parseRequest(full, kSmallLimits), ParseStatus::HeadTooLarge);
  // Endless leading empty lines are bounded too.
  std::string emptyLines;
  for (int i = 0; i < 64; ++i)
    emptyLines += "\r\n";
  EXPECT_EQ(parseRequest(emptyLines, kSmallLimits), ParseStatus::NeedMore);
  EXPECT_EQ(parseRequest(emptyLines + "\r\n", kSmallLimits), ParseStatus::HeadTooLarge);
}

TEST(Http1RequestTest, AcceptsExactlyMaxHeadersAndRejectsOneMore) {
  RequestHead head;
  EXPECT_EQ(parseRequest(getWith({"A: 1", "B: 2", "C: 3"}), head, kSmallLimits),
            ParseStatus::Complete);
  EXPECT_EQ(head.headers.size(), 4u);
  const ParseStatus status = parseRequest(getWith({"A: 1", "B: 2", "C: 3", "D: 4"}), kSmallLimits);
  EXPECT_EQ(status, ParseStatus::TooManyHeaders);
  EXPECT_EQ(statusFor(status), 431u);
  // Counted before the head is complete.
  const std::string incomplete = "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\n";
  EXPECT_EQ(parseRequest(incomplete.substr(0, incomplete.size() - 6), kSmallLimits),
            ParseStatus::NeedMore);
  EXPECT_EQ(parseRequest(incomplete.substr(0, incomplete.size() - 5), kSmallLimits),
            ParseStatus::TooManyHeaders);
}

TEST(Http1RequestTest, ReusesTheHeaderVectorCapacityAcrossCalls) {
  const std::string text = getWith({"A: 1", "B: 2", "C: 3", "D: 4", "E: 5", "F: 6", "G: 7"});
  RequestHead head;
  ASSERT_EQ(parseRequest(text, head), ParseStatus::Complete);
  const size_t capacity = head.headers.capacity();
  const Header* storage = head.headers.data();
  ASSERT_EQ(head.headers.size(), 8u);
  ASSERT_EQ(parseRequest(text, head), ParseStatus::Complete);
  EXPECT_EQ(head.headers.capacity(), capacity);
  EXPECT_EQ(head.headers.data(), storage);
  EXPECT_EQ(head.headers.size(), 8u);
  // An error or NeedMore keeps the capacity as well, and the next parse starts clean.
  EXPECT_EQ(parseRequest("GET / HT", head), ParseStatus::NeedMore);
  EXPECT_TRUE(head.headers.empty());
  EXPECT_EQ(head.headers.capacity(), capacity);
}

TEST(Http1RequestTest, ResetsEveryFieldBetweenParses) {
  RequestHead head;
  ASSERT_EQ(parseRequest(request("POST /a?b HTTP/1.1",
                                 {"Host: h", "Content-Length: 9", "Connection: close, upgrade",
                                  "Upgrade: x", "Expect: 100-continue"}),
                         head),
            ParseStatus::Complete);
  ASSERT_EQ(parseRequest(request("GET /c HTTP/1.1", {"Host: i"}), head), ParseStatus::Complete);
  EXPECT_EQ(head.query, "");
  EXPECT_EQ(head.framing, BodyFraming::None);
  EXPECT_EQ(head.contentLength, 0u);
  EXPECT_TRUE(head.keepAlive);
  EXPECT_FALSE(head.upgrade);
  EXPECT_FALSE(head.expectContinue);
}

TEST(Http1ParserTest, MapsEveryStatusToItsHttpStatusAndAPhrase) {
  const std::vector<std::pair<ParseStatus, unsigned>> cases = {
      {ParseStatus::Complete, 0},
      {ParseStatus::NeedMore, 0},
      {ParseStatus::BadRequestLine, 400},
      {ParseStatus::UnsupportedVersion, 505},
      {ParseStatus::BadStatusLine, 502},
      {ParseStatus::BadHeaderName, 400},
      {ParseStatus::BadHeaderValue, 400},
      {ParseStatus::ObsFold, 400},
      {ParseStatus::BareLineEnding, 400},
      {ParseStatus::RequestLineTooLong, 414},
      {ParseStatus::HeadTooLarge, 431},
      {ParseStatus::TooManyHeaders, 431},
      {ParseStatus::BadContentLength, 400},
      {ParseStatus::DuplicateContentLength, 400},
      {ParseStatus::ContentLengthWithTransferEncoding, 400},
      {ParseStatus::BadTransferEncoding, 400},
      {ParseStatus::UnknownTransferCoding, 501},
      {ParseStatus::MissingHost, 400},
  };
  for (const auto& [status, http] : cases) {
    EXPECT_EQ(statusFor(status), http) << describe(status);
    EXPECT_FALSE(describe(status).empty());
    for (const char c : describe(status))
      EXPECT_FALSE(c >= 'A' && c <= 'Z') << describe(status);
  }
  EXPECT_EQ(describe(ParseStatus::ContentLengthWithTransferEncoding),
            "content-length with transfer-encoding");
}

TEST(Http1ParserTest, ComparesAsciiCaseInsensitively) {
  EXPECT_TRUE(equalsIgnoreCase("Content-Length", "content-LENGTH"));
  EXPECT_FALSE(equalsIgnoreCase("Content-Length", "Content-Lengt"));
  EXPECT_FALSE(equalsIgnoreCase("a", "\xc1"));  // no folding outside ASCII
  EXPECT_TRUE(equalsIgnoreCase("", ""));
}

// Parses from an allocation of exactly the input's size, so a sanitizer build catches any read
// past the end (a std::string would hide a one-byte overread behind its terminator).
template <typename Parse>
ParseStatus parseExactBuffer(std::string_view text, Parse&& parse) {
  const auto copy = std::make_unique<char[]>(text.size());
  std::memcpy(copy.get(), text.data(), text.size());
  return parse(std::string_view(copy.get(), text.size()));
}

TEST(Http1ParserTest, StaysInsideTheBufferForEveryPrefixAndSingleByteMutation) {
  const std::vector<std::string> seeds = {
      "\r\n" + request("POST http://h:1/a?b HTTP/1.1",
                       {"Host: h", "Transfer-Encoding: chunked", "Connection: upgrade"}),
      request("CONNECT h:443 HTTP/1.0", {"Content-Length: 12"}),
      "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nX:\r\n\r\n",
  };
  const std::string replacements("\r\n :\t\0a,\x7f\xff", 10);
  RequestHead requestHead;
  ResponseHead responseHead;
  const auto parseBoth = [&](std::string_view text) {
    const ParseStatus request = parseExactBuffer(
        text, [&](std::string_view b) { return parseRequestHead(b, Limits{}, requestHead); });
    if (request == ParseStatus::Complete) {
      EXPECT_LE(requestHead.headBytes, text.size());
    }
    const ParseStatus response = parseExactBuffer(text, [&](std::string_view b) {
      return parseResponseHead(b, "GET", Limits{}, responseHead);
    });
    if (response == ParseStatus::Complete) {
      EXPECT_LE(responseHead.headBytes, text.size());
    }
  };
  for (const auto& seed : seeds) {
    for (size_t length = 0; length <= seed.size(); ++length) {
      parseBoth(std::string_view(seed).substr(0, length));
    }
    for (size_t i = 0; i < seed.size(); ++i) {
      for (const char replacement : replacements) {
        std::string mutated = seed;
        mutated[i] = replacement;
        parseBoth(mutated);
        parseBoth(std::string_view(mutated).substr(0, i + 1));
      }
    }
  }
}

// Responses.

TEST(Http1ResponseTest, ParsesStatusLineAndReason) {
  ResponseHead head;
  ASSERT_EQ(parseResponse("HTTP/1.1 404 Not Found Here\r\nContent-Length: 0\r\n\r\n", head),
            ParseStatus::Complete);
  EXPECT_EQ(head.status, 404u);
  EXPECT_EQ(head.reason, "Not Found Here");
  EXPECT_EQ(head.versionMinor, 1u);
  ASSERT_EQ(head.headers.size(), 1u);

  ASSERT_EQ(parseResponse("HTTP/1.0 200 \r\nContent-Length: 0\r\n\r\n", head),
            ParseStatus::Complete);
  EXPECT_EQ(head.status, 200u);
  EXPECT_EQ(head.reason, "");
  EXPECT_EQ(head.versionMinor, 0u);

  ASSERT_EQ(parseResponse("HTTP/1.1 204\r\n\r\n", head), ParseStatus::Complete);
  EXPECT_EQ(head.status, 204u);
  EXPECT_EQ(head.reason, "");
  EXPECT_EQ(head.headBytes, 16u);

  ASSERT_EQ(parseResponse("HTTP/1.1 999 Whatever\r\n\r\n", head), ParseStatus::Complete);
  EXPECT_EQ(head.status, 999u);
}

TEST(Http1ResponseTest, RejectsMalformedStatusLinesWith502) {
  const std::vector<std::string> lines = {
      "HTTP/1.1 20 OK",
      "HTTP/1.1 2000 OK",
      "HTTP/1.1 099 Low",
      "HTTP/1.1 000 Zero",
      "HTTP/1.1 abc OK",
      "HTTP/1.1  200 OK",
      "HTTX/1.1 200 OK",
      "HTTP/1.1 200\tOK",
      "HTTP/1.1",
      "HTTP/1.1 ",
      "",
      "HTTP/1.1 200 O\x01K",
      "http/1.1 200 OK",
      "HTTP/1.1 2OO OK",
      "HTTP/1.1 -20 OK",
      "HTTP/1.1 200 OK\x7f",
  };
  for (const auto& line : lines) {
    ResponseHead head;
    const ParseStatus status = parseResponse(line + "\r\nContent-Length: 0\r\n\r\n", head);
    EXPECT_EQ(status, ParseStatus::BadStatusLine) << testing::PrintToString(line);
    EXPECT_EQ(statusFor(status), 502u);
  }
  ResponseHead head;
  EXPECT_EQ(parseResponse("HTTP/2.0 200 OK\r\n\r\n", head), ParseStatus::UnsupportedVersion);
  EXPECT_EQ(parseResponse("HTTP/1.1 200 O\rK\r\n\r\n", head), ParseStatus::BareLineEnding);
}

TEST(Http1ResponseTest, AppliesTheSameHeaderRulesAsRequests) {
  const std::vector<std::pair<std::string, ParseStatus>> cases = {
      {"Content-Length: 5\r\nTransfer-Encoding: chunked",
       ParseStatus::ContentLengthWithTransferEncoding},
      {"Content-Length: 5\r\nContent-Length: 5", ParseStatus::DuplicateContentLength},
      {"Content-Length: 5, 5", ParseStatus::BadContentLength},
      {"Content-Length: -5", ParseStatus::BadContentLength},
      {"Transfer-Encoding: chunked, gzip", ParseStatus::BadTransferEncoding},
      {"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked",
       ParseStatus::BadTransferEncoding},
      {"Transfer-Encoding:", ParseStatus::BadTransferEncoding},
      {"Server : x", ParseStatus::BadHeaderName},
      {"Server: a\x01", ParseStatus::BadHeaderValue},
      {"Server: a\r\n b", ParseStatus::ObsFold},
      {"Server: a\nX: b", ParseStatus::BareLineEnding},
  };
  for (const auto& [headers, expected] : cases) {
    ResponseHead head;
    EXPECT_EQ(parseResponse("HTTP/1.1 200 OK\r\n" + headers + "\r\n\r\n", head), expected)
        << testing::PrintToString(headers);
    // Conflicting framing is refused even where the status means there is no body.
    EXPECT_EQ(parseResponse("HTTP/1.1 304 Not Modified\r\n" + headers + "\r\n\r\n", head, "GET"),
              expected)
        << testing::PrintToString(headers);
  }
}

struct FramingCase {
  std::string method;
  std::string head;
  BodyFraming framing;
  uint64_t contentLength;
  bool keepAlive;
  bool upgrade;
};

TEST(Http1ResponseTest, DecidesBodyFramingAsRfc9112Section63) {
  const std::vector<FramingCase> cases = {
      {"GET", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n", BodyFraming::ContentLength, 5, true,
       false},
      {"HEAD", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n", BodyFraming::None, 5, true, false},
      {"HEAD", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n", BodyFraming::None, 0, true,
       false},
      {"GET", "HTTP/1.1 204 No Content\r\n", BodyFraming::None, 0, true, false},
      {"GET", "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n", BodyFraming::None, 10, true,
       false},
      {"POST", "HTTP/1.1 100 Continue\r\n", BodyFraming::None, 0, true, false},
      {"GET", "HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n", BodyFraming::None, 0, true, false},
      {"GET", "HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: websocket\r\n",
       BodyFraming::None, 0, true, true},
      {"CONNECT", "HTTP/1.1 200 Connection Established\r\n", BodyFraming::None, 0, true, false},
      {"CONNECT", "HTTP/1.1 407 Proxy Auth\r\nContent-Length: 3\r\n", BodyFraming::ContentLength, 3,
       true, false},
      {"GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n", BodyFraming::Chunked, 0, true,
       false},
      {"GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n", BodyFraming::Chunked, 0,
       true, false},
      {"GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n", BodyFraming::UntilClose, 0, false,
       false},
      {"GET", "HTTP/1.1 200 OK\r\n", BodyFraming::UntilClose, 0, false, false},
      {"GET", "HTTP/1.1 500 Oops\r\nConnection: keep-alive\r\n", BodyFraming::UntilClose, 0, false,
       false},
      {"GET", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n",
       BodyFraming::ContentLength, 0, false, false},
      {"GET", "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n", BodyFraming::ContentLength, 2, false,
       false},
      {"GET", "HTTP/1.0 200 OK\r\nContent-Length: 2\r\nConnection: Keep-Alive\r\n",
       BodyFraming::ContentLength, 2, true, false},
      {"GET", "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n", BodyFraming::UntilClose, 0, false,
       false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.method + " " + c.head);
    ResponseHead head;
    const std::string text = c.head + "\r\n";
    ASSERT_EQ(parseResponse(text, head, c.method), ParseStatus::Complete);
    EXPECT_EQ(head.framing, c.framing);
    EXPECT_EQ(head.contentLength, c.contentLength);
    EXPECT_EQ(head.keepAlive, c.keepAlive);
    EXPECT_EQ(head.upgrade, c.upgrade);
    EXPECT_EQ(head.headBytes, text.size());
  }
}

TEST(Http1ResponseTest, ReturnsNeedMoreForEveryProperPrefixAndPointsAtTheBody) {
  const std::string text = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\nServer: meshgate\r\n\r\n";
  for (size_t length = 0; length < text.size(); ++length) {
    ResponseHead head;
    ASSERT_EQ(parseResponse(std::string_view(text).substr(0, length), head), ParseStatus::NeedMore)
        << "prefix length " << length;
  }
  ResponseHead head;
  ASSERT_EQ(parseResponse(text + "body" + text, head), ParseStatus::Complete);
  EXPECT_EQ(head.headBytes, text.size());
}

TEST(Http1ResponseTest, DoesNotSkipLeadingEmptyLines) {
  ResponseHead head;
  EXPECT_EQ(parseResponse("\r\nHTTP/1.1 200 OK\r\n\r\n", head), ParseStatus::BadStatusLine);
}

TEST(Http1ResponseTest, AppliesTheLimitsLikeRequests) {
  ResponseHead head;
  const std::string statusLine = "HTTP/1.1 200 " + std::string(32 - 13, 'r');
  EXPECT_EQ(parseResponse(statusLine + "\r\n\r\n", head, "GET", kSmallLimits),
            ParseStatus::Complete);
  EXPECT_EQ(parseResponse(statusLine + "r\r\n\r\n", head, "GET", kSmallLimits),
            ParseStatus::RequestLineTooLong);
  EXPECT_EQ(parseResponse(statusLine + "r", head, "GET", kSmallLimits),
            ParseStatus::RequestLineTooLong);

  const std::string prefix = "HTTP/1.1 200 OK\r\nX: ";
  const std::string atLimit = prefix + std::string(128 - prefix.size() - 4, 'v') + "\r\n\r\n";
  EXPECT_EQ(parseResponse(atLimit, head, "GET", kSmallLimits), ParseStatus::Complete);
  EXPECT_EQ(parseResponse(prefix + std::string(128 - prefix.size() - 3, 'v') + "\r\n\r\n", head,
                          "GET", kSmallLimits),
            ParseStatus::HeadTooLarge);
  EXPECT_EQ(parseResponse(prefix + std::string(200, 'v'), head, "GET", kSmallLimits),
            ParseStatus::HeadTooLarge);
  EXPECT_EQ(parseResponse("HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n", head, "GET",
                          kSmallLimits),
            ParseStatus::Complete);
  EXPECT_EQ(parseResponse("HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\n\r\n", head,
                          "GET", kSmallLimits),
            ParseStatus::TooManyHeaders);
}

TEST(Http1ResponseTest, ReusesTheHeaderVectorCapacityAcrossCalls) {
  const std::string text = "HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\nContent-Length: 0\r\n\r\n";
  ResponseHead head;
  ASSERT_EQ(parseResponse(text, head), ParseStatus::Complete);
  const size_t capacity = head.headers.capacity();
  const Header* storage = head.headers.data();
  ASSERT_EQ(parseResponse(text, head), ParseStatus::Complete);
  EXPECT_EQ(head.headers.capacity(), capacity);
  EXPECT_EQ(head.headers.data(), storage);
}

}  // namespace
}  // namespace meshgate::dp::http
