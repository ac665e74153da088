// Private pieces of hub/ shared between its files: URLs, sha256, durable file writes and
// locks, content checks and the HTTP transfer. Not part of the public interface (hub.h).
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "core/error.h"
#include "hub/hub.h"

struct evp_md_ctx_st;

namespace xnai::hub::detail {

// ---- URLs (source.cpp)

struct Url {
  std::string scheme;  // "http" or "https"
  std::string host;    // lower-case; IPv6 without brackets
  int port = 0;
  std::string target;  // path and query, starting with '/', sent verbatim

  std::string origin() const;  // "scheme://host[:port]" as httplib::Client takes it
  std::string str() const;     // origin() + target
};

// Throws Error(InvalidArgument) naming the text. Only http and https.
Url parse_url(std::string_view text);
// localhost, 127.0.0.0/8, ::1.
bool is_loopback_host(std::string_view host);
// Resolves a Location header (absolute, scheme-relative or path) against `base`.
Url resolve_location(const Url& base, std::string_view location);
// Percent-encodes everything but RFC 3986 unreserved characters (and '/' when keep_slash).
std::string percent_encode(std::string_view s, bool keep_slash);
// cpp-httplib 0.11 percent-decodes every response header value, Location included. This
// puts back an encoding every server decodes to the same path and query parameters: bytes
// a URI may not carry raw are encoded again, '%' included (after decoding it can only
// stand for itself). The one loss: a "%2B" meant as '+' comes back as '+', which query
// parsers may read as a space; the Hub's signed CDN URLs do not rely on it.
std::string reencode_decoded_url(std::string_view s);

// ---- sha256 (sha256.cpp)

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void reset();
  void update(const void* data, size_t n);
  std::string hex_digest();  // finishes; call reset() before reusing

 private:
  evp_md_ctx_st* ctx_;
};

// Hashes the first `limit` bytes of a file (all of it when limit is UINT64_MAX) into h.
// Returns the number of bytes hashed. Throws Error(Io).
uint64_t hash_file_into(const std::filesystem::path& file, Sha256& h, uint64_t limit = UINT64_MAX);
std::string sha256_file(const std::filesystem::path& file);
bool is_sha256_hex(std::string_view s);
std::string to_lower(std::string_view s);

// ---- durable files (files.cpp)

// Writes `content` to "<file>.tmp-XXXXXX", fsyncs it, renames it over `file`, fsyncs the
// directory. Creates parent directories. Throws Error(Io) naming the file.
void write_file_atomic(const std::filesystem::path& file, std::string_view content);
void fsync_dir(const std::filesystem::path& dir);                // best effort
std::string read_small_file(const std::filesystem::path& file);  // "" when absent; throws Error(Io)
int64_t mtime_ns(const std::filesystem::path& file);             // 0 when absent
std::string utc_now_iso8601();
// Removes `dir` and its parents while they are empty, stopping at `root` (kept).
void prune_empty_dirs(std::filesystem::path dir, const std::filesystem::path& root);

// An exclusive advisory lock (flock) on a file, created if needed; released on
// destruction. blocking = false throws Error(Io) when another process holds it.
class FileLock {
 public:
  FileLock(const std::filesystem::path& file, bool blocking, const std::string& what);
  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_ = -1;
};

// "no space left: need X, have Y in DIR"
std::string no_space_message(uint64_t need, uint64_t have, const std::filesystem::path& dir);

// ---- content checks (content_check.cpp)

// Throws Error(InvalidFormat) when the file's bytes do not match what its name says:
// "<name> is not a GGUF file (starts with '<!DOCTYPE html>')". .gguf → "GGUF" magic;
// .pt/.pth → a zip (torch.save); .json → parses as JSON; any other name → not an HTML
// page. `name` is the file name used in the message.
void check_content(const std::filesystem::path& file, const std::string& name);

// ---- HTTP transfer (http_transfer.cpp)

// Another process is downloading the same file: its partial file must not be touched.
class BusyError : public Error {
 public:
  using Error::Error;
};

// What a transfer must do and where its bytes go.
struct TransferJob {
  std::string url;                 // first URL
  std::string token;               // Authorization: Bearer, for the first URL's origin only
  std::filesystem::path part;      // "<final>.part": bytes go here (appended on resume)
  std::filesystem::path meta;      // "<final>.part.json": which object the part belongs to
  std::string display;             // the source as the user wrote it, for messages
  const Source* source = nullptr;  // for Hub error messages (repo, path, revision)
  const PullOptions* opts = nullptr;
};

struct TransferResult {
  uint64_t size = 0;
  std::string sha256;      // of the whole file, computed while writing
  std::string hub_etag;    // X-Linked-Etag / ETag of the first host, unquoted, or ""
  std::string hub_sha256;  // the Hub's claim of the file's sha256 (an LFS X-Linked-Etag), or ""
  std::string commit;      // X-Repo-Commit, or ""
  std::string final_url;   // after redirects
  uint64_t resumed_from = 0;
};

// Downloads job.url into job.part, resuming from what the part holds when job.meta says
// it is the same object, following redirects, retrying dropped connections with Range.
// The part is fsynced on success. Throws Error (see pull()); the part is kept for a later
// resume unless its bytes are known to be useless.
TransferResult transfer(const TransferJob& job);

}  // namespace xnai::hub::detail
