// Owners for the OpenSSL handles this library creates.
#pragma once

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/params.h>

#include <memory>

namespace pp::cognito::ossl {

struct Free {
    void operator()(EVP_PKEY* p) const noexcept { EVP_PKEY_free(p); }
    void operator()(EVP_PKEY_CTX* p) const noexcept { EVP_PKEY_CTX_free(p); }
    void operator()(EVP_MD_CTX* p) const noexcept { EVP_MD_CTX_free(p); }
    void operator()(EVP_MD* p) const noexcept { EVP_MD_free(p); }
    void operator()(EVP_MAC* p) const noexcept { EVP_MAC_free(p); }
    void operator()(EVP_MAC_CTX* p) const noexcept { EVP_MAC_CTX_free(p); }
    void operator()(BIGNUM* p) const noexcept { BN_free(p); }
    void operator()(OSSL_PARAM_BLD* p) const noexcept { OSSL_PARAM_BLD_free(p); }
    void operator()(OSSL_PARAM* p) const noexcept { OSSL_PARAM_free(p); }
};

using PKey = std::unique_ptr<EVP_PKEY, Free>;
using PKeyCtx = std::unique_ptr<EVP_PKEY_CTX, Free>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, Free>;
using Md = std::unique_ptr<EVP_MD, Free>;
using Mac = std::unique_ptr<EVP_MAC, Free>;
using MacCtx = std::unique_ptr<EVP_MAC_CTX, Free>;
using BigNum = std::unique_ptr<BIGNUM, Free>;
using ParamBuilder = std::unique_ptr<OSSL_PARAM_BLD, Free>;
using Params = std::unique_ptr<OSSL_PARAM, Free>;

}  // namespace pp::cognito::ossl
