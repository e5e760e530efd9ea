// The client half of the WebAuthn conformance test (webauthn_conformance.py plays the relying party): reads
// the options the relying party issued, in the user pool's answer forms, and answers them as the helper will,
// through the library, with a software security key in place of libfido2. Besides the honest answer it makes
// answers from a key or client that misbehaves in one way each, so the test can show that the relying party
// notices, i.e. that its checks are live.
//
//   webauthn_conformance_client register <answer.json> <origin> <none|packed-self|packed-full> <state-file>
//   webauthn_conformance_client authenticate <answer.json> <origin> <state-file> <counter>
//
// counter is the signCount to sign with (at least 1); the stale_counter answer carries counter - 1.
// Writes {"<variant>": <credential JSON>, ...} to standard output.
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>

#include "auth_step.hpp"
#include "base64.hpp"
#include "credential_public_key.hpp"
#include "software_authenticator.hpp"
#include "webauthn_json.hpp"
#include "webauthn_management.hpp"

namespace {

using namespace pp::cognito;
using namespace pp::webauthn;
namespace t = pp::cognito::test;

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// What the key keeps between the ceremonies: credential id, user handle, private key.
struct State {
    std::string cred_id, user_id, pem;

    void save(const std::string& path) const {
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        out << pp::base64url_encode(cred_id) << '\n' << pp::base64url_encode(user_id) << '\n' << pem;
        if (!out) throw std::runtime_error("cannot write " + path);
    }
    static State load(const std::string& path) {
        std::istringstream in(read_file(path));
        std::string id, user;
        std::getline(in, id);
        std::getline(in, user);
        State state;
        state.cred_id = pp::base64url_decode(id).value();
        state.user_id = pp::base64url_decode(user).value();
        state.pem.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
        return state;
    }
};

// libfido2 hands authData over as a CBOR byte string; the helper unwraps it with the library.
std::string through_libfido2(const std::string& raw) {
    return authdata_from_cbor(t::cbor_bytes(raw));
}

std::string another_challenge() {
    return pp::base64url_encode(t::random_bytes(16));
}

void print(const std::map<std::string, std::string>& variants) {
    std::string out = "{";
    for (const auto& [name, credential] : variants) {
        if (out.size() > 1) out += ",";
        out += "\"" + name + "\":" + credential;
    }
    std::cout << out << "}\n";
}

int do_register(const std::string& answer_file, const std::string& origin, const std::string& attestation,
                const std::string& state_file) {
    const RegistrationStart start = parse_registration_start(read_file(answer_file));
    const CreationOptions& options = start.options;
    bool es256 = false;
    for (const int alg : options.algorithms) es256 = es256 || alg == cose_es256;
    if (!es256) throw std::runtime_error("the relying party does not offer ES256");

    const t::P256Key key;
    const t::P256Key attestation_key;
    const std::string aaguid = attestation == "packed-full" ? t::random_bytes(16) : std::string(16, '\0');
    State state{t::random_bytes(32), options.user_id, key.private_pem()};
    // A key with a PIN set gives UV whenever the relying party does not discourage it.
    const std::uint8_t flags =
        t::flag_up | t::flag_at | (options.user_verification != "discouraged" ? t::flag_uv : 0);
    const std::string spki = spki_from_fido_public_key(cose_es256, key.raw_public_key());

    struct Misbehaviour {
        std::string challenge, origin, rp_id;
        std::uint8_t flags;
        bool bad_signature = false;
    };
    const auto answer = [&](const Misbehaviour& m) {
        const std::string client_data = client_data_json(webauthn_create, m.challenge, m.origin);
        const std::string auth_data = through_libfido2(t::authenticator_data(
            m.rp_id, m.flags, 0, t::attested_credential_data(aaguid, state.cred_id, key.cose_key())));
        const std::string signed_data =
            auth_data + t::sha256(m.bad_signature ? client_data + " " : client_data);
        AttestationStatement statement;
        std::string fmt = "packed";
        if (attestation == "packed-self") {
            statement = {cose_es256, key.sign(signed_data), ""};
        } else if (attestation == "packed-full") {
            statement = {cose_es256, attestation_key.sign(signed_data),
                         attestation_key.attestation_certificate(aaguid)};
        } else if (attestation == "none") {
            fmt = "none";
        } else {
            throw std::runtime_error("unknown attestation " + attestation);
        }
        return registration_response_json(state.cred_id, client_data, fmt, auth_data, statement, spki,
                                          cose_es256);
    };

    const Misbehaviour honest{options.challenge, origin, options.rp_id, flags};
    std::map<std::string, std::string> variants;
    variants["ok"] = answer(honest);
    Misbehaviour m = honest;
    m.challenge = another_challenge();
    variants["wrong_challenge"] = answer(m);
    m = honest;
    m.origin = "https://evil.example";
    variants["wrong_origin"] = answer(m);
    m = honest;
    m.rp_id = "evil.example";
    variants["wrong_rp"] = answer(m);
    m = honest;
    m.flags = static_cast<std::uint8_t>(flags & ~t::flag_up);
    variants["no_up"] = answer(m);
    m = honest;
    m.flags = static_cast<std::uint8_t>(flags & ~t::flag_uv);
    variants["no_uv"] = answer(m);
    if (attestation != "none") {
        m = honest;
        m.bad_signature = true;
        variants["bad_signature"] = answer(m);
    }
    state.save(state_file);
    print(variants);
    return 0;
}

int do_authenticate(const std::string& answer_file, const std::string& origin, const std::string& state_file,
                    std::uint32_t counter) {
    // The pool's WEB_AUTHN challenge: the options are a JSON string inside ChallengeParameters.
    const Step step = parse_step(read_file(answer_file));
    if (step.challenge != "WEB_AUTHN") throw std::runtime_error("not a WEB_AUTHN challenge");
    // parse_step read the options out of the parameters (the worker sends them on typed).
    if (!step.request_options) throw std::runtime_error("no request options: " + step.request_options_error);
    const RequestOptions& options = *step.request_options;
    const State state = State::load(state_file);
    bool allowed = false;
    for (const std::string& id : options.allow_credentials) allowed = allowed || id == state.cred_id;
    if (!allowed) throw std::runtime_error("the key holds none of the allowed credentials");
    const t::P256Key key = t::P256Key::from_pem(state.pem);
    const std::uint8_t flags = t::flag_up | (options.user_verification != "discouraged" ? t::flag_uv : 0);

    struct Misbehaviour {
        std::string challenge, origin, rp_id;
        std::uint8_t flags;
        std::uint32_t counter;
        std::string cred_id, user_id;
        bool bad_signature = false;
    };
    const auto answer = [&](const Misbehaviour& m) {
        const std::string client_data = client_data_json(webauthn_get, m.challenge, m.origin);
        const std::string auth_data = through_libfido2(t::authenticator_data(m.rp_id, m.flags, m.counter));
        const std::string signature =
            key.sign(auth_data + t::sha256(m.bad_signature ? client_data + " " : client_data));
        return authentication_response_json(m.cred_id, client_data, auth_data, signature, m.user_id);
    };

    const Misbehaviour honest{options.challenge, origin,        options.rp_id, flags,
                              counter,           state.cred_id, state.user_id};
    std::map<std::string, std::string> variants;
    variants["ok"] = answer(honest);
    Misbehaviour m = honest;
    m.user_id.clear();
    variants["ok_without_user_handle"] = answer(m);
    m = honest;
    m.challenge = another_challenge();
    variants["wrong_challenge"] = answer(m);
    m = honest;
    m.origin = "https://evil.example";
    variants["wrong_origin"] = answer(m);
    m = honest;
    m.rp_id = "evil.example";
    variants["wrong_rp"] = answer(m);
    m = honest;
    m.flags = static_cast<std::uint8_t>(flags & ~t::flag_up);
    variants["no_up"] = answer(m);
    m = honest;
    m.flags = static_cast<std::uint8_t>(flags & ~t::flag_uv);
    variants["no_uv"] = answer(m);
    m = honest;
    m.bad_signature = true;
    variants["bad_signature"] = answer(m);
    m = honest;
    m.cred_id = t::random_bytes(32);
    variants["unknown_credential"] = answer(m);
    m = honest;
    m.counter = counter - 1;
    variants["stale_counter"] = answer(m);
    m = honest;
    m.user_id = "someone else";
    variants["wrong_user_handle"] = answer(m);
    print(variants);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        const std::string command = argc > 1 ? argv[1] : "";
        if (command == "register" && argc == 6) return do_register(argv[2], argv[3], argv[4], argv[5]);
        if (command == "authenticate" && argc == 6) {
            const unsigned long counter = std::stoul(argv[5]);
            if (counter < 1 || counter > 0xFFFFFFFF) throw std::out_of_range("counter");
            return do_authenticate(argv[2], argv[3], argv[4], static_cast<std::uint32_t>(counter));
        }
        std::cerr << "usage: " << argv[0]
                  << " register <answer.json> <origin> <none|packed-self|packed-full> <state-file>\n"
                  << "       " << argv[0] << " authenticate <answer.json> <origin> <state-file> <counter>\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << argv[0] << ": " << e.what() << '\n';
        return 1;
    }
}
