// Reading the user pool's answer as success or as a ServiceError (spec §1.3), without any I/O.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "service_error.hpp"

namespace pp::cognito {

// Nothing for a 2xx answer whose body is a JSON object (or empty, where the operation has empty output);
// otherwise the failure it stands for. error_type_header is the x-amzn-ErrorType value, empty when absent.
// read_by_caller: the caller reads a 2xx body itself, with a reader that refuses anything but a JSON object
// as Malformed (parse_step, for one), so it is not parsed twice: nothing for any 2xx answer.
std::optional<ServiceError> classify_response(long http_status, std::string_view error_type_header,
                                              std::string_view body, bool empty_body_ok = false,
                                              bool read_by_caller = false);

// The bare name inside "NotAuthorizedException:" or "com.amazonaws.cognito#CodeMismatchException"; empty when
// what remains is not a plausible name.
std::string error_name(std::string_view raw);

}  // namespace pp::cognito
