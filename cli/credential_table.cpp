#include "credential_table.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <ctime>
#include <map>
#include <string_view>

#include "terminal_asker.hpp"

namespace pp::cli {
namespace {

using Fields = std::map<std::string, std::string, std::less<>>;

Fields fields_of(std::string_view record) {
    Fields fields;
    while (!record.empty()) {
        const auto tab = record.find('\t');
        const std::string_view pair = record.substr(0, tab);
        if (const auto eq = pair.find('='); eq != std::string_view::npos)
            fields.emplace(pair.substr(0, eq), pair.substr(eq + 1));
        if (tab == std::string_view::npos) break;
        record.remove_prefix(tab + 1);
    }
    return fields;
}

std::string when(std::string_view unix_seconds, const char* zero) {
    long long t = 0;
    const auto [end, ec] = std::from_chars(unix_seconds.data(), unix_seconds.data() + unix_seconds.size(), t);
    if (unix_seconds.empty() || ec != std::errc() || end != unix_seconds.data() + unix_seconds.size() ||
        t < 0)
        return unix_seconds.empty() ? "-" : std::string(unix_seconds);
    if (t == 0) return zero;
    const std::time_t tt = static_cast<std::time_t>(t);
    std::tm tm{};
    std::array<char, 32> buf{};
    if (::localtime_r(&tt, &tm) == nullptr ||
        std::strftime(buf.data(), buf.size(), "%Y-%m-%d %H:%M", &tm) == 0)
        return std::string(unix_seconds);
    return buf.data();
}

// Tabs would break the columns and control characters would drive the terminal: a nickname is chosen by
// whoever enrolled the key, not by the person reading the list.
std::string cell(std::string_view value) {
    std::string s = printable(value);
    std::replace(s.begin(), s.end(), '\t', ' ');
    std::replace(s.begin(), s.end(), '\n', ' ');
    return s.empty() ? "-" : s;
}

template <std::size_t N>
std::string render(const std::vector<std::array<std::string, N>>& rows) {
    std::array<std::size_t, N> width{};
    for (const auto& row : rows)
        for (std::size_t c = 0; c < N; ++c) width[c] = std::max(width[c], row[c].size());
    std::string out;
    for (const auto& row : rows) {
        std::string line;
        for (std::size_t c = 0; c < N; ++c) {
            line += row[c];
            if (c + 1 < N) line.append(width[c] - row[c].size() + 2, ' ');
        }
        out += line + "\n";
    }
    return out;
}

std::string get(const Fields& f, std::string_view key) {
    const auto it = f.find(key);
    return it == f.end() ? std::string() : it->second;
}

// The short form the helper worked out (the shortest unique start), which the commands take back.
std::string id_of(const Fields& f) {
    const std::string s = get(f, "short");
    return s.empty() ? get(f, "id") : s;
}

}  // namespace

std::string credential_table(const std::vector<std::string>& records) {
    std::vector<std::array<std::string, 7>> rows{
        {"ID", "NAME", "ALG", "UV", "CREATED", "LAST USED", "RP ID"}};
    for (const auto& record : records) {
        const auto f = fields_of(record);
        rows.push_back({cell(id_of(f)), cell(get(f, "name")), cell(get(f, "alg")), cell(get(f, "uv")),
                        cell(when(get(f, "created"), "-")), cell(when(get(f, "last_used"), "never")),
                        cell(get(f, "rp_id"))});
    }
    return render(rows);
}

std::string pool_passkey_table(const std::vector<std::string>& records) {
    std::vector<std::array<std::string, 6>> rows{
        {"ID", "NAME", "RP ID", "ATTACHMENT", "TRANSPORTS", "CREATED"}};
    for (const auto& record : records) {
        const auto f = fields_of(record);
        rows.push_back({cell(id_of(f)), cell(get(f, "name")), cell(get(f, "rp_id")),
                        cell(get(f, "attachment")), cell(get(f, "transports")),
                        cell(when(get(f, "created"), "-"))});
    }
    return render(rows);
}

}  // namespace pp::cli
