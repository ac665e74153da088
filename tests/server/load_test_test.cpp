// server/load_test.h and server/sse_reader.h: the load test against a real in-process server
// with the tiny model (every request answered, none broken, the slots free afterwards), a
// dead port (errors counted, no hang), and the pieces it reads with (SSE split anywhere,
// Prometheus samples).
#include "server/load_test.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "compute/backend.h"
#include "core/error.h"
#include "models/llm/llm.h"
#include "server/server.h"
#include "server/sse_reader.h"
#include "test_support.h"

namespace {

using xnai::server::LoadTestOptions;
using xnai::server::LoadTestResult;

TEST(LoadTest, EightClientsOnTwoSlotsAllSucceedAndFreeTheSlots) {
  XNAI_SKIP_IF_MISSING(path, "llm/tiny-llama-spm-q8_0.gguf");
  ::signal(SIGPIPE, SIG_IGN);
  auto backend = xnai::compute::make_cpu_backend({});
  auto model = xnai::models::LlmModel::load(path.string(), *backend);
  xnai::server::ServerOptions so;
  so.host = "127.0.0.1";
  so.port = 0;
  so.parallel = 2;
  so.queue = 8;
  so.api_key = "k";  // the client must send it, /metrics included
  xnai::server::Services s;
  s.llm = model.get();
  xnai::server::Server srv(so, s);
  srv.start();

  LoadTestOptions o;
  o.port = srv.port();
  o.clients = 8;
  o.duration_s = 3;
  o.max_tokens = 8;
  o.api_key = "k";
  const LoadTestResult r = xnai::server::run_load_test(o);
  EXPECT_GT(r.requests_ok, 0);
  EXPECT_EQ(r.errors, 0) << (r.error_samples.empty() ? "" : r.error_samples.front());
  EXPECT_EQ(r.rejected, 0);
  EXPECT_GT(r.tokens, 0);
  EXPECT_LE(r.tokens, r.requests_ok * o.max_tokens);
  EXPECT_GT(r.ttft_p50_ms, 0);
  EXPECT_GE(r.ttft_p99_ms, r.ttft_p50_ms);
  EXPECT_GE(r.latency_p50_ms, r.ttft_p50_ms);
  EXPECT_GE(r.latency_p99_ms, r.latency_p50_ms);
  EXPECT_GT(r.tokens_per_s, 0);
  EXPECT_GE(r.wall_s, 3.0);

  // The lease goes back before the stream's last writes, so by the time every client has
  // its [DONE] no slot may still be held; allow a moment of scheduling slack.
  std::optional<double> active;
  for (int i = 0; i < 100; ++i) {
    const auto page = xnai::server::fetch_metrics("127.0.0.1", srv.port(), "k");
    ASSERT_TRUE(page);
    active = xnai::server::metric_value(*page, "xnai_slots_active");
    ASSERT_TRUE(active);
    if (*active == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(*active, 0);
  EXPECT_FALSE(xnai::server::fetch_metrics("127.0.0.1", srv.port(), ""));  // 401 without the key
  srv.stop();
}

TEST(LoadTest, ClosedPortCountsErrorsAndReturnsOnTime) {
  // A port that was just bound and released: nothing listens there.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  socklen_t len = sizeof(a);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len), 0);
  const int port = ntohs(a.sin_port);
  ::close(fd);

  LoadTestOptions o;
  o.port = port;
  o.clients = 3;
  o.duration_s = 1;
  o.timeout_s = 2;
  const auto t0 = std::chrono::steady_clock::now();
  const LoadTestResult r = xnai::server::run_load_test(o);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(r.requests_ok, 0);
  EXPECT_GT(r.errors, 0);
  EXPECT_EQ(r.rejected, 0);
  EXPECT_EQ(r.tokens, 0);
  EXPECT_EQ(r.ttft_p50_ms, 0);
  EXPECT_LT(secs, 5.0);
  ASSERT_FALSE(r.error_samples.empty());
  EXPECT_NE(r.error_samples.front().find("no answer"), std::string::npos) << r.error_samples.front();
  // Refused clients back off instead of spinning: 3 clients in 1 s stay far below 1000 tries.
  EXPECT_LT(r.errors, 200);
}

TEST(LoadTest, RejectsOptionsOutOfRange) {
  LoadTestOptions o;
  o.clients = 0;
  EXPECT_THROW(xnai::server::run_load_test(o), xnai::Error);
  o.clients = 1;
  o.max_tokens = 0;
  EXPECT_THROW(xnai::server::run_load_test(o), xnai::Error);
  o.max_tokens = 1;
  o.duration_s = -1;
  EXPECT_THROW(xnai::server::run_load_test(o), xnai::Error);
}

TEST(SseReader, DataLinesSurviveAnySplit) {
  const std::string stream =
      ": comment\n"
      "data: {\"a\":\"h\xc3\xa9llo\"}\n\n"
      "event: x\r\n"
      "data:{\"b\":2}\r\n\r\n"
      "data: [DONE]\n\n";
  const std::vector<std::string> want = {"{\"a\":\"h\xc3\xa9llo\"}", "{\"b\":2}", "[DONE]"};
  for (size_t cut = 1; cut <= stream.size(); ++cut) {  // pieces of every size, cut anywhere
    xnai::server::SseReader reader;
    std::vector<std::string> got;
    for (size_t pos = 0; pos < stream.size(); pos += cut)
      ASSERT_TRUE(reader.feed(std::string_view(stream).substr(pos, cut), [&](std::string_view d) {
        got.emplace_back(d);
        return true;
      }));
    EXPECT_EQ(got, want) << "pieces of " << cut;
    EXPECT_EQ(reader.pending(), 0u);
  }
}

TEST(SseReader, StopsWhenTheCallbackSaysSoOrALineIsTooLong) {
  xnai::server::SseReader reader;
  int calls = 0;
  EXPECT_FALSE(reader.feed("data: 1\ndata: 2\n", [&](std::string_view) { return ++calls < 1; }));
  EXPECT_EQ(calls, 1);

  xnai::server::SseReader big;
  const std::string chunk(64 * 1024, 'x');
  bool ok = big.feed("data: ", [](std::string_view) { return true; });
  for (size_t n = 0; ok && n < xnai::server::SseReader::kMaxLine / chunk.size() + 2; ++n)
    ok = big.feed(chunk, [](std::string_view) { return true; });
  EXPECT_FALSE(ok);
}

TEST(MetricValue, FindsSamplesByExactName) {
  const std::string page =
      "# HELP xnai_slots_active Generation slots in use.\n"
      "# TYPE xnai_slots_active gauge\n"
      "xnai_slots_active_total 9\n"
      "xnai_slots_active 2\n"
      "xnai_requests_total{route=\"/v1/chat/completions\",status=\"200\"} 17\n";
  EXPECT_EQ(xnai::server::metric_value(page, "xnai_slots_active"), 2.0);
  EXPECT_EQ(xnai::server::metric_value(page, "xnai_requests_total"), 17.0);
  EXPECT_FALSE(xnai::server::metric_value(page, "xnai_slots"));
  EXPECT_FALSE(xnai::server::metric_value("", "xnai_slots_active"));
}

}  // namespace
