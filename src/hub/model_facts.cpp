// What a model file is, read from the file itself: the kind (by GGUF architecture or the
// checkpoint's name), the architecture and the quantization. Only headers are read, so
// listing a cache of large models is instant.
#include <algorithm>
#include <map>

#include "core/dtype.h"
#include "core/error.h"
#include "formats/gguf.h"
#include "hub/hub_internal.h"

namespace xnai::hub {
namespace {

// GGUF architectures of encoder models llama.cpp runs for embeddings.
constexpr const char* kEmbeddingArchs[] = {"bert",         "nomic-bert",  "nomic-bert-moe", "jina-bert-v2",
                                           "jina-bert-v3", "modern-bert", "neo-bert",       "t5encoder"};

bool has_suffix(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

const char* kind_name(ModelKind k) {
  switch (k) {
    case ModelKind::Llm:
      return "llm";
    case ModelKind::Embedding:
      return "embedding";
    case ModelKind::Tts:
      return "tts";
    case ModelKind::Voice:
      return "voice";
    case ModelKind::Config:
      return "config";
    case ModelKind::Other:
      return "other";
  }
  return "other";
}

std::optional<ModelKind> kind_from_name(std::string_view name) {
  for (ModelKind k : {ModelKind::Llm, ModelKind::Embedding, ModelKind::Tts, ModelKind::Voice,
                      ModelKind::Config, ModelKind::Other})
    if (name == kind_name(k)) return k;
  return std::nullopt;
}

CachedModel inspect_file(const std::filesystem::path& file, const std::string& rel) {
  CachedModel m;
  m.path = file;
  m.rel = rel;
  std::error_code ec;
  m.size = std::filesystem::file_size(file, ec);
  if (ec) throw Error(ErrorKind::Io, file.string() + ": cannot read its size: " + ec.message());
  m.mtime_ns = detail::mtime_ns(file);
  const std::string lower = detail::to_lower(rel.empty() ? file.filename().string() : rel);
  const std::string base = detail::to_lower(file.filename().string());

  if (has_suffix(lower, ".gguf")) {
    m.kind = ModelKind::Other;
    try {
      const gguf::GgufFile f = gguf::GgufFile::open(file.string());
      m.architecture = f.architecture();
      m.file_type = f.get_int("general.file_type", -1);
      std::map<std::string, uint64_t> bytes_by_type;
      for (const auto& t : f.tensors())
        if (t.ne.size() >= 2) bytes_by_type[dtype_name(t.type)] += t.nbytes;
      uint64_t best = 0;
      for (const auto& [type, bytes] : bytes_by_type)
        if (bytes > best) best = bytes, m.dominant_type = type;
      if (!m.architecture.empty()) {
        const bool encoder =
            std::find_if(std::begin(kEmbeddingArchs), std::end(kEmbeddingArchs),
                         [&](const char* a) { return m.architecture == a; }) != std::end(kEmbeddingArchs);
        // Decoder families tuned for embeddings (Qwen3-Embedding …) declare a pooling type.
        const bool pooled = f.get_int(m.architecture + ".pooling_type", 0) > 0;
        m.kind = encoder || pooled ? ModelKind::Embedding : ModelKind::Llm;
      }
    } catch (const Error&) {
      // Unreadable metadata: listed as "other" with empty fields rather than hiding the file.
    }
    return m;
  }
  if (has_suffix(lower, ".pt") || has_suffix(lower, ".pth")) {
    const bool in_voices = lower.rfind("voices/", 0) == 0 || lower.find("/voices/") != std::string::npos;
    if (in_voices)
      m.kind = ModelKind::Voice;
    else if (base.find("kokoro") != std::string::npos)
      m.kind = ModelKind::Tts;
    else
      m.kind = ModelKind::Other;
    if (m.kind == ModelKind::Tts) m.architecture = "kokoro";
    return m;
  }
  m.kind = has_suffix(lower, ".json") ? ModelKind::Config : ModelKind::Other;
  return m;
}

}  // namespace xnai::hub
