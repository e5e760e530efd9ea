// How an answer from the user pool is classified (helper/cognito/error_response.cpp). Input: the HTTP status
// (2 bytes), a flag byte (bit 0: an empty body is fine), the x-amzn-ErrorType header (a field), the body.
#include <algorithm>

#include "error_response.hpp"
#include "fuzz_support.hpp"

using namespace pp::cognito;

namespace {

bool plausible_name(const std::string& name) {
    return name.size() <= 128 && std::all_of(name.begin(), name.end(), [](char c) {
               return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '_' || c == '.' || c == '-';
           });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    pp::fuzz::Input in(data, size);
    const long status = (static_cast<long>(in.byte()) << 8 | in.byte()) % 1000;
    const bool empty_body_ok = (in.byte() & 1) != 0;
    const std::string_view header = in.field();
    const std::string_view body = in.rest();

    PP_FUZZ_CHECK(plausible_name(error_name(header)));
    const auto error = classify_response(status, header, body, empty_body_ok);
    if (!error) {
        PP_FUZZ_CHECK(status >= 200 && status < 300);
        return 0;
    }
    PP_FUZZ_CHECK(error->http_status() == status);
    PP_FUZZ_CHECK(plausible_name(error->name()));
    // The service's text goes to logs: bounded, no control characters.
    PP_FUZZ_CHECK(error->message().size() <= 512);
    PP_FUZZ_CHECK(std::none_of(error->message().begin(), error->message().end(),
                               [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7F; }));
    if (error->failure() == Failure::Rejected) PP_FUZZ_CHECK(!error->name().empty());
    (void)error->what();
    (void)to_string(error->failure());
    return 0;
}
