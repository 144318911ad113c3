// Tests of the denial message and code the validators share.
#include "webhook/admission/admission_errors.h"

#include <gtest/gtest.h>

namespace meshgate::webhook {
namespace {

using api::FieldError;
using api::FieldPath;

const FieldError kWeight = FieldError::invalid(FieldPath("spec.rules[0].backends[0].weight"), 1001,
                                               "must be between 0 and 1000, inclusive");
const FieldError kTls = FieldError::required(
    FieldPath("spec.tls"), "the webhook policy requires TLS on every ApiRoute host");

TEST(AggregateMessageTest, OneErrorIsPrintedWithoutBrackets) {
  EXPECT_EQ(aggregateMessage({kWeight}),
            "spec.rules[0].backends[0].weight: Invalid value: 1001: must be between 0 and 1000, "
            "inclusive");
}

TEST(AggregateMessageTest, SeveralErrorsArePrintedInBracketsJoinedByCommaSpace) {
  EXPECT_EQ(aggregateMessage({kWeight, kTls}),
            "[" + kWeight.toString() + ", " + kTls.toString() + "]");
}

TEST(AggregateMessageTest, RepeatedMessagesArePrintedOnce) {
  EXPECT_EQ(aggregateMessage({kTls, kWeight, kTls}),
            "[" + kTls.toString() + ", " + kWeight.toString() + "]");
  EXPECT_EQ(aggregateMessage({kTls, kTls}), kTls.toString());
}

TEST(AggregateMessageTest, NoErrorsIsEmpty) {
  EXPECT_EQ(aggregateMessage({}), "");
}

TEST(DecideTest, NoErrorsAllow) {
  const AdmissionDecision d = decide({});
  EXPECT_TRUE(d.allowed);
  EXPECT_TRUE(d.message.empty());
}

TEST(DecideTest, AnObjectErrorMakesTheDenial422InvalidWithObjectErrorsFirst) {
  const AdmissionDecision d = decide({.object = {kWeight}, .policy = {kTls}});
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.code, 422);
  EXPECT_EQ(d.reason, "Invalid");
  EXPECT_EQ(d.message, "[" + kWeight.toString() + ", " + kTls.toString() + "]");
}

TEST(DecideTest, APolicyOnlyDenialIs403Forbidden) {
  const AdmissionDecision d = decide({.object = {}, .policy = {kTls}});
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.code, 403);
  EXPECT_EQ(d.reason, "Forbidden");
  EXPECT_EQ(d.message, kTls.toString());
}

}  // namespace
}  // namespace meshgate::webhook
