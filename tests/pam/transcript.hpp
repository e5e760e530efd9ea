// A login's transcript with its masks swapped, for comparing two logins' screens turn by turn (the decoy's
// against a real user's): shared by the tests that compare them.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "login_harness.hpp"

namespace pp::test {

// Every turn of a login (style and text), with each `from` replaced by its `to` in each text.
inline std::vector<std::pair<int, std::string>> turns(
    const PamRun& run, const std::vector<std::pair<std::string, std::string>>& swaps) {
    std::vector<std::pair<int, std::string>> out;
    for (const auto& t : run.transcript) {
        std::string text = t.text;
        for (const auto& [from, to] : swaps)
            for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
                text.replace(at, from.size(), to);
        out.emplace_back(t.style, text);
    }
    return out;
}

}  // namespace pp::test
