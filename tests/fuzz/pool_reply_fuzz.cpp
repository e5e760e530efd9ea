// Root's decoder of the network worker's replies (pool_worker/protocol/pool_protocol.cpp, decode_reply): what
// a worker taken over from the network sends the root helper. Input: one byte choosing the operation the
// reply answers, then the reply record as it arrives in a frame.
#include "fuzz_support.hpp"
#include "pool_protocol.hpp"

using namespace pp::pool;

namespace {

constexpr int kOps = static_cast<int>(kLastOp);

void check_step(const pp::cognito::Step& s) {
    // The rules the reader holds a worker to: a challenge with its session and no token, or an ID token.
    if (s.challenge.empty()) {
        PP_FUZZ_CHECK(s.id_token.has_value());
    } else {
        PP_FUZZ_CHECK(!s.session.view().empty());
        PP_FUZZ_CHECK(!s.id_token && !s.access_token);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    pp::fuzz::Input in(data, size);
    const auto op = static_cast<Op>(in.byte() % kOps + 1);
    const std::string_view bytes = in.rest();
    Reply reply;
    try {
        reply = decode_reply(bytes, op);
    } catch (const ProtocolError&) {
        return 0;
    }
    PP_FUZZ_CHECK(bytes.size() <= kMaxFrame);
    if (reply.error) {
        PP_FUZZ_CHECK(reply.error->failure() <= pp::cognito::Failure::Rejected);
        (void)reply.error->what();
        return 0;
    }
    switch (op) {
        case Op::InitiateAuth:
        case Op::Respond:
            PP_FUZZ_CHECK(reply.step.has_value());
            check_step(*reply.step);
            break;
        case Op::StartRegistration:
            PP_FUZZ_CHECK(reply.registration.has_value());
            PP_FUZZ_CHECK(!reply.registration->options.algorithms.empty());
            break;
        case Op::FetchOpenIdConfiguration:
            PP_FUZZ_CHECK(reply.openid.has_value());
            break;
        case Op::RedeemAuthorizationCode:
            PP_FUZZ_CHECK(reply.id_token && !reply.id_token->empty());
            break;
        case Op::FetchCallbackPage:
            PP_FUZZ_CHECK(reply.callback.has_value());
            break;
        default:
            PP_FUZZ_CHECK(!reply.step);
            break;
    }
    // What root accepted, written again, is read again the same way (or refused by the writer's own bounds).
    try {
        const Reply again = decode_reply(encode_reply(reply).view(), op);
        PP_FUZZ_CHECK(again.document == reply.document);
        PP_FUZZ_CHECK(again.debug_lines == reply.debug_lines);
        PP_FUZZ_CHECK(again.contacts.size() == reply.contacts.size());
        PP_FUZZ_CHECK(again.credentials.size() == reply.credentials.size());
        PP_FUZZ_CHECK(again.step.has_value() == reply.step.has_value());
        if (reply.step) {
            PP_FUZZ_CHECK(again.step->challenge == reply.step->challenge);
            PP_FUZZ_CHECK(again.step->session.view() == reply.step->session.view());
            PP_FUZZ_CHECK(again.step->parameters == reply.step->parameters);
            PP_FUZZ_CHECK(again.step->id_token.has_value() == reply.step->id_token.has_value());
        }
    } catch (const ProtocolError&) {
    }
    return 0;
}
