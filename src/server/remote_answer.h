// RAG answers written by a remote LLM (--llm-url): the sources and question become the same
// system and user messages a local model gets (rag::build_answer_messages), sent to the
// remote chat/completions with stream: true; the deltas reach on_text as they arrive, and
// the [n] markers of the whole answer are mapped to citations as for a local answer.
#pragma once
#include <functional>
#include <string_view>
#include <vector>

#include "rag/answer.h"

namespace xnai::server {

class RemoteEngine;

// The remote tokenizer is unknown, so the prompt's budget is in bytes of the user message.
inline constexpr size_t kRemoteAnswerMaxUserChars = 12000;

// Throws ApiError: 502/504 when the remote fails, its own error (status kept) when it refuses.
rag::Answer answer_with_remote_llm(const RemoteEngine& engine, const std::string& question,
                                   const std::vector<rag::RetrievedHit>& hits, const rag::LlmAnswerOptions& opts,
                                   const std::function<bool(std::string_view)>& on_text);

}  // namespace xnai::server
