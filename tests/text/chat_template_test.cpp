// Chat template detection and formatting, checked against real templates.
//
// The k<Model> literals are the models' own `tokenizer.chat_template` strings (public model
// metadata, as found in their tokenizer_config.json and GGUF files and in llama.cpp's
// tests/test-chat-template.cpp and models/templates). The kExpect* literals are what those
// templates render for the conversation below, computed with Python jinja2 3.1.6 the way
// transformers' apply_chat_template renders (trim_blocks, lstrip_blocks,
// add_generation_prompt=True), with the leading BOS removed; they match the outputs llama.cpp's
// test-chat-template expects. Where a template refuses a system message (Gemma, Mistral v0.2),
// the conversation was rendered with the system text already folded into the first user turn,
// which is what xnai does for those families.
#include "text/chat_template.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "core/error.h"
#include "test_support.h"

namespace xnai::text {
namespace {

constexpr const char* kLlama2Chat =
    R"tmpl({% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\n' + system_message + '\n<</SYS>>\n\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %})tmpl";

constexpr const char* kLlama3Instruct =
    R"tmpl({% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>

'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>

' }}{% endif %})tmpl";

constexpr const char* kLlama32Instruct = R"tmpl({{- bos_token }}
{%- if custom_tools is defined %}
    {%- set tools = custom_tools %}
{%- endif %}
{%- if not tools_in_user_message is defined %}
    {%- set tools_in_user_message = true %}
{%- endif %}
{%- if not date_string is defined %}
    {%- if strftime_now is defined %}
        {%- set date_string = strftime_now("%d %b %Y") %}
    {%- else %}
        {%- set date_string = "26 Jul 2024" %}
    {%- endif %}
{%- endif %}
{%- if not tools is defined %}
    {%- set tools = none %}
{%- endif %}

{#- This block extracts the system message, so we can slot it into the right place. #}
{%- if messages[0]['role'] == 'system' %}
    {%- set system_message = messages[0]['content']|trim %}
    {%- set messages = messages[1:] %}
{%- else %}
    {%- set system_message = "" %}
{%- endif %}

{#- System message #}
{{- "<|start_header_id|>system<|end_header_id|>\n\n" }}
{%- if tools is not none %}
    {{- "Environment: ipython\n" }}
{%- endif %}
{{- "Cutting Knowledge Date: December 2023\n" }}
{{- "Today Date: " + date_string + "\n\n" }}
{%- if tools is not none and not tools_in_user_message %}
    {{- "You have access to the following functions. To call a function, please respond with JSON for a function call." }}
    {{- 'Respond in the format {"name": function name, "parameters": dictionary of argument name and its value}.' }}
    {{- "Do not use variables.\n\n" }}
    {%- for t in tools %}
        {{- t | tojson(indent=4) }}
        {{- "\n\n" }}
    {%- endfor %}
{%- endif %}
{{- system_message }}
{{- "<|eot_id|>" }}

{#- Custom tools are passed in a user message with some extra guidance #}
{%- if tools_in_user_message and not tools is none %}
    {#- Extract the first user message so we can plug it in here #}
    {%- if messages | length != 0 %}
        {%- set first_user_message = messages[0]['content']|trim %}
        {%- set messages = messages[1:] %}
    {%- else %}
        {{- raise_exception("Cannot put tools in the first user message when there's no first user message!") }}
{%- endif %}
    {{- '<|start_header_id|>user<|end_header_id|>\n\n' -}}
    {{- "Given the following functions, please respond with a JSON for a function call " }}
    {{- "with its proper arguments that best answers the given prompt.\n\n" }}
    {{- 'Respond in the format {"name": function name, "parameters": dictionary of argument name and its value}.' }}
    {{- "Do not use variables.\n\n" }}
    {%- for t in tools %}
        {{- t | tojson(indent=4) }}
        {{- "\n\n" }}
    {%- endfor %}
    {{- first_user_message + "<|eot_id|>"}}
{%- endif %}

{%- for message in messages %}
    {%- if not (message.role == 'ipython' or message.role == 'tool' or 'tool_calls' in message) %}
        {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' }}
    {%- elif 'tool_calls' in message %}
        {%- if not message.tool_calls|length == 1 %}
            {{- raise_exception("This model only supports single tool-calls at once!") }}
        {%- endif %}
        {%- set tool_call = message.tool_calls[0].function %}
        {{- '<|start_header_id|>assistant<|end_header_id|>\n\n' -}}
        {{- '{"name": "' + tool_call.name + '", ' }}
        {{- '"parameters": ' }}
        {{- tool_call.arguments | tojson }}
        {{- "}" }}
        {{- "<|eot_id|>" }}
    {%- elif message.role == "tool" or message.role == "ipython" %}
        {{- "<|start_header_id|>ipython<|end_header_id|>\n\n" }}
        {%- if message.content is mapping or message.content is iterable %}
            {{- message.content | tojson }}
        {%- else %}
            {{- message.content }}
        {%- endif %}
        {{- "<|eot_id|>" }}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|start_header_id|>assistant<|end_header_id|>\n\n' }}
{%- endif %}
)tmpl";

constexpr const char* kQwen25Instruct = R"tmpl({%- if tools %}
    {{- '<|im_start|>system\n' }}
    {%- if messages[0]['role'] == 'system' %}
        {{- messages[0]['content'] }}
    {%- else %}
        {{- 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.' }}
    {%- endif %}
    {{- "\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>" }}
    {%- for tool in tools %}
        {{- "\n" }}
        {{- tool | tojson }}
    {%- endfor %}
    {{- "\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{{\"name\": <function-name>, \"arguments\": <args-json-object>}}\n</tool_call><|im_end|>\n" }}
{%- else %}
    {%- if messages[0]['role'] == 'system' %}
        {{- '<|im_start|>system\n' + messages[0]['content'] + '<|im_end|>\n' }}
    {%- else %}
        {{- '<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n' }}
    {%- endif %}
{%- endif %}
{%- for message in messages %}
    {%- if (message.role == "user") or (message.role == "system" and not loop.first) or (message.role == "assistant" and not message.tool_calls) %}
        {{- '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>' + '\n' }}
    {%- elif message.role == "assistant" %}
        {{- '<|im_start|>' + message.role }}
        {%- if message.content %}
            {{- '\n' + message.content }}
        {%- endif %}
        {%- for tool_call in message.tool_calls %}
            {%- if tool_call.function is defined %}
                {%- set tool_call = tool_call.function %}
            {%- endif %}
            {{- '\n<tool_call>\n{"name": "' }}
            {{- tool_call.name }}
            {{- '", "arguments": ' }}
            {{- tool_call.arguments | tojson }}
            {{- '}\n</tool_call>' }}
        {%- endfor %}
        {{- '<|im_end|>\n' }}
    {%- elif message.role == "tool" %}
        {%- if (loop.index0 == 0) or (messages[loop.index0 - 1].role != "tool") %}
            {{- '<|im_start|>user' }}
        {%- endif %}
        {{- '\n<tool_response>\n' }}
        {{- message.content }}
        {{- '\n</tool_response>' }}
        {%- if loop.last or (messages[loop.index0 + 1].role != "tool") %}
            {{- '<|im_end|>\n' }}
        {%- endif %}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\n' }}
{%- endif %}
)tmpl";

constexpr const char* kMistral7bV02 =
    R"tmpl({{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %})tmpl";

constexpr const char* kMistralV1 = R"tmpl({%- if messages[0]['role'] == 'system' %}
    {%- set system_message = messages[0]['content'] %}
    {%- set loop_messages = messages[1:] %}
{%- else %}
    {%- set loop_messages = messages %}
{%- endif %}

{{- bos_token }}
{%- for message in loop_messages %}
    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}
        {{- raise_exception('After the optional system message, conversation roles must alternate user/assistant/user/assistant/...') }}
    {%- endif %}
    {%- if message['role'] == 'user' %}
        {%- if loop.first and system_message is defined %}
            {{- ' [INST] ' + system_message + '\n\n' + message['content'] + ' [/INST]' }}
        {%- else %}
            {{- ' [INST] ' + message['content'] + ' [/INST]' }}
        {%- endif %}
    {%- elif message['role'] == 'assistant' %}
        {{- ' ' + message['content'] + eos_token}}
    {%- else %}
        {{- raise_exception('Only user and assistant roles are supported, with the exception of an initial optional system message!') }}
    {%- endif %}
{%- endfor %}
)tmpl";

constexpr const char* kMistralV3 = R"tmpl({%- if messages[0]["role"] == "system" %}
    {%- set system_message = messages[0]["content"] %}
    {%- set loop_messages = messages[1:] %}
{%- else %}
    {%- set loop_messages = messages %}
{%- endif %}
{%- if not tools is defined %}
    {%- set tools = none %}
{%- endif %}
{%- set user_messages = loop_messages | selectattr("role", "equalto", "user") | list %}

{#- This block checks for alternating user/assistant messages, skipping tool calling messages #}
{%- set ns = namespace() %}
{%- set ns.index = 0 %}
{%- for message in loop_messages %}
    {%- if not (message.role == "tool" or message.role == "tool_results" or (message.tool_calls is defined and message.tool_calls is not none)) %}
        {%- if (message["role"] == "user") != (ns.index % 2 == 0) %}
            {{- raise_exception("After the optional system message, conversation roles must alternate user/assistant/user/assistant/...") }}
        {%- endif %}
        {%- set ns.index = ns.index + 1 %}
    {%- endif %}
{%- endfor %}

{{- bos_token }}
{%- for message in loop_messages %}
    {%- if message["role"] == "user" %}
        {%- if tools is not none and (message == user_messages[-1]) %}
            {{- "[AVAILABLE_TOOLS] [" }}
            {%- for tool in tools %}
                {%- set tool = tool.function %}
                {{- '{"type": "function", "function": {' }}
                {%- for key, val in tool.items() if key != "return" %}
                    {%- if val is string %}
                        {{- '"' + key + '": "' + val + '"' }}
                    {%- else %}
                        {{- '"' + key + '": ' + val|tojson }}
                    {%- endif %}
                    {%- if not loop.last %}
                        {{- ", " }}
                    {%- endif %}
                {%- endfor %}
                {{- "}}" }}
                {%- if not loop.last %}
                    {{- ", " }}
                {%- else %}
                    {{- "]" }}
                {%- endif %}
            {%- endfor %}
            {{- "[/AVAILABLE_TOOLS]" }}
            {%- endif %}
        {%- if loop.last and system_message is defined %}
            {{- "[INST] " + system_message + "\n\n" + message["content"] + "[/INST]" }}
        {%- else %}
            {{- "[INST] " + message["content"] + "[/INST]" }}
        {%- endif %}
    {%- elif message.tool_calls is defined and message.tool_calls is not none %}
        {{- "[TOOL_CALLS] [" }}
        {%- for tool_call in message.tool_calls %}
            {%- set out = tool_call.function|tojson %}
            {{- out[:-1] }}
            {%- if not tool_call.id is defined or tool_call.id|length != 9 %}
                {{- raise_exception("Tool call IDs should be alphanumeric strings with length 9!") }}
            {%- endif %}
            {{- ', "id": "' + tool_call.id + '"}' }}
            {%- if not loop.last %}
                {{- ", " }}
            {%- else %}
                {{- "]" + eos_token }}
            {%- endif %}
        {%- endfor %}
    {%- elif message["role"] == "assistant" %}
        {{- " " + message["content"]|trim + eos_token}}
    {%- elif message["role"] == "tool_results" or message["role"] == "tool" %}
        {%- if message.content is defined and message.content.content is defined %}
            {%- set content = message.content.content %}
        {%- else %}
            {%- set content = message.content %}
        {%- endif %}
        {{- '[TOOL_RESULTS] {"content": ' + content|string + ", " }}
        {%- if not message.tool_call_id is defined or message.tool_call_id|length != 9 %}
            {{- raise_exception("Tool call IDs should be alphanumeric strings with length 9!") }}
        {%- endif %}
        {{- '"call_id": "' + message.tool_call_id + '"}[/TOOL_RESULTS]' }}
    {%- else %}
        {{- raise_exception("Only user and assistant roles are supported, with the exception of an initial optional system message!") }}
    {%- endif %}
{%- endfor %}
)tmpl";

constexpr const char* kMistralV7 =
    R"tmpl({{ bos_token }}{% for message in messages %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + '[/INST]' }}{% elif message['role'] == 'system' %}{{ '[SYSTEM_PROMPT] ' + message['content'] + '[/SYSTEM_PROMPT]' }}{% elif message['role'] == 'assistant' %}{{ ' ' + message['content'] + eos_token }}{% else %}{{ raise_exception('Only user, system and assistant roles are supported!') }}{% endif %}{% endfor %})tmpl";

constexpr const char* kPhi3MiniSystem =
    R"tmpl({% for message in messages %}{% if message['role'] == 'system' %}{{'<|system|>
' + message['content'] + '<|end|>
'}}{% elif message['role'] == 'user' %}{{'<|user|>
' + message['content'] + '<|end|>
'}}{% elif message['role'] == 'assistant' %}{{'<|assistant|>
' + message['content'] + '<|end|>
'}}{% endif %}{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>
' }}{% else %}{{ eos_token }}{% endif %})tmpl";

constexpr const char* kPhi3MiniOriginal =
    R"tmpl({{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') %}{{'<|user|>' + '
' + message['content'] + '<|end|>' + '
' + '<|assistant|>' + '
'}}{% elif (message['role'] == 'assistant') %}{{message['content'] + '<|end|>' + '
'}}{% endif %}{% endfor %})tmpl";

constexpr const char* kGemma2It =
    R"tmpl({{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if (message['role'] == 'assistant') %}{% set role = 'model' %}{% else %}{% set role = message['role'] %}{% endif %}{{ '<start_of_turn>' + role + '
' + message['content'] | trim + '<end_of_turn>
' }}{% endfor %}{% if add_generation_prompt %}{{'<start_of_turn>model
'}}{% endif %})tmpl";

constexpr const char* kPhi4 =
    R"tmpl({% for message in messages %}{% if (message['role'] == 'system') %}{{'<|im_start|>system<|im_sep|>' + message['content'] + '<|im_end|>'}}{% elif (message['role'] == 'user') %}{{'<|im_start|>user<|im_sep|>' + message['content'] + '<|im_end|><|im_start|>assistant<|im_sep|>'}}{% elif (message['role'] == 'assistant') %}{{message['content'] + '<|im_end|>'}}{% endif %}{% endfor %})tmpl";

constexpr const char* kMistralNemo = R"tmpl({%- if messages[0]["role"] == "system" %}
    {%- set system_message = messages[0]["content"] %}
    {%- set loop_messages = messages[1:] %}
{%- else %}
    {%- set loop_messages = messages %}
{%- endif %}
{%- if not tools is defined %}
    {%- set tools = none %}
{%- endif %}
{%- set user_messages = loop_messages | selectattr("role", "equalto", "user") | list %}

{#- This block checks for alternating user/assistant messages, skipping tool calling messages #}
{%- set ns = namespace() %}
{%- set ns.index = 0 %}
{%- for message in loop_messages %}
    {%- if not (message.role == "tool" or message.role == "tool_results" or (message.tool_calls is defined and message.tool_calls is not none)) %}
        {%- if (message["role"] == "user") != (ns.index % 2 == 0) %}
            {{- raise_exception("After the optional system message, conversation roles must alternate user/assistant/user/assistant/...") }}
        {%- endif %}
        {%- set ns.index = ns.index + 1 %}
    {%- endif %}
{%- endfor %}

{{- bos_token }}
{%- for message in loop_messages %}
    {%- if message["role"] == "user" %}
        {%- if tools is not none and (message == user_messages[-1]) %}
            {{- "[AVAILABLE_TOOLS][" }}
            {%- for tool in tools %}
                {%- set tool = tool.function %}
                {{- '{"type": "function", "function": {' }}
                {%- for key, val in tool.items() if key != "return" %}
                    {%- if val is string %}
                        {{- '"' + key + '": "' + val + '"' }}
                    {%- else %}
                        {{- '"' + key + '": ' + val|tojson }}
                    {%- endif %}
                    {%- if not loop.last %}
                        {{- ", " }}
                    {%- endif %}
                {%- endfor %}
                {{- "}}" }}
                {%- if not loop.last %}
                    {{- ", " }}
                {%- else %}
                    {{- "]" }}
                {%- endif %}
            {%- endfor %}
            {{- "[/AVAILABLE_TOOLS]" }}
            {%- endif %}
        {%- if loop.last and system_message is defined %}
            {{- "[INST]" + system_message + "\n\n" + message["content"] + "[/INST]" }}
        {%- else %}
            {{- "[INST]" + message["content"] + "[/INST]" }}
        {%- endif %}
    {%- elif (message.tool_calls is defined and message.tool_calls is not none) %}
        {{- "[TOOL_CALLS][" }}
        {%- for tool_call in message.tool_calls %}
            {%- set out = tool_call.function|tojson %}
            {{- out[:-1] }}
            {%- if not tool_call.id is defined or tool_call.id|length != 9 %}
                {{- raise_exception("Tool call IDs should be alphanumeric strings with length 9!") }}
            {%- endif %}
            {{- ', "id": "' + tool_call.id + '"}' }}
            {%- if not loop.last %}
                {{- ", " }}
            {%- else %}
                {{- "]" + eos_token }}
            {%- endif %}
        {%- endfor %}
    {%- elif message["role"] == "assistant" %}
        {{- message["content"] + eos_token}}
    {%- elif message["role"] == "tool_results" or message["role"] == "tool" %}
        {%- if message.content is defined and message.content.content is defined %}
            {%- set content = message.content.content %}
        {%- else %}
            {%- set content = message.content %}
        {%- endif %}
        {{- '[TOOL_RESULTS]{"content": ' + content|string + ", " }}
        {%- if not message.tool_call_id is defined or message.tool_call_id|length != 9 %}
            {{- raise_exception("Tool call IDs should be alphanumeric strings with length 9!") }}
        {%- endif %}
        {{- '"call_id": "' + message.tool_call_id + '"}[/TOOL_RESULTS]' }}
    {%- else %}
        {{- raise_exception("Only user and assistant roles are supported, with the exception of an initial optional system message!") }}
    {%- endif %}
{%- endfor %}
)tmpl";

constexpr const char* kTinyLlamaChat = R"tmpl({% for message in messages %}
{% if message['role'] == 'user' %}
{{ '<|user|>
' + message['content'] + eos_token }}
{% elif message['role'] == 'system' %}
{{ '<|system|>
' + message['content'] + eos_token }}
{% elif message['role'] == 'assistant' %}
{{ '<|assistant|>
'  + message['content'] + eos_token }}
{% endif %}
{% if loop.last and add_generation_prompt %}
{{ '<|assistant|>' }}
{% endif %}
{% endfor %})tmpl";

constexpr const char* kExpectLlama2 =
    "[INST] <<SYS>>\n"
    "You are a helpful assistant\n"
    "<</SYS>>\n"
    "\n"
    "Hello [/INST] Hi there </s><s>[INST] Who are you [/INST] I am an assistant </s><s>[INST] Another "
    "question [/INST]";

constexpr const char* kExpectLlama3 =
    "<|start_header_id|>system<|end_header_id|>\n"
    "\n"
    "You are a helpful assistant<|eot_id|><|start_header_id|>user<|end_header_id|>\n"
    "\n"
    "Hello<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n"
    "\n"
    "Hi there<|eot_id|><|start_header_id|>user<|end_header_id|>\n"
    "\n"
    "Who are you<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n"
    "\n"
    "I am an assistant<|eot_id|><|start_header_id|>user<|end_header_id|>\n"
    "\n"
    "Another question<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n"
    "\n";

constexpr const char* kExpectQwen25 =
    "<|im_start|>system\n"
    "You are a helpful assistant<|im_end|>\n"
    "<|im_start|>user\n"
    "Hello<|im_end|>\n"
    "<|im_start|>assistant\n"
    "Hi there<|im_end|>\n"
    "<|im_start|>user\n"
    "Who are you<|im_end|>\n"
    "<|im_start|>assistant\n"
    "   I am an assistant   <|im_end|>\n"
    "<|im_start|>user\n"
    "Another question<|im_end|>\n"
    "<|im_start|>assistant\n";

constexpr const char* kExpectQwen25Nosys =
    "<|im_start|>system\n"
    "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n"
    "<|im_start|>user\n"
    "Hello<|im_end|>\n"
    "<|im_start|>assistant\n"
    "Hi there<|im_end|>\n"
    "<|im_start|>user\n"
    "Who are you<|im_end|>\n"
    "<|im_start|>assistant\n"
    "   I am an assistant   <|im_end|>\n"
    "<|im_start|>user\n"
    "Another question<|im_end|>\n"
    "<|im_start|>assistant\n";

constexpr const char* kExpectMistralV02Folded =
    "[INST] You are a helpful assistant\n"
    "Hello [/INST]Hi there</s>[INST] Who are you [/INST]   I am an assistant   </s>[INST] Another question "
    "[/INST]";

constexpr const char* kExpectMistralV1 =
    " [INST] You are a helpful assistant\n"
    "\n"
    "Hello [/INST] Hi there</s> [INST] Who are you [/INST]    I am an assistant   </s> [INST] Another "
    "question [/INST]";

constexpr const char* kExpectMistralV3 =
    "[INST] Hello[/INST] Hi there</s>[INST] Who are you[/INST] I am an assistant</s>[INST] You are a helpful "
    "assistant\n"
    "\n"
    "Another question[/INST]";

constexpr const char* kExpectMistralV7 =
    "[SYSTEM_PROMPT] You are a helpful assistant[/SYSTEM_PROMPT][INST] Hello[/INST] Hi there</s>[INST] Who "
    "are you[/INST]    I am an assistant   </s>[INST] Another question[/INST]";

constexpr const char* kExpectPhi3 =
    "<|system|>\n"
    "You are a helpful assistant<|end|>\n"
    "<|user|>\n"
    "Hello<|end|>\n"
    "<|assistant|>\n"
    "Hi there<|end|>\n"
    "<|user|>\n"
    "Who are you<|end|>\n"
    "<|assistant|>\n"
    "   I am an assistant   <|end|>\n"
    "<|user|>\n"
    "Another question<|end|>\n"
    "<|assistant|>\n";

constexpr const char* kExpectGemma2Folded =
    "<start_of_turn>user\n"
    "You are a helpful assistant\n"
    "\n"
    "Hello<end_of_turn>\n"
    "<start_of_turn>model\n"
    "Hi there<end_of_turn>\n"
    "<start_of_turn>user\n"
    "Who are you<end_of_turn>\n"
    "<start_of_turn>model\n"
    "I am an assistant<end_of_turn>\n"
    "<start_of_turn>user\n"
    "Another question<end_of_turn>\n"
    "<start_of_turn>model\n";

constexpr const char* kExpectPhi4 =
    "<|im_start|>system<|im_sep|>You are a helpful "
    "assistant<|im_end|><|im_start|>user<|im_sep|>Hello<|im_end|><|im_start|>assistant<|im_sep|>Hi "
    "there<|im_end|><|im_start|>user<|im_sep|>Who are you<|im_end|><|im_start|>assistant<|im_sep|>   I am an "
    "assistant   <|im_end|><|im_start|>user<|im_sep|>Another "
    "question<|im_end|><|im_start|>assistant<|im_sep|>";

constexpr const char* kExpectLlama3Noass =
    "<|start_header_id|>system<|end_header_id|>\n"
    "\n"
    "You are a helpful assistant<|eot_id|><|start_header_id|>user<|end_header_id|>\n"
    "\n"
    "Hello<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n"
    "\n"
    "Hi there<|eot_id|><|start_header_id|>user<|end_header_id|>\n"
    "\n"
    "Who are you<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n"
    "\n"
    "I am an assistant<|eot_id|>";

constexpr const char* kExpectLlama32 =
    "<|start_header_id|>system<|end_header_id|>\n"
    "\n"
    "Cutting Knowledge Date: December 2023\n"
    "Today Date: 26 Jul 2024\n"
    "\n"
    "You are a helpful assistant<|eot_id|><|start_header_id|>user<|end_header_id|>\n"
    "\n"
    "Hello<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n"
    "\n"
    "Hi there<|eot_id|><|start_header_id|>user<|end_header_id|>\n"
    "\n"
    "Who are you<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n"
    "\n"
    "I am an assistant<|eot_id|><|start_header_id|>user<|end_header_id|>\n"
    "\n"
    "Another question<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n"
    "\n";

constexpr const char* kExpectLlama32Nosys =
    "<|start_header_id|>system<|end_header_id|>\n"
    "\n"
    "Cutting Knowledge Date: December 2023\n"
    "Today Date: 26 Jul 2024\n"
    "\n"
    "<|eot_id|><|start_header_id|>user<|end_header_id|>\n"
    "\n"
    "Hello<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n"
    "\n"
    "Hi there<|eot_id|><|start_header_id|>user<|end_header_id|>\n"
    "\n"
    "Who are you<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n"
    "\n"
    "I am an assistant<|eot_id|><|start_header_id|>user<|end_header_id|>\n"
    "\n"
    "Another question<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n"
    "\n";

constexpr const char* kExpectMistralNemo =
    "[INST]Hello[/INST]Hi there</s>[INST]Who are you[/INST]   I am an assistant   </s>[INST]You are a "
    "helpful assistant\n"
    "\n"
    "Another question[/INST]";

constexpr const char* kExpectLlama2Nosys =
    "[INST] Hello [/INST] Hi there </s><s>[INST] Who are you [/INST] I am an assistant </s><s>[INST] Another "
    "question [/INST]";

constexpr const char* kExpectGemma2Nosys =
    "<start_of_turn>user\n"
    "Hello<end_of_turn>\n"
    "<start_of_turn>model\n"
    "Hi there<end_of_turn>\n"
    "<start_of_turn>user\n"
    "Who are you<end_of_turn>\n"
    "<start_of_turn>model\n"
    "I am an assistant<end_of_turn>\n"
    "<start_of_turn>user\n"
    "Another question<end_of_turn>\n"
    "<start_of_turn>model\n";

constexpr const char* kExpectMistralV3Nosys =
    "[INST] Hello[/INST] Hi there</s>[INST] Who are you[/INST] I am an assistant</s>[INST] Another "
    "question[/INST]";

constexpr const char* kExpectZephyr =
    "<|system|>\n"
    "You are a helpful assistant</s>\n"
    "<|user|>\n"
    "Hello</s>\n"
    "<|assistant|>\n"
    "Hi there</s>\n"
    "<|user|>\n"
    "Who are you</s>\n"
    "<|assistant|>\n"
    "   I am an assistant   </s>\n"
    "<|user|>\n"
    "Another question</s>\n"
    "<|assistant|>\n";

constexpr const char* kExpectZephyrNoass =
    "<|system|>\n"
    "You are a helpful assistant</s>\n"
    "<|user|>\n"
    "Hello</s>\n"
    "<|assistant|>\n"
    "Hi there</s>\n"
    "<|user|>\n"
    "Who are you</s>\n"
    "<|assistant|>\n"
    "   I am an assistant   </s>\n";

// Mistral-Nemo's v3-tekken output, from llama.cpp's test-chat-template expectations (Jinja path).
constexpr const char* kExpectMistralNemoLlamaCpp =
    "[INST]Hello[/INST]Hi there</s>[INST]Who are you[/INST]   I am an assistant   </s>[INST]You are a "
    "helpful assistant\n\nAnother question[/INST]";

// The conversation used throughout llama.cpp's chat template tests.
std::vector<ChatMessage> conversation() {
  return {
      {"system", "You are a helpful assistant"},
      {"user", "Hello"},
      {"assistant", "Hi there"},
      {"user", "Who are you"},
      {"assistant", "   I am an assistant   "},
      {"user", "Another question"},
  };
}

std::vector<ChatMessage> without_system() {
  auto msgs = conversation();
  msgs.erase(msgs.begin());
  return msgs;
}

struct RealTemplate {
  const char* model;
  const char* jinja;
  ChatTemplateKind kind;
  const char* expected;  // rendering of conversation()
};

const std::vector<RealTemplate>& real_templates() {
  static const std::vector<RealTemplate> all = {
      {"Llama-2-7b-chat", kLlama2Chat, ChatTemplateKind::Llama2, kExpectLlama2},
      {"Meta-Llama-3-8B-Instruct", kLlama3Instruct, ChatTemplateKind::Llama3, kExpectLlama3},
      {"Llama-3.2-3B-Instruct", kLlama32Instruct, ChatTemplateKind::Llama31, kExpectLlama32},
      {"Qwen2.5-0.5B-Instruct", kQwen25Instruct, ChatTemplateKind::Qwen25, kExpectQwen25},
      {"Mistral-7B-Instruct-v0.2 (original)", kMistral7bV02, ChatTemplateKind::Mistral,
       kExpectMistralV02Folded},
      {"Mistral-7B-Instruct-v0.2 (v1)", kMistralV1, ChatTemplateKind::MistralV1, kExpectMistralV1},
      {"Mistral-7B-Instruct-v0.3 (v3)", kMistralV3, ChatTemplateKind::MistralV3, kExpectMistralV3},
      {"Mistral-Nemo-Instruct-2407 (v3-tekken)", kMistralNemo, ChatTemplateKind::MistralV3Tekken,
       kExpectMistralNemo},
      {"Mistral-Large-Instruct-2411 (v7)", kMistralV7, ChatTemplateKind::MistralV7, kExpectMistralV7},
      {"Phi-3-mini-4k-instruct (with system)", kPhi3MiniSystem, ChatTemplateKind::Phi3, kExpectPhi3},
      // The original Phi-3 template drops system messages; xnai keeps them as <|system|> turns, as
      // the later revision of the same model does.
      {"Phi-3-mini-4k-instruct (original)", kPhi3MiniOriginal, ChatTemplateKind::Phi3, kExpectPhi3},
      {"gemma-2-2b-it", kGemma2It, ChatTemplateKind::Gemma, kExpectGemma2Folded},
      {"phi-4", kPhi4, ChatTemplateKind::Phi4, kExpectPhi4},
      {"TinyLlama-1.1B-Chat-v1.0 (zephyr)", kTinyLlamaChat, ChatTemplateKind::Zephyr, kExpectZephyr},
  };
  return all;
}

TEST(ChatTemplate, DetectsRealTemplates) {
  for (const auto& t : real_templates()) {
    EXPECT_EQ(detect_chat_template(t.jinja), t.kind)
        << t.model << " detected as " << chat_template_name(detect_chat_template(t.jinja));
  }
}

TEST(ChatTemplate, FormatsLikeTheModelsOwnTemplate) {
  for (const auto& t : real_templates()) {
    EXPECT_EQ(apply_chat_template(detect_chat_template(t.jinja), conversation()), t.expected) << t.model;
  }
}

TEST(ChatTemplate, MistralNemoMatchesLlamaCppExpectation) {
  EXPECT_EQ(std::string(kExpectMistralNemo), kExpectMistralNemoLlamaCpp);
  EXPECT_EQ(apply_chat_template(ChatTemplateKind::MistralV3Tekken, conversation()),
            kExpectMistralNemoLlamaCpp);
}

TEST(ChatTemplate, ConversationWithoutSystemMessage) {
  EXPECT_EQ(apply_chat_template(ChatTemplateKind::Llama2, without_system()), kExpectLlama2Nosys);
  EXPECT_EQ(apply_chat_template(ChatTemplateKind::Gemma, without_system()), kExpectGemma2Nosys);
  EXPECT_EQ(apply_chat_template(ChatTemplateKind::MistralV3, without_system()), kExpectMistralV3Nosys);
  // Qwen2.5 and Llama 3.1+ write a system turn of their own when there is none.
  EXPECT_EQ(apply_chat_template(ChatTemplateKind::Qwen25, without_system()), kExpectQwen25Nosys);
  EXPECT_EQ(apply_chat_template(ChatTemplateKind::Llama31, without_system()), kExpectLlama32Nosys);
}

TEST(ChatTemplate, WithoutAssistantPrompt) {
  auto msgs = conversation();
  msgs.pop_back();  // ends with the assistant's answer
  EXPECT_EQ(apply_chat_template(ChatTemplateKind::Llama3, msgs, /*add_assistant=*/false), kExpectLlama3Noass);
  EXPECT_EQ(apply_chat_template(ChatTemplateKind::Zephyr, msgs, false), kExpectZephyrNoass);
  const std::string chatml = apply_chat_template(ChatTemplateKind::ChatML, msgs, false);
  EXPECT_TRUE(chatml.ends_with("<|im_start|>assistant\n   I am an assistant   <|im_end|>\n")) << chatml;
  EXPECT_TRUE(apply_chat_template(ChatTemplateKind::ChatML, msgs, true).ends_with("<|im_start|>assistant\n"));
}

// Reads the string value of `key` from a GGUF file without a full parser: the key is stored once,
// as u64 length + bytes, followed by the u32 value type (8 = string), u64 length and the bytes.
std::string gguf_string_value(const std::filesystem::path& path, const std::string& key) {
  std::ifstream in(path, std::ios::binary);
  const std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t at = data.find(key);
  if (at == std::string::npos || at + key.size() + 12 > data.size()) return {};
  const char* p = data.data() + at + key.size();
  uint32_t type = 0;
  uint64_t len = 0;
  std::memcpy(&type, p, 4);
  std::memcpy(&len, p + 4, 8);
  if (type != 8 || at + key.size() + 12 + len > data.size()) return {};
  return std::string(p + 12, len);
}

TEST(ChatTemplate, Phi3TemplateFromConformanceGguf) {
  XNAI_SKIP_IF_MISSING(path, "vocab/ggml-vocab-phi-3.gguf");
  const std::string jinja = gguf_string_value(path, "tokenizer.chat_template");
  ASSERT_FALSE(jinja.empty()) << "no tokenizer.chat_template in " << path;
  EXPECT_EQ(jinja, kPhi3MiniOriginal);
  std::string warning = "stale";
  EXPECT_EQ(choose_chat_template(jinja, &warning), ChatTemplateKind::Phi3);
  EXPECT_TRUE(warning.empty());
}

TEST(ChatTemplate, NamesRoundTrip) {
  for (auto kind : {ChatTemplateKind::ChatML, ChatTemplateKind::Qwen25, ChatTemplateKind::Llama2,
                    ChatTemplateKind::Llama3, ChatTemplateKind::Llama31, ChatTemplateKind::Mistral,
                    ChatTemplateKind::MistralV1, ChatTemplateKind::MistralV3,
                    ChatTemplateKind::MistralV3Tekken, ChatTemplateKind::MistralV7, ChatTemplateKind::Phi3,
                    ChatTemplateKind::Phi4, ChatTemplateKind::Gemma, ChatTemplateKind::Unknown}) {
    const auto back = chat_template_from_name(chat_template_name(kind));
    ASSERT_TRUE(back.has_value()) << chat_template_name(kind);
    EXPECT_EQ(*back, kind) << chat_template_name(kind);
    EXPECT_EQ(detect_chat_template(chat_template_name(kind)), kind);
  }
  EXPECT_EQ(chat_template_from_name("ChatML"), ChatTemplateKind::ChatML);
  EXPECT_EQ(chat_template_from_name("LLAMA3"), ChatTemplateKind::Llama3);
  EXPECT_EQ(chat_template_from_name("gemma2"), ChatTemplateKind::Gemma);
  EXPECT_FALSE(chat_template_from_name("vicuna").has_value());
  EXPECT_FALSE(chat_template_from_name("").has_value());
}

TEST(ChatTemplate, ChoosesChatmlForUnknownTemplateWithOneLineWarning) {
  const std::string jinja =
      "{% for message in messages %}\n{{ 'USER: ' + message['content'] }}\n{% endfor %}"
      "{% if add_generation_prompt %}ASSISTANT:{% endif %}";
  std::string warning;
  EXPECT_EQ(detect_chat_template(jinja), ChatTemplateKind::Unknown);
  EXPECT_EQ(choose_chat_template(jinja, &warning), ChatTemplateKind::ChatML);
  EXPECT_NE(warning.find("{% for message in messages %}\\n{{ 'USER: '"), std::string::npos) << warning;
  EXPECT_EQ(warning.find(jinja.substr(0, 80)), std::string::npos) << "excerpt too long: " << warning;
  EXPECT_NE(warning.find("chatml"), std::string::npos) << warning;
  EXPECT_EQ(warning.find('\n'), std::string::npos) << warning;

  EXPECT_EQ(choose_chat_template("", &warning), ChatTemplateKind::ChatML);
  EXPECT_NE(warning.find("no chat template"), std::string::npos) << warning;
  EXPECT_EQ(choose_chat_template("", nullptr), ChatTemplateKind::ChatML);

  EXPECT_EQ(choose_chat_template(kGemma2It, &warning), ChatTemplateKind::Gemma);
  EXPECT_TRUE(warning.empty()) << warning;
}

TEST(ChatTemplate, WarningExcerptKeepsUtf8Whole) {
  // 59 ASCII bytes, then a 3-byte character straddling the 60-byte limit.
  const std::string jinja = std::string(59, 'x') + "\xE4\xBD\xA0" + "tail";
  std::string warning;
  choose_chat_template(jinja, &warning);
  EXPECT_NE(warning.find(std::string(59, 'x') + "..."), std::string::npos) << warning;
  EXPECT_EQ(warning.find('\xE4'), std::string::npos) << warning;
}

TEST(ChatTemplate, RolesOutsideTheTemplateAreRejectedByName) {
  std::vector<ChatMessage> msgs = {{"user", "hi"}, {"tool", "{\"temp\": 3}"}};
  try {
    apply_chat_template(ChatTemplateKind::Gemma, msgs);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::InvalidArgument);
    EXPECT_NE(std::string(e.what()).find("\"tool\""), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("gemma"), std::string::npos) << e.what();
  }
  // Families that write the role name take any role.
  EXPECT_EQ(apply_chat_template(ChatTemplateKind::ChatML, msgs, false),
            "<|im_start|>user\nhi<|im_end|>\n<|im_start|>tool\n{\"temp\": 3}<|im_end|>\n");
}

TEST(ChatTemplate, UnknownKindCannotFormat) {
  try {
    apply_chat_template(ChatTemplateKind::Unknown, conversation());
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::InvalidArgument);
  }
}

TEST(ChatTemplate, EmptyConversation) {
  EXPECT_EQ(apply_chat_template(ChatTemplateKind::ChatML, {}), "<|im_start|>assistant\n");
  EXPECT_EQ(apply_chat_template(ChatTemplateKind::Llama2, {}), "");
  EXPECT_EQ(apply_chat_template(ChatTemplateKind::Gemma, {}), "<start_of_turn>model\n");
}

}  // namespace
}  // namespace xnai::text
