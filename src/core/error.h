// The one error type of xnai: a kind (for exit codes / HTTP statuses at the edges) and a
// message written for a person, naming the offending file, key or value.
#pragma once
#include <stdexcept>
#include <string>

namespace xnai {

enum class ErrorKind {
  InvalidArgument,  // bad flag, bad request field
  InvalidFormat,    // malformed file contents (GGUF, checkpoint, vocab …)
  NotFound,         // missing file, tensor, key, voice
  Io,               // read/write/mmap failure
  Unsupported,      // valid but not implemented (unknown arch, tensor type …)
  ContextFull,      // the KV cache has no room for more tokens
  Internal,         // a bug: an invariant did not hold
};

const char* error_kind_name(ErrorKind kind);

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const { return kind_; }

 private:
  ErrorKind kind_;
};

}  // namespace xnai
