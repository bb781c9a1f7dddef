// Test-only driver: runs brickc's dequantizer and quantizer on raw files so that the Python
// reference test (test/ref/test_quant_vs_gguf.py) can compare them with gguf-py and ggml.
//   quant_tool dequant TYPE in.bin out.f32     (whole blocks of TYPE → f32)
//   quant_tool quant   TYPE in.f32 out.bin     (f32 → blocks of TYPE)
#include <fmt/format.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "frontend/quant/quant.h"
#include "ir/dtype.h"
#include "ir/error.h"

namespace {

std::vector<char> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) brickc::fail("{}: cannot open for reading", path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_file(const std::string& path, const void* data, size_t size) {
  std::ofstream out(path, std::ios::binary);
  out.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
  if (!out) brickc::fail("{}: cannot write", path);
}

int run(const std::string& mode, const std::string& type_name, const std::string& in_path,
        const std::string& out_path) {
  const auto type = brickc::dtype_from_name(type_name);
  if (!type) brickc::fail("unknown tensor type '{}'", type_name);
  const auto& ti = brickc::info(*type);
  const std::vector<char> in = read_file(in_path);
  if (mode == "dequant") {
    if (in.size() % ti.block_bytes != 0)
      brickc::fail("{}: {} bytes is not a whole number of {}-byte {} blocks", in_path, in.size(),
                   ti.block_bytes, ti.name);
    const int64_t n = static_cast<int64_t>(in.size() / ti.block_bytes * ti.block_elems);
    std::vector<float> out(static_cast<size_t>(n));
    brickc::quant::dequantize(*type, in.data(), out.data(), n);
    write_file(out_path, out.data(), out.size() * sizeof(float));
    return 0;
  }
  if (mode == "quant") {
    if (in.size() % sizeof(float) != 0)
      brickc::fail("{}: {} bytes is not a whole number of f32 values", in_path, in.size());
    std::vector<float> x(in.size() / sizeof(float));
    std::memcpy(x.data(), in.data(), in.size());
    const auto bytes = brickc::row_bytes(*type, x.size());
    if (!bytes)
      brickc::fail("{}: {} values is not a multiple of the {} block size {}", in_path, x.size(),
                   ti.name, ti.block_elems);
    std::vector<uint8_t> out(*bytes);
    brickc::quant::quantize(*type, x.data(), out.data(), static_cast<int64_t>(x.size()));
    write_file(out_path, out.data(), out.size());
    return 0;
  }
  brickc::fail("unknown mode '{}' (expected dequant or quant)", mode);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    fmt::print(stderr, "usage: quant_tool dequant|quant TYPE IN OUT\n");
    return 2;
  }
  try {
    return run(argv[1], argv[2], argv[3], argv[4]);
  } catch (const brickc::Error& e) {
    fmt::print(stderr, "quant_tool: {}\n", e.what());
    return 1;
  }
}
