// A stand-in for pam-u2f's pamu2fcfg, for the import tests: makes a credential on one of the connected keys
// (the virtual ones, under LD_PRELOAD) and prints the authfile line pamu2fcfg would print for it.
//
//   pamu2f_line KEY-INDEX ORIGIN USER [es256|eddsa] [--pin]
//
// Output, as pamu2fcfg 1.1+ writes it: "USER:KeyHandle,PublicKey,es256,+presence" (or eddsa), the key handle
// being the credential id and the public key fido_cred_pubkey_ptr()'s bytes (x||y for ES256, 32 for EdDSA),
// both in standard base64 with padding. The relying party id and name are ORIGIN (pamu2fcfg's appid defaults
// to the origin); the user id is 32 random bytes; the credential is self-verified before it is printed. With
// --pin the key's PIN is read from the first line of standard input, the credential is made with it and the
// line ends "+presence+pin", as `pamu2fcfg -N` writes it for a credential that needs the PIN at every login.
#include <fido.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

namespace {

struct InfoList {
    fido_dev_info_t* list;
    std::size_t n;
    ~InfoList() { fido_dev_info_free(&list, n); }
};
struct DevDeleter {
    void operator()(fido_dev_t* d) const {
        fido_dev_close(d);
        fido_dev_free(&d);
    }
};
struct CredDeleter {
    void operator()(fido_cred_t* c) const { fido_cred_free(&c); }
};

std::string base64(const unsigned char* p, std::size_t n) {
    std::string out(4 * ((n + 2) / 3) + 1, '\0');
    const int len = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), p, static_cast<int>(n));
    out.resize(static_cast<std::size_t>(len));
    return out;
}

int fail(const std::string& what, int r = FIDO_OK) {
    std::cerr << "pamu2f_line: " << what;
    if (r != FIDO_OK) std::cerr << ": " << fido_strerr(r) << " (" << r << ")";
    std::cerr << "\n";
    return 1;
}

}  // namespace

int main(int argc, char** argv) {
    std::string alg = "es256";
    bool with_pin = false;
    bool usage = argc < 4;
    for (int i = 4; i < argc && !usage; ++i) {
        const std::string arg = argv[i];
        if (arg == "es256" || arg == "eddsa")
            alg = arg;
        else if (arg == "--pin")
            with_pin = true;
        else
            usage = true;
    }
    if (usage) {
        std::cerr << "usage: pamu2f_line KEY-INDEX ORIGIN USER [es256|eddsa] [--pin]\n";
        return 2;
    }
    const std::size_t index = std::strtoul(argv[1], nullptr, 10);
    const std::string origin = argv[2], user = argv[3];
    std::string pin;
    if (with_pin && (!std::getline(std::cin, pin) || pin.empty()))
        return fail("--pin: no PIN on standard input");

    fido_init(0);
    constexpr std::size_t kMax = 16;
    InfoList infos{fido_dev_info_new(kMax), kMax};
    std::size_t found = 0;
    if (infos.list == nullptr) return fail("fido_dev_info_new");
    if (const int r = fido_dev_info_manifest(infos.list, kMax, &found); r != FIDO_OK)
        return fail("fido_dev_info_manifest", r);
    if (index >= found) return fail("no key with index " + std::to_string(index));
    std::unique_ptr<fido_dev_t, DevDeleter> dev(fido_dev_new_with_info(fido_dev_info_ptr(infos.list, index)));
    if (!dev) return fail("fido_dev_new_with_info");
    if (const int r = fido_dev_open_with_info(dev.get()); r != FIDO_OK)
        return fail("fido_dev_open_with_info", r);

    unsigned char cdh[32], user_id[32];
    if (RAND_bytes(cdh, sizeof cdh) != 1 || RAND_bytes(user_id, sizeof user_id) != 1)
        return fail("RAND_bytes");
    std::unique_ptr<fido_cred_t, CredDeleter> cred(fido_cred_new());
    if (!cred || fido_cred_set_type(cred.get(), alg == "eddsa" ? COSE_EDDSA : COSE_ES256) != FIDO_OK ||
        fido_cred_set_clientdata_hash(cred.get(), cdh, sizeof cdh) != FIDO_OK ||
        fido_cred_set_rp(cred.get(), origin.c_str(), origin.c_str()) != FIDO_OK ||
        fido_cred_set_user(cred.get(), user_id, sizeof user_id, user.c_str(), user.c_str(), nullptr) !=
            FIDO_OK ||
        fido_cred_set_rk(cred.get(), FIDO_OPT_OMIT) != FIDO_OK)
        return fail("preparing the credential");
    if (const int r = fido_dev_make_cred(dev.get(), cred.get(), with_pin ? pin.c_str() : nullptr);
        r != FIDO_OK)
        return fail("fido_dev_make_cred", r);
    if (const int r = fido_cred_verify_self(cred.get()); r != FIDO_OK)
        return fail("fido_cred_verify_self", r);

    std::cout << user << ":" << base64(fido_cred_id_ptr(cred.get()), fido_cred_id_len(cred.get())) << ","
              << base64(fido_cred_pubkey_ptr(cred.get()), fido_cred_pubkey_len(cred.get())) << "," << alg
              << ",+presence" << (with_pin ? "+pin" : "") << "\n";
    return std::cout ? 0 : 1;
}
