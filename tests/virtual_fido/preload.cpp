// What LD_PRELOAD puts in front of libfido2. Only the symbols below are exported (everything else is hidden),
// so the library changes nothing in a process except device enumeration and opening of "vfido:" paths.
#include <dlfcn.h>
#include <fido.h>

#include <cstdio>
#include <string>
#include <string_view>

#include "ctaphid.hpp"
#include "device_functions.hpp"
#include "knobs.hpp"

namespace {

// Reads the knobs while the environment is still complete; see knobs.hpp.
__attribute__((constructor)) void load_knobs() {
    vfido::knobs();
}

}  // namespace

extern "C" {

// Lists the virtual keys instead of the machine's HID keys, so tests never depend on (or touch) real
// hardware. Each entry carries transport functions: through fido_dev_info_set, io functions alone make
// libfido2 ask the HID backend for report sizes with our handle, and open fails with FIDO_ERR_RX.
__attribute__((visibility("default"))) int fido_dev_info_manifest(fido_dev_info_t* devlist, std::size_t ilen,
                                                                  std::size_t* olen) {
    if (olen == nullptr) return FIDO_ERR_INVALID_ARGUMENT;
    *olen = 0;
    const vfido::Knobs& knobs = vfido::knobs();
    for (unsigned i = 0; i < knobs.keys && *olen < ilen; ++i) {
        const std::string path = vfido::path_prefix + std::to_string(i);
        const std::string product =
            "Virtual FIDO2 test key " + std::to_string(i) + " (not a real authenticator)";
        const int r = fido_dev_info_set(devlist, *olen, path.c_str(), "pam_passwordless test suite",
                                        product.c_str(), &vfido::io_functions, &vfido::transport_functions);
        if (r != FIDO_OK) return r;
        ++*olen;
    }
    return FIDO_OK;
}

// Lets callers that open by path (fido_dev_new + fido_dev_open, as fido2-tools do) reach the virtual keys
// too. They get the io functions only, so libfido2 frames CTAPHID itself and sees our keepalive reports: the
// other of the two ways libfido2 can talk to a key.
__attribute__((visibility("default"))) int fido_dev_open(fido_dev_t* dev, const char* path) {
    using OpenFunction = int (*)(fido_dev_t*, const char*);
    static const auto real_open = reinterpret_cast<OpenFunction>(dlsym(RTLD_NEXT, "fido_dev_open"));
    if (real_open == nullptr) return FIDO_ERR_INTERNAL;
    if (path != nullptr && std::string_view(path).starts_with(vfido::path_prefix)) {
        const int r = fido_dev_set_io_functions(dev, &vfido::io_functions);
        if (r != FIDO_OK) return r;
    }
    return real_open(dev, path);
}

// For the self-test: how many keepalive reports the virtual keys of this process have sent.
__attribute__((visibility("default"))) unsigned long vfido_keepalives_sent(void) {
    return vfido::keepalives_sent();
}

}  // extern "C"
