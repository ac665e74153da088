// LLM answers: a chat prompt that numbers the retrieved sources, generation streamed to the
// caller, and the [n] markers of the answer mapped back to the sources.
#include <algorithm>

#include "core/error.h"
#include "formats/gguf.h"
#include "models/llm/llm.h"
#include "rag/answer.h"
#include "rag/answer_internal.h"
#include "text/chat_template.h"
#include "text/tokenizer.h"

namespace xnai::rag {
namespace {

std::string source_block(const Citation& c) {
  // Appended piece by piece: GCC 12 warns falsely (-Wrestrict) on "[" + std::string&&.
  std::string s = "[";
  s += std::to_string(c.number);
  s += "] ";
  s += detail::describe_source(c);
  if (!c.heading_path.empty()) s += " (section: " + c.heading_path + ")";
  s += "\n";
  s += c.text;
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\f')) s.pop_back();
  return s;
}

std::string user_message(const std::string& question, const std::vector<Citation>& sources) {
  std::string s;
  if (sources.empty()) {
    s = "No sources were found for this question.\n\n";
  } else {
    s = "Sources:\n\n";
    for (const auto& c : sources) s += source_block(c) + "\n\n";
  }
  s += "Question: " + question;
  return s;
}

// Length of the longest prefix of `s` no longer than `n` bytes that ends on a UTF-8
// character boundary.
size_t utf8_floor(const std::string& s, size_t n) {
  n = std::min(n, s.size());
  while (n > 0 && n < s.size() && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return n;
}

}  // namespace

runtime::GenerateOptions default_answer_generate_options() {
  runtime::GenerateOptions g;
  g.max_tokens = 512;
  g.sampling.temperature = 0.2f;
  return g;
}

const std::string& default_answer_system_prompt() {
  static const std::string prompt =
      "You answer questions using only the numbered sources you are given. After every statement, "
      "cite the source it comes from with its number in square brackets, like [1] or [2][3]. "
      "If the sources do not contain the answer, say that they do not. Be concise.";
  return prompt;
}

AnswerPrompt build_answer_prompt(const models::LlmModel& model, const std::string& question,
                                 const std::vector<RetrievedHit>& hits, int max_sources,
                                 int64_t max_prompt_tokens, const std::string& system_prompt) {
  const auto& tok = model.tokenizer();
  std::string warning;
  const auto kind = text::choose_chat_template(model.gguf().get_string("tokenizer.chat_template"), &warning);
  const std::string& system = system_prompt.empty() ? default_answer_system_prompt() : system_prompt;

  AnswerPrompt p;
  auto render = [&](const std::vector<Citation>& sources) {
    AnswerPrompt r;
    r.text = text::apply_chat_template(kind, {{"system", system}, {"user", user_message(question, sources)}},
                                       true);
    r.tokens = tok.encode(r.text, /*add_special=*/true, /*parse_special=*/true);
    r.sources = sources;
    return r;
  };

  p = render({});
  if (static_cast<int64_t>(p.tokens.size()) > max_prompt_tokens)
    throw Error(ErrorKind::ContextFull, "the question alone takes " + std::to_string(p.tokens.size()) +
                                            " prompt tokens, more than the " +
                                            std::to_string(max_prompt_tokens) +
                                            " available; use a larger context (-c)");

  std::vector<Citation> sources;
  const size_t n = std::min(hits.size(), static_cast<size_t>(std::max(0, max_sources)));
  for (size_t i = 0; i < n; ++i) {
    sources.push_back(detail::citation_for_hit(hits[i], static_cast<int>(sources.size()) + 1));
    AnswerPrompt r = render(sources);
    if (static_cast<int64_t>(r.tokens.size()) <= max_prompt_tokens) {
      p = std::move(r);
      continue;
    }
    sources.pop_back();
    if (!sources.empty()) continue;  // a later, shorter source may still fit
    // Not even the best source fits whole: give the model its longest prefix that does.
    const RetrievedHit& h = hits[i];
    size_t lo = 0, hi = h.hit.chunk.text.size();
    while (lo < hi) {
      const size_t mid = utf8_floor(h.hit.chunk.text, lo + (hi - lo + 1) / 2);
      if (mid <= lo) break;
      auto cut =
          detail::citation_for_span(h, 1, h.hit.chunk.begin, h.hit.chunk.begin + static_cast<int64_t>(mid));
      if (static_cast<int64_t>(render({cut}).tokens.size()) <= max_prompt_tokens)
        lo = mid;
      else
        hi = mid - 1;
    }
    hi = utf8_floor(h.hit.chunk.text, lo);
    if (hi > 0) {
      sources.push_back(
          detail::citation_for_span(h, 1, h.hit.chunk.begin, h.hit.chunk.begin + static_cast<int64_t>(hi)));
      p = render(sources);
    }
  }
  return p;
}

AnswerMessages build_answer_messages(const std::string& question, const std::vector<RetrievedHit>& hits,
                                     int max_sources, size_t max_user_chars, const std::string& system_prompt) {
  AnswerMessages m;
  m.system = system_prompt.empty() ? default_answer_system_prompt() : system_prompt;
  std::vector<Citation> sources;
  const size_t n = std::min(hits.size(), static_cast<size_t>(std::max(0, max_sources)));
  for (size_t i = 0; i < n; ++i) {
    sources.push_back(detail::citation_for_hit(hits[i], static_cast<int>(sources.size()) + 1));
    if (user_message(question, sources).size() <= max_user_chars) continue;
    sources.pop_back();
    if (!sources.empty()) continue;  // a later, shorter source may still fit
    const RetrievedHit& h = hits[i];
    const size_t overhead = user_message(question, {detail::citation_for_span(h, 1, h.hit.chunk.begin, h.hit.chunk.begin)}).size();
    if (overhead >= max_user_chars) continue;
    const size_t keep = utf8_floor(h.hit.chunk.text, max_user_chars - overhead);
    if (keep > 0)
      sources.push_back(
          detail::citation_for_span(h, 1, h.hit.chunk.begin, h.hit.chunk.begin + static_cast<int64_t>(keep)));
  }
  m.user = user_message(question, sources);
  m.sources = std::move(sources);
  return m;
}

Answer answer_with_llm(runtime::Generator& generator, const std::string& question,
                       const std::vector<RetrievedHit>& hits, const LlmAnswerOptions& opts,
                       const AnswerTextCallback& on_text) {
  Answer ans;
  if (hits.empty()) {
    ans.finish_reason = "no_hits";
    return ans;
  }
  const int64_t n_ctx = generator.context().n_ctx();
  const int64_t budget = opts.generate.max_tokens < 0 ? n_ctx / 2 : n_ctx - opts.generate.max_tokens;
  if (budget < 1)
    throw Error(ErrorKind::InvalidArgument, "the answer length (" + std::to_string(opts.generate.max_tokens) +
                                                " tokens) leaves no room for the prompt in a context of " +
                                                std::to_string(n_ctx));
  AnswerPrompt prompt = build_answer_prompt(generator.context().model(), question, hits, opts.max_sources,
                                            budget, opts.system_prompt);
  ans.sources = prompt.sources;

  const auto r = generator.generate(prompt.tokens, opts.generate,
                                    [&](std::string_view piece) { return on_text ? on_text(piece) : true; });
  ans.text = r.text;
  ans.finish_reason = r.finish_reason;
  ans.n_prompt_tokens = r.n_prompt;
  ans.n_generated_tokens = r.n_generated;
  ans.prompt_ms = r.prompt_ms;
  ans.generate_ms = r.generate_ms;

  ans.citations = cited_sources(ans.text, ans.sources, &ans.unknown_markers);
  return ans;
}

}  // namespace xnai::rag
