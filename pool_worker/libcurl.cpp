#include "libcurl.hpp"

#include <dlfcn.h>

#include <atomic>
#include <mutex>
#include <string>
#include <string_view>

#include "service_error.hpp"

namespace pp::cognito {
namespace {

// The SONAME of libcurl's OpenSSL build (Debian's libcurl4), the one the project is built against. Found the
// way the dynamic linker finds the libraries linked at build time (ld.so.cache, the system directories).
constexpr const char* kLibrary = "libcurl.so.4";

[[noreturn]] void unavailable(const std::string& what) {
    throw ServiceError(Failure::Unreachable, "", "libcurl: " + what);
}

template <typename F>
void resolve(void* handle, const char* name, F& out) {
    void* symbol = ::dlsym(handle, name);
    if (symbol == nullptr) unavailable(std::string("no symbol ") + name);
    out = reinterpret_cast<F>(symbol);
}

LibCurl load() {
    // RTLD_NODELETE: the library stays for the life of the process, as a linked one would; it is never
    // closed.
    void* handle = ::dlopen(kLibrary, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
    if (handle == nullptr) {
        const char* err = ::dlerror();
        unavailable(err != nullptr ? err : "cannot load");
    }
    LibCurl api{};
    resolve(handle, "curl_easy_init", api.easy_init);
    resolve(handle, "curl_easy_cleanup", api.easy_cleanup);
    resolve(handle, "curl_easy_setopt", api.easy_setopt);
    resolve(handle, "curl_easy_getinfo", api.easy_getinfo);
    resolve(handle, "curl_easy_strerror", api.easy_strerror);
    resolve(handle, "curl_multi_init", api.multi_init);
    resolve(handle, "curl_multi_setopt", api.multi_setopt);
    resolve(handle, "curl_multi_add_handle", api.multi_add_handle);
    resolve(handle, "curl_multi_remove_handle", api.multi_remove_handle);
    resolve(handle, "curl_multi_perform", api.multi_perform);
    resolve(handle, "curl_multi_poll", api.multi_poll);
    resolve(handle, "curl_multi_info_read", api.multi_info_read);
    resolve(handle, "curl_multi_cleanup", api.multi_cleanup);
    resolve(handle, "curl_slist_append", api.slist_append);
    resolve(handle, "curl_slist_free_all", api.slist_free_all);
    CURLcode (*global_init)(long) = nullptr;
    curl_version_info_data* (*version_info)(CURLversion) = nullptr;
    resolve(handle, "curl_global_init", global_init);
    resolve(handle, "curl_version_info", version_info);

    // The options used (CURLOPT_PROTOCOLS_STR, ...) need the version compiled against, and the TLS-buffer
    // callback is handed an OpenSSL SSL_CTX: another build of libcurl at that name is refused.
    const curl_version_info_data* v = version_info(CURLVERSION_NOW);
    if (v == nullptr || v->version_num < LIBCURL_VERSION_NUM)
        unavailable(std::string("version ") + (v != nullptr ? v->version : "unknown") + " is older than " +
                    LIBCURL_VERSION);
    if (v->ssl_version == nullptr || !std::string_view(v->ssl_version).starts_with("OpenSSL/"))
        unavailable(std::string("not built with OpenSSL (") + (v->ssl_version ? v->ssl_version : "no TLS") +
                    ")");
    // Initialised while logins run (their threads use OpenSSL): only a build whose global init is thread-safe
    // may be initialised so.
    if ((v->features & CURL_VERSION_THREADSAFE) == 0) unavailable("not built thread-safe");
    if (global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) unavailable("could not be initialised");
    return api;
}

}  // namespace

const LibCurl& libcurl() {
    static std::atomic<const LibCurl*> ready{nullptr};
    if (const LibCurl* api = ready.load(std::memory_order_acquire)) return *api;
    static std::mutex m;
    static LibCurl api{};
    const std::lock_guard lock(m);
    if (ready.load(std::memory_order_relaxed) == nullptr) {
        api = load();
        ready.store(&api, std::memory_order_release);
    }
    return api;
}

}  // namespace pp::cognito
