// libcurl, loaded when the first request needs it instead of when the helper starts. libcurl and the ~28
// libraries it pulls in (LDAP, Kerberos, SSH, RTMP with GnuTLS, IDN, PSL, brotli...) cost a cold start about
// 11 ms of mapping and relocation before the helper could answer anything (bench/cold_start.py), and the
// first prompt of a login needs none of them. The helper starts the load in the background as soon as it has
// answered its first login (helper/pool_warm_up.cpp); a request that comes first loads it itself.
#pragma once

#include <curl/curl.h>

namespace pp::cognito {

// The functions of libcurl this project calls, resolved from the shared library.
struct LibCurl {
    CURL* (*easy_init)();
    void (*easy_cleanup)(CURL*);
    CURLcode (*easy_setopt)(CURL*, CURLoption, ...);
    CURLcode (*easy_getinfo)(CURL*, CURLINFO, ...);
    const char* (*easy_strerror)(CURLcode);
    CURLM* (*multi_init)();
    CURLMcode (*multi_setopt)(CURLM*, CURLMoption, ...);
    CURLMcode (*multi_add_handle)(CURLM*, CURL*);
    CURLMcode (*multi_remove_handle)(CURLM*, CURL*);
    CURLMcode (*multi_perform)(CURLM*, int*);
    CURLMcode (*multi_poll)(CURLM*, curl_waitfd[], unsigned int, int, int*);
    CURLMsg* (*multi_info_read)(CURLM*, int*);
    CURLMcode (*multi_cleanup)(CURLM*);
    curl_slist* (*slist_append)(curl_slist*, const char*);
    void (*slist_free_all)(curl_slist*);
};

// Loads libcurl once (thread-safe; callers wait for a load under way), checks that it is the OpenSSL build
// of at least the version this was compiled against, and runs curl_global_init. Throws ServiceError
// (Unreachable) when any of that fails: then no request can be made, as when the pool cannot be reached.
// A failed load is tried again by the next caller.
const LibCurl& libcurl();

}  // namespace pp::cognito
