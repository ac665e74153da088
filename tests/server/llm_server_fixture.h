// An in-process `xnai serve` with one LLM on an ephemeral loopback port, for the server
// tests that drive it with httplib's client.
#pragma once
#include <httplib.h>
#include <signal.h>

#include <memory>
#include <string>

#include "compute/backend.h"
#include "models/llm/llm.h"
#include "server/server.h"

namespace xnai::test {

struct LlmServerFixture {
  std::unique_ptr<compute::Backend> backend = compute::make_cpu_backend({});
  std::unique_ptr<models::LlmModel> model;
  std::unique_ptr<server::Server> server;
  // Loads the model and serves it as "tiny" on 127.0.0.1 (any free port).
  void start(const std::string& path, server::ServerOptions o) {
    ::signal(SIGPIPE, SIG_IGN);  // a client hanging up must not end the test process
    model = models::LlmModel::load(path, *backend);
    o.host = "127.0.0.1";
    o.port = 0;
    o.llm_name = "tiny";
    server::Services s;
    s.llm = model.get();
    server = std::make_unique<server::Server>(o, s);
    server->start();
  }
};

}  // namespace xnai::test
