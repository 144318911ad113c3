// Running a rule's filter chain.
#include "dataplane/proxy/request_filter.h"

namespace meshgate::dp {

FilterStatus runFilters(const FilterChain& chain, const FilterContext& context, LocalReply& reply) {
  for (const auto& filter : chain)
    if (filter->onRequest(context, reply) == FilterStatus::Reply) return FilterStatus::Reply;
  return FilterStatus::Continue;
}

}  // namespace meshgate::dp
