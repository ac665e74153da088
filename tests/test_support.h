// Shared helpers for tests: where the conformance data lives, and a clear skip when the
// ../shared checkout is absent (tests must never fail just because the data is missing).
#pragma once
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace xnai::test {

// Root of ../shared/testdata: env XNAI_TESTDATA, else the path baked in at configure time.
inline std::filesystem::path testdata_dir() {
  if (const char* env = std::getenv("XNAI_TESTDATA"); env && *env) return env;
  return XNAI_DEFAULT_TESTDATA;
}

// Path of a file under testdata, or empty when it is not there.
inline std::filesystem::path testdata_file(const std::string& rel) {
  auto p = testdata_dir() / rel;
  return std::filesystem::exists(p) ? p : std::filesystem::path{};
}

}  // namespace xnai::test

// Skips the current test with a message naming what is missing.
#define XNAI_SKIP_IF_MISSING(path_var, rel)                                                 \
  auto path_var = ::xnai::test::testdata_file(rel);                                         \
  if (path_var.empty())                                                                     \
  GTEST_SKIP() << "conformance data missing: " << (::xnai::test::testdata_dir() / (rel))    \
               << " (set XNAI_TESTDATA to ../shared/testdata)"
