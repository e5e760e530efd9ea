// The one object of a login method's class (method.hpp): included by the method's own file only, which ends
// with `template const LoginMethod& method_object<TheClass>();`. The registry (method.cpp) names the class
// without its definition, so a method's class is seen by its file alone.
#pragma once

#include "login/method.hpp"

namespace pp::helper {

template <class M>
const LoginMethod& method_object() {
    static const M method;
    return method;
}

}  // namespace pp::helper
