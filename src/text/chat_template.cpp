#include "text/chat_template.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <utility>

#include "core/error.h"

namespace xnai::text {
namespace {

struct NamedKind {
  const char* name;
  ChatTemplateKind kind;
};

// Canonical names first (chat_template_name returns these), then aliases.
constexpr std::array kNames = {
    NamedKind{"chatml", ChatTemplateKind::ChatML},
    NamedKind{"qwen2.5", ChatTemplateKind::Qwen25},
    NamedKind{"llama2", ChatTemplateKind::Llama2},
    NamedKind{"llama3", ChatTemplateKind::Llama3},
    NamedKind{"llama3.1", ChatTemplateKind::Llama31},
    NamedKind{"mistral", ChatTemplateKind::Mistral},
    NamedKind{"mistral-v1", ChatTemplateKind::MistralV1},
    NamedKind{"mistral-v3", ChatTemplateKind::MistralV3},
    NamedKind{"mistral-v3-tekken", ChatTemplateKind::MistralV3Tekken},
    NamedKind{"mistral-v7", ChatTemplateKind::MistralV7},
    NamedKind{"phi3", ChatTemplateKind::Phi3},
    NamedKind{"phi4", ChatTemplateKind::Phi4},
    NamedKind{"zephyr", ChatTemplateKind::Zephyr},
    NamedKind{"gemma", ChatTemplateKind::Gemma},
    NamedKind{"unknown", ChatTemplateKind::Unknown},
    // aliases
    NamedKind{"qwen", ChatTemplateKind::ChatML},
    NamedKind{"qwen2", ChatTemplateKind::ChatML},
    NamedKind{"qwen3", ChatTemplateKind::ChatML},
    NamedKind{"llama-2", ChatTemplateKind::Llama2},
    NamedKind{"llama-3", ChatTemplateKind::Llama3},
    NamedKind{"llama3.2", ChatTemplateKind::Llama31},
    NamedKind{"llama3.3", ChatTemplateKind::Llama31},
    NamedKind{"gemma2", ChatTemplateKind::Gemma},
    NamedKind{"gemma3", ChatTemplateKind::Gemma},
};

// Qwen2.5's template writes this system turn when the conversation has none.
constexpr std::string_view kQwen25DefaultSystem =
    "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.";

// What the Llama 3.1+ templates put at the top of the system turn when no date is passed in.
constexpr std::string_view kLlama31SystemPreamble =
    "Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n";

bool equals_ignore_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

// Python's str.strip() as the templates use it (`| trim`, `.strip()`), for ASCII whitespace.
std::string_view trim(std::string_view s) {
  constexpr std::string_view kSpace = " \t\n\r\f\v";
  const size_t b = s.find_first_not_of(kSpace);
  if (b == std::string_view::npos) return {};
  const size_t e = s.find_last_not_of(kSpace);
  return s.substr(b, e - b + 1);
}

enum class Role { System, User, Assistant, Other };

Role role_of(const ChatMessage& m) {
  if (m.role == "system") return Role::System;
  if (m.role == "user") return Role::User;
  if (m.role == "assistant") return Role::Assistant;
  return Role::Other;
}

// Families with a fixed set of turns accept only these three roles.
void require_standard_roles(ChatTemplateKind kind, const std::vector<ChatMessage>& msgs) {
  for (size_t i = 0; i < msgs.size(); ++i) {
    if (role_of(msgs[i]) == Role::Other) {
      throw Error(ErrorKind::InvalidArgument, "chat message " + std::to_string(i) + " has role \"" +
                                                  msgs[i].role + "\", which the " + chat_template_name(kind) +
                                                  " chat template cannot express (use system, user or "
                                                  "assistant)");
    }
  }
}

// All system messages, joined by a blank line, for families that fold them into a user turn.
std::string collect_system(const std::vector<ChatMessage>& msgs, bool trimmed) {
  std::string sys;
  for (const auto& m : msgs) {
    if (role_of(m) != Role::System) continue;
    if (!sys.empty()) sys += "\n\n";
    sys += trimmed ? trim(m.content) : std::string_view(m.content);
  }
  return sys;
}

std::string format_chatml(const std::vector<ChatMessage>& msgs, bool add_assistant, bool qwen25) {
  std::string out;
  if (qwen25 && (msgs.empty() || role_of(msgs.front()) != Role::System)) {
    out.append("<|im_start|>system\n").append(kQwen25DefaultSystem).append("<|im_end|>\n");
  }
  for (const auto& m : msgs)
    out.append("<|im_start|>").append(m.role).append("\n").append(m.content).append("<|im_end|>\n");
  if (add_assistant) out += "<|im_start|>assistant\n";
  return out;
}

std::string format_llama3(const std::vector<ChatMessage>& msgs, bool add_assistant, bool llama31) {
  std::string out;
  size_t first = 0;
  if (llama31) {
    // The 3.1+ templates always open with a system turn and take only a leading system message.
    std::string_view sys;
    if (!msgs.empty() && role_of(msgs.front()) == Role::System) {
      sys = trim(msgs.front().content);
      first = 1;
    }
    out.append("<|start_header_id|>system<|end_header_id|>\n\n")
        .append(kLlama31SystemPreamble)
        .append(sys)
        .append("<|eot_id|>");
  }
  for (size_t i = first; i < msgs.size(); ++i) {
    out.append("<|start_header_id|>")
        .append(msgs[i].role)
        .append("<|end_header_id|>\n\n")
        .append(trim(msgs[i].content))
        .append("<|eot_id|>");
  }
  if (add_assistant) out += "<|start_header_id|>assistant<|end_header_id|>\n\n";
  return out;
}

std::string format_llama2(const std::vector<ChatMessage>& msgs) {
  std::string system = collect_system(msgs, false);
  std::string out;
  for (const auto& m : msgs) {
    const Role role = role_of(m);
    if (role == Role::User) {
      std::string content;
      if (!system.empty()) {
        content = "<<SYS>>\n" + system + "\n<</SYS>>\n\n";
        system.clear();
      }
      content += m.content;
      if (!out.empty()) out += "<s>";  // BOS before every turn but the first
      out.append("[INST] ").append(trim(content)).append(" [/INST]");
    } else if (role == Role::Assistant) {
      out.append(" ").append(trim(m.content)).append(" </s>");
    }
  }
  return out;
}

// The [INST] families. `system_sep` joins the system text to the user text it is folded into.
struct InstStyle {
  const char* open;           // before the user text
  const char* close;          // after the user text
  const char* answer_prefix;  // before the assistant text
  bool trim_answer;           // assistant text trimmed
  const char* system_sep;     // between system and user text
  bool system_in_last_user;   // v3: the system text goes into the last user turn
};

std::string format_inst(const std::vector<ChatMessage>& msgs, const InstStyle& st) {
  std::string system = collect_system(msgs, false);
  size_t system_target = msgs.size();  // index of the user turn that receives the system text
  for (size_t i = 0; i < msgs.size(); ++i) {
    if (role_of(msgs[i]) != Role::User) continue;
    system_target = i;
    if (!st.system_in_last_user) break;
  }
  std::string out;
  for (size_t i = 0; i < msgs.size(); ++i) {
    const auto& m = msgs[i];
    const Role role = role_of(m);
    if (role == Role::User) {
      out += st.open;
      if (i == system_target && !system.empty()) out.append(system).append(st.system_sep);
      out.append(m.content).append(st.close);
    } else if (role == Role::Assistant) {
      out.append(st.answer_prefix)
          .append(st.trim_answer ? trim(m.content) : std::string_view(m.content))
          .append("</s>");
    }
  }
  return out;
}

std::string format_mistral_v7(const std::vector<ChatMessage>& msgs) {
  std::string out;
  for (const auto& m : msgs) {
    switch (role_of(m)) {
      case Role::System:
        out.append("[SYSTEM_PROMPT] ").append(m.content).append("[/SYSTEM_PROMPT]");
        break;
      case Role::User:
        out.append("[INST] ").append(m.content).append("[/INST]");
        break;
      case Role::Assistant:
        out.append(" ").append(m.content).append("</s>");
        break;
      case Role::Other:
        break;  // rejected before formatting
    }
  }
  return out;
}

std::string format_phi3(const std::vector<ChatMessage>& msgs, bool add_assistant) {
  std::string out;
  for (const auto& m : msgs)
    out.append("<|").append(m.role).append("|>\n").append(m.content).append("<|end|>\n");
  if (add_assistant) out += "<|assistant|>\n";
  return out;
}

std::string format_phi4(const std::vector<ChatMessage>& msgs, bool add_assistant) {
  std::string out;
  for (const auto& m : msgs) {
    out.append("<|im_start|>").append(m.role).append("<|im_sep|>").append(m.content).append("<|im_end|>");
  }
  if (add_assistant) out += "<|im_start|>assistant<|im_sep|>";
  return out;
}

std::string format_zephyr(const std::vector<ChatMessage>& msgs, bool add_assistant) {
  std::string out;
  for (const auto& m : msgs)
    out.append("<|").append(m.role).append("|>\n").append(m.content).append("</s>\n");
  if (add_assistant) out += "<|assistant|>\n";
  return out;
}

std::string format_gemma(const std::vector<ChatMessage>& msgs, bool add_assistant) {
  std::string system = collect_system(msgs, true);
  std::string out;
  for (const auto& m : msgs) {
    const Role role = role_of(m);
    if (role == Role::System) continue;
    out.append("<start_of_turn>").append(role == Role::Assistant ? "model" : "user").append("\n");
    if (role == Role::User && !system.empty()) {
      out.append(system).append("\n\n");
      system.clear();
    }
    out.append(trim(m.content)).append("<end_of_turn>\n");
  }
  if (add_assistant) out += "<start_of_turn>model\n";
  return out;
}

// One line for a log: the first ~60 bytes of the template with control characters escaped,
// never cutting a UTF-8 sequence in half.
std::string excerpt(std::string_view s) {
  constexpr size_t kMax = 60;
  size_t n = std::min(s.size(), kMax);
  while (n < s.size() && n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    const char c = s[i];
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
      out += ' ';
    } else {
      out += c;
    }
  }
  if (n < s.size()) out += "...";
  return out;
}

}  // namespace

std::optional<ChatTemplateKind> chat_template_from_name(std::string_view name) {
  for (const auto& nk : kNames) {
    if (equals_ignore_case(name, nk.name)) return nk.kind;
  }
  return std::nullopt;
}

const char* chat_template_name(ChatTemplateKind kind) {
  for (const auto& nk : kNames) {
    if (nk.kind == kind) return nk.name;
  }
  return "unknown";
}

ChatTemplateKind detect_chat_template(std::string_view jinja) {
  if (auto named = chat_template_from_name(jinja)) return *named;
  auto has = [jinja](std::string_view needle) { return jinja.find(needle) != std::string_view::npos; };

  // Order matters: several families share tokens (Phi-4 uses <|im_start|>, Llama 2 uses [INST]).
  if (has("<|im_start|>")) {
    if (has("<|im_sep|>")) return ChatTemplateKind::Phi4;
    if (has(kQwen25DefaultSystem)) return ChatTemplateKind::Qwen25;
    return ChatTemplateKind::ChatML;
  }
  if (jinja.starts_with("mistral") || has("[INST]")) {
    if (has("[SYSTEM_PROMPT]")) return ChatTemplateKind::MistralV7;
    // The official v1/v3 templates: v1 spells the system join out, v3 carries tool support.
    if (has("' [INST] ' + system_message") || has("[AVAILABLE_TOOLS]")) {
      if (has(" [INST]")) return ChatTemplateKind::MistralV1;
      if (has("\"[INST]\"")) return ChatTemplateKind::MistralV3Tekken;
      return ChatTemplateKind::MistralV3;
    }
    if (has("<<SYS>>")) return ChatTemplateKind::Llama2;
    return ChatTemplateKind::Mistral;
  }
  if (has("<|assistant|>") && has("<|end|>")) return ChatTemplateKind::Phi3;
  if (has("<|user|>") && has("<|assistant|>") && (has("eos_token") || has("</s>"))) {
    return ChatTemplateKind::Zephyr;
  }
  if (has("<start_of_turn>")) return ChatTemplateKind::Gemma;
  if (has("<|start_header_id|>") && has("<|end_header_id|>")) {
    return has("Cutting Knowledge Date") ? ChatTemplateKind::Llama31 : ChatTemplateKind::Llama3;
  }
  return ChatTemplateKind::Unknown;
}

std::string apply_chat_template(ChatTemplateKind kind, const std::vector<ChatMessage>& msgs,
                                bool add_assistant) {
  switch (kind) {
    case ChatTemplateKind::ChatML:
      return format_chatml(msgs, add_assistant, false);
    case ChatTemplateKind::Qwen25:
      return format_chatml(msgs, add_assistant, true);
    case ChatTemplateKind::Llama3:
      return format_llama3(msgs, add_assistant, false);
    case ChatTemplateKind::Llama31:
      return format_llama3(msgs, add_assistant, true);
    case ChatTemplateKind::Phi3:
      return format_phi3(msgs, add_assistant);
    case ChatTemplateKind::Phi4:
      return format_phi4(msgs, add_assistant);
    case ChatTemplateKind::Unknown:
      throw Error(ErrorKind::InvalidArgument,
                  "cannot format a conversation with an unknown chat template; pick one with "
                  "choose_chat_template or by name (e.g. \"chatml\")");
    default:
      break;
  }
  require_standard_roles(kind, msgs);
  switch (kind) {
    case ChatTemplateKind::Llama2:
      return format_llama2(msgs);
    case ChatTemplateKind::Mistral:
      return format_inst(msgs, {"[INST] ", " [/INST]", "", false, "\n", false});
    case ChatTemplateKind::MistralV1:
      return format_inst(msgs, {" [INST] ", " [/INST]", " ", false, "\n\n", false});
    case ChatTemplateKind::MistralV3:
      return format_inst(msgs, {"[INST] ", "[/INST]", " ", true, "\n\n", true});
    case ChatTemplateKind::MistralV3Tekken:
      return format_inst(msgs, {"[INST]", "[/INST]", "", false, "\n\n", true});
    case ChatTemplateKind::MistralV7:
      return format_mistral_v7(msgs);
    case ChatTemplateKind::Zephyr:
      return format_zephyr(msgs, add_assistant);
    case ChatTemplateKind::Gemma:
      return format_gemma(msgs, add_assistant);
    default:
      break;
  }
  throw Error(ErrorKind::Internal, std::string("no formatter for chat template ") + chat_template_name(kind));
}

ChatTemplateKind choose_chat_template(std::string_view jinja, std::string* warning) {
  constexpr ChatTemplateKind kFallback = ChatTemplateKind::ChatML;
  const ChatTemplateKind kind = jinja.empty() ? ChatTemplateKind::Unknown : detect_chat_template(jinja);
  if (kind != ChatTemplateKind::Unknown) {
    if (warning) warning->clear();
    return kind;
  }
  if (warning) {
    *warning = jinja.empty()
                   ? std::string("model has no chat template; using ") + chat_template_name(kFallback)
                   : "unknown chat template \"" + excerpt(jinja) + "\"; using " +
                         chat_template_name(kFallback) + " instead";
  }
  return kFallback;
}

}  // namespace xnai::text
