#include "result_mapping.hpp"

#include <security/pam_modules.h>

namespace pp::module {

int pam_code_for(wire::Outcome outcome) noexcept {
    using wire::Outcome;
    switch (outcome) {
        case Outcome::Success:
            return PAM_SUCCESS;
        case Outcome::AuthErr:
            return PAM_AUTH_ERR;
        case Outcome::MaxTries:
            return PAM_MAXTRIES;
        case Outcome::UserUnknown:
            return PAM_USER_UNKNOWN;
        case Outcome::Ignore:
            return PAM_IGNORE;
        case Outcome::AuthinfoUnavail:
            return PAM_AUTHINFO_UNAVAIL;
        case Outcome::CredInsufficient:
            return PAM_CRED_INSUFFICIENT;
        case Outcome::ServiceErr:
            return PAM_SERVICE_ERR;
        case Outcome::ConvErr:
            return PAM_CONV_ERR;
        case Outcome::Abort:
            return PAM_ABORT;
    }
    // An outcome this build does not know must never read as success.
    return PAM_AUTH_ERR;
}

const char* pam_code_name(int code) noexcept {
    switch (code) {
        case PAM_SUCCESS:
            return "PAM_SUCCESS";
        case PAM_AUTH_ERR:
            return "PAM_AUTH_ERR";
        case PAM_MAXTRIES:
            return "PAM_MAXTRIES";
        case PAM_USER_UNKNOWN:
            return "PAM_USER_UNKNOWN";
        case PAM_IGNORE:
            return "PAM_IGNORE";
        case PAM_AUTHINFO_UNAVAIL:
            return "PAM_AUTHINFO_UNAVAIL";
        case PAM_CRED_INSUFFICIENT:
            return "PAM_CRED_INSUFFICIENT";
        case PAM_SERVICE_ERR:
            return "PAM_SERVICE_ERR";
        case PAM_CONV_ERR:
            return "PAM_CONV_ERR";
        case PAM_ABORT:
            return "PAM_ABORT";
        default:
            return "an unknown PAM code";
    }
}

}  // namespace pp::module
