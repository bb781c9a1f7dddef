// Test-only driver for test/ref/test_chat_template.py: brickc's prompt builders on a GGUF's
// vocabulary and chat template, requests as JSON on stdin, results as JSON on stdout.
//   prompt_tool chat MODEL.gguf  < [{"messages": [{"role", "content"}...], "add_generation_prompt"}...]
//   prompt_tool fim  MODEL.gguf  < [{"prefix", "suffix", "repo"?, "files"?: [{"path", "content"}], "path"?}...]
//   prompt_tool eog  MODEL.gguf    (the EOG set and the FIM ids)
// chat and fim read a list of requests (the model is loaded once) and print a list of
// {"text", "tokens"}; the tokens of chat are encode(text, parse_special).
#include <fmt/format.h>

#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>

#include "frontend/chat/chatml.h"
#include "frontend/chat/fim.h"
#include "frontend/chat/special_tokens.h"
#include "frontend/gguf/reader.h"
#include "frontend/tokenizer/tokenizer.h"
#include "ir/error.h"

namespace {

using nlohmann::json;
using namespace brickc;

json read_stdin() {
  const std::string in{std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()};
  return json::parse(in);
}

json run(const std::string& mode, const std::string& path) {
  const auto file = gguf::File::open(path);
  auto tok = tokenizer::Tokenizer::from_gguf(*file);
  if (mode == "chat") {
    const auto tmpl = chat::ChatTemplate::from_gguf(*file, tok.vocab());
    json out = json::array();
    for (const auto& req : read_stdin()) {
      std::vector<chat::Message> messages;
      for (const auto& m : req.at("messages"))
        messages.push_back({m.at("role").get<std::string>(), m.at("content").get<std::string>()});
      const std::string text = tmpl.render(messages, req.value("add_generation_prompt", true));
      out.push_back({{"text", text}, {"tokens", tok.encode(text, true)}});
    }
    return out;
  }
  if (mode == "fim") {
    const auto ids = chat::FimTokens::from_gguf(*file, tok.vocab());
    json out = json::array();
    for (const auto& req : read_stdin()) {
      chat::FimRequest r;
      r.prefix = req.at("prefix").get<std::string>();
      r.suffix = req.at("suffix").get<std::string>();
      if (req.contains("repo")) r.repo = req.at("repo").get<std::string>();
      for (const auto& f : req.value("files", json::array()))
        r.files.push_back({f.at("path").get<std::string>(), f.at("content").get<std::string>()});
      r.path = req.value("path", std::string());
      out.push_back({{"text", chat::fim_prompt_text(r)},
                     {"tokens", chat::fim_prompt_tokens(tok, ids, r)}});
    }
    return out;
  }
  if (mode == "eog") {
    const auto ids = chat::FimTokens::from_gguf(*file, tok.vocab());
    return {{"eog", chat::eog_tokens(tok.vocab())},
            {"fim", {{"prefix", ids.prefix}, {"suffix", ids.suffix}, {"middle", ids.middle},
                     {"pad", ids.pad.value_or(-1)}, {"repo_name", ids.repo_name.value_or(-1)},
                     {"file_sep", ids.file_sep.value_or(-1)}}}};
  }
  fail("prompt_tool: unknown mode '{}': expected chat, fim or eog", mode);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    fmt::print(stderr, "usage: prompt_tool chat|fim|eog MODEL.gguf < request.json\n");
    return 2;
  }
  try {
    std::cout << run(argv[1], argv[2]).dump() << "\n";
  } catch (const std::exception& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  }
  return 0;
}
