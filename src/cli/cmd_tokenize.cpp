// `xnai tokenize`: token ids of a text as one JSON array. Needs only the tokenizer keys, so
// vocab-only GGUF files work too (no weights are touched).
#include <cstdio>

#include "cli/args.h"
#include "core/error.h"
#include "formats/gguf.h"
#include "text/tokenizer.h"

namespace xnai::cli {

int run_tokenize(const std::vector<std::string>& argv) {
  Args args("tokenize", {
                            {"--model", "-m", true, "GGUF model or vocab file", "MODEL_PATH"},
                            {"--no-bos", "", false, "do not add BOS/EOS (special tokens)", ""},
                            {"--parse-special", "", false, "turn special-token text such as <s> into its token", ""},
                        });
  args.parse(argv);
  if (args.has("--help")) {
    std::printf("usage: xnai tokenize -m MODEL [--no-bos] \"text\"\n%s", args.usage().c_str());
    return 0;
  }
  auto path = args.get("--model");
  if (!path) throw Error(ErrorKind::InvalidArgument, "no model given: pass -m FILE.gguf or set MODEL_PATH");
  if (args.positionals().size() != 1)
    throw Error(ErrorKind::InvalidArgument, "expected exactly one text argument, got " +
                                                std::to_string(args.positionals().size()));
  const auto file = gguf::GgufFile::open(*path);
  const auto tok = text::Tokenizer::from_gguf(file);
  const auto ids = tok->encode(args.positionals()[0], !args.has("--no-bos"), args.has("--parse-special"));
  std::string out = "[";
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i) out += ", ";
    out += std::to_string(ids[i]);
  }
  out += "]";
  std::printf("%s\n", out.c_str());
  return 0;
}

}  // namespace xnai::cli
