// Condition bookkeeping shared by the controllers.
#include "operator/condition_set.h"

namespace meshgate::op {

void setCondition(std::vector<api::Condition>& conditions, api::Condition wanted,
                  const std::string& now) {
  for (auto& existing : conditions) {
    if (existing.type != wanted.type) continue;
    wanted.lastTransitionTime =
        existing.status == wanted.status ? existing.lastTransitionTime : now;
    existing = std::move(wanted);
    return;
  }
  wanted.lastTransitionTime = now;
  conditions.push_back(std::move(wanted));
}

const api::Condition* findCondition(const std::vector<api::Condition>& conditions,
                                    std::string_view type) {
  for (const auto& condition : conditions) {
    if (condition.type == type) return &condition;
  }
  return nullptr;
}

bool isConditionTrue(const std::vector<api::Condition>& conditions, std::string_view type) {
  const auto* condition = findCondition(conditions, type);
  return condition != nullptr && condition->status == api::condition_status::kTrue;
}

void ConditionSetter::set(std::string_view type, std::string_view status, std::string_view reason,
                          const std::string& message) {
  setCondition(conditions_,
               api::Condition{.type = std::string(type),
                              .status = std::string(status),
                              .reason = std::string(reason),
                              .message = message,
                              .observedGeneration = generation_,
                              .lastTransitionTime = ""},
               now_);
}

}  // namespace meshgate::op
