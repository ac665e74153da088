// Model management: where model files live (the cache), how they get there (a pull from
// the Hugging Face Hub or a plain https URL: resumable, verified, renamed into place only
// when complete), which ones are the defaults (the config file), and how the other
// commands find a model by name. The on-disk layout (cache, manifest, config) is in
// docs/models.md.
//
// Thread-safety: the functions here touch shared files (manifest, config) under an
// advisory file lock, so several processes may pull into one cache at once; a Cache
// object itself is a plain value for one thread.
#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace xnai::hub {

// What a model file is for. Detected from the file (GGUF general.architecture, the name
// of a checkpoint) rather than trusted from the source.
enum class ModelKind { Llm, Embedding, Tts, Voice, Config, Other };

const char* kind_name(ModelKind k);  // "llm", "embedding", "tts", "voice", "config", "other"
std::optional<ModelKind> kind_from_name(std::string_view name);

// ---------------------------------------------------------------------------------------
// Sources

// Where a file comes from. For the Hub, `url` is the resolve URL
// {endpoint}/{repo}/resolve/{revision}/{path}, exactly as huggingface_hub builds it.
struct Source {
  bool hf = false;       // a Hub file (else a plain URL)
  std::string repo;      // "org/name" (Hub only)
  std::string path;      // file path inside the repo, '/'-separated (Hub only)
  std::string revision;  // branch, tag or commit; "main" when none was given (Hub only)
  std::string url;       // the first URL fetched
  std::string text;      // canonical form: "hf://org/name/path[@revision]" or the URL

  std::string file_name() const;  // last path component, without any query string
};

// Parses "hf://org/repo/path/in/repo[@revision]", a Hub web address
// ("https://huggingface.co/org/repo/blob|resolve/REV/path"), or a plain https URL.
// http:// is accepted only for loopback hosts (tests, local mirrors). Throws
// Error(InvalidArgument) naming the text and what is wrong with it.
Source parse_source(std::string_view text);

// HF_ENDPOINT (as huggingface_hub reads it) or "https://huggingface.co"; no trailing '/'.
std::string hub_endpoint();

// ---------------------------------------------------------------------------------------
// The cache

// One model file in the cache, with what the manifest knows about it (empty fields for
// files that were copied in by hand) and what the file itself says.
struct CachedModel {
  std::filesystem::path path;  // absolute
  std::string rel;             // relative to the cache root, '/'-separated
  std::string source;          // "hf://…" or the URL; "" when not pulled by xnai
  std::string url;             // the resolve URL that was fetched
  std::string revision;        // as requested ("main", a tag, a commit)
  std::string commit;          // the commit the Hub resolved it to (X-Repo-Commit), or ""
  std::string sha256;          // lower-case hex, verified or computed at download; "" if unknown
  std::string verified_by;     // "sha256 given", "Hub ETag" or "" (computed, nothing to compare)
  uint64_t size = 0;           // bytes
  int64_t mtime_ns = 0;        // of the file when it was recorded (detects later edits)
  std::string pulled;          // UTC, ISO 8601, when it was recorded
  ModelKind kind = ModelKind::Other;
  std::string architecture;   // GGUF general.architecture, or ""
  int64_t file_type = -1;     // GGUF general.file_type (llama.cpp's LLAMA_FTYPE), or -1
  std::string dominant_type;  // GGUF tensor type holding most bytes ("q4_K"), or ""
  bool in_manifest = false;
  bool missing = false;  // in the manifest, but the file is gone
};

// A model cache directory: files under hf/<org>/<repo>/<path> and url/<host>/<name>, plus
// manifest.json (written atomically under a lock).
class Cache {
 public:
  explicit Cache(std::filesystem::path root);
  // XNAI_MODELS, else $XDG_CACHE_HOME/xnai/models, else ~/.cache/xnai/models.
  static Cache open_default();
  static std::filesystem::path default_root();

  const std::filesystem::path& root() const { return root_; }
  std::filesystem::path manifest_path() const { return root_ / "manifest.json"; }

  // Where a source's file lives once pulled (it may not exist yet).
  std::filesystem::path path_for(const Source& s) const;
  std::string rel_of(const std::filesystem::path& p) const;  // "" when outside the cache

  // Every model file under the root (partial downloads excluded) merged with the manifest;
  // sorted by rel. Manifest entries whose file is gone come back with missing = true.
  std::vector<CachedModel> list() const;
  // The manifest entry for a file (by rel), if any. Does not read the file.
  std::optional<CachedModel> entry(const std::string& rel) const;
  // Adds or replaces the manifest entry for m.rel.
  void record(const CachedModel& m) const;
  // Drops the manifest entry for rel (no-op when absent).
  void forget(const std::string& rel) const;

  // Cached files a name refers to: a path inside the cache, "hf/org/repo/file",
  // "org/repo/file", the file name, the file name without extension, or the source
  // ("hf://org/repo/file"). `kind` filters when given. Missing files are not returned.
  std::vector<CachedModel> match(std::string_view name, std::optional<ModelKind> kind = std::nullopt) const;

 private:
  std::filesystem::path root_;
};

// Reads what a file is: kind, GGUF architecture and quantization. `rel` is the name used
// for kind rules that depend on it ("voices/x.pt"). Never throws for unreadable GGUF
// metadata (fields stay empty); throws Error(Io) only when the file cannot be opened.
CachedModel inspect_file(const std::filesystem::path& file, const std::string& rel);

// ---------------------------------------------------------------------------------------
// Pull

struct DownloadProgress {
  uint64_t done = 0;          // bytes of the file on disk, resumed part included
  uint64_t total = 0;         // 0 while unknown
  uint64_t resumed_from = 0;  // bytes already on disk when this transfer began
  double seconds = 0;         // since this transfer began
};

struct PullOptions {
  std::string expected_sha256;  // hex; "" = use the Hub's ETag when it is a sha256
  uint64_t expected_size = 0;   // 0 = unknown; a different size from the server fails early
  bool offline = false;         // never open a socket: succeed only from the cache
  bool force = false;           // download again even when a verified copy is cached
  bool reverify = false;        // re-hash a cached file instead of trusting size + mtime
  std::string token;            // bearer token for the first host; "" = env HF_TOKEN
  std::function<void(const DownloadProgress&)> on_progress;  // called often; throttle it
  // Free bytes for new files in a directory; default statvfs. Injectable for tests.
  std::function<uint64_t(const std::filesystem::path&)> free_space;
  int max_redirects = 10;
  int max_attempts = 5;       // consecutive failed attempts (no new bytes) before giving up
  int retry_delay_ms = 1000;  // doubled after each failed attempt, at most 30 s
  int connect_timeout_s = 30;
  int read_timeout_s = 60;
};

struct PullResult {
  CachedModel model;
  bool downloaded = false;    // false: a verified copy was already cached
  uint64_t resumed_from = 0;  // bytes reused from an earlier partial download
};

// Fetches a source into the cache (see docs/models.md for every step). On success the
// file is complete, checked against the expected sha256 or the Hub's ETag (when either
// exists), its content matches its name (GGUF magic for .gguf, a zip for .pt/.pth, JSON
// for .json), and the manifest records it. On failure nothing is left under the final
// name; a "<name>.part" may remain so the next pull resumes (the message says so).
// Errors: InvalidArgument (bad source, authentication), NotFound (unknown repository,
// revision or file; not cached with offline), InvalidFormat (checksum mismatch, content
// not what the name says), Io (network, HTTP errors, no space left).
PullResult pull(const Source& source, const Cache& cache, const PullOptions& opts);

// Free bytes for new files in `dir` (statvfs f_bavail · f_frsize) of the nearest existing
// ancestor; throws Error(Io) when none can be queried.
uint64_t free_space(const std::filesystem::path& dir);

// "1.88 GiB", "512 KiB", "17 B".
std::string format_bytes(uint64_t bytes);

// ---------------------------------------------------------------------------------------
// The recommended set

// One file of the tested default set. sha256 "" means none is published where we could
// read it: the pull then verifies against the Hub's ETag at download.
struct RecommendedFile {
  const char* role;      // "llm", "embedding", "tts", "tts-config", "voice"
  const char* repo;      // "org/name" on the Hub
  const char* path;      // file inside the repo
  const char* revision;  // commit or branch the checksum was taken from
  uint64_t size;         // bytes; 0 = unknown
  const char* sha256;    // lower-case hex, or ""
  const char* what;      // one line for people
};

std::vector<std::string> recommended_languages();  // {"en"}
// The set for a language; throws Error(InvalidArgument) listing the known languages.
std::vector<RecommendedFile> recommended_set(std::string_view lang);
Source recommended_source(const RecommendedFile& f);  // hf://repo/path@revision

// ---------------------------------------------------------------------------------------
// Defaults (the config file)

// The models commands use when none is named. Paths are absolute; "" = not set.
struct Defaults {
  std::string llm;         // GGUF decoder
  std::string embedding;   // GGUF encoder
  std::string kokoro_dir;  // folder holding kokoro-v1_0.pth, config.json and voices/
  std::string voice;       // default voice file (voices/<name>.pt)
};

// XNAI_CONFIG, else $XDG_CONFIG_HOME/xnai/config.json, else ~/.config/xnai/config.json.
std::filesystem::path config_path();
// Missing file → all empty. Malformed JSON → Error(InvalidFormat) naming the file.
Defaults load_defaults(const std::filesystem::path& file);
// Writes the four keys (an empty one is removed) and keeps every other key of the file;
// atomic (temporary file + rename).
void save_defaults(const std::filesystem::path& file, const Defaults& d);

// The defaults a set of files provides: role "llm" → llm, "embedding" → embedding,
// "tts" → kokoro_dir (its folder), the first "voice" → voice. Other fields stay empty.
Defaults defaults_of(const std::vector<RecommendedFile>& set, const std::vector<PullResult>& pulled);

// `xnai pull --recommended`: checks free space for everything not cached yet (one
// "no space left" error before any byte is fetched), pulls every file with its size and
// sha256 from the table, then — only when all are in place — writes the set's defaults
// into the config file (other keys are kept). `on_file` is called before each file
// (index into `set`), e.g. to start a progress bar.
std::vector<PullResult> pull_set(const std::vector<RecommendedFile>& set, const Cache& cache,
                                 const std::filesystem::path& config_file, const PullOptions& opts,
                                 const std::function<void(size_t index)>& on_file = {});

// ---------------------------------------------------------------------------------------
// Finding models

// What the commands call to turn `-m NAME` into a file: an existing path is returned as
// is; else a cached file matching the name (and kind); else, when the name is empty, the
// config's default for the kind. For Tts the result is the Kokoro folder (kokoro_dir, or
// the folder of the checkpoint a name finds). Throws Error: InvalidArgument when
// nothing is named and no default is set, NotFound for an unknown name, both saying how
// to pull one; InvalidArgument listing the candidates when a name is ambiguous.
std::string resolve_model(const std::string& name_or_path, ModelKind kind);
std::string resolve_model(const std::string& name_or_path, ModelKind kind, const Cache& cache,
                          const std::filesystem::path& config_file);

// `xnai models rm NAME`: removes the one cached file NAME matches (see Cache::match), its
// manifest entry, any partial download beside it and every config default pointing at it
// (kokoro_dir when the Kokoro checkpoint goes). Returns what was removed. Throws
// NotFound (no match) or InvalidArgument (several, listed).
CachedModel remove_model(std::string_view name, const Cache& cache, const std::filesystem::path& config_file);

}  // namespace xnai::hub
