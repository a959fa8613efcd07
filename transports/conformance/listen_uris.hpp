// The one place where the conformance suite knows something per transport: how to make a URI
// it can listen on. Adding a transport = adding one line to the table in listen_uris.cpp.
#pragma once

#include <string>
#include <string_view>

namespace dvs::transport::conformance {

// A fresh listen URI for scheme (each call a new one, so tests never collide), or "" if the
// table has no entry for the scheme (the suite then fails with a message saying so).
std::string listen_uri_for(std::string_view scheme);

}  // namespace dvs::transport::conformance
