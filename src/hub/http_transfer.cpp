// One download, the way the Hub serves files: GET the resolve URL, follow redirects
// ourselves (the Hub answers 302 to a CDN host; its X-Linked-Etag / X-Linked-Size — the
// LFS sha256 and size — are read from the Hub's own response before leaving it), send
// the token only to the first host, stream the body into "<file>.part" while hashing it,
// and on a dropped connection ask for the rest with Range. A sidecar "<file>.part.json"
// records which object the part holds, so a resume only continues the same bytes.
#include <fcntl.h>
#include <httplib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <exception>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "core/error.h"
#include "hub/hub_internal.h"

namespace fs = std::filesystem;

namespace xnai::hub::detail {
namespace {

struct PartMeta {
  std::string url;   // the first URL of the transfer
  std::string etag;  // identity of the object (Hub etag, else the final response's strong ETag)
  uint64_t size = 0;
};

PartMeta read_meta(const fs::path& file) {
  PartMeta m;
  try {
    const auto j = nlohmann::json::parse(read_small_file(file), nullptr, false);
    if (j.is_object()) {
      m.url = j.value("url", "");
      m.etag = j.value("etag", "");
      m.size = j.value("size", uint64_t{0});
    }
  } catch (const std::exception&) {
    // An unreadable sidecar only means the part cannot be trusted; it is restarted.
  }
  return m;
}

void write_meta(const fs::path& file, const PartMeta& m) {
  write_file_atomic(file, nlohmann::json{{"url", m.url}, {"etag", m.etag}, {"size", m.size}}.dump() + "\n");
}

// huggingface_hub's normalisation: a weak validator cannot identify bytes.
std::string clean_etag(const std::string& v) {
  if (v.rfind("W/", 0) == 0) return {};
  std::string s = v;
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
  return s;
}

uint64_t parse_u64(const std::string& s) {
  if (s.empty() || s.size() > 19) return 0;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return 0;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

// "bytes START-END/TOTAL" (TOTAL may be '*') or "bytes */TOTAL".
bool parse_content_range(const std::string& v, uint64_t& start, uint64_t& total) {
  if (v.rfind("bytes ", 0) != 0) return false;
  const size_t slash = v.find('/');
  if (slash == std::string::npos) return false;
  const std::string range = v.substr(6, slash - 6);
  const std::string tot = v.substr(slash + 1);
  total = tot == "*" ? 0 : parse_u64(tot);
  if (range == "*") {
    start = UINT64_MAX;
    return true;
  }
  const size_t dash = range.find('-');
  if (dash == std::string::npos) return false;
  start = parse_u64(range.substr(0, dash));
  return true;
}

// The partial file, opened once for the whole transfer and locked so that two pulls of
// the same file cannot interleave their bytes.
class PartFile {
 public:
  PartFile(const fs::path& p, const std::string& display) : path_(p) {
    std::error_code ec;
    fs::create_directories(p.parent_path(), ec);
    if (ec)
      throw Error(ErrorKind::Io, p.parent_path().string() + ": cannot create directory: " + ec.message());
    fd_ = ::open(p.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) throw Error(ErrorKind::Io, p.string() + ": cannot open: " + std::strerror(errno));
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      ::close(fd_);
      throw BusyError(ErrorKind::Io,
                      "another xnai pull is already downloading " + display + " (into " + p.string() + ")");
    }
    struct stat st {};
    regular_ = ::fstat(fd_, &st) == 0 && S_ISREG(st.st_mode);
  }
  ~PartFile() {
    if (fd_ >= 0) ::close(fd_);
  }
  PartFile(const PartFile&) = delete;
  PartFile& operator=(const PartFile&) = delete;

  uint64_t size() const {
    struct stat st {};
    return regular_ && ::fstat(fd_, &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
  }
  // Throws Error(Io).
  void truncate(uint64_t n) {
    if (regular_ && ::ftruncate(fd_, static_cast<off_t>(n)) != 0)
      throw Error(ErrorKind::Io, path_.string() + ": cannot truncate: " + std::strerror(errno));
    ::lseek(fd_, static_cast<off_t>(n), SEEK_SET);
  }
  void seek_end() { ::lseek(fd_, 0, SEEK_END); }
  // Returns 0 or an errno; never throws (it runs inside httplib's callbacks).
  int write(const char* data, size_t n) {
    while (n > 0) {
      const ssize_t w = ::write(fd_, data, n);
      if (w < 0) {
        if (errno == EINTR) continue;
        return errno;
      }
      data += w;
      n -= static_cast<size_t>(w);
    }
    return 0;
  }
  void sync() {
    if (::fsync(fd_) != 0 && regular_)
      throw Error(ErrorKind::Io, path_.string() + ": fsync failed: " + std::strerror(errno));
  }

 private:
  fs::path path_;
  int fd_ = -1;
  bool regular_ = true;
};

enum class Outcome { Complete, Retry, Restart };

// Everything one chain of requests (first URL → redirects → body) learns.
struct Attempt {
  Outcome outcome = Outcome::Complete;
  bool progressed = false;  // new bytes were written
  std::string problem;      // why a Retry happened, for the final message
};

class Transfer {
 public:
  explicit Transfer(const TransferJob& job)
      : job_(job), o_(*job.opts), first_(parse_url(job.url)), part_(job.part, job.display) {
    // A Hub token is for the Hub: never sent to a plain URL's host (or anywhere else).
    token_ = o_.token;
    if (token_.empty())
      if (const char* t = std::getenv("HF_TOKEN"); t && *t) token_ = t;
    try {
      if (first_.origin() != parse_url(hub_endpoint()).origin()) token_.clear();
    } catch (const Error&) {
      token_.clear();
    }
    free_space_ = o_.free_space ? o_.free_space : [](const fs::path& d) { return hub::free_space(d); };
  }

  TransferResult run() {
    const PartMeta meta = read_meta(job_.meta);
    have_ = part_.size();
    // A part without a sidecar naming this URL belongs to some other object.
    if (have_ > 0 && (meta.url != job_.url || (meta.size > 0 && have_ > meta.size))) {
      part_.truncate(0);
      have_ = 0;
    }
    meta_ = have_ > 0 ? meta : PartMeta{};
    if (have_ > 0) hash_file_into(job_.part, hasher_, have_);
    part_.seek_end();
    result_.resumed_from = have_;
    resumed_from_ = have_;
    start_ = std::chrono::steady_clock::now();

    int failures = 0, restarts = 0;
    int delay_ms = o_.retry_delay_ms;
    std::string last_problem;
    for (;;) {
      const Attempt a = attempt();
      if (a.outcome == Outcome::Complete) break;
      if (a.outcome == Outcome::Restart) {
        if (++restarts > 3)
          throw Error(ErrorKind::Io,
                      job_.display + ": the server keeps sending a different file or range; giving up");
        restart();
        continue;
      }
      last_problem = a.problem;
      if (a.progressed) {
        failures = 0;
        delay_ms = o_.retry_delay_ms;
      }
      if (++failures >= o_.max_attempts)
        throw Error(ErrorKind::Io, job_.display + ": download failed after " +
                                       std::to_string(o_.max_attempts) + " attempts: " + last_problem);
      if (delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
      delay_ms = std::min(std::max(delay_ms, 1) * 2, 30000);
    }
    part_.sync();
    result_.size = have_;
    result_.sha256 = hasher_.hex_digest();
    return result_;
  }

 private:
  void restart() {
    part_.truncate(0);
    hasher_.reset();
    have_ = 0;
    resumed_from_ = 0;
    result_.resumed_from = 0;
    meta_ = PartMeta{};
  }

  void report(uint64_t total) {
    if (!o_.on_progress) return;
    DownloadProgress p;
    p.done = have_;
    p.total = total;
    p.resumed_from = resumed_from_;
    p.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    o_.on_progress(p);
  }

  // Throws when the object's size is not the expected one or does not fit on the disk.
  void check_size_and_space(uint64_t total) const {
    if (o_.expected_size > 0 && total != o_.expected_size)
      throw Error(ErrorKind::InvalidFormat, job_.display + ": the server has " + std::to_string(total) +
                                                " bytes, expected " + std::to_string(o_.expected_size) +
                                                " (the file changed upstream, or it is the wrong file)");
    if (total > have_) {
      const uint64_t need = total - have_;
      const uint64_t free_bytes = free_space_(job_.part.parent_path());
      if (need > free_bytes)
        throw Error(ErrorKind::Io, no_space_message(need, free_bytes, job_.part.parent_path()));
    }
  }

  Error http_error(int status, const Url& url, const std::string& code, const std::string& message) const {
    const Source* s = job_.source;
    const std::string where = " (" + job_.display + ")";
    const std::string server_says = message.empty() ? "" : "; the server says: " + message;
    if (s && s->hf) {
      const std::string repo = "'" + s->repo + "'";
      if (code == "RepoNotFound")
        return Error(ErrorKind::NotFound,
                     "repository " + repo + " not found on " + first_.origin() + where +
                         ": check the name; if it is private or gated, set HF_TOKEN" +
                         (token_.empty() ? "" : " (HF_TOKEN is set: it may lack access)"));
      if (code == "RevisionNotFound")
        return Error(ErrorKind::NotFound, "revision '" + s->revision + "' not found in " + repo + where);
      if (code == "EntryNotFound")
        return Error(ErrorKind::NotFound, "file '" + s->path + "' not found in " + repo + " at revision '" +
                                              s->revision + "'" + where);
      if (code == "GatedRepo")
        return Error(ErrorKind::InvalidArgument,
                     repo + " is gated: accept its terms on " + first_.origin() + "/" + s->repo +
                         ", then set HF_TOKEN to a token of that account" + where);
      if (status == 404 && url.origin() == first_.origin())
        return Error(ErrorKind::NotFound, "not found (HTTP 404): no file '" + s->path + "' in " + repo +
                                              " at revision '" + s->revision + "', or no such repository" +
                                              where);
    }
    if (status == 401 || status == 403) {
      if (url.origin() == first_.origin()) {
        if (token_.empty())
          return Error(ErrorKind::InvalidArgument,
                       url.origin() + " needs authentication (HTTP " + std::to_string(status) + ")" + where +
                           ": set HF_TOKEN to a token with read access" + server_says);
        return Error(ErrorKind::InvalidArgument, url.origin() + " rejected HF_TOKEN (HTTP " +
                                                     std::to_string(status) + ")" + where +
                                                     ": check the token and its access" + server_says);
      }
      return Error(ErrorKind::Io, "access denied (HTTP " + std::to_string(status) + ") by " + url.origin() +
                                      where + server_says);
    }
    if (status == 404) return Error(ErrorKind::NotFound, url.str() + ": not found (HTTP 404)" + where);
    return Error(ErrorKind::Io,
                 "HTTP " + std::to_string(status) + " from " + url.origin() + where + server_says);
  }

  Attempt attempt() {
    Attempt a;
    Url url = first_;
    std::string hub_etag, hub_sha256, commit;
    uint64_t hub_size = 0;
    for (int hop = 0;; ++hop) {
      const bool on_first_host = url.origin() == first_.origin();
      httplib::Client cli(url.origin());
      if (!cli.is_valid()) throw Error(ErrorKind::Io, "cannot set up a client for " + url.origin());
      cli.set_follow_location(false);
      cli.set_connection_timeout(o_.connect_timeout_s, 0);
      cli.set_read_timeout(o_.read_timeout_s, 0);
      cli.set_write_timeout(o_.connect_timeout_s, 0);
      cli.set_keep_alive(false);
      cli.set_decompress(false);
      cli.set_url_encode(false);
      cli.enable_server_certificate_verification(true);

      httplib::Headers headers{{"Accept-Encoding", "identity"}, {"User-Agent", "xnai/0.1"}};
      if (have_ > 0) headers.emplace("Range", "bytes=" + std::to_string(have_) + "-");
      if (on_first_host && !token_.empty()) headers.emplace("Authorization", "Bearer " + token_);

      int status = 0;
      bool receiving = false, restart_needed = false;
      uint64_t total = 0;
      std::string location, error_code, error_message, body;
      std::exception_ptr failure;
      const uint64_t have_at_start = have_;

      auto on_response = [&](const httplib::Response& r) -> bool {
        status = r.status;
        if (on_first_host) {
          // The Hub's own answer names the object; a CDN's ETag is its own business.
          const std::string linked = clean_etag(r.get_header_value("X-Linked-Etag"));
          std::string e = linked.empty() ? clean_etag(r.get_header_value("ETag")) : linked;
          if (!e.empty()) hub_etag = e;
          // An LFS file's etag is its sha256; other Hub files carry a git sha1 (40 hex).
          const bool hub_source = job_.source && job_.source->hf;
          if (is_sha256_hex(e) && (!linked.empty() || hub_source)) hub_sha256 = to_lower(e);
          if (const uint64_t sz = parse_u64(r.get_header_value("X-Linked-Size"))) hub_size = sz;
          if (r.has_header("X-Repo-Commit")) commit = r.get_header_value("X-Repo-Commit");
        }
        if (status >= 300 && status < 400) {
          location = r.get_header_value("Location");
          return true;
        }
        if (status == 416) {
          uint64_t start = 0;
          parse_content_range(r.get_header_value("Content-Range"), start, total);
          return true;
        }
        if (status != 200 && status != 206) {
          error_code = r.get_header_value("X-Error-Code");
          error_message = r.get_header_value("X-Error-Message");
          return true;
        }
        try {
          const std::string enc = r.get_header_value("Content-Encoding");
          if (!enc.empty() && enc != "identity")
            throw Error(ErrorKind::Io, url.origin() + " sent compressed data (Content-Encoding: " + enc +
                                           ") although none was asked for");
          const std::string identity = hub_etag.empty() ? clean_etag(r.get_header_value("ETag")) : hub_etag;
          if (status == 206) {
            uint64_t start = 0;
            if (!parse_content_range(r.get_header_value("Content-Range"), start, total) || start != have_) {
              restart_needed = true;
              return false;
            }
          } else {
            total = parse_u64(r.get_header_value("Content-Length"));
            if (have_ > 0) restart();  // the server ignored Range: take the whole body from 0
          }
          if (total == 0) total = hub_size;
          if (have_ > 0 && ((!meta_.etag.empty() && !identity.empty() && identity != meta_.etag) ||
                            (meta_.size > 0 && total > 0 && total != meta_.size))) {
            restart_needed = true;  // the part holds bytes of an older version
            return false;
          }
          if (total > 0) check_size_and_space(total);
          if (meta_.url != job_.url || meta_.etag != identity || meta_.size != total) {
            meta_ = PartMeta{job_.url, identity, total};
            write_meta(job_.meta, meta_);
          }
          receiving = true;
          report(total);
          return true;
        } catch (...) {
          failure = std::current_exception();
          return false;
        }
      };
      auto on_content = [&](const char* data, size_t n) -> bool {
        if (!receiving) {
          if (body.size() < 4096) body.append(data, std::min(n, 4096 - body.size()));
          return true;
        }
        try {
          if (const int err = part_.write(data, n)) {
            if (err == ENOSPC || err == EDQUOT) {
              const uint64_t need = total > have_ ? total - have_ : n;
              const fs::path dir = job_.part.parent_path();
              throw Error(ErrorKind::Io, no_space_message(need, free_space_(dir), dir));
            }
            throw Error(ErrorKind::Io, job_.part.string() + ": write failed: " + std::strerror(err));
          }
          hasher_.update(data, n);
          have_ += n;
          a.progressed = true;
          report(total);
          return true;
        } catch (...) {
          failure = std::current_exception();  // httplib's callbacks must not throw
          return false;
        }
      };

      auto res = cli.Get(url.target, headers, on_response, on_content);
      if (failure) std::rethrow_exception(failure);
      if (restart_needed) {
        a.outcome = Outcome::Restart;
        return a;
      }
      if (!res) {
        const auto err = res.error();
        if (err == httplib::Error::SSLServerVerification || err == httplib::Error::SSLLoadingCerts)
          throw Error(ErrorKind::Io, "the TLS certificate of " + url.origin() + " could not be verified (" +
                                         httplib::to_string(err) + ")");
        a.outcome = Outcome::Retry;
        if (receiving)
          a.problem = "connection to " + url.origin() + " dropped after " + format_bytes(have_) +
                      (total ? " of " + format_bytes(total) : "") + " (" + httplib::to_string(err) + ")";
        else if (status == 0)
          a.problem = "cannot reach " + url.origin() + " (" + httplib::to_string(err) + ")";
        else
          a.problem = "HTTP " + std::to_string(status) + " from " + url.origin() + ", then " +
                      httplib::to_string(err);
        return a;
      }
      if (status >= 300 && status < 400) {
        if (location.empty())
          throw Error(ErrorKind::Io,
                      "HTTP " + std::to_string(status) + " from " + url.origin() + " without a Location");
        if (hop >= o_.max_redirects)
          throw Error(ErrorKind::Io,
                      job_.display + ": more than " + std::to_string(o_.max_redirects) + " redirects");
        // The Hub named the object before sending us away: drop a part of another version now.
        if (have_ > 0 && !meta_.etag.empty() && !hub_etag.empty() && hub_etag != meta_.etag) restart();
        // X-Linked-Size lets the size and space checks fail before any byte is fetched.
        if (hub_size > 0) check_size_and_space(hub_size);
        const Url next = resolve_location(url, reencode_decoded_url(location));
        if (next.scheme == "http" && !is_loopback_host(next.host))
          throw Error(ErrorKind::Io,
                      url.origin() + " redirected to plain http (" + next.origin() + "); refusing");
        url = next;
        continue;
      }
      if (status == 200 || status == 206) {
        if (total > 0 && have_ != total) {
          a.outcome = Outcome::Retry;
          a.problem = "the body from " + url.origin() + " ended after " + format_bytes(have_) + " of " +
                      format_bytes(total);
          return a;
        }
        result_.hub_etag = hub_etag;
        result_.hub_sha256 = hub_sha256;
        result_.commit = commit;
        result_.final_url = url.str();
        return a;
      }
      if (status == 416) {
        // Nothing left to send from our offset: complete when the sizes agree, else start over.
        if (have_at_start > 0 && (total == 0 || total == have_) && (meta_.size == 0 || meta_.size == have_)) {
          result_.hub_etag = hub_etag.empty() ? meta_.etag : hub_etag;
          result_.hub_sha256 = hub_sha256;
          result_.commit = commit;
          result_.final_url = url.str();
          return a;
        }
        a.outcome = Outcome::Restart;
        return a;
      }
      if (status == 429 || status >= 500) {
        a.outcome = Outcome::Retry;
        a.problem = "HTTP " + std::to_string(status) + " from " + url.origin() +
                    (error_message.empty() ? "" : ": " + error_message);
        return a;
      }
      throw http_error(status, url, error_code, error_message);
    }
  }

  const TransferJob& job_;
  const PullOptions& o_;
  const Url first_;
  PartFile part_;
  std::string token_;
  std::function<uint64_t(const fs::path&)> free_space_;
  Sha256 hasher_;
  PartMeta meta_;
  uint64_t have_ = 0;
  uint64_t resumed_from_ = 0;
  std::chrono::steady_clock::time_point start_;
  TransferResult result_;
};

}  // namespace

TransferResult transfer(const TransferJob& job) { return Transfer(job).run(); }

}  // namespace xnai::hub::detail
