#include "speech/kokoro_engine.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "core/error.h"
#include "models/kokoro/kokoro.h"
#include "speech/phonemizer.h"

namespace xnai::speech {
namespace {

namespace fs = std::filesystem;

constexpr size_t kStyle = 256;

std::string find_checkpoint(const fs::path& dir) {
  if (fs::exists(dir / "kokoro-v1_0.pth")) return (dir / "kokoro-v1_0.pth").string();
  std::vector<std::string> found;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file() && e.path().extension() == ".pth") found.push_back(e.path().string());
  if (found.size() == 1) return found[0];
  throw Error(ErrorKind::NotFound, "Kokoro folder '" + dir.string() + "': " +
                                       (found.empty() ? "no .pth checkpoint in it" : "several .pth files; name one"));
}

std::string list_names(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
  return s.empty() ? "(none)" : s;
}

}  // namespace

KokoroEngine::KokoroEngine(const KokoroEngineOptions& options) : options_(options) {
  const fs::path p(options.path);
  if (!fs::exists(p)) throw Error(ErrorKind::NotFound, "Kokoro model '" + options.path + "' does not exist");
  const fs::path dir = fs::is_directory(p) ? p : p.parent_path();
  const std::string pth = fs::is_directory(p) ? find_checkpoint(p) : p.string();
  const fs::path config = dir / "config.json";
  if (!fs::exists(config))
    throw Error(ErrorKind::NotFound, "Kokoro model '" + pth + "': no config.json beside it (" + config.string() + ")");
  voices_dir_ = (dir / "voices").string();
  model_ = models::kokoro::KokoroModel::load(pth, config.string(), options.n_threads);
}

KokoroEngine::KokoroEngine(std::unique_ptr<models::kokoro::KokoroModel> model, std::string voice,
                           std::vector<float> style_table)
    : model_(std::move(model)), builtin_voice_(std::move(voice)) {
  if (!model_ || builtin_voice_.empty() || style_table.empty() || style_table.size() % kStyle != 0)
    throw Error(ErrorKind::Internal, "KokoroEngine: a model, a voice name and a rows x 256 style table are needed");
  table_rows_[builtin_voice_] = style_table.size() / kStyle;
  tables_[builtin_voice_] = std::move(style_table);
}

KokoroEngine::~KokoroEngine() = default;

std::vector<std::string> KokoroEngine::pack_names() const {
  std::vector<std::string> names;
  std::error_code ec;
  if (fs::is_directory(voices_dir_, ec))
    for (const auto& e : fs::directory_iterator(voices_dir_))
      if (e.is_regular_file() && e.path().extension() == ".pt") names.push_back(e.path().stem().string());
  if (!builtin_voice_.empty()) names.push_back(builtin_voice_);
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<VoiceInfo> KokoroEngine::list_voices() const {
  std::vector<VoiceInfo> out;
  for (const auto& n : pack_names()) {
    std::string lang;
    try {
      lang = language_for_voice(n);
    } catch (const Error&) {
      lang = "(no G2P here; --phonemes only)";
    }
    out.push_back({n, lang, "Kokoro voice pack"});
  }
  return out;
}

std::string KokoroEngine::default_voice() const {
  const auto names = pack_names();
  if (!builtin_voice_.empty()) return builtin_voice_;
  if (std::find(names.begin(), names.end(), "af_heart") != names.end()) return "af_heart";
  if (names.empty())
    throw Error(ErrorKind::NotFound, "no Kokoro voices in '" + voices_dir_ + "' (pull one, e.g. voices/af_heart.pt)");
  return names.front();
}

std::string KokoroEngine::voice_language(const std::string& voice) const {
  // Every named part of a mix must exist; the mix speaks the language of its first voice.
  const auto names = pack_names();
  std::string first;
  for (size_t start = 0; start <= voice.size();) {
    const size_t end = std::min(voice.find('+', start), voice.size());
    std::string name = voice.substr(start, end - start);
    if (!name.ends_with(".pt")) name = name.substr(0, name.find(':'));
    if (name.ends_with(".pt") ? !fs::exists(name) : std::find(names.begin(), names.end(), name) == names.end())
      throw Error(ErrorKind::NotFound, "unknown Kokoro voice '" + name + "'; available: " + list_names(names));
    if (first.empty()) first = name.ends_with(".pt") ? fs::path(name).stem().string() : name;
    start = end + 1;
  }
  // A voice (a file, or a pack someone added to voices/) need not follow the pack's naming
  // (af_*, bm_*…): one whose name tells no language speaks American English, Kokoro's
  // default. Japanese and Chinese names stay errors: speaking them as English would be wrong.
  if (!first.empty() && (first[0] == 'j' || first[0] == 'z') && first.size() > 2 && first[2] == '_')
    return language_for_voice(first);
  try {
    return language_for_voice(first);
  } catch (const Error&) {
    return "en-us";
  }
}

const std::vector<float>& KokoroEngine::style_table(const std::string& spec) {
  if (auto it = tables_.find(spec); it != tables_.end()) return it->second;
  std::vector<float> mix;
  size_t rows = 0;
  double total = 0;
  size_t start = 0;
  while (start <= spec.size()) {
    const size_t end = std::min(spec.find('+', start), spec.size());
    std::string part = spec.substr(start, end - start);
    double weight = 1.0;
    if (const size_t colon = part.rfind(':'); colon != std::string::npos && !part.ends_with(".pt")) {
      char* stop = nullptr;
      weight = std::strtod(part.c_str() + colon + 1, &stop);
      if (*stop || !(weight > 0))
        throw Error(ErrorKind::InvalidArgument, "voice mix '" + spec + "': weight of '" + part + "' must be positive");
      part = part.substr(0, colon);
    }
    const std::string path = part.ends_with(".pt") ? part : (fs::path(voices_dir_) / (part + ".pt")).string();
    if (!fs::exists(path))
      throw Error(ErrorKind::NotFound, "unknown Kokoro voice '" + part + "'; available: " + list_names(pack_names()));
    const models::kokoro::VoicePack pack = models::kokoro::VoicePack::load(path);
    if (rows == 0) {
      rows = pack.rows();
      mix.assign(rows * kStyle, 0.0f);
    }
    const size_t n = std::min(rows, pack.rows());
    for (size_t r = 0; r < n; ++r) {
      const auto row = pack.style_for(r + 1);
      for (size_t i = 0; i < kStyle; ++i) mix[r * kStyle + i] += float(weight) * row[i];
    }
    rows = n;
    total += weight;
    start = end + 1;
  }
  mix.resize(rows * kStyle);
  for (auto& v : mix) v = float(v / total);
  table_rows_[spec] = rows;
  return tables_[spec] = std::move(mix);
}

KokoroEngine::Prepared KokoroEngine::prepare(const SynthesisRequest& request) {
  if (!(request.speed > 0)) throw Error(ErrorKind::InvalidArgument, "speed must be positive");
  const std::string voice = request.voice.empty() ? default_voice() : request.voice;
  voice_language(voice);  // unknown names are errors that list the voices
  const auto& table = style_table(voice);
  const size_t rows = table_rows_[voice];
  Prepared p;
  p.ids = model_->ids_from_phonemes(request.phonemes);
  // The Python pipeline picks the style row by the phoneme string's length in characters.
  const size_t n = std::max<size_t>(1, models::kokoro::phoneme_char_count(request.phonemes));
  const size_t row = std::min(n, rows) - 1;
  p.ref_s = std::span<const float>(table.data() + row * kStyle, kStyle);
  return p;
}

Audio KokoroEngine::synthesize(const SynthesisRequest& request) {
  const Prepared p = prepare(request);
  auto out = model_->synthesize(p.ids, p.ref_s, float(request.speed), options_.deterministic_noise);
  return Audio{std::move(out.audio), models::kokoro::KokoroModel::kSampleRate};
}

std::vector<Audio> KokoroEngine::synthesize_batch(std::span<const SynthesisRequest> requests) {
  // Every request is checked before any synthesis starts: a bad one fails the batch early.
  std::vector<Prepared> prepared;
  prepared.reserve(requests.size());
  for (const auto& r : requests) prepared.push_back(prepare(r));
  std::vector<models::kokoro::KokoroModel::BatchItem> items;
  for (size_t i = 0; i < requests.size(); ++i)
    items.push_back({prepared[i].ids, prepared[i].ref_s, float(requests[i].speed)});
  auto outs = model_->synthesize_batch(items, options_.deterministic_noise);
  std::vector<Audio> audio;
  audio.reserve(outs.size());
  for (auto& o : outs) audio.push_back(Audio{std::move(o.audio), models::kokoro::KokoroModel::kSampleRate});
  return audio;
}

}  // namespace xnai::speech
