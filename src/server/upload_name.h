// Uploaded file names: a client may only name a file, never a place. A name is accepted when
// it is one plain path component — no '/', '\\', NUL or control characters, not "." or "..",
// not starting with '.' (no hidden files) or '~', at most 255 bytes — and it has a document
// type the loaders read. Everything else is rejected (400) rather than cleaned up, so what is
// stored is exactly what the client named.
#pragma once
#include <string>

namespace xnai::server {

// Returns the empty string when `name` is acceptable, else the reason it is not.
std::string upload_name_problem(const std::string& name);

}  // namespace xnai::server
