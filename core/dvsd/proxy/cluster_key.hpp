// The cluster key: 32 secret bytes every node of a cluster holds and nothing else does. Links
// between nodes (and the direct path's process links) are admitted only after a handshake that
// proves knowledge of it (core/dvsd/proxy/link_auth.hpp, docs/SECURITY.md).
//
// File format: 64 hexadecimal digits, optionally followed by a newline. The file must be a regular
// file that neither its group nor others may read or write (mode 0600 or stricter), as ssh
// demands of private keys: a key others can read is no secret.
#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace dvs::linkauth {

inline constexpr size_t kKeyBytes = 32;
using Key = std::array<uint8_t, kKeyBytes>;

// Reads the key at path into *out. "" on success, else a one-line reason (file missing, mode too
// open, not 64 hex digits...); *out is untouched then.
std::string load_cluster_key(const std::string& path, Key* out);

// Writes a fresh random key to path, created with mode 0600; never replaces an existing file.
// "" on success, else a one-line reason.
std::string generate_cluster_key(const std::string& path);

// Lower-case hex of k (64 digits): the file's contents without the newline.
std::string key_hex(const Key& k);

}  // namespace dvs::linkauth
