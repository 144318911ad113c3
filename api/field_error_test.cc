// Tests for api/field_path.h and api/field_error.h: paths and messages must print exactly as
// Kubernetes' field.Path and field.Error do, since users compare them with apiserver output.
#include "api/field_error.h"

#include <gtest/gtest.h>

#include "api/field_path.h"

namespace meshgate::api {
namespace {

TEST(FieldPathTest, BuildsKubernetesStylePaths) {
  const FieldPath spec("spec");
  EXPECT_EQ(spec.child("rules").index(0).child("backends").index(1).child("weight").str(),
            "spec.rules[0].backends[1].weight");
  EXPECT_EQ(spec.child("selector").key("app").str(), "spec.selector[app]");
  EXPECT_EQ(FieldPath().child("metadata").child("name").str(), "metadata.name");
  EXPECT_TRUE(FieldPath().empty());
}

TEST(FieldErrorTest, PrintsEachTypeLikeKubernetes) {
  const FieldPath p("spec.x");
  EXPECT_EQ(FieldError::required(p).toString(), "spec.x: Required value");
  EXPECT_EQ(FieldError::required(p, "needed").toString(), "spec.x: Required value: needed");
  EXPECT_EQ(FieldError::invalid(FieldPath("spec.rules[0].backends[1].weight"), 1001,
                                "must be between 0 and 1000, inclusive")
                .toString(),
            "spec.rules[0].backends[1].weight: Invalid value: 1001: must be between 0 and 1000, "
            "inclusive");
  EXPECT_EQ(FieldError::invalid(p, "abc", "expected an integer").toString(),
            "spec.x: Invalid value: \"abc\": expected an integer");
  EXPECT_EQ(FieldError::invalid(p, true, "d").toString(), "spec.x: Invalid value: true: d");
  EXPECT_EQ(FieldError::invalid(p, nlohmann::json::object(), "d").toString(),
            "spec.x: Invalid value: \"object\": d");
  EXPECT_EQ(FieldError::invalid(p, nlohmann::json::array(), "d").toString(),
            "spec.x: Invalid value: \"array\": d");
  EXPECT_EQ(FieldError::unsupported(p, "UDP", {"HTTP", "TCP"}).toString(),
            "spec.x: Unsupported value: \"UDP\": supported values: \"HTTP\", \"TCP\"");
  EXPECT_EQ(FieldError::unsupported(p, 200, {"301", "302"}).toString(),
            "spec.x: Unsupported value: 200: supported values: \"301\", \"302\"");
  EXPECT_EQ(FieldError::forbidden(p, "not here").toString(), "spec.x: Forbidden: not here");
  EXPECT_EQ(FieldError::duplicate(p, "http").toString(), "spec.x: Duplicate value: \"http\"");
  EXPECT_EQ(FieldError::duplicate(p, 8080).toString(), "spec.x: Duplicate value: 8080");
  EXPECT_EQ(FieldError::tooMany(p, 17, 16).toString(),
            "spec.x: Too many: 17: must have at most 16 items");
  EXPECT_EQ(FieldError::tooLong(p, 1024).toString(),
            "spec.x: Too long: may not be more than 1024 bytes");
  EXPECT_EQ(FieldError::internal(p, "boom").toString(), "spec.x: Internal error: boom");
}

TEST(FieldErrorTest, OmitsThePathAtTheRoot) {
  EXPECT_EQ(
      FieldError::invalid(FieldPath(), nlohmann::json::array(), "expected an object").toString(),
      "Invalid value: \"array\": expected an object");
}

TEST(FieldErrorTest, QuotesStringsWithGoEscapes) {
  EXPECT_EQ(quote("plain"), "\"plain\"");
  EXPECT_EQ(quote("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(quote("line\nnext\ttab"), R"("line\nnext\ttab")");
  EXPECT_EQ(quote(std::string("\x01", 1)), R"("\x01")");
  EXPECT_EQ(quote("caf\xc3\xa9"), "\"caf\xc3\xa9\"");
}

TEST(FieldErrorTest, RendersValuesByJsonType) {
  EXPECT_EQ(renderValue(nullptr), "null");
  EXPECT_EQ(renderValue(-3), "-3");
  EXPECT_EQ(renderValue(2.5), "2.5");
  EXPECT_EQ(renderValue(false), "false");
  EXPECT_EQ(renderValue(nlohmann::json::parse(R"({"a":1})")), "\"object\"");
}

TEST(FieldErrorTest, FormatsAListOneErrorPerLine) {
  const ErrorList errors = {FieldError::required(FieldPath("a")),
                            FieldError::forbidden(FieldPath("b"), "no")};
  EXPECT_EQ(formatErrors(errors), "a: Required value\nb: Forbidden: no\n");
}

}  // namespace
}  // namespace meshgate::api
