// `xnai voices`: the voices the configured engine offers (espeak-ng's languages for now;
// Kokoro's voice pack once the Kokoro engine is wired in).
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/args.h"
#include "cli/speech_options.h"
#include "core/error.h"

namespace xnai::cli {

int run_voices(const std::vector<std::string>& argv) {
  auto specs = speech_engine_option_specs();
  specs.push_back({"--json", "", false, "print a JSON array of {name, language, description}", ""});
  Args args("voices", specs);
  args.parse(argv);
  if (args.has("--help")) {
    std::printf("usage: xnai voices [--json]\n%s", args.usage().c_str());
    return 0;
  }
  const auto engine = make_tts_engine(args);
  const auto voices = engine->list_voices();
  if (args.has("--json")) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& v : voices)
      out.push_back({{"name", v.name}, {"language", v.language}, {"description", v.description}, {"engine", engine->name()}});
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  std::printf("%-10s %-8s %s   (engine: %s)\n", "VOICE", "LANGUAGE", "DESCRIPTION", engine->name().c_str());
  for (const auto& v : voices) std::printf("%-10s %-8s %s\n", v.name.c_str(), v.language.c_str(), v.description.c_str());
  return 0;
}

}  // namespace xnai::cli
