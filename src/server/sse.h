// Server-sent events as OpenAI streams them: each event is one `data: <json>\n\n` line, the
// stream ends with `data: [DONE]\n\n`. A write that fails means the client went away.
#pragma once
#include <httplib.h>

#include <string>

#include "server/api_error.h"

namespace xnai::server {

inline bool sse_send(httplib::DataSink& sink, const json& j, const char* event = nullptr) {
  std::string s;
  if (event) s += std::string("event: ") + event + "\n";
  s += "data: " + wire_json(j) + "\n\n";
  return sink.write(s.data(), s.size());
}

inline bool sse_done(httplib::DataSink& sink) {
  static const std::string s = "data: [DONE]\n\n";
  const bool ok = sink.write(s.data(), s.size());
  sink.done();
  return ok;
}

}  // namespace xnai::server
