#include "frontend/synth/vocab.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "ir/error.h"

namespace brickc::synth {
namespace {

std::string utf8(uint32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s += static_cast<char>(cp);
  } else if (cp < 0x800) {
    s += static_cast<char>(0xC0 | (cp >> 6));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    s += static_cast<char>(0xE0 | (cp >> 12));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return s;
}

// GPT-2 keeps the printable Latin-1 bytes as themselves and moves the other 68 bytes
// to U+0100 upward, in byte order.
bool printable_byte(int b) {
  return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
}

// The real vocabulary numbers the byte symbols printable bytes first, then the rest
// (ids 0..255 of Qwen2.5: '!' is 0, 'Ā' (byte 0) is 188); the generated one does too.
std::vector<int> byte_id_order() {
  std::vector<int> order;
  for (int b = 0; b < 256; ++b)
    if (printable_byte(b)) order.push_back(b);
  for (int b = 0; b < 256; ++b)
    if (!printable_byte(b)) order.push_back(b);
  return order;
}

bool looks_like_control(std::string_view t) {
  return t.size() >= 4 && t.substr(0, 2) == "<|" && t.substr(t.size() - 2) == "|>";
}

void find_specials(Vocab& v, std::string_view source) {
  std::unordered_map<std::string_view, int32_t> id;
  for (size_t i = 0; i < v.tokens.size(); ++i) id.emplace(v.tokens[i], static_cast<int32_t>(i));
  auto need = [&](std::string_view t) {
    auto it = id.find(t);
    if (it == id.end()) fail("{}: vocabulary has no {} token (needed as BOS/EOS)", source, t);
    return it->second;
  };
  auto opt = [&](std::string_view t) -> std::optional<int32_t> {
    auto it = id.find(t);
    return it == id.end() ? std::nullopt : std::optional<int32_t>(it->second);
  };
  // Qwen2.5 ends a document with <|endoftext|> and an Instruct turn with <|im_end|>.
  v.bos = v.pad = need("<|endoftext|>");
  v.eos = need("<|im_end|>");
  v.fim_pre = opt("<|fim_prefix|>");
  v.fim_suf = opt("<|fim_suffix|>");
  v.fim_mid = opt("<|fim_middle|>");
  v.fim_pad = opt("<|fim_pad|>");
  v.fim_rep = opt("<|repo_name|>");
  v.fim_sep = opt("<|file_sep|>");
}

// llama.cpp's converter pads the token list to the model's vocab_size this way.
void pad_to(Vocab& v, uint32_t n_vocab) {
  for (size_t i = v.tokens.size(); i < n_vocab; ++i) {
    v.tokens.push_back(fmt::format("[PAD{}]", i));
    v.types.push_back(kUnused);
  }
}

// ---------------------------------------------------------------------------------
// Generated vocabulary.

// What the merges are learned from: code and prose in the mix a code model sees.
constexpr std::string_view kCorpus = R"CORPUS(
def quicksort(xs):
    """Sort a list with the quicksort algorithm and return the new list."""
    if len(xs) <= 1:
        return xs
    pivot = xs[len(xs) // 2]
    left = [x for x in xs if x < pivot]
    middle = [x for x in xs if x == pivot]
    right = [x for x in xs if x > pivot]
    return quicksort(left) + middle + quicksort(right)


class Stack:
    def __init__(self):
        self.items = []

    def push(self, item):
        self.items.append(item)

    def pop(self):
        if not self.items:
            raise IndexError("pop from an empty stack")
        return self.items.pop()

    def is_empty(self) -> bool:
        return len(self.items) == 0


import os
import sys
from typing import List, Optional, Dict


def read_lines(path: str) -> List[str]:
    with open(path, "r", encoding="utf-8") as f:
        return [line.strip() for line in f.readlines()]


def main(argv: Optional[List[str]] = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    for name in args:
        if os.path.exists(name):
            print(f"{name}: {len(read_lines(name))} lines")
        else:
            print(f"error: {name} not found", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct node {
    int value;
    struct node *next;
};

static struct node *list_push(struct node *head, int value) {
    struct node *n = malloc(sizeof(*n));
    if (n == NULL) {
        return head;
    }
    n->value = value;
    n->next = head;
    return n;
}

int main(int argc, char **argv) {
    struct node *head = NULL;
    for (int i = 0; i < argc; i++) {
        head = list_push(head, atoi(argv[i]));
    }
    while (head != NULL) {
        printf("%d\n", head->value);
        struct node *next = head->next;
        free(head);
        head = next;
    }
    return 0;
}

template <typename T>
class Vector {
 public:
  explicit Vector(size_t size) : data_(new T[size]), size_(size) {}
  ~Vector() { delete[] data_; }
  const T& operator[](size_t index) const { return data_[index]; }
  size_t size() const { return size_; }

 private:
  T* data_;
  size_t size_;
};

function fetchUser(id) {
  return fetch(`/api/users/${id}`)
    .then((response) => response.json())
    .catch((error) => {
      console.error("request failed", error);
      return null;
    });
}

const numbers = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
const total = numbers.filter((n) => n % 2 === 0).map((n) => n * n).reduce((a, b) => a + b, 0);
export default { fetchUser, total };

fn binary_search(items: &[i32], target: i32) -> Option<usize> {
    let mut low = 0;
    let mut high = items.len();
    while low < high {
        let mid = low + (high - low) / 2;
        match items[mid].cmp(&target) {
            std::cmp::Ordering::Equal => return Some(mid),
            std::cmp::Ordering::Less => low = mid + 1,
            std::cmp::Ordering::Greater => high = mid,
        }
    }
    None
}

SELECT name, count(*) AS total FROM users WHERE active = 1 GROUP BY name ORDER BY total DESC;

The function returns the sorted list. Write a test that checks the result for an empty
input, a single element and a list with duplicate values. When the input is large, the
recursion depth can become a problem; an iterative version avoids it. This is the first
step: read the file, parse each line, and store the values in a dictionary keyed by name.
Please explain what the following code does and how it could be made faster.
)CORPUS";

bool is_letter(unsigned char c) { return std::isalpha(c) != 0; }
bool is_digit(unsigned char c) { return std::isdigit(c) != 0; }
bool is_space(unsigned char c) { return std::isspace(c) != 0; }
bool is_newline(unsigned char c) { return c == '\n' || c == '\r'; }

// An ASCII rendering of the qwen2 pre-tokenizer regex (gguf-qwen2.md §6), enough to cut
// the built-in sample into the pieces BPE works on.
std::vector<std::string> pretokenize(std::string_view s) {
  std::vector<std::string> out;
  size_t i = 0;
  const size_t n = s.size();
  auto at = [&](size_t k) -> unsigned char { return k < n ? s[k] : 0; };
  auto lower_at = [&](size_t k) { return static_cast<char>(std::tolower(at(k))); };
  while (i < n) {
    const size_t start = i;
    const unsigned char c = at(i);
    const bool two = c == '\'' && ((lower_at(i + 1) == 'r' && lower_at(i + 2) == 'e') ||
                                   (lower_at(i + 1) == 'v' && lower_at(i + 2) == 'e') ||
                                   (lower_at(i + 1) == 'l' && lower_at(i + 2) == 'l'));
    const bool one = c == '\'' && std::string_view("stmd").find(lower_at(i + 1)) !=
                                      std::string_view::npos;
    if (two || one) {
      i += two ? 3 : 2;
    } else if (is_letter(c) || (!is_newline(c) && !is_digit(c) && is_letter(at(i + 1)))) {
      ++i;
      while (i < n && is_letter(at(i))) ++i;
    } else if (is_digit(c)) {
      ++i;
    } else if (!is_space(c) || (c == ' ' && i + 1 < n && !is_space(at(i + 1)) &&
                                !is_digit(at(i + 1)))) {
      if (c == ' ') ++i;
      while (i < n && !is_space(at(i)) && !is_letter(at(i)) && !is_digit(at(i))) ++i;
      while (i < n && is_newline(at(i))) ++i;
    } else {
      size_t end = i, last_newline = n;
      while (end < n && is_space(at(end))) {
        if (is_newline(at(end))) last_newline = end;
        ++end;
      }
      if (last_newline < n)
        i = last_newline + 1;  // \s*[\r\n]+
      else if (end < n && end - i > 1)
        i = end - 1;  // \s+(?!\S): the last space goes with the next word
      else
        i = end;
    }
    out.emplace_back(s.substr(start, i - start));
  }
  return out;
}

struct Trainer {
  std::vector<std::string> tokens;
  std::unordered_map<std::string, int> id;
  std::vector<std::string> merges;
  std::vector<std::pair<std::vector<int>, int64_t>> words;  // symbols, count

  int add_token(const std::string& t) {
    auto [it, added] = id.emplace(t, static_cast<int>(tokens.size()));
    if (added) tokens.push_back(t);
    return it->second;
  }

  // Classic BPE training: merge the most frequent adjacent pair until `target` tokens
  // exist or every word is one symbol. Ties go to the lower ids, so the result is the
  // same on every platform.
  void learn(size_t target) {
    while (tokens.size() < target) {
      std::map<std::pair<int, int>, int64_t> pairs;
      for (const auto& [w, count] : words)
        for (size_t k = 0; k + 1 < w.size(); ++k) pairs[{w[k], w[k + 1]}] += count;
      if (pairs.empty()) return;
      auto best = pairs.begin();
      for (auto it = pairs.begin(); it != pairs.end(); ++it)
        if (it->second > best->second) best = it;
      const auto [a, b] = best->first;
      merges.push_back(tokens[a] + " " + tokens[b]);
      const int ab = add_token(tokens[a] + tokens[b]);
      for (auto& [w, count] : words) {
        std::vector<int> merged;
        for (size_t k = 0; k < w.size(); ++k) {
          if (k + 1 < w.size() && w[k] == a && w[k + 1] == b) {
            merged.push_back(ab);
            ++k;
          } else {
            merged.push_back(w[k]);
          }
        }
        w = std::move(merged);
      }
    }
  }

  // The sample runs out of pairs long before a few thousand tokens; the rest are
  // word + suffix compounds of learned tokens ("Ġreturn" + "ed"): valid merges, since
  // both halves exist, and reachable, since the pre-tokenizer keeps such words whole.
  void compound(size_t target, const std::vector<std::string>& bytes) {
    auto letters = [](std::string_view t, bool lower) {
      return !t.empty() && std::all_of(t.begin(), t.end(), [&](char c) {
        return lower ? std::islower(static_cast<unsigned char>(c)) != 0
                     : std::isalpha(static_cast<unsigned char>(c)) != 0;
      });
    };
    const std::string_view space = "Ġ";
    std::vector<int> heads, tails;
    for (size_t t = bytes.size(); t < tokens.size(); ++t) {
      std::string_view s = tokens[t];
      const std::string_view word = s.starts_with(space) ? s.substr(space.size()) : s;
      if (letters(word, false)) heads.push_back(static_cast<int>(t));
      if (s.size() >= 2 && letters(s, true)) tails.push_back(static_cast<int>(t));
    }
    if (heads.empty() || tails.empty()) fail("internal: generated vocabulary has no words");
    const size_t diagonals = heads.size() + tails.size();
    for (size_t d = 0; d < diagonals && tokens.size() < target; ++d) {
      for (size_t h = 0; h <= d && h < heads.size() && tokens.size() < target; ++h) {
        if (d - h >= tails.size()) continue;
        const std::string& a = tokens[heads[h]];
        const std::string& b = tokens[tails[d - h]];
        if (a.size() + b.size() > 24 || id.count(a + b)) continue;
        merges.push_back(a + " " + b);
        add_token(a + b);
      }
    }
    if (tokens.size() < target)
      fail("internal: generated vocabulary stops at {} tokens, {} asked", tokens.size(),
           target);
  }
};

}  // namespace

const std::vector<std::string>& byte_symbols() {
  static const std::vector<std::string> kSymbols = [] {
    std::vector<std::string> s(256);
    uint32_t next = 256;
    for (int b = 0; b < 256; ++b) s[b] = utf8(printable_byte(b) ? b : next++);
    return s;
  }();
  return kSymbols;
}

const std::vector<std::string_view>& qwen2_special_tokens() {
  static const std::vector<std::string_view> kSpecial = {
      "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|object_ref_start|>",
      "<|object_ref_end|>", "<|box_start|>", "<|box_end|>", "<|quad_start|>",
      "<|quad_end|>", "<|vision_start|>", "<|vision_end|>", "<|vision_pad|>",
      "<|image_pad|>", "<|video_pad|>", "<tool_call>", "</tool_call>", "<|fim_prefix|>",
      "<|fim_middle|>", "<|fim_suffix|>", "<|fim_pad|>", "<|repo_name|>", "<|file_sep|>",
  };
  return kSpecial;
}

Vocab generate_vocab(uint32_t n_vocab) {
  const auto& special = qwen2_special_tokens();
  const size_t n_tokens = std::min(n_vocab, kMaxGeneratedTokens);
  if (n_tokens < 512)
    fail("a generated vocabulary needs at least 512 tokens (256 bytes, merges, {} special "
         "tokens), got {}", special.size(), n_vocab);

  Trainer tr;
  const auto& bytes = byte_symbols();
  for (int b : byte_id_order()) tr.add_token(bytes[b]);

  std::map<std::string, int64_t> counts;
  for (const auto& piece : pretokenize(kCorpus)) ++counts[piece];
  for (const auto& [piece, count] : counts) {
    std::vector<int> symbols;
    for (unsigned char c : piece) symbols.push_back(tr.id.at(bytes[c]));
    tr.words.push_back({std::move(symbols), count});
  }
  const size_t target = n_tokens - special.size();
  tr.learn(target);
  tr.compound(target, bytes);

  Vocab v;
  v.tokens = std::move(tr.tokens);
  v.types.assign(v.tokens.size(), kNormal);
  v.merges = std::move(tr.merges);
  for (auto t : special) {
    v.tokens.emplace_back(t);
    v.types.push_back(looks_like_control(t) ? kControl : kUserDefined);
  }
  pad_to(v, n_vocab);
  find_specials(v, "generated vocabulary");
  return v;
}

Vocab load_hf_vocab(const std::string& path, uint32_t n_vocab) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("{}: cannot open tokenizer file", path);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    fail("{}: not valid JSON: {}", path, e.what());
  }
  try {
    const auto& model = j.at("model");
    if (model.value("type", "BPE") != "BPE")
      fail("{}: model.type is '{}', expected 'BPE'", path, model.value("type", ""));

    // id → (text, type); an id given twice or left out is an error.
    std::map<int64_t, std::pair<std::string, int32_t>> by_id;
    auto put = [&](int64_t i, const std::string& text, int32_t type, const char* field) {
      if (i < 0) fail("{}: {} token '{}' has negative id {}", path, field, text, i);
      auto [it, added] = by_id.emplace(i, std::make_pair(text, type));
      if (!added && it->second.first != text)
        fail("{}: id {} is both '{}' and '{}' ({})", path, i, it->second.first, text, field);
      it->second.second = type;
    };
    for (const auto& [text, i] : model.at("vocab").items())
      put(i.get<int64_t>(), text, kNormal, "model.vocab");
    if (j.contains("added_tokens")) {
      for (const auto& t : j.at("added_tokens")) {
        const std::string text = t.at("content").get<std::string>();
        // The converter's rule: special or <|...|>-shaped tokens are CONTROL (matched
        // only with parse_special), the others USER_DEFINED (always matched).
        const bool control = t.value("special", false) || looks_like_control(text);
        put(t.at("id").get<int64_t>(), text, control ? kControl : kUserDefined,
            "added_tokens");
      }
    }
    if (by_id.empty()) fail("{}: model.vocab is empty", path);
    const int64_t n_tokens = by_id.rbegin()->first + 1;
    if (static_cast<int64_t>(by_id.size()) != n_tokens) {
      int64_t missing = 0;
      while (by_id.count(missing)) ++missing;
      fail("{}: token ids are not contiguous: id {} is missing (max id {})", path, missing,
           n_tokens - 1);
    }
    if (n_tokens > n_vocab)
      fail("{}: {} tokens do not fit the model's {} embedding rows (use --vocab-size)", path,
           n_tokens, n_vocab);

    Vocab v;
    for (auto& [i, tt] : by_id) {
      v.tokens.push_back(std::move(tt.first));
      v.types.push_back(tt.second);
    }
    for (const auto& m : model.at("merges")) {
      if (m.is_string()) {
        v.merges.push_back(m.get<std::string>());
      } else if (m.is_array() && m.size() == 2) {
        v.merges.push_back(m[0].get<std::string>() + " " + m[1].get<std::string>());
      } else {
        fail("{}: model.merges entry {} is neither \"a b\" nor [a, b]", path, m.dump());
      }
    }
    pad_to(v, n_vocab);
    find_specials(v, path);
    return v;
  } catch (const nlohmann::json::exception& e) {
    fail("{}: unexpected tokenizer layout: {}", path, e.what());
  }
}

}  // namespace brickc::synth
