// An in-process stand-in for the Hugging Face Hub on loopback, for the pull tests: the
// "Hub" (127.0.0.1) answers /{org}/{repo}/resolve/{revision}/{path} the way the real one
// does (302 to a CDN with X-Linked-Etag / X-Linked-Size / X-Repo-Commit for LFS files,
// 200 with a git-sha1 ETag for small files, 401/404 with X-Error-Code), and the "CDN"
// (a second server on 127.0.0.2, a different host) serves the bytes with ETag and Range.
// Knobs make the CDN drop the connection part-way, ignore Range, or serve other bytes;
// counters and a log of Range headers let tests check what went over the wire.
#pragma once
#include <httplib.h>

#include <atomic>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "hub/hub_internal.h"

namespace xnai::test {

struct FakeFile {
  explicit FakeFile(std::string b, std::string claimed_sha256 = "", bool is_lfs = true)
      : bytes(std::move(b)), sha256(std::move(claimed_sha256)), lfs(is_lfs) {}
  std::string bytes;   // what is served
  std::string sha256;  // what the Hub claims; "" = the sha256 of bytes
  bool lfs;            // false: served by the Hub itself (small git files such as config.json)
};

class FakeHub {
 public:
  FakeHub() {
    setup_hub();
    setup_cdn();
    hub_port_ = hub_.bind_to_any_port("127.0.0.1");
    cdn_port_ = cdn_.bind_to_any_port("127.0.0.2");
    if (hub_port_ <= 0 || cdn_port_ <= 0) throw std::runtime_error("FakeHub: cannot bind loopback ports");
    hub_thread_ = std::thread([this] { hub_.listen_after_bind(); });
    cdn_thread_ = std::thread([this] { cdn_.listen_after_bind(); });
  }
  ~FakeHub() {
    hub_.stop();
    cdn_.stop();
    hub_thread_.join();
    cdn_thread_.join();
  }
  FakeHub(const FakeHub&) = delete;
  FakeHub& operator=(const FakeHub&) = delete;

  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(hub_port_); }
  std::string cdn_origin() const { return "http://127.0.0.2:" + std::to_string(cdn_port_); }

  // Adds (or replaces) a file of repo "org/name" at a revision.
  void add(const std::string& repo, const std::string& path, FakeFile f,
           const std::string& revision = "main") {
    std::lock_guard<std::mutex> lock(mu_);
    if (f.sha256.empty()) f.sha256 = detail_sha256(f.bytes);
    const std::string key = repo + "@" + revision + ":" + path;
    auto it = files_.find(key);
    size_t id = blobs_.size();
    if (it != files_.end()) {
      id = it->second.id;
      blobs_[id] = f.bytes;
    } else {
      blobs_.push_back(f.bytes);
    }
    files_[key] = Entry{f, id};
    repos_[repo].insert_or_assign(revision, true);
  }
  // Serves bytes at cdn_origin() + "/plain/" + name, with no Hub in front.
  void add_plain(const std::string& name, const std::string& bytes) {
    std::lock_guard<std::mutex> lock(mu_);
    plain_[name] = bytes;
  }
  // Requests to the repo need "Authorization: Bearer <token>".
  void set_private(const std::string& repo, const std::string& token) {
    std::lock_guard<std::mutex> lock(mu_);
    private_[repo] = token;
  }
  // The repo answers 307 with a relative Location to `to` (a renamed repository).
  void set_moved(const std::string& from, const std::string& to) {
    std::lock_guard<std::mutex> lock(mu_);
    moved_[from] = to;
  }

  // CDN knobs: the next `drops` responses close the connection once the file offset
  // reaches drop_at; ignore_range answers 200 with the whole file to a Range request.
  std::atomic<int> drops{0};
  std::atomic<uint64_t> drop_at{0};
  std::atomic<bool> ignore_range{false};

  // Observations.
  std::atomic<int> hub_requests{0}, cdn_requests{0};
  std::atomic<bool> cdn_saw_authorization{false};
  std::vector<std::string> cdn_ranges() const {  // Range header of every CDN request ("" = none)
    std::lock_guard<std::mutex> lock(mu_);
    return ranges_;
  }
  std::vector<std::string> hub_authorizations() const {
    std::lock_guard<std::mutex> lock(mu_);
    return hub_auth_;
  }

  static std::string detail_sha256(const std::string& bytes) {
    xnai::hub::detail::Sha256 h;
    h.update(bytes.data(), bytes.size());
    return h.hex_digest();
  }

 private:
  struct Entry {
    FakeFile file{""};
    size_t id = 0;
  };

  static void error(httplib::Response& res, int status, const std::string& code, const std::string& message) {
    res.status = status;
    if (!code.empty()) res.set_header("X-Error-Code", code);
    res.set_header("X-Error-Message", message);
    res.set_content("{\"error\":\"" + message + "\"}", "application/json");
  }

  void setup_hub() {
    hub_.Get(R"(/([^/]+)/([^/]+)/resolve/([^/]+)/(.+))", [this](const httplib::Request& req,
                                                                httplib::Response& res) {
      ++hub_requests;
      const std::string repo = req.matches[1].str() + "/" + req.matches[2].str();
      const std::string revision = req.matches[3].str();
      const std::string path = req.matches[4].str();
      std::lock_guard<std::mutex> lock(mu_);
      hub_auth_.push_back(req.get_header_value("Authorization"));
      if (auto m = moved_.find(repo); m != moved_.end()) {
        res.status = 307;
        res.set_header("Location", "/" + m->second + "/resolve/" + revision + "/" + path);
        return;
      }
      if (auto p = private_.find(repo); p != private_.end()) {
        const std::string auth = req.get_header_value("Authorization");
        if (auth.empty()) return error(res, 401, "", "Access to this repository requires authentication");
        if (auth != "Bearer " + p->second)
          return error(res, 401, "", "Invalid credentials in Authorization header");
      }
      if (repo == "loop/loop") {
        res.status = 302;
        res.set_header("Location", req.path);
        return;
      }
      const auto r = repos_.find(repo);
      if (r == repos_.end()) return error(res, 401, "RepoNotFound", "Repository not found");
      if (!r->second.count(revision))
        return error(res, 404, "RevisionNotFound", "Invalid rev id: " + revision);
      const auto f = files_.find(repo + "@" + revision + ":" + path);
      if (f == files_.end()) return error(res, 404, "EntryNotFound", "Entry not found");
      res.set_header("X-Repo-Commit", "0123456789abcdef0123456789abcdef01234567");
      if (!f->second.file.lfs) {
        res.set_header("ETag", "\"da39a3ee5e6b4b0d3255bfef95601890afd80709\"");
        res.set_content(f->second.file.bytes, "application/octet-stream");
        return;
      }
      res.status = 302;
      res.set_header("X-Linked-Etag", "\"" + f->second.file.sha256 + "\"");
      res.set_header("X-Linked-Size", std::to_string(f->second.file.bytes.size()));
      res.set_header("ETag", "\"" + f->second.file.sha256 + "\"");
      // Shaped like the Hub's signed CDN URLs: encoded '/', ';', ' ' and '"' in the query.
      res.set_header("Location", cdn_origin() + "/cdn/" + std::to_string(f->second.id) +
                                     "?X-Amz-Credential=cas%2F20250101%2Fus-east-1&X-Amz-Signature=0a1b2c"
                                     "&response-content-disposition=inline%3B%20filename%3D%22m.gguf%22");
    });
  }

  void serve_bytes(const httplib::Request& req, httplib::Response& res, std::string bytes,
                   const std::string& etag) {
    ranges_.push_back(req.get_header_value("Range"));
    auto& mutable_req = const_cast<httplib::Request&>(req);  // the request object itself is not const
    if (ignore_range) mutable_req.ranges.clear();
    if (!req.ranges.empty() && req.ranges[0].first >= static_cast<ssize_t>(bytes.size())) {
      mutable_req.ranges.clear();
      res.status = 416;
      res.set_header("Content-Range", "bytes */" + std::to_string(bytes.size()));
      return;
    }
    if (!etag.empty()) res.set_header("ETag", etag);
    if (bytes.empty()) {
      res.set_content("", "application/octet-stream");
      return;
    }
    const bool drop = drops > 0 && drop_at < bytes.size();
    if (drop) --drops;
    const uint64_t cut = drop ? drop_at.load() : bytes.size();
    auto data = std::make_shared<std::string>(std::move(bytes));
    res.set_content_provider(data->size(), "application/octet-stream",
                             [data, cut](size_t offset, size_t length, httplib::DataSink& sink) {
                               if (offset >= cut) return false;  // the connection drops here
                               const size_t n = std::min<size_t>({length, 16384, cut - offset});
                               sink.write(data->data() + offset, n);
                               return true;
                             });
  }

  void setup_cdn() {
    cdn_.Get(R"(/cdn/(\d+))", [this](const httplib::Request& req, httplib::Response& res) {
      ++cdn_requests;
      if (req.has_header("Authorization")) cdn_saw_authorization = true;
      std::lock_guard<std::mutex> lock(mu_);
      const size_t id = std::stoul(req.matches[1].str());
      const bool signed_ok =
          req.get_param_value("X-Amz-Credential") == "cas/20250101/us-east-1" &&
          req.get_param_value("X-Amz-Signature") == "0a1b2c" &&
          req.get_param_value("response-content-disposition") == "inline; filename=\"m.gguf\"";
      if (id >= blobs_.size() || !signed_ok) return error(res, 403, "", "bad signature: " + req.target);
      serve_bytes(req, res, blobs_[id],
                  "\"cdn-" + std::to_string(id) + "-" + std::to_string(blobs_[id].size()) + "\"");
    });
    cdn_.Get(R"(/plain/(.+))", [this](const httplib::Request& req, httplib::Response& res) {
      ++cdn_requests;
      std::lock_guard<std::mutex> lock(mu_);
      const auto it = plain_.find(req.matches[1].str());
      if (it == plain_.end()) return error(res, 404, "", "no such file");
      serve_bytes(req, res, it->second, "");
    });
  }

  httplib::Server hub_, cdn_;
  int hub_port_ = 0, cdn_port_ = 0;
  std::thread hub_thread_, cdn_thread_;
  mutable std::mutex mu_;
  std::map<std::string, Entry> files_;
  std::vector<std::string> blobs_;
  std::map<std::string, std::map<std::string, bool>> repos_;
  std::map<std::string, std::string> private_, moved_, plain_;
  std::vector<std::string> ranges_, hub_auth_;
};

}  // namespace xnai::test
