// FixedDataplaneStatus answers every Programmed question of a controller test with the verdict
// the test set: how many proxies carry the object, how many serve its generation, a refusal.
#pragma once

#include <cstdint>
#include <string>

#include "operator/dataplane_status.h"

namespace meshgate::op {

class FixedDataplaneStatus : public DataplaneStatus {
 public:
  DataplaneVerdict verdict;  // default: no proxy carries anything

  // DataplaneStatus
  DataplaneVerdict apiRoute(const std::string&, const std::string&, std::int64_t,
                            const std::string&) const override {
    return verdict;
  }
  DataplaneVerdict meshService(const std::string&, const std::string&,
                               std::int64_t) const override {
    return verdict;
  }
};

}  // namespace meshgate::op
