// Chat templates: turning a conversation into the exact prompt text a chat model was trained on.
//
// xnai has no Jinja engine. Instead it recognises the family of a model's template (the GGUF key
// `tokenizer.chat_template`) by substrings that only that family uses, and formats messages with a
// hand-written formatter per family. Each formatter reproduces what the model's own Jinja template
// renders (as Hugging Face transformers renders it), with two deliberate differences:
//   * the leading BOS is never written (the tokenizer adds it); BOS tokens *inside* the history
//     (Llama 2 writes `<s>` before every later turn) are written as text and must be tokenized with
//     special-token parsing on;
//   * where a template has no place for a system message (it raises or drops it), the system text is
//     folded into a user turn instead of being lost. Each kind's comment says where it goes.
// Message contents are inserted verbatim; a content that itself contains control tokens is not
// escaped (that is the caller's policy decision).
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace xnai::text {

enum class ChatTemplateKind {
  ChatML,           // <|im_start|>role\n…<|im_end|>\n  (Qwen 2/3, Hermes, Yi …)
  Qwen25,           // ChatML; with no system message, writes Qwen2.5's default one first
  Llama2,           // Llama-2-chat: [INST] <<SYS>>\nsys\n<</SYS>>\n\nuser [/INST] answer </s><s>[INST] …
  Llama3,           // <|start_header_id|>role<|end_header_id|>\n\n…<|eot_id|> (content trimmed)
  Llama31,          // Llama 3.1–3.3: Llama 3 plus a system turn that always carries the knowledge
                    // cut-off and "Today Date: 26 Jul 2024" (the template's own fallback date)
  Mistral,          // classic [INST] form without system support (Mistral-7B-Instruct v0.1/v0.2):
                    // system folded into the first user turn as "system\nuser"
  MistralV1,        // mistralai "v1":  " [INST] sys\n\nuser [/INST] answer</s>"
  MistralV3,        // mistralai "v3" (v0.3): "[INST] user[/INST] answer</s>", system goes into the
                    // *last* user turn as "sys\n\nuser", assistant text trimmed
  MistralV3Tekken,  // mistralai "v3-tekken" (Nemo): as v3 without the spaces and without trimming
  MistralV7,        // mistralai "v7": [SYSTEM_PROMPT] sys[/SYSTEM_PROMPT][INST] user[/INST] answer</s>
  Phi3,             // <|role|>\n…<|end|>\n, generation prompt <|assistant|>\n
  Phi4,             // <|im_start|>role<|im_sep|>…<|im_end|>
  Zephyr,           // <|role|>\n…</s>\n, generation prompt <|assistant|>\n (TinyLlama-Chat, Zephyr)
  Gemma,            // <start_of_turn>user\n…<end_of_turn>\n, 'assistant' → 'model', content trimmed,
                    // system folded into the first user turn as "system\n\nuser"
  Unknown,
};

struct ChatMessage {
  std::string role;  // "system", "user", "assistant"; other roles only where the kind allows them
  std::string content;
};

// Recognises the family of a Jinja chat template. A bare template name (as accepted by
// chat_template_from_name) is also recognised. Returns Unknown when nothing matches.
ChatTemplateKind detect_chat_template(std::string_view jinja);

// Maps a user-facing name ("chatml", "llama3", "mistral-v3", …; case-insensitive) to a kind.
std::optional<ChatTemplateKind> chat_template_from_name(std::string_view name);

// The canonical name of a kind; chat_template_from_name(chat_template_name(k)) == k.
const char* chat_template_name(ChatTemplateKind kind);

// Formats a conversation. With add_assistant the text ends with the prompt for the assistant's
// next turn; families whose user turn already ends in that prompt ([INST] … [/INST]) are unaffected.
// Throws Error(InvalidArgument) for kind Unknown, and for a role other than system/user/assistant
// in a family whose template cannot express it (every family except ChatML, Qwen25, Llama3,
// Llama31, Phi3 and Phi4, which write the role name as given).
std::string apply_chat_template(ChatTemplateKind kind, const std::vector<ChatMessage>& msgs,
                                bool add_assistant = true);

// The template to use for a model: the detected family, or ChatML when the template is empty or
// unknown. In that case `warning` (if not null) receives one line naming the template (its first
// ~60 characters, escaped) and the fallback; otherwise it is cleared.
ChatTemplateKind choose_chat_template(std::string_view jinja, std::string* warning);

}  // namespace xnai::text
