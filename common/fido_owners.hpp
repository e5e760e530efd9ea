#pragma once

// The owners of libfido2's handles, for the helper (which verifies what a key signed) and the client (which
// talks to the key). Header only, so pp_common itself never links libfido2: only the code that includes this
// does, and both of those already do.

#include <fido.h>
#include <fido/eddsa.h>
#include <fido/es256.h>

#include <memory>
#include <new>

namespace pp::fido {

struct Free {
    void operator()(fido_assert_t* p) const noexcept { fido_assert_free(&p); }
    void operator()(fido_cred_t* p) const noexcept { fido_cred_free(&p); }
    void operator()(es256_pk_t* p) const noexcept { es256_pk_free(&p); }
    void operator()(eddsa_pk_t* p) const noexcept { eddsa_pk_free(&p); }
    // A device is closed before it is freed: fido_dev_free does not close it, and an open one keeps its
    // descriptor. Closing one never opened is refused by libfido2 and harmless.
    void operator()(fido_dev_t* p) const noexcept {
        fido_dev_close(p);
        fido_dev_free(&p);
    }
};

using Assert = std::unique_ptr<fido_assert_t, Free>;
using Cred = std::unique_ptr<fido_cred_t, Free>;
using Dev = std::unique_ptr<fido_dev_t, Free>;
using Es256Key = std::unique_ptr<es256_pk_t, Free>;
using EddsaKey = std::unique_ptr<eddsa_pk_t, Free>;

// Owns what a libfido2 constructor returned; the constructors return null only when memory ran out.
template <typename T>
std::unique_ptr<T, Free> owned(T* p) {
    if (p == nullptr) throw std::bad_alloc();
    return std::unique_ptr<T, Free>(p);
}

}  // namespace pp::fido
