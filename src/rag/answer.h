// Answering a question from retrieved chunks, with citations that point at the exact text used.
//
// With an LLM: the prompt numbers the sources [1]…[n] (title, file, pages, then the chunk text),
// as many as fit the token budget; the model is asked to cite them as [n]; the answer streams
// out through on_text, and every [n] marker in it is then mapped back to its source.
// With no LLM: an extractive answer — the best sentences of the top hits (ICU sentence
// boundaries; scored by BM25-weighted query-term overlap, term coverage and hit rank; headings
// and sentences scoring under 40% of the best left out), each followed by its [n] marker, in
// reading order (the best sentence's source first; document order within a source).
//
// Citation semantics (the contract the tests check): for every Citation c,
//   document_text.substr(c.begin, c.end - c.begin) == c.text
// where document_text is Document::text of c.doc_id. For an LLM answer c.text is the source
// text given to the model (the whole chunk, or its first part when the budget cut it); for an
// extractive answer it is the quoted sentence. page_first/page_last are the pages that span
// touches (0 when the document has no pages; see PageLookup for sentences).
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rag/retriever.h"
#include "runtime/generator.h"

namespace xnai::models {
class LlmModel;
}

namespace xnai::rag {

struct Citation {
  int number = 0;  // the n of the [n] marker (1-based)
  std::string chunk_id, doc_id, source_path, title;
  int page_first = 0, page_last = 0;  // 0 when unpaginated
  int64_t begin = 0, end = 0;         // byte span in the document text
  double score = 0;                   // retrieval score of the source chunk
  std::string heading_path;           // of the source chunk
  std::string text;                   // == document text [begin, end)
};

struct Answer {
  std::string text;  // the answer, with its [n] markers
  bool extractive = false;
  std::vector<Citation> sources;     // the numbered sources, [1]…[n] in order (whole spans given)
  std::vector<Citation> citations;   // what the answer cites: LLM — each distinct [n] it uses, in
                                     // order of first use; extractive — one per quoted sentence
  std::vector<int> unknown_markers;  // [n] markers of the LLM answer that name no source
  std::string finish_reason;         // LLM: the generator's; extractive: "extractive" or "no_hits"
  int n_prompt_tokens = 0, n_generated_tokens = 0;
  double prompt_ms = 0, generate_ms = 0;
};

// Receives answer text as it is produced; returning false stops the answer.
using AnswerTextCallback = std::function<bool(std::string_view)>;

// The page spans of a document (Document::pages), or nullopt when unknown. Chunks record
// only their first and last page; a sentence quoted from a chunk that spans pages needs
// the document's page spans to name its own page.
using PageLookup = std::function<std::optional<std::vector<PageSpan>>(const DocumentInfo& doc)>;

// Reads page spans from the document's file (load_document), only when the file still has
// the content hash the store recorded — otherwise the offsets might not match — and caches
// them per document. Not thread-safe (one answer at a time).
PageLookup page_lookup_from_files();

struct ExtractiveOptions {
  int max_hits = 5;  // top hits the sentences are drawn from
  int max_sentences = 3;
  int max_chars = 900;  // of the answer's quoted text, not counting markers
  // Consulted for sentences of chunks that span pages; without it (or when it returns
  // nullopt) such a citation names the chunk's page range.
  PageLookup pages;
};

// Extractive answer from `hits` (best first). Sources are numbered in order of first quotation.
// No hits gives an empty answer (finish_reason "no_hits"). on_text may be empty.
Answer answer_extractive(const std::string& question, const std::vector<RetrievedHit>& hits,
                         const ExtractiveOptions& opts = {}, const AnswerTextCallback& on_text = {});

// 512 tokens, temperature 0.2 (answers should stick to the sources), no other changes.
runtime::GenerateOptions default_answer_generate_options();

struct LlmAnswerOptions {
  int max_sources = 5;
  runtime::GenerateOptions generate = default_answer_generate_options();
  // The system message; empty = the default, which asks for [n] citations and to say so when
  // the sources do not hold the answer.
  std::string system_prompt;
};

// The prompt for an LLM answer: the chat-templated text, its tokens and the sources it holds.
struct AnswerPrompt {
  std::string text;
  std::vector<int32_t> tokens;
  std::vector<Citation> sources;  // numbered 1…n as written in the prompt
};

// Builds the prompt within `max_prompt_tokens` (tokens of the whole templated prompt):
// sources are added best first while they fit; when not even the first one fits whole, its
// text is cut (at a UTF-8 boundary) so that it does, and its span shortened to match.
// Throws Error(ContextFull) when the question alone does not fit.
AnswerPrompt build_answer_prompt(const models::LlmModel& model, const std::string& question,
                                 const std::vector<RetrievedHit>& hits, int max_sources,
                                 int64_t max_prompt_tokens, const std::string& system_prompt = {});

// The chat messages of an answer prompt for a model that is not loaded here (a remote
// engine, whose tokenizer is unknown): the same system and user messages as
// build_answer_prompt, with sources added best first while the user message stays within
// `max_user_chars` bytes (the first source is cut at a UTF-8 boundary when it alone is longer).
struct AnswerMessages {
  std::string system, user;
  std::vector<Citation> sources;  // numbered 1…n as written in the user message
};
AnswerMessages build_answer_messages(const std::string& question, const std::vector<RetrievedHit>& hits,
                                     int max_sources, size_t max_user_chars, const std::string& system_prompt = {});

// The default system message of answer prompts.
const std::string& default_answer_system_prompt();

// Answers with the generator's model: builds the prompt (budget = the context size minus
// generate.max_tokens, or half the context when max_tokens < 0), streams the answer through
// on_text and maps its [n] markers to citations. The generator's cache is reused between
// calls (see runtime::Generator). No hits gives the answer "" with finish_reason "no_hits",
// without running the model.
Answer answer_with_llm(runtime::Generator& generator, const std::string& question,
                       const std::vector<RetrievedHit>& hits, const LlmAnswerOptions& opts = {},
                       const AnswerTextCallback& on_text = {});

// A citation marker in answer text: "[2]", "[1, 3]", "[2-4]" (also with an en dash), "[Source 2]".
struct CitationMarker {
  size_t begin = 0, end = 0;  // byte range of the marker in the text
  std::vector<int> numbers;   // as written, ranges expanded, in order
};
std::vector<CitationMarker> find_citation_markers(std::string_view text);

// The sources an answer's markers name, each once, in order of first use; numbers that name
// no source go to `unknown` (each once) when it is not null.
std::vector<Citation> cited_sources(std::string_view answer, const std::vector<Citation>& sources,
                                    std::vector<int>* unknown = nullptr);

// A sentence of a text: byte range [begin, end) with surrounding white space trimmed.
struct SentenceSpan {
  int64_t begin = 0, end = 0;
};
// Sentence boundaries of UTF-8 text: ICU's rules with its English abbreviation exceptions
// ("Mr.", "e.g." do not end a sentence), which are harmless for other languages. A single line break inside a
// paragraph does not end a sentence (hard-wrapped text and PDF lines); a blank line, a line starting a list
// item or a markdown heading, and a line after a heading do.
std::vector<SentenceSpan> split_sentences(std::string_view text);

}  // namespace xnai::rag
