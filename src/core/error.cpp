#include "core/error.h"

namespace xnai {

const char* error_kind_name(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::InvalidArgument: return "invalid argument";
    case ErrorKind::InvalidFormat: return "invalid format";
    case ErrorKind::NotFound: return "not found";
    case ErrorKind::Io: return "i/o error";
    case ErrorKind::Unsupported: return "unsupported";
    case ErrorKind::ContextFull: return "context full";
    case ErrorKind::Internal: return "internal error";
  }
  return "error";
}

}  // namespace xnai
