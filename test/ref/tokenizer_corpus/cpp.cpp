// A tiny expression evaluator: templates, lambdas, std::variant.
#include <iostream>
#include <map>
#include <memory>
#include <string_view>
#include <variant>

namespace calc {
template <typename T>
concept Number = std::is_arithmetic_v<T>;

using Value = std::variant<long long, double>;

template <Number T>
constexpr T square(T x) noexcept { return x * x; }

struct Env {
  std::map<std::string, Value, std::less<>> vars;
  auto lookup(std::string_view name) const -> const Value* {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : &it->second;
  }
};
}  // namespace calc

int main() {
  calc::Env env;
  env.vars["pi"] = 3.141592653589793;
  env.vars["n"] = 42LL;
  auto show = [](const calc::Value& v) {
    std::visit([](auto&& x) { std::cout << x << '\n'; }, v);
  };
  if (const auto* v = env.lookup("pi")) show(*v);
  static_assert(calc::square(12) == 144);
  auto p = std::make_unique<int[]>(16);
  p[0] = 0x7fffffff >> 3 << 1;
  return p[0] != 0 ? 0 : 1;
}
