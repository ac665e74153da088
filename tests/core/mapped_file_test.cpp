#include "core/mapped_file.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "core/error.h"

namespace {

TEST(MappedFile, MapsTheWholeFile) {
  const auto path = std::filesystem::temp_directory_path() / "xnai_mapped_file_test.bin";
  {
    std::ofstream out(path, std::ios::binary);
    out << "hello mapped world";
  }
  xnai::MappedFile f(path.string());
  ASSERT_EQ(f.size(), 18u);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(f.data()), f.size()), "hello mapped world");
  xnai::MappedFile moved(std::move(f));
  EXPECT_EQ(moved.size(), 18u);
  std::filesystem::remove(path);
}

TEST(MappedFile, MissingFileNamesThePath) {
  try {
    xnai::MappedFile f("/nonexistent/dir/model.gguf");
    FAIL() << "no error";
  } catch (const xnai::Error& e) {
    EXPECT_EQ(e.kind(), xnai::ErrorKind::NotFound);
    EXPECT_NE(std::string(e.what()).find("/nonexistent/dir/model.gguf"), std::string::npos);
  }
}

TEST(MappedFile, DirectoryIsAnError) {
  EXPECT_THROW(xnai::MappedFile f("/tmp"), xnai::Error);
}

}  // namespace
