// Grammar of the Brick IR text form. Spaces and newlines only separate tokens; `//` starts
// a comment that runs to the end of the line.
//
//   graph     ::= header? item*
//   header    ::= 'graph' '@' NAME attrs?                 (attributes: kv_len, n_tokens)
//   item      ::= decl | brick | layer | output
//   decl      ::= ('input' | 'weight' | 'state') VALUE ':' type ('=' STRING)?
//   layer     ::= 'layer' INT '{' brick* '}'
//   brick     ::= values '=' KIND values? attrs? ':' type (',' type)*
//   output    ::= 'output' values
//   values    ::= VALUE (',' VALUE)*
//   attrs     ::= '{' (IDENT '=' NUMBER (',' IDENT '=' NUMBER)*)? '}'
//   type      ::= DTYPE '[' INT (',' INT)* ']'
//
//   VALUE  ::= '%' [A-Za-z0-9_.]+        NAME ::= [A-Za-z0-9_.-]+
//   KIND   ::= embed | rmsnorm | matvec | qkv | rope | kv_append | attention | swiglu | add
//            | lm_head | argmax | rmsnorm_matvec | rmsnorm_qkv | rmsnorm_gate_up_swiglu
//            | rmsnorm_lm_head | gate_up_swiglu | rope_kv_append | matvec_add
//   DTYPE  ::= a ggml type name, any case (f32 f16 bf16 i32 q4_0 q5_0 q8_0 q4_K q6_K q8_1 ...)
//   NUMBER ::= INT | REAL    INT ::= '-'? [0-9]+    REAL: a number with '.' or an exponent
//   STRING ::= '"' (any printable but '"' and '\' | '\"' | '\\' | '\x' HEX HEX)* '"'
//
// What the forms mean:
// - Shapes are in ggml order, ne0 (the contiguous row) first: a weight is [in, out], as in
//   the GGUF file. Activations are vectors: one token per decode step.
// - Weights are declared once, with their type, shape and the GGUF tensor they bind to:
//     weight %w.q.0 : q4_K[1536, 1536] = "blk.0.attn_q.weight"
//   and bricks name them like any other value, so a tied lm_head reads %w.token_embd.
// - Per-step values (token, position) are `input`s, read from the device-side step struct
//   (DESIGN.md §6). Bricks that depend on the step's position take %pos as an operand, so
//   the dependence is an ordinary data edge the scheduler can see.
// - The KV cache is `state` [head_dim, n_kv_heads, max_ctx]. kv_append writes k and v at
//   position %pos and returns the updated caches as new values, in place (they alias the
//   state buffers); attention reads those results, which orders it after the append:
//     %kc.0, %vc.0 = kv_append %k.0, %v.0, %pos, %kcache.0, %vcache.0 : f16[128, 2, 4096], ...
// - Attributes are numbers; a real is stored as f32 (the model's hyperparameters are f32).
//   `budget_us` is not an attribute of the kind but the brick's time budget, set by the
//   budget pass and printed only when set.
// - `layer N { ... }` groups the bricks of transformer layer N (for FileCheck labels and
//   per-layer reports); it has no other meaning.
// - A value may be named before the line that defines it; the verifier reports that as a
//   use before definition, with both positions.
#include "ir/parser.h"

#include <fmt/format.h>

#include <cctype>
#include <charconv>
#include <limits>
#include <unordered_map>

namespace brickc::ir {
namespace {

enum class Tok {
  End,
  Value,
  GraphName,
  Ident,
  Int,
  Real,
  String,
  Equal,
  Comma,
  Colon,
  LBracket,
  RBracket,
  LBrace,
  RBrace
};

struct Token {
  Tok kind = Tok::End;
  std::string text;  // VALUE/NAME without the sigil; STRING decoded
  Loc loc;
};

struct ParseFailure {
  Diagnostic diag;
};

template <typename... Args>
[[noreturn]] void fail_at(Loc loc, fmt::format_string<Args...> f, Args&&... args) {
  throw ParseFailure{{loc, fmt::format(f, std::forward<Args>(args)...)}};
}

std::string describe(const Token& t) {
  switch (t.kind) {
    case Tok::End:
      return "end of input";
    case Tok::Value:
      return fmt::format("'%{}'", t.text);
    case Tok::GraphName:
      return fmt::format("'@{}'", t.text);
    case Tok::String:
      return "a string";
    default:
      return fmt::format("'{}'", t.text);
  }
}

bool is_value_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.';
}

class Lexer {
 public:
  Lexer(std::string_view text, int first_line) : s_(text), line_(first_line) {}

  Token next() {
    skip_space_and_comments();
    Token t;
    t.loc = {line_, col_};
    if (i_ >= s_.size()) return t;
    char c = s_[i_];
    auto single = [&](Tok k) {
      t.kind = k;
      t.text = std::string(1, c);
      advance();
      return t;
    };
    switch (c) {
      case '=':
        return single(Tok::Equal);
      case ',':
        return single(Tok::Comma);
      case ':':
        return single(Tok::Colon);
      case '[':
        return single(Tok::LBracket);
      case ']':
        return single(Tok::RBracket);
      case '{':
        return single(Tok::LBrace);
      case '}':
        return single(Tok::RBrace);
      case '"':
        return string(t);
      case '%':
      case '@': {
        advance();
        t.kind = c == '%' ? Tok::Value : Tok::GraphName;
        while (i_ < s_.size() && (is_value_char(s_[i_]) || (c == '@' && s_[i_] == '-')))
          t.text += s_[i_], advance();
        if (t.text.empty()) fail_at(t.loc, "expected a name after '{}'", c);
        return t;
      }
      default:
        break;
    }
    if (std::isdigit(static_cast<unsigned char>(c)) ||
        (c == '-' && i_ + 1 < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_ + 1]))))
      return number(t);
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      t.kind = Tok::Ident;
      while (i_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[i_])) || s_[i_] == '_'))
        t.text += s_[i_], advance();
      return t;
    }
    if (std::isprint(static_cast<unsigned char>(c))) fail_at(t.loc, "unexpected character '{}'", c);
    fail_at(t.loc, "unexpected byte 0x{:02x}", static_cast<unsigned char>(c));
  }

 private:
  void advance() {
    if (s_[i_] == '\n')
      ++line_, col_ = 1;
    else
      ++col_;
    ++i_;
  }

  void skip_space_and_comments() {
    while (i_ < s_.size()) {
      if (std::isspace(static_cast<unsigned char>(s_[i_]))) {
        advance();
      } else if (s_.substr(i_, 2) == "//") {
        while (i_ < s_.size() && s_[i_] != '\n') advance();
      } else {
        break;
      }
    }
  }

  Token number(Token& t) {
    auto digits = [&] {
      size_t start = i_;
      while (i_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_])))
        t.text += s_[i_], advance();
      return i_ > start;
    };
    t.kind = Tok::Int;
    if (s_[i_] == '-') t.text += '-', advance();
    digits();
    if (i_ < s_.size() && s_[i_] == '.') {
      t.kind = Tok::Real;
      t.text += '.', advance();
      digits();
    }
    if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
      t.kind = Tok::Real;
      t.text += s_[i_], advance();
      if (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-')) t.text += s_[i_], advance();
      if (!digits()) fail_at(t.loc, "malformed number '{}': the exponent has no digits", t.text);
    }
    if (i_ < s_.size() && (is_value_char(s_[i_])))
      fail_at(t.loc, "malformed number '{}{}'", t.text, s_[i_]);
    return t;
  }

  Token string(Token& t) {
    t.kind = Tok::String;
    advance();
    for (;;) {
      if (i_ >= s_.size() || s_[i_] == '\n') fail_at(t.loc, "unterminated string");
      char c = s_[i_];
      if (c == '"') {
        advance();
        return t;
      }
      if (c != '\\') {
        if (!std::isprint(static_cast<unsigned char>(c)))
          fail_at({line_, col_}, "unexpected byte 0x{:02x} in a string (write \\x{:02x})",
                  static_cast<unsigned char>(c), static_cast<unsigned char>(c));
        t.text += c, advance();
        continue;
      }
      Loc esc{line_, col_};
      advance();
      if (i_ < s_.size() && (s_[i_] == '"' || s_[i_] == '\\')) {
        t.text += s_[i_], advance();
      } else if (i_ + 2 < s_.size() && s_[i_] == 'x' &&
                 std::isxdigit(static_cast<unsigned char>(s_[i_ + 1])) &&
                 std::isxdigit(static_cast<unsigned char>(s_[i_ + 2]))) {
        t.text += static_cast<char>(std::stoi(std::string(s_.substr(i_ + 1, 2)), nullptr, 16));
        advance(), advance(), advance();
      } else {
        fail_at(esc, "unknown escape in a string (use \\\", \\\\ or \\xHH)");
      }
    }
  }

  std::string_view s_;
  size_t i_ = 0;
  int line_;
  int col_ = 1;
};

int64_t to_int(const Token& t) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(t.text.data(), t.text.data() + t.text.size(), v);
  if (ec != std::errc() || p != t.text.data() + t.text.size())
    fail_at(t.loc, "integer {} is out of range", t.text);
  return v;
}

template <typename F>
F to_real(const Token& t) {
  F v = 0;
  auto [p, ec] = std::from_chars(t.text.data(), t.text.data() + t.text.size(), v);
  if (ec != std::errc() || p != t.text.data() + t.text.size())
    fail_at(t.loc, "number {} is out of range for {}", t.text, sizeof(F) == 4 ? "f32" : "f64");
  return v;
}

class Parser {
 public:
  Parser(std::string_view text, int first_line) : lex_(text, first_line) { tok_ = lex_.next(); }

  Graph run() {
    if (is_ident("graph")) header();
    while (tok_.kind != Tok::End) {
      if (is_ident("input"))
        declaration(ValueKind::Input);
      else if (is_ident("weight"))
        declaration(ValueKind::Weight);
      else if (is_ident("state"))
        declaration(ValueKind::State);
      else if (is_ident("layer"))
        layer();
      else if (is_ident("output"))
        output();
      else if (tok_.kind == Tok::Value)
        brick(-1);
      else if (is_ident("graph"))
        fail_at(tok_.loc, "the graph header must be the first line");
      else
        fail_at(tok_.loc, "expected a declaration, a brick, 'layer' or 'output', found {}",
                describe(tok_));
    }
    for (const auto& [index, loc] : pending_order_)
      if (pending_.contains(index))
        fail_at(loc, "undefined value: %{} is never defined", g_.value(ValueId{index}).name);
    return std::move(g_);
  }

 private:
  bool is_ident(std::string_view s) const { return tok_.kind == Tok::Ident && tok_.text == s; }

  Token take() {
    Token t = std::move(tok_);
    tok_ = lex_.next();
    return t;
  }

  Token expect(Tok k, std::string_view what) {
    if (tok_.kind != k) fail_at(tok_.loc, "expected {}, found {}", what, describe(tok_));
    return take();
  }

  bool accept(Tok k) {
    if (tok_.kind != k) return false;
    take();
    return true;
  }

  void header() {
    take();
    g_.name = expect(Tok::GraphName, "'@' and the graph name").text;
    if (tok_.kind != Tok::LBrace) return;
    attr_list([&](const Token& key, const Token& value) {
      if (key.text != "kv_len" && key.text != "n_tokens")
        fail_at(key.loc, "unknown graph attribute '{}' (known: kv_len, n_tokens)", key.text);
      if (value.kind != Tok::Int) fail_at(value.loc, "{} must be an integer", key.text);
      (key.text == "kv_len" ? g_.kv_len : g_.n_tokens) = to_int(value);
    });
  }

  // '{' key '=' number, ... '}'; calls `on` once per attribute; names are unique.
  template <typename F>
  void attr_list(F on) {
    expect(Tok::LBrace, "'{'");
    std::vector<std::string> seen;
    if (accept(Tok::RBrace)) return;
    do {
      Token key = expect(Tok::Ident, "an attribute name");
      for (const auto& s : seen)
        if (s == key.text) fail_at(key.loc, "attribute '{}' is given twice", key.text);
      seen.push_back(key.text);
      expect(Tok::Equal, "'=' after the attribute name");
      if (tok_.kind != Tok::Int && tok_.kind != Tok::Real)
        fail_at(tok_.loc, "expected a number for attribute '{}', found {}", key.text,
                describe(tok_));
      on(key, take());
    } while (accept(Tok::Comma));
    expect(Tok::RBrace, "',' or '}' in the attribute list");
  }

  TensorType type() {
    Token dt = expect(Tok::Ident, "an element type (f32, q4_K, ...)");
    auto elem = dtype_from_name(dt.text);
    if (!elem) fail_at(dt.loc, "unknown element type '{}'", dt.text);
    TensorType t{*elem, {}};
    expect(Tok::LBracket, "'[' and the shape");
    int64_t elements = 1;
    do {
      Token d = expect(Tok::Int, "a dimension");
      int64_t n = to_int(d);
      if (n < 1) fail_at(d.loc, "bad shape: dimension {} must be positive", n);
      if (n > kMaxElements / elements) fail_at(d.loc, "bad shape: more than 2^40 elements");
      if (t.shape.dims.size() == kMaxRank)
        fail_at(d.loc, "bad shape: more than {} dimensions", kMaxRank);
      elements *= n;
      t.shape.dims.push_back(n);
    } while (accept(Tok::Comma));
    expect(Tok::RBracket, "',' or ']' in the shape");
    return t;
  }

  // An operand: the value, or a placeholder that a later line must define.
  ValueId use(const Token& t) {
    if (auto id = g_.find(t.text)) return *id;
    ValueId id = g_.add_result_value(t.text, {}, t.loc);
    pending_.emplace(id.index, t.loc);
    pending_order_.emplace_back(id.index, t.loc);
    return id;
  }

  [[noreturn]] void redefinition(const Token& t, ValueId prior, std::string_view what) {
    const Loc& l = g_.value(prior).loc;
    fail_at(t.loc, "redefinition: {}: %{} is already defined at {}:{}", what, t.text, l.line,
            l.col);
  }

  // A name being defined (callers have ruled out redefinition): fills in a placeholder
  // left by an earlier use, or adds the value.
  ValueId define(const Token& t, ValueKind kind, TensorType type) {
    if (auto id = g_.find(t.text)) {
      pending_.erase(id->index);
      Value& v = g_.value(*id);
      v.kind = kind;
      v.type = std::move(type);
      v.loc = t.loc;
      return *id;
    }
    return kind == ValueKind::Result ? g_.add_result_value(t.text, std::move(type), t.loc)
                                     : g_.declare(kind, t.text, std::move(type), {}, t.loc);
  }

  void declaration(ValueKind kind) {
    const std::string keyword = take().text;
    Token name = expect(Tok::Value, "a '%' value name");
    if (auto id = g_.find(name.text); id && !pending_.contains(id->index))
      redefinition(name, *id, keyword);
    expect(Tok::Colon, "':' and the type");
    ValueId id = define(name, kind, type());
    if (accept(Tok::Equal)) {
      Token s = expect(Tok::String, "a quoted tensor name");
      if (kind != ValueKind::Weight) fail_at(s.loc, "only weights are bound to a tensor name");
      g_.value(id).tensor = s.text;
    }
  }

  std::vector<Token> value_list() {
    std::vector<Token> vs;
    do vs.push_back(expect(Tok::Value, "a '%' value name"));
    while (accept(Tok::Comma));
    return vs;
  }

  void brick(int layer) {
    Loc loc = tok_.loc;
    std::vector<Token> results = value_list();
    expect(Tok::Equal, "'=' after the result names");
    Token kw = expect(Tok::Ident, "a brick kind");
    auto kind = brick_kind_from_keyword(kw.text);
    if (!kind) fail_at(kw.loc, "unknown brick kind '{}'", kw.text);
    for (size_t i = 0; i < results.size(); ++i) {
      if (auto id = g_.find(results[i].text); id && !pending_.contains(id->index))
        redefinition(results[i], *id, kw.text);
      for (size_t j = 0; j < i; ++j)
        if (results[i].text == results[j].text)
          fail_at(results[i].loc, "redefinition: {}: %{} is named twice", kw.text, results[i].text);
    }

    Brick b{*kind, {}, {}, {}, layer, std::nullopt, loc};
    if (tok_.kind == Tok::Value)
      for (const auto& o : value_list()) b.operands.push_back(use(o));
    if (tok_.kind == Tok::LBrace) brick_attrs(b);
    expect(Tok::Colon, "':' and the result types");
    std::vector<TensorType> types;
    do types.push_back(type());
    while (accept(Tok::Comma));
    if (types.size() != results.size())
      fail_at(loc, "{} names {} result{} but gives {} type{}", kw.text, results.size(),
              results.size() == 1 ? "" : "s", types.size(), types.size() == 1 ? "" : "s");
    for (size_t i = 0; i < results.size(); ++i)
      b.results.push_back(define(results[i], ValueKind::Result, std::move(types[i])));
    g_.bricks().push_back(std::move(b));
  }

  void brick_attrs(Brick& b) {
    const auto& specs = signature(b.kind).attrs;
    attr_list([&](const Token& key, const Token& value) {
      if (key.text == "budget_us") {
        double us =
            value.kind == Tok::Int ? static_cast<double>(to_int(value)) : to_real<double>(value);
        if (!(us >= 0)) fail_at(value.loc, "budget_us must not be negative");
        b.budget_us = us;
        return;
      }
      bool real = value.kind == Tok::Real;
      for (const auto& s : specs)
        if (s.name == key.text && s.type == AttrType::Float) real = true;
      // An integer written for a real attribute (theta = 1000000) is that real.
      if (real && value.kind == Tok::Int)
        b.attrs[key.text] = static_cast<float>(to_int(value));
      else if (real)
        b.attrs[key.text] = to_real<float>(value);
      else
        b.attrs[key.text] = to_int(value);
    });
  }

  void layer() {
    take();
    Token n = expect(Tok::Int, "the layer number");
    int64_t v = to_int(n);
    if (v < 0 || v > std::numeric_limits<int>::max())
      fail_at(n.loc, "layer number {} is out of range", v);
    expect(Tok::LBrace, "'{' after the layer number");
    while (tok_.kind == Tok::Value) brick(static_cast<int>(v));
    if (is_ident("input") || is_ident("weight") || is_ident("state"))
      fail_at(tok_.loc, "declarations go outside layer blocks");
    expect(Tok::RBrace, "a brick or '}' closing layer " + std::to_string(v));
  }

  void output() {
    take();
    for (const auto& o : value_list()) g_.outputs.push_back(use(o));
  }

  Lexer lex_;
  Token tok_;
  Graph g_;
  std::unordered_map<uint32_t, Loc> pending_;  // placeholders not yet defined
  std::vector<std::pair<uint32_t, Loc>> pending_order_;
};

}  // namespace

ParseResult parse(std::string_view text, int first_line) {
  ParseResult r;
  try {
    r.graph = Parser(text, first_line).run();
  } catch (const ParseFailure& f) {
    r.errors.push_back(f.diag);
  }
  return r;
}

}  // namespace brickc::ir
