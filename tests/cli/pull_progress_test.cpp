// The download progress line: sizes, percent, speed, time left; a bar only on a terminal,
// dropped before the file name is cut on a narrow one.
#include <gtest/gtest.h>

#include "cli/download_progress.h"

namespace xnai::cli {
namespace {

hub::DownloadProgress at(uint64_t done, uint64_t total) {
  hub::DownloadProgress p;
  p.done = done;
  p.total = total;
  p.seconds = 1;
  return p;
}

TEST(DownloadProgress, TerminalLine) {
  DownloadProgressBar bar("model.gguf", /*terminal=*/true, /*enabled=*/false);
  const std::string line = bar.render(at(1 << 20, 2 << 20), 512 * 1024, 120);
  EXPECT_EQ(line, "model.gguf  1.0 MiB / 2.0 MiB   50%  [##########----------]  512.0 KiB/s  0:02 left");
}

TEST(DownloadProgress, LogLineHasNoBar) {
  DownloadProgressBar bar("model.gguf", /*terminal=*/false, /*enabled=*/false);
  EXPECT_EQ(bar.render(at(3 << 20, 4 << 20), 1 << 20, 200),
            "model.gguf  3.0 MiB / 4.0 MiB   75%  1.0 MiB/s  0:01 left");
  EXPECT_EQ(bar.render(at(3 << 20, 0), 0, 200), "model.gguf  3.0 MiB");  // size unknown, no speed yet
}

TEST(DownloadProgress, NarrowTerminalDropsTheBarFirst) {
  DownloadProgressBar bar("Llama-3.2-3B-Instruct-Q4_K_M.gguf", true, false);
  const std::string line = bar.render(at(1 << 30, 2ull << 30), 25 << 20, 90);
  EXPECT_EQ(line.find('['), std::string::npos) << line;
  EXPECT_EQ(line.rfind("Llama-3.2-3B-Instruct-Q4_K_M.gguf", 0), 0u) << line;
  EXPECT_LE(line.size(), 89u) << line;
  const std::string tiny = bar.render(at(1 << 30, 2ull << 30), 25 << 20, 40);
  EXPECT_EQ(tiny, "..._K_M.gguf  1.00 GiB / 2.00 GiB   50%  25.0 MiB/s  0:41 left");  // the end of the name
}

TEST(DownloadProgress, Durations) {
  EXPECT_EQ(format_duration(3.4), "0:03");
  EXPECT_EQ(format_duration(247), "4:07");
  EXPECT_EQ(format_duration(3909), "1:05:09");
  EXPECT_EQ(format_duration(-1), "0:00");
}

}  // namespace
}  // namespace xnai::cli
