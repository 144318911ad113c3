// Virtual-host matching as in the Gateway API: names compare case-insensitively, a port in the
// Host header is ignored, and "*.example.com" matches every name below example.com (one or more
// labels) but not example.com itself. An exact host beats any wildcard, and a longer wildcard
// suffix beats a shorter one.
#pragma once

#include <string>
#include <string_view>

namespace meshgate::dp {

// The host part of a Host header, lower-cased: "Shop.Example.com:8443" → "shop.example.com",
// "[::1]:80" → "[::1]".
std::string normalizeHost(std::string_view hostHeader);

// `pattern` is a route host (lower-case, exact or "*.suffix"); `host` is normalized.
bool hostMatches(std::string_view pattern, std::string_view host);

// Higher is more specific: exact hosts rank above every wildcard, wildcards by suffix length.
int hostSpecificity(std::string_view pattern);

}  // namespace meshgate::dp
