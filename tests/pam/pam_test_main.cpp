// main() for the end-to-end PAM tests. libpam must be wrapped from the first instruction (LD_PRELOAD), so a
// binary started without pam_wrapper starts itself again with it; run by hand or by CTest, it behaves the
// same.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "login_harness.hpp"

int main(int argc, char** argv) {
    // InitGoogleTest removes the flags it reads; the re-executed process needs them all again.
    std::vector<char*> original(argv, argv + argc + 1);
    ::testing::InitGoogleTest(&argc, argv);
    if (std::getenv("PAM_WRAPPER") == nullptr) {
        pp::test::write_services_for_all_tests();
        // Under ASan (scripts/test-sanitizers.sh sets PP_ASAN_RUNTIME) its runtime must come first.
        std::string preload = PP_PAM_WRAPPER_LIBRARY;
        if (const char* asan = std::getenv("PP_ASAN_RUNTIME")) preload = std::string(asan) + ":" + preload;
        ::setenv("LD_PRELOAD", preload.c_str(), 1);
        ::setenv("PAM_WRAPPER", "1", 1);
        ::setenv("PAM_WRAPPER_SERVICE_DIR", PP_SERVICE_DIR, 1);
        ::execv("/proc/self/exe", original.data());
        std::perror("re-executing under pam_wrapper");
        return 1;
    }
    return RUN_ALL_TESTS();
}
