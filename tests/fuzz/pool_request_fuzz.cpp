// The network worker's decoder of the root helper's requests (pool_worker/protocol/pool_protocol.cpp,
// decode_request): the worker reads nothing else from its peer. Input: the request record as it arrives.
#include "fuzz_support.hpp"
#include "pool_protocol.hpp"

using namespace pp::pool;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view bytes = pp::fuzz::text(data, size);
    Request q;
    try {
        q = decode_request(bytes);
    } catch (const ProtocolError&) {
        return 0;
    }
    PP_FUZZ_CHECK(q.op >= Op::InitiateAuth && q.op <= kLastOp);
    (void)op_name(q.op);
    try {
        const Request again = decode_request(encode_request(q).view());
        PP_FUZZ_CHECK(again.op == q.op);
        PP_FUZZ_CHECK(again.username == q.username);
        PP_FUZZ_CHECK(again.settings.api_url == q.settings.api_url);
        PP_FUZZ_CHECK(again.session.view() == q.session.view());
        PP_FUZZ_CHECK(again.answers.size() == q.answers.size());
        PP_FUZZ_CHECK(again.secret_hash.has_value() == q.secret_hash.has_value());
    } catch (const ProtocolError&) {
    }
    return 0;
}
