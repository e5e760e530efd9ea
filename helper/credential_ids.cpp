#include "credential_ids.hpp"

#include <algorithm>

namespace pp::helper {

std::vector<std::string> short_ids(const std::vector<std::string>& ids) {
    std::vector<std::string> out;
    out.reserve(ids.size());
    for (std::size_t i = 0; i < ids.size(); ++i) {
        // One character longer than the longest prefix shared with any other id.
        std::size_t shared = 0;
        for (std::size_t j = 0; j < ids.size(); ++j) {
            if (j == i || ids[j] == ids[i]) continue;
            const auto [a, b] = std::mismatch(ids[i].begin(), ids[i].end(), ids[j].begin(), ids[j].end());
            shared = std::max(shared, static_cast<std::size_t>(a - ids[i].begin()));
        }
        out.push_back(ids[i].substr(0, std::max(kMinIdPrefix, shared + 1)));
    }
    return out;
}

IdMatch match_id(std::string_view typed, const std::vector<std::string>& ids) {
    IdMatch m;
    if (std::find(ids.begin(), ids.end(), typed) != ids.end()) {
        m.kind = IdMatch::Kind::Unique;
        m.id = std::string(typed);
        return m;
    }
    if (typed.size() < kMinIdPrefix) {
        m.kind = IdMatch::Kind::TooShort;
        return m;
    }
    const auto shorts = short_ids(ids);
    std::vector<std::size_t> hits;
    for (std::size_t i = 0; i < ids.size(); ++i)
        if (std::string_view(ids[i]).starts_with(typed)) hits.push_back(i);
    if (hits.size() == 1) {
        m.kind = IdMatch::Kind::Unique;
        m.id = ids[hits.front()];
    } else if (hits.size() > 1) {
        m.kind = IdMatch::Kind::Ambiguous;
        for (const auto i : hits) m.candidates.push_back(shorts[i]);
    }
    return m;
}

std::string id_match_problem(const IdMatch& m, std::string_view typed, std::string_view what) {
    switch (m.kind) {
        case IdMatch::Kind::Unique:
            return {};
        case IdMatch::Kind::TooShort:
            return "An ID needs at least " + std::to_string(kMinIdPrefix) + " characters; 'list' shows them.";
        case IdMatch::Kind::Ambiguous: {
            std::string text = "'" + std::string(typed) + "' is the start of " +
                               std::to_string(m.candidates.size()) + " IDs (";
            for (std::size_t i = 0; i < m.candidates.size(); ++i)
                text += (i == 0 ? "" : ", ") + m.candidates[i];
            return text + "); type more of it.";
        }
        case IdMatch::Kind::None:
            break;
    }
    return "No such " + std::string(what) + ".";
}

}  // namespace pp::helper
