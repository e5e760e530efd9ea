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

}  // namespace pp::module
