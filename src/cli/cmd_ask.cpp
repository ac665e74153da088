// `xnai ask "QUESTION"`: retrieves the best chunks, then streams an answer — from the LLM
// (-m / MODEL_PATH) citing its numbered sources as [n], or, with no model, an extractive
// answer quoting the best sentences — and lists the sources it cites. --json prints one
// JSON object at the end instead (docs/rag.md).
#include <cstdio>

#include "cli/llm_options.h"
#include "cli/rag_options.h"
#include "core/error.h"
#include "rag/answer.h"
#include "rag/retriever.h"
#include "runtime/generator.h"

namespace xnai::cli {
namespace {

std::vector<OptionSpec> ask_specs() {
  std::vector<OptionSpec> s = rag_store_option_specs();
  for (auto& o : retrieval_option_specs(5)) s.push_back(o);
  for (auto& o : model_option_specs()) {
    if (o.long_name == "--model")
      o.help = "LLM (GGUF) that writes the answer; without one the answer is extractive";
    s.push_back(o);
  }
  for (auto& o : context_option_specs()) s.push_back(o);
  for (auto& o : sampling_option_specs()) s.push_back(o);
  s.push_back({"--max-tokens", "-n", true, "longest LLM answer in tokens (default 512)", ""});
  return s;
}

void print_sources(const rag::Answer& a) {
  if (a.sources.empty()) return;
  std::printf("\nSources:\n");
  for (const auto& src : a.sources) {
    bool cited = false;
    for (const auto& c : a.citations) cited = cited || c.number == src.number;
    std::printf("[%d] %s", src.number,
                src.title.empty() ? short_path(src.source_path).c_str() : src.title.c_str());
    const std::string pages = page_label(src.page_first, src.page_last);
    if (!pages.empty()) std::printf(", %s", pages.c_str());
    if (!src.heading_path.empty()) std::printf("  § %s", src.heading_path.c_str());
    if (!a.extractive && !cited) std::printf("  (not cited)");
    std::printf("\n    %s\n", src.source_path.c_str());
    if (a.extractive) {
      for (const auto& c : a.citations) {
        if (c.number != src.number) continue;
        const std::string p = page_label(c.page_first, c.page_last);
        std::printf("    quoted bytes [%lld, %lld)%s%s, chunk %s\n", static_cast<long long>(c.begin),
                    static_cast<long long>(c.end), p.empty() ? "" : ", ", p.c_str(), c.chunk_id.c_str());
      }
    } else {
      std::printf("    bytes [%lld, %lld), chunk %s\n", static_cast<long long>(src.begin),
                  static_cast<long long>(src.end), src.chunk_id.c_str());
    }
  }
  if (!a.unknown_markers.empty()) {
    std::printf("(the answer cites");
    for (int n : a.unknown_markers) std::printf(" [%d]", n);
    std::printf(", which no source has)\n");
  }
}

}  // namespace

int run_ask(const std::vector<std::string>& argv) {
  Args args("ask", ask_specs());
  args.parse(argv);
  if (args.has("--help")) {
    std::printf("usage: xnai ask \"QUESTION\" [-m LLM] [-k N] [--filter EXPR] [--json]\n%s",
                args.usage().c_str());
    return 0;
  }
  if (args.positionals().size() != 1)
    throw Error(ErrorKind::InvalidArgument, "ask: give the question as one argument (quote it)");
  const std::string& question = args.positionals()[0];
  const bool json = args.has("--json");
  rag::RetrieveOptions ropts = retrieve_options(args, 5);

  auto store = open_rag_store(args);
  auto embedder = load_embedder(args);
  std::string note;
  ropts.mode = rag::plan_retrieval(*store, embedder.get(), ropts.mode, &note);
  if (!note.empty() && !json) std::fprintf(stderr, "note: %s\n", note.c_str());
  const rag::RetrieveResult r = rag::retrieve(*store, embedder.get(), question, ropts);

  auto stream = [json](std::string_view piece) {
    if (!json) {
      std::fwrite(piece.data(), 1, piece.size(), stdout);
      std::fflush(stdout);
    }
    return true;
  };

  rag::Answer answer;
  std::string llm_name;
  if (r.hits.empty()) {
    answer.finish_reason = "no_hits";
    answer.extractive = !llm_configured(args);
  } else if (llm_configured(args)) {
    auto backend = make_backend(args);
    auto model = load_llm(args, *backend);
    llm_name = short_path(model_path(args));
    rag::LlmAnswerOptions lopts;
    lopts.max_sources = ropts.top_k;
    lopts.generate.max_tokens = args.get_int("--max-tokens", 512);
    const runtime::SamplingParams defaults = lopts.generate.sampling;
    lopts.generate.sampling = sampling_params(args);
    if (!args.has("--temp")) lopts.generate.sampling.temperature = defaults.temperature;
    runtime::Generator generator(*model, context_options(args));
    answer = rag::answer_with_llm(generator, question, r.hits, lopts, stream);
  } else {
    rag::ExtractiveOptions eopts;
    eopts.max_hits = ropts.top_k;
    eopts.pages = rag::page_lookup_from_files();
    answer = rag::answer_extractive(question, r.hits, eopts, stream);
  }

  if (json) {
    nlohmann::ordered_json j;
    j["question"] = question;
    j["answer_mode"] = answer.extractive ? "extractive" : "llm";
    j["retrieval_mode"] = rag::retrieval_mode_name(r.mode);
    j["model"] = llm_name.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(llm_name);
    j["answer"] = answer.text;
    j["finish_reason"] = answer.finish_reason;
    j["citations"] = nlohmann::ordered_json::array();
    for (const auto& c : answer.citations) j["citations"].push_back(citation_json(c));
    j["sources"] = nlohmann::ordered_json::array();
    for (const auto& c : answer.sources) j["sources"].push_back(citation_json(c));
    j["unknown_markers"] = answer.unknown_markers;
    if (!answer.extractive)
      j["timings"] = {{"prompt_tokens", answer.n_prompt_tokens},
                      {"generated_tokens", answer.n_generated_tokens},
                      {"prompt_ms", answer.prompt_ms},
                      {"generate_ms", answer.generate_ms}};
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }
  if (r.hits.empty()) {
    std::printf("No matching passages found");
    if (store->stats().n_chunks == 0)
      std::printf(" (the store at %s is empty: run 'xnai ingest PATH' first)", rag_data_dir(args).c_str());
    std::printf(".\n");
    return 0;
  }
  std::printf("\n");
  print_sources(answer);
  return 0;
}

}  // namespace xnai::cli
