// libFuzzer target: arbitrary text through the Brick IR parser and verifier. Whatever
// parses prints to text that parses again and prints the same (the printer's canonical
// form is a fixed point); a crash, a second parse that fails or a different print is a
// finding. Syntax and verifier errors are expected outcomes.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "ir/error.h"
#include "ir/parser.h"
#include "ir/printer.h"
#include "ir/verifier.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace brickc::ir;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    ParseResult r = parse(text);
    if (!r.ok()) return 0;
    verify(r.graph);
    const std::string printed = print(r.graph);
    ParseResult again = parse(printed);
    if (!again.ok()) {
      fprintf(stderr, "ir_parser_fuzz: printed IR does not parse:\n%s\n", printed.c_str());
      abort();
    }
    if (print(again.graph) != printed) {
      fprintf(stderr, "ir_parser_fuzz: print(parse(print(g))) != print(g):\n%s\n", printed.c_str());
      abort();
    }
  } catch (const brickc::Error&) {
  }
  return 0;
}
