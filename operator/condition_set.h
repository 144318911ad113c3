// Status conditions the Kubernetes way: setting a condition keeps lastTransitionTime unless the
// status flips, so re-running a reconcile that reaches the same verdict changes nothing (and the
// status write can be skipped). Used by both controllers.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "api/condition.h"

namespace meshgate::op {

// Sets (or adds) the condition of `wanted.type`. `now` (RFC 3339) becomes lastTransitionTime only
// when the condition is new or its status changed.
void setCondition(std::vector<api::Condition>& conditions, api::Condition wanted,
                  const std::string& now);

const api::Condition* findCondition(const std::vector<api::Condition>& conditions,
                                    std::string_view type);

bool isConditionTrue(const std::vector<api::Condition>& conditions, std::string_view type);

// Sets conditions of one status write: every condition gets the object's generation and the
// reconcile's clock reading.
class ConditionSetter {
 public:
  ConditionSetter(std::vector<api::Condition>& conditions, int64_t generation, std::string now)
      : conditions_(conditions), generation_(generation), now_(std::move(now)) {}

  void set(std::string_view type, std::string_view status, std::string_view reason,
           const std::string& message);

 private:
  std::vector<api::Condition>& conditions_;
  int64_t generation_;
  std::string now_;
};

}  // namespace meshgate::op
