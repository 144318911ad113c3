// Whether the capture rules are in place: meshgate-init reads the nat table back with
// `iptables-save -t nat` after installing it and compares it with captureRuleLines(). Our chains
// (MESHGATE_INBOUND, MESHGATE_OUTPUT) must hold exactly our rules in our order; the built-in
// chains must hold our jumps, and may hold other rules too. Pure.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace meshgate::capture {

// Every difference between the nat table of `saveOutput` and `expectedRules` ("-A CHAIN ..." lines
// as captureRuleLines() returns them), each a sentence; empty when the rules are installed.
std::vector<std::string> checkInstalledRules(std::string_view saveOutput,
                                             const std::vector<std::string>& expectedRules);

}  // namespace meshgate::capture
