// Sending a route's job to a remote engine (remote_engine.h) and its answer back to the
// client unchanged: JSON whole, or — for SSE streams and streamed audio — piece by piece as
// the remote produces it, so the first token or sentence is not held back.
#pragma once
#include <string>

#include "server/api_error.h"

namespace httplib {
struct Response;
}

namespace xnai::server {

class RemoteEngine;
struct ServerContext;

// POSTs `body` to the engine's `path`, filling in "model" (engine.default_model()) when the
// request names none. The remote's status passes through; its error JSON too, and an
// answer that is not JSON becomes an OpenAI error naming the URL. Connection failures
// throw ApiError 502 (504 on a timeout) for the route wrapper to send.
void relay_to_remote(ServerContext& ctx, const RemoteEngine& engine, const std::string& path, json body, bool stream,
                     httplib::Response& res);

}  // namespace xnai::server
