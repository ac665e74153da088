// Sources and URLs: hf:// references resolve to the Hub's resolve URLs exactly as
// huggingface_hub builds them ({endpoint}/{repo}/resolve/{revision}/{path}, revision
// percent-encoded whole, path per segment), Hub web addresses become Hub sources, plain
// http is refused for anything but loopback, and Location headers resolve per RFC 3986.
#include <gtest/gtest.h>

#include "core/error.h"
#include "hub/hub_internal.h"
#include "hub_test_util.h"

namespace xnai::hub {
namespace {

using test::ScopedEnv;

ErrorKind kind_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.kind();
  }
  return ErrorKind::Internal;
}

TEST(Source, HfReferenceResolvesLikeTheHub) {
  ScopedEnv env("HF_ENDPOINT", std::nullopt);
  const Source s = parse_source("hf://Qwen/Qwen2.5-3B-Instruct-GGUF/qwen2.5-3b-instruct-q4_k_m.gguf");
  EXPECT_TRUE(s.hf);
  EXPECT_EQ(s.repo, "Qwen/Qwen2.5-3B-Instruct-GGUF");
  EXPECT_EQ(s.path, "qwen2.5-3b-instruct-q4_k_m.gguf");
  EXPECT_EQ(s.revision, "main");
  EXPECT_EQ(
      s.url,
      "https://huggingface.co/Qwen/Qwen2.5-3B-Instruct-GGUF/resolve/main/qwen2.5-3b-instruct-q4_k_m.gguf");
  EXPECT_EQ(s.text, "hf://Qwen/Qwen2.5-3B-Instruct-GGUF/qwen2.5-3b-instruct-q4_k_m.gguf");
  EXPECT_EQ(s.file_name(), "qwen2.5-3b-instruct-q4_k_m.gguf");
}

TEST(Source, RevisionAndNestedPathAreEncoded) {
  ScopedEnv env("HF_ENDPOINT", "http://127.0.0.1:9/");
  const Source s = parse_source("hf://hexgrad/Kokoro-82M/voices/af heart.pt@refs/pr/1");
  EXPECT_EQ(s.path, "voices/af heart.pt");
  EXPECT_EQ(s.revision, "refs/pr/1");
  EXPECT_EQ(s.url, "http://127.0.0.1:9/hexgrad/Kokoro-82M/resolve/refs%2Fpr%2F1/voices/af%20heart.pt");
  EXPECT_EQ(s.text, "hf://hexgrad/Kokoro-82M/voices/af heart.pt@refs/pr/1");
  EXPECT_EQ(s.file_name(), "af heart.pt");
}

TEST(Source, HubWebAddressBecomesHubSource) {
  ScopedEnv env("HF_ENDPOINT", std::nullopt);
  const Source blob = parse_source("https://huggingface.co/hexgrad/Kokoro-82M/blob/main/voices/af_heart.pt");
  EXPECT_TRUE(blob.hf);
  EXPECT_EQ(blob.repo, "hexgrad/Kokoro-82M");
  EXPECT_EQ(blob.path, "voices/af_heart.pt");
  EXPECT_EQ(blob.url, "https://huggingface.co/hexgrad/Kokoro-82M/resolve/main/voices/af_heart.pt");
  const Source res = parse_source("https://huggingface.co/a/b/resolve/0123abc/x.gguf");
  EXPECT_EQ(res.revision, "0123abc");
  // With a query string it is a plain URL, fetched as given.
  const Source q = parse_source("https://huggingface.co/a/b/resolve/main/x.gguf?download=true");
  EXPECT_FALSE(q.hf);
  EXPECT_EQ(q.url, "https://huggingface.co/a/b/resolve/main/x.gguf?download=true");
  EXPECT_EQ(q.file_name(), "x.gguf");
}

TEST(Source, PlainUrls) {
  const Source s = parse_source("https://example.com:8443/models/My%20Model.gguf?sig=1");
  EXPECT_FALSE(s.hf);
  EXPECT_EQ(s.url, "https://example.com:8443/models/My%20Model.gguf?sig=1");
  EXPECT_EQ(s.file_name(), "My Model.gguf");
  EXPECT_EQ(parse_source("http://127.0.0.1:8080/x.gguf").url, "http://127.0.0.1:8080/x.gguf");
  EXPECT_EQ(parse_source("http://localhost/x.gguf").url, "http://localhost/x.gguf");
  EXPECT_EQ(parse_source("https://example.com/").file_name(), "download");
}

TEST(Source, BadSourcesNameTheProblem) {
  EXPECT_EQ(kind_of([] { parse_source("http://example.com/x.gguf"); }), ErrorKind::InvalidArgument);
  try {
    parse_source("Qwen/Qwen2.5-3B-Instruct-GGUF/x.gguf");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("did you mean hf://Qwen/Qwen2.5-3B-Instruct-GGUF/x.gguf"),
              std::string::npos)
        << e.what();
  }
  try {
    parse_source("hf://org/repo");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("names no file"), std::string::npos) << e.what();
  }
  EXPECT_EQ(kind_of([] { parse_source("hf://org/repo/../etc/passwd"); }), ErrorKind::InvalidArgument);
  EXPECT_EQ(kind_of([] { parse_source("hf://org/re po/x.gguf"); }), ErrorKind::InvalidArgument);
  EXPECT_EQ(kind_of([] { parse_source("hf://org/repo/x.gguf@"); }), ErrorKind::InvalidArgument);
  EXPECT_EQ(kind_of([] { parse_source("ftp://example.com/x"); }), ErrorKind::InvalidArgument);
  EXPECT_EQ(kind_of([] { parse_source("https://user:pw@example.com/x"); }), ErrorKind::InvalidArgument);
  EXPECT_EQ(kind_of([] { parse_source("https://example.com:99999/x"); }), ErrorKind::InvalidArgument);
}

TEST(Url, ParseAndOrigin) {
  const detail::Url u = detail::parse_url("HTTPS://Cdn.Example.com/a/b?x=1#frag");
  EXPECT_EQ(u.scheme, "https");
  EXPECT_EQ(u.host, "cdn.example.com");
  EXPECT_EQ(u.port, 443);
  EXPECT_EQ(u.target, "/a/b?x=1");
  EXPECT_EQ(u.origin(), "https://cdn.example.com");
  const detail::Url v6 = detail::parse_url("http://[::1]:8080/x");
  EXPECT_EQ(v6.host, "::1");
  EXPECT_EQ(v6.port, 8080);
  EXPECT_EQ(v6.origin(), "http://[::1]:8080");
  EXPECT_EQ(detail::parse_url("http://h?q=1").target, "/?q=1");
}

TEST(Url, LoopbackHosts) {
  EXPECT_TRUE(detail::is_loopback_host("localhost"));
  EXPECT_TRUE(detail::is_loopback_host("127.0.0.1"));
  EXPECT_TRUE(detail::is_loopback_host("127.0.0.2"));
  EXPECT_TRUE(detail::is_loopback_host("::1"));
  EXPECT_FALSE(detail::is_loopback_host("127.example.com"));
  EXPECT_FALSE(detail::is_loopback_host("10.0.0.1"));
  EXPECT_FALSE(detail::is_loopback_host("localhost.evil.com"));
}

TEST(Url, ResolveLocation) {
  const detail::Url base = detail::parse_url("https://huggingface.co/org/repo/resolve/main/dir/f.gguf");
  EXPECT_EQ(detail::resolve_location(base, "https://cdn.example/x?sig=a%2Bb").str(),
            "https://cdn.example/x?sig=a%2Bb");
  EXPECT_EQ(detail::resolve_location(base, "//cdn.example/y").str(), "https://cdn.example/y");
  EXPECT_EQ(detail::resolve_location(base, "/new/repo/resolve/main/dir/f.gguf").str(),
            "https://huggingface.co/new/repo/resolve/main/dir/f.gguf");
  EXPECT_EQ(detail::resolve_location(base, "g.gguf").str(),
            "https://huggingface.co/org/repo/resolve/main/dir/g.gguf");
}

TEST(Url, ReencodeWhatHttplibDecoded) {
  // As cpp-httplib 0.11 hands over "…?a=cas%2F1&d=inline%3B%20filename%3D%22m.gguf%22&p=100%25".
  EXPECT_EQ(
      detail::reencode_decoded_url("https://cdn.example/x y/z?a=cas/1&d=inline; filename=\"m.gguf\"&p=100%"),
      "https://cdn.example/x%20y/z?a=cas/1&d=inline;%20filename%3D%22m.gguf%22&p=100%25");
  EXPECT_EQ(detail::reencode_decoded_url("/new/repo/resolve/main/f.gguf"), "/new/repo/resolve/main/f.gguf");
  EXPECT_EQ(detail::reencode_decoded_url("/a#b\xc3\xa9"), "/a%23b%C3%A9");
}

TEST(Url, PercentEncode) {
  EXPECT_EQ(detail::percent_encode("a b/c~d", true), "a%20b/c~d");
  EXPECT_EQ(detail::percent_encode("refs/pr/1", false), "refs%2Fpr%2F1");
  EXPECT_EQ(detail::percent_encode("\xc3\xa9", true), "%C3%A9");
}

TEST(Sha256, KnownVectors) {
  // FIPS 180-2 test vectors.
  detail::Sha256 h;
  EXPECT_EQ(h.hex_digest(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  h.reset();
  h.update("abc", 3);
  EXPECT_EQ(h.hex_digest(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  h.reset();
  const std::string a(1000000, 'a');
  h.update(a.data(), 500000);
  h.update(a.data() + 500000, 500000);
  EXPECT_EQ(h.hex_digest(), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  EXPECT_TRUE(detail::is_sha256_hex("CDC76E5C9914FB9281A1C7E284D73E67F1809A48A497200E046D39CCC7112CD0"));
  EXPECT_FALSE(detail::is_sha256_hex("da39a3ee5e6b4b0d3255bfef95601890afd80709"));
}

TEST(FormatBytes, Units) {
  EXPECT_EQ(format_bytes(17), "17 B");
  EXPECT_EQ(format_bytes(1536), "1.5 KiB");
  EXPECT_EQ(format_bytes(2019377696), "1.88 GiB");
}

}  // namespace
}  // namespace xnai::hub
