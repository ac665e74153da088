// A pull from start to finish: use a verified cached copy when there is one, else
// download into "<name>.part", check the sha256 (given, or the Hub's LFS ETag) and that the
// bytes are what the name says, then rename into place and record the file in the
// manifest. Whatever fails, nothing but a complete, checked file ever has the final name.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>

#include "core/error.h"
#include "hub/hub_internal.h"

namespace fs = std::filesystem;

namespace xnai::hub {
namespace {

struct CacheCheck {
  std::optional<CachedModel> model;  // set when the cached copy is usable
  std::string why_not;               // otherwise, for the offline message
};

// Is the file at `final` a verified copy of `source`? Trusts size + mtime against the
// manifest (a later edit changes the mtime) unless reverify asks for a full hash.
CacheCheck check_cached(const Cache& cache, const Source& source, const fs::path& final,
                        const std::string& rel, const std::string& expected, const PullOptions& opts) {
  CacheCheck c;
  std::error_code ec;
  if (!fs::is_regular_file(final, ec)) {
    c.why_not = "it is not in the cache (" + final.string() + ")";
    return c;
  }
  const uint64_t size = fs::file_size(final, ec);
  const std::optional<CachedModel> e = cache.entry(rel);
  if (e && !e->sha256.empty()) {
    if (!e->source.empty() && e->source != source.text) {
      c.why_not = "the cached " + rel + " came from " + e->source + ", not " + source.text;
      return c;
    }
    if (!expected.empty() && e->sha256 != expected) {
      c.why_not = "the cached copy has sha256 " + e->sha256 + ", not the expected " + expected;
      return c;
    }
    if (size != e->size) {
      c.why_not = "the cached copy has " + std::to_string(size) + " bytes, the manifest says " +
                  std::to_string(e->size);
      return c;
    }
    CachedModel m = inspect_file(final, rel);
    if (opts.reverify || e->mtime_ns != m.mtime_ns) {
      const std::string actual = detail::sha256_file(final);
      if (actual != e->sha256) {
        c.why_not =
            "the cached copy was modified: its sha256 is " + actual + ", the manifest says " + e->sha256;
        return c;
      }
    }
    m.source = e->source.empty() ? source.text : e->source;
    m.url = e->url;
    m.revision = e->revision;
    m.commit = e->commit;
    m.sha256 = e->sha256;
    m.verified_by = e->verified_by;
    m.pulled = e->pulled;
    m.in_manifest = true;
    if (e->mtime_ns != m.mtime_ns || e->kind != m.kind || e->architecture != m.architecture) cache.record(m);
    c.model = std::move(m);
    return c;
  }
  if (!expected.empty()) {
    // A copy placed by hand (or an older manifest): good when it has the expected bytes.
    const std::string actual = detail::sha256_file(final);
    if (actual != expected) {
      c.why_not = "the file in the cache has sha256 " + actual + ", not the expected " + expected;
      return c;
    }
    CachedModel m = inspect_file(final, rel);
    m.source = source.text;
    m.url = source.url;
    m.revision = source.hf ? source.revision : "";
    m.sha256 = actual;
    m.verified_by = "sha256 given";
    m.pulled = detail::utc_now_iso8601();
    cache.record(m);
    m.in_manifest = true;
    c.model = std::move(m);
    return c;
  }
  c.why_not =
      "the file in the cache has no recorded checksum to verify it against (pass --sha256, or pull it "
      "online)";
  return c;
}

void remove_quietly(const fs::path& p) {
  std::error_code ec;
  fs::remove(p, ec);
}

}  // namespace

PullResult pull(const Source& source, const Cache& cache, const PullOptions& opts) {
  const fs::path final = cache.path_for(source);
  const std::string rel = cache.rel_of(final);
  const std::string name = final.filename().string();
  const std::string expected = detail::to_lower(opts.expected_sha256);
  if (!expected.empty() && !detail::is_sha256_hex(expected))
    throw Error(ErrorKind::InvalidArgument, "a sha256 is 64 hex digits, got '" + opts.expected_sha256 + "'");

  if (!opts.force) {
    CacheCheck c = check_cached(cache, source, final, rel, expected, opts);
    if (c.model) return PullResult{std::move(*c.model), false, 0};
    if (opts.offline) throw Error(ErrorKind::NotFound, source.text + ": offline, and " + c.why_not);
  } else if (opts.offline) {
    throw Error(ErrorKind::InvalidArgument, "--force downloads again, which --offline forbids");
  }

  fs::path part = final;
  part += ".part";
  fs::path meta = final;
  meta += ".part.json";
  const detail::TransferJob job{source.url, opts.token, part, meta, source.text, &source, &opts};
  detail::TransferResult t;
  try {
    t = detail::transfer(job);
  } catch (const detail::BusyError&) {
    throw;
  } catch (const Error& e) {
    std::error_code ec;
    const auto kept = fs::file_size(part, ec);
    if (ec || kept == 0) {
      remove_quietly(part);
      remove_quietly(meta);
      detail::prune_empty_dirs(final.parent_path(), cache.root());
      throw;
    }
    throw Error(e.kind(), std::string(e.what()) + "; the partial download (" + format_bytes(kept) +
                              ") is kept in " + part.string() + ": run the same command again to resume");
  }

  const auto discard = [&](ErrorKind kind, const std::string& what) {
    remove_quietly(part);
    remove_quietly(meta);
    detail::prune_empty_dirs(final.parent_path(), cache.root());
    throw Error(kind, what + "; the download was removed, nothing was added to the cache");
  };
  std::string verified_by;
  if (!expected.empty()) {
    if (t.sha256 != expected)
      discard(ErrorKind::InvalidFormat,
              "checksum mismatch for " + name + ": expected sha256 " + expected + ", got " + t.sha256);
    verified_by = "sha256 given";
  }
  if (!t.hub_sha256.empty()) {
    if (t.sha256 != t.hub_sha256)
      discard(ErrorKind::InvalidFormat, "checksum mismatch for " + name + ": the Hub's ETag says sha256 " +
                                            t.hub_sha256 + ", the bytes received have " + t.sha256);
    if (verified_by.empty()) verified_by = "Hub ETag";
  }
  if (opts.expected_size > 0 && t.size != opts.expected_size)
    discard(ErrorKind::InvalidFormat, name + " has " + std::to_string(t.size) + " bytes, expected " +
                                          std::to_string(opts.expected_size));
  try {
    detail::check_content(part, name);
  } catch (const Error& e) {
    discard(e.kind(), e.what());
  }

  if (::rename(part.c_str(), final.c_str()) != 0)
    throw Error(ErrorKind::Io, final.string() + ": cannot rename the finished download into place: " +
                                   std::strerror(errno) + " (it is complete in " + part.string() + ")");
  detail::fsync_dir(final.parent_path());
  remove_quietly(meta);

  CachedModel m = inspect_file(final, rel);
  m.source = source.text;
  m.url = source.url;
  m.revision = source.hf ? source.revision : "";
  m.commit = t.commit;
  m.sha256 = t.sha256;
  m.verified_by = verified_by;
  m.pulled = detail::utc_now_iso8601();
  cache.record(m);
  m.in_manifest = true;
  return PullResult{std::move(m), true, t.resumed_from};
}

}  // namespace xnai::hub
