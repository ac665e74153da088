// The document store over HTTP: POST /v1/rag/documents (upload and ingest one file, as
// multipart field "file" or as the raw body with ?filename=NAME), GET /v1/rag/documents,
// DELETE /v1/rag/documents/{id}. Uploads are written to <data dir>/uploads/NAME (see
// upload_name.h for what NAME may be) and ingested like `xnai ingest` would.
#include <httplib.h>

#include <filesystem>
#include <fstream>
#include <mutex>

#include "rag/ingest.h"
#include "rag/store.h"
#include "server/server_context.h"
#include "server/upload_name.h"

namespace xnai::server {
namespace {

namespace fs = std::filesystem;

rag::Store& store_of(ServerContext& ctx) {
  if (!ctx.services.store)
    throw ApiError(503, "server_error", "the document store is not open (start xnai serve with --data DIR)");
  return *ctx.services.store;
}

fs::path uploads_dir(const ServerContext& ctx) { return fs::path(ctx.opts.data_dir) / "uploads"; }

json document_json(const rag::DocumentInfo& d) {
  return json{{"id", d.id},
              {"object", "rag.document"},
              {"filename", fs::path(d.source_path).filename().string()},
              {"source_path", d.source_path},
              {"title", d.title},
              {"type", d.type},
              {"chunks", d.n_chunks},
              {"pages", d.n_pages},
              {"mtime", d.mtime}};
}

void write_file_atomically(const fs::path& dest, const std::string& bytes) {
  const fs::path tmp = dest.parent_path() / (".upload-" + random_id("tmp"));
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out) {
      std::error_code ec;
      fs::remove(tmp, ec);
      throw ApiError(500, "server_error", "could not write the upload to " + dest.parent_path().string());
    }
  }
  fs::rename(tmp, dest);
}

void upload(ServerContext& ctx, const httplib::Request& req, httplib::Response& res) {
  auto& store = store_of(ctx);
  std::string name, content;
  if (req.is_multipart_form_data()) {
    if (!req.has_file("file"))
      throw bad_request("a multipart upload needs a field named 'file'", "file", "missing_required_parameter");
    const auto f = req.get_file_value("file");
    name = f.filename;
    content = f.content;
  } else {
    name = req.has_param("filename") ? req.get_param_value("filename") : req.get_header_value("X-Filename");
    if (name.empty())
      throw bad_request("name the file: multipart field 'file', or the raw body with ?filename=NAME", "filename",
                        "missing_required_parameter");
    content = req.body;
  }
  if (const std::string why = upload_name_problem(name); !why.empty())
    throw bad_request("rejected file name '" + name + "': " + why, "filename", "invalid_filename");
  if (content.empty()) throw bad_request("the uploaded file '" + name + "' is empty", "file", "invalid_value");

  std::unique_lock<std::shared_mutex> lock(ctx.store_mu);
  const fs::path dir = uploads_dir(ctx);
  fs::create_directories(dir);
  const fs::path dest = dir / name;
  write_file_atomically(dest, content);
  const auto summary = rag::ingest(store, ctx.services.embedder, {dest.string()});
  if (!summary.failed.empty()) {
    std::error_code ec;
    fs::remove(dest, ec);
    throw ApiError(422, "invalid_request_error",
                   "could not read '" + name + "': " + summary.failed.front().reason, "file", "unreadable_document");
  }
  std::string status = "skipped", source;
  if (!summary.added.empty()) status = "added", source = summary.added.front();
  else if (!summary.updated.empty()) status = "updated", source = summary.updated.front();
  else if (!summary.skipped.empty()) source = summary.skipped.front();
  auto doc = store.find_document_by_source(source.empty() ? dest.string() : source);
  if (!doc) throw ApiError(500, "server_error", "the upload was ingested but its document is not in the store");
  json out = document_json(*doc);
  out["status"] = status;
  send_json(res, out, status == "added" ? 201 : 200);
}

void list(ServerContext& ctx, const httplib::Request&, httplib::Response& res) {
  auto& store = store_of(ctx);
  std::shared_lock<std::shared_mutex> lock(ctx.store_mu);
  json data = json::array();
  for (const auto& d : store.list_documents()) data.push_back(document_json(d));
  send_json(res, json{{"object", "list"}, {"data", data}});
}

void remove(ServerContext& ctx, const httplib::Request& req, httplib::Response& res) {
  auto& store = store_of(ctx);
  const std::string id = req.matches[1];
  std::unique_lock<std::shared_mutex> lock(ctx.store_mu);
  const auto doc = store.find_document(id);
  if (!doc || !store.delete_document(id))
    throw ApiError(404, "not_found_error", "no document with id '" + id + "'", "id", "document_not_found");
  // The file goes too when it is one of ours (an upload); ingested folders are the user's.
  std::error_code ec;
  const fs::path src = fs::weakly_canonical(doc->source_path, ec);
  const fs::path up = fs::weakly_canonical(uploads_dir(ctx), ec);
  if (!ec && src.parent_path() == up) fs::remove(src, ec);
  send_json(res, json{{"id", id}, {"object", "rag.document.deleted"}, {"deleted", true}});
}

}  // namespace

void register_rag_document_routes(httplib::Server& http, ServerContext& ctx) {
  add_route(http, ctx, "POST", "/v1/rag/documents", "/v1/rag/documents", upload);
  add_route(http, ctx, "GET", "/v1/rag/documents", "/v1/rag/documents", list);
  add_route(http, ctx, "DELETE", R"(/v1/rag/documents/([^/]+))", "/v1/rag/documents/{id}", remove);
}

}  // namespace xnai::server
