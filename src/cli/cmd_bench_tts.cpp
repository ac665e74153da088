// `xnai bench tts`: Kokoro synthesis speed. Real-time factor (wall / audio seconds) for
// phoneme inputs of a few lengths, time to first audio through the streaming speech path,
// batch-1 vs batch-N throughput (KOKORO_BATCH_SIZE semantics) and peak RSS. Without a
// Kokoro model (--kokoro, KOKORO_MODEL_DIR or the pulled default) it benchmarks
// KokoroModel::synthetic: the real Kokoro-82M shapes with random weights, whose speed is
// the real model's (durations forced to --frames-per-phoneme).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "cli/args.h"
#include "cli/speech_options.h"
#include "compute/cpu/quant.h"
#include "core/error.h"
#include "core/thread_pool.h"
#include "hub/hub.h"
#include "models/kokoro/kokoro.h"
#include "runtime/bench_llm.h"
#include "speech/kokoro_engine.h"
#include "speech/speech_service.h"

namespace xnai::cli {
namespace {

using Json = nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

struct Stats {
  double mean = 0, sd = 0, median = 0;
  std::vector<double> samples;
};

Stats stats_of(std::vector<double> v) {
  Stats s;
  s.samples = v;
  if (v.empty()) return s;
  for (double x : v) s.mean += x;
  s.mean /= static_cast<double>(v.size());
  if (v.size() > 1) {
    for (double x : v) s.sd += (x - s.mean) * (x - s.mean);
    s.sd = std::sqrt(s.sd / static_cast<double>(v.size() - 1));
  }
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  s.median = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
  return s;
}

Json stats_json(const Stats& s) {
  return Json{{"mean", s.mean}, {"sd", s.sd}, {"median", s.median}, {"samples", s.samples}};
}

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// A phoneme string of exactly n code points that looks like speech: "words" of 2-7 symbols
// drawn (seeded) from symbols that both the real Kokoro vocabulary and the synthetic one
// have, separated by spaces, a stress mark now and then, ending in a full stop.
std::string phoneme_text(int n, uint64_t seed) {
  static const char32_t kSymbols[] = {U'a', U'b', U'd', U'e', U'f', U'h', U'i', U'k', U'l', U'm', U'n',
                                      U'o', U'p', U's', U't', U'u', U'v', U'w', U'z', U'æ', U'ð', U'ŋ',
                                      U'ɑ', U'ɔ', U'ə', U'ɛ', U'ɪ', U'ʊ', U'ʌ', U'ɹ', U'ʃ', U'θ'};
  constexpr size_t kCount = sizeof(kSymbols) / sizeof(kSymbols[0]);
  std::mt19937_64 rng(seed);
  std::u32string s;
  while (static_cast<int>(s.size()) < n - 1) {
    if (!s.empty()) s += U' ';
    if (rng() % 3 == 0) s += U'ˈ';
    const int len = 2 + static_cast<int>(rng() % 6);
    for (int i = 0; i < len; ++i) s += kSymbols[rng() % kCount];
  }
  s.resize(static_cast<size_t>(std::max(n - 1, 0)));
  while (!s.empty() && s.back() == U' ') s.back() = U'a';
  if (n > 0) s += U'.';
  std::string out;
  for (char32_t c : s) {  // every symbol is below U+0800: one or two UTF-8 bytes
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else {
      out += static_cast<char>(0xC0 | (c >> 6));
      out += static_cast<char>(0x80 | (c & 0x3F));
    }
  }
  return out;
}

// Sentences of ordinary length (8-12 words, 40-60 phonemes) for the streaming tests.
const char* const kSentences[] = {
    "The morning train was late again, so we walked along the river instead.",
    "She opened the window and listened to the rain falling on the garden.",
    "Every small step you take today makes the long road a little shorter.",
    "The old library keeps its rarest books in a cold room under the stairs.",
    "He wrote the numbers on a card and left it on the kitchen table.",
    "A quiet wind moved through the trees as the sun went down behind the hills.",
    "We should check the weather before we decide where to go this weekend.",
    "The children laughed when the little dog jumped into the fountain.",
    "Please remember to turn off the lights when you leave the office tonight.",
    "Nobody knew who had painted the bright blue door at the end of the street.",
};

// A short sentence (about 20 phonemes, the "short sentence" latency goal).
const char* const kShortSentence = "Thank you very much.";

std::string sentences(int n) {
  std::string s;
  for (int i = 0; i < n; ++i) {
    if (i > 0) s += ' ';
    s += kSentences[i % 10];
  }
  return s;
}

struct StopAfterFirst {};  // thrown from the callback: the rest of the text is not wanted

std::vector<int> parse_lengths(const std::string& s) {
  std::vector<int> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) {
    char* end = nullptr;
    const long v = std::strtol(item.c_str(), &end, 10);
    if (item.empty() || *end || v < 1 || v > 510)
      throw Error(ErrorKind::InvalidArgument,
                  "bench tts: --lengths takes phoneme counts in 1..510, got '" + item + "'");
    out.push_back(static_cast<int>(v));
  }
  if (out.empty()) throw Error(ErrorKind::InvalidArgument, "bench tts: --lengths is empty");
  return out;
}

}  // namespace

int run_bench_tts(const std::vector<std::string>& argv) {
  std::vector<OptionSpec> specs = speech_engine_option_specs();
  for (auto s : std::vector<OptionSpec>{
           {"--synthetic", "", false, "benchmark the random-weight Kokoro-82M even when a model is there",
            ""},
           {"--threads", "-t", true, "CPU threads (default: physical cores)", "N_THREADS"},
           {"--repetitions", "-r", true, "timed runs per test (default 3)", ""},
           {"--lengths", "-l", true, "phoneme counts of the synthesis tests (default 20,80,250)", ""},
           {"--sentences", "", true, "sentence counts of the first-audio tests (default 1,3,10; 0 = skip)",
            ""},
           {"--batch", "-b", true, "batch size compared with batch 1 on 4 sentences (default 4; 0 = skip)",
            ""},
           {"--frames-per-phoneme", "", true, "synthetic model: forced mean duration (default 3.5)", ""},
           {"--json", "", false, "print one JSON object instead of the table", ""},
       })
    specs.push_back(s);
  Args args("bench tts", specs);
  args.parse(argv);
  if (args.has("--help")) {
    std::printf(
        "usage: xnai bench tts [--kokoro PATH | --synthetic] [-r 3] [-t THREADS] [-l 20,80,250] [--json]\n%s",
        args.usage().c_str());
    return 0;
  }
  if (!args.positionals().empty())
    throw Error(ErrorKind::InvalidArgument, "bench tts: unexpected argument '" + args.positionals()[0] + "'");
  const bool json = args.has("--json");
  int n_threads = args.get_int("--threads", 0);
  if (n_threads < 0) throw Error(ErrorKind::InvalidArgument, "bench tts: --threads must be >= 1");
  if (n_threads == 0) n_threads = default_thread_count();
  const int reps = args.get_int("--repetitions", 3);
  if (reps < 1) throw Error(ErrorKind::InvalidArgument, "bench tts: --repetitions must be >= 1");
  const std::vector<int> lengths = parse_lengths(args.get_or("--lengths", "20,80,250"));
  std::vector<int> sentence_counts;
  if (args.get_or("--sentences", "1,3,10") != "0") {
    for (int n : parse_lengths(args.get_or("--sentences", "1,3,10"))) sentence_counts.push_back(n);
  }
  const int batch = args.get_int("--batch", 4);
  if (batch < 0 || batch > 64) throw Error(ErrorKind::InvalidArgument, "bench tts: --batch must be in 0..64");
  const double fpp = args.get_double("--frames-per-phoneme", 3.5);
  if (!(fpp > 0)) throw Error(ErrorKind::InvalidArgument, "bench tts: --frames-per-phoneme must be positive");

  // The model: --kokoro / KOKORO_MODEL_DIR, else the pulled default, else synthetic.
  std::string model_path;
  if (!args.has("--synthetic")) {
    if (const auto k = args.get("--kokoro"); k && !k->empty()) {
      model_path = hub::resolve_model(*k, hub::ModelKind::Tts);
    } else {
      try {
        model_path = hub::resolve_model("", hub::ModelKind::Tts);
      } catch (const Error& e) {
        if (e.kind() != ErrorKind::InvalidArgument && e.kind() != ErrorKind::NotFound) throw;
      }
    }
  }
  const auto t_load = Clock::now();
  std::shared_ptr<speech::KokoroEngine> engine;
  if (!model_path.empty()) {
    speech::KokoroEngineOptions ko;
    ko.path = model_path;
    ko.n_threads = n_threads;
    engine = std::make_shared<speech::KokoroEngine>(ko);
  } else {
    models::kokoro::SyntheticKokoroOptions so;
    so.frames_per_token = fpp;
    so.n_threads = n_threads;
    // Any style works for timing; a fixed, mild one keeps the synthetic model finite.
    std::vector<float> table(510 * 256);
    std::mt19937_64 rng(7);
    std::uniform_real_distribution<float> u(-0.1f, 0.1f);
    for (float& v : table) v = u(rng);
    engine = std::make_shared<speech::KokoroEngine>(models::kokoro::KokoroModel::synthetic(so),
                                                    "af_synthetic", std::move(table));
  }
  const double load_s = seconds_since(t_load);
  const std::string voice = args.get_or("--voice", engine->default_voice());
  engine->voice_language(voice);  // an unknown voice fails before any timing
  const bool tty = isatty(STDERR_FILENO);
  auto progress = [&](const std::string& s) {
    if (tty) std::fprintf(stderr, "\rbench tts: %-32s", s.c_str());
  };

  // 1. Synthesis of phoneme strings: wall time, audio length, RTF.
  Json synth = Json::array();
  {
    progress("warm-up");
    engine->synthesize({"", phoneme_text(lengths.front(), 1), voice, 1.0});
  }
  struct SynthRow {
    int phonemes;
    double audio_s;
    Stats wall, rtf;
  };
  std::vector<SynthRow> synth_rows;
  for (int n : lengths) {
    const std::string ph = phoneme_text(n, 1000 + static_cast<uint64_t>(n));
    std::vector<double> wall, rtf;
    double audio_s = 0;
    for (int r = 0; r < reps; ++r) {
      progress("synthesis " + std::to_string(n) + " phonemes, run " + std::to_string(r + 1));
      const auto t0 = Clock::now();
      const speech::Audio a = engine->synthesize({"", ph, voice, 1.0});
      const double w = seconds_since(t0);
      audio_s = static_cast<double>(a.samples.size()) / a.sample_rate;
      wall.push_back(w);
      rtf.push_back(audio_s > 0 ? w / audio_s : 0);
    }
    synth_rows.push_back({n, audio_s, stats_of(wall), stats_of(rtf)});
    synth.push_back({{"phonemes", n},
                     {"audio_seconds", audio_s},
                     {"wall_seconds", stats_json(synth_rows.back().wall)},
                     {"rtf", stats_json(synth_rows.back().rtf)}});
  }

  // 2. Time to first audio through the streaming path (normalise, split, G2P, synthesise
  // the first sentence) for a short sentence and for 1, 3, 10 ordinary ones; the rest of the
  // text is abandoned once the first clip is there.
  speech::SpeechOptions sopt;
  sopt.voice = voice;
  Json first = Json::array();
  std::vector<std::pair<int, Stats>> first_rows;
  // n = 0 is the short sentence, measured first whenever the first-audio tests run.
  std::vector<int> first_cases = sentence_counts;
  if (!first_cases.empty()) first_cases.insert(first_cases.begin(), 0);
  for (int n : first_cases) {
    const std::string text = n == 0 ? std::string(kShortSentence) : sentences(n);
    speech::SpeechService service(engine, sopt);
    std::vector<double> t;
    for (int r = 0; r < reps; ++r) {
      progress("first audio, " + std::to_string(n) + " sentences, run " + std::to_string(r + 1));
      const auto t0 = Clock::now();
      double at = 0;
      try {
        service.speak(text, [&](const speech::SpokenChunk&) {
          at = seconds_since(t0);
          throw StopAfterFirst{};
        });
      } catch (const StopAfterFirst&) {
      }
      t.push_back(at);
    }
    first_rows.push_back({n, stats_of(t)});
    if (n == 0) continue;  // reported on its own below
    first.push_back({{"sentences", n}, {"first_audio_seconds", stats_json(first_rows.back().second)}});
  }
  Json first_short = nullptr;
  if (!first_rows.empty() && first_rows.front().first == 0)
    first_short = {{"text", kShortSentence}, {"first_audio_seconds", stats_json(first_rows.front().second)}};

  // 3. Throughput of 4 sentences spoken with batch size 1 and `batch` (the first chunk
  // always goes alone, as in SpeechService).
  Json batch_json = nullptr;
  struct BatchRow {
    int size;
    double audio_s;
    Stats wall;
  };
  std::vector<BatchRow> batch_rows;
  if (batch > 0) {
    const std::string text = sentences(4);
    batch_json = Json::object();
    batch_json["sentences"] = 4;
    std::vector<int> sizes{1};
    if (batch > 1) sizes.push_back(batch);
    for (int b : sizes) {
      speech::SpeechOptions o = sopt;
      o.batch_size = b;
      speech::SpeechService service(engine, o);
      std::vector<double> wall;
      double audio_s = 0;
      for (int r = 0; r < reps; ++r) {
        progress("batch " + std::to_string(b) + ", run " + std::to_string(r + 1));
        size_t samples = 0;
        const auto t0 = Clock::now();
        service.speak(text, [&](const speech::SpokenChunk& c) { samples += c.audio.samples.size(); });
        wall.push_back(seconds_since(t0));
        audio_s = static_cast<double>(samples) / engine->sample_rate();
      }
      batch_rows.push_back({b, audio_s, stats_of(wall)});
      const Stats& w = batch_rows.back().wall;
      batch_json["batch_" + std::to_string(b)] = {
          {"batch_size", b},
          {"audio_seconds", audio_s},
          {"wall_seconds", stats_json(w)},
          {"audio_seconds_per_second", w.mean > 0 ? audio_s / w.mean : 0}};
    }
    if (batch_rows.size() == 2)
      batch_json["speedup"] = batch_rows[0].wall.mean / std::max(batch_rows[1].wall.mean, 1e-12);
  }
  if (tty) std::fprintf(stderr, "\r%50s\r", "");
  const uint64_t rss = runtime::peak_rss_bytes();
  const char* simd = cpu::simd_level_name(cpu::simd_level());

  if (json) {
    Json j;
    j["engine"] = engine->name();
    j["model"] = model_path.empty() ? Json("synthetic") : Json(model_path);
    if (model_path.empty()) j["frames_per_phoneme"] = fpp;
    j["voice"] = voice;
    j["n_threads"] = n_threads;
    j["simd"] = simd;
    j["repetitions"] = reps;
    j["load_seconds"] = load_s;
    j["synthesis"] = synth;
    j["first_audio"] = first;
    j["first_audio_short_sentence"] = first_short;
    j["batch"] = batch_json;
    j["peak_rss_bytes"] = rss;
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }
  std::printf("kokoro-82m (%s), voice %s, %d threads, %s, %d runs per test, load %.2f s\n",
              model_path.empty() ? "synthetic weights" : model_path.c_str(), voice.c_str(), n_threads, simd,
              reps, load_s);
  std::printf("\n| %8s | %9s | %18s | %18s | %9s |\n", "phonemes", "audio s", "wall s", "RTF", "median");
  std::printf("| -------: | --------: | -----------------: | -----------------: | --------: |\n");
  for (const auto& r : synth_rows) {
    char wall[48], rtf[48];
    std::snprintf(wall, sizeof(wall), "%.3f ± %.3f", r.wall.mean, r.wall.sd);
    std::snprintf(rtf, sizeof(rtf), "%.3f ± %.3f", r.rtf.mean, r.rtf.sd);
    std::printf("| %8d | %9.2f | %19s | %19s | %9.3f |\n", r.phonemes, r.audio_s, wall, rtf, r.rtf.median);
  }
  if (!first_rows.empty()) {
    std::printf("\ntime to first audio (streaming, first sentence ready):\n");
    for (const auto& [n, s] : first_rows) {
      if (n == 0)
        std::printf("  short \"%s\"  %.3f ± %.3f s (median %.3f)\n", kShortSentence, s.mean, s.sd, s.median);
      else
        std::printf("  %2d sentence%s  %.3f ± %.3f s (median %.3f)\n", n, n == 1 ? " " : "s", s.mean, s.sd,
                    s.median);
    }
  }
  if (batch_rows.size() == 2) {
    std::printf("\n4 sentences (%.2f s of audio):\n", batch_rows[0].audio_s);
    for (const auto& r : batch_rows)
      std::printf("  batch %-2d  %.3f ± %.3f s, %.2f audio s per s\n", r.size, r.wall.mean, r.wall.sd,
                  r.audio_s / std::max(r.wall.mean, 1e-12));
    std::printf("  speed-up %.2fx\n", batch_rows[0].wall.mean / std::max(batch_rows[1].wall.mean, 1e-12));
  }
  std::printf("\npeak RSS %.1f MiB\n", static_cast<double>(rss) / 1024.0 / 1024.0);
  return 0;
}

}  // namespace xnai::cli
