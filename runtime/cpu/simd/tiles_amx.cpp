// amx_strip_product on the tile unit (this file alone is built with AMX-TILE, AMX-INT8 and
// AVX-512; it runs only where amx_usable()): tiles_product.h's operations as the AMX
// intrinsics, which take tile numbers as literals (they are spelled into the assembly).
#if defined(__x86_64__)
#include <immintrin.h>

#include "runtime/cpu/simd/tiles_product.h"

namespace brickc::cpu::simd {
namespace {

// LDTILECFG's 64-byte operand: palette 1; per tile its bytes per row and its rows.
struct alignas(64) TileConfig {
  uint8_t palette = 1, start_row = 0, reserved[14] = {};
  uint16_t colsb[16] = {};
  uint8_t rows[16] = {};
};

TileConfig tile_config() {
  TileConfig c;
  for (int t = 0; t < 8; ++t) {
    c.rows[t] = static_cast<uint8_t>(tile_detail::kTiles[t].rows);
    c.colsb[t] = static_cast<uint16_t>(tile_detail::kTiles[t].colsb);
  }
  return c;
}

// Op(n) for the literal n equal to N.
#define BRICKC_TILE(N, Op)      \
  if constexpr ((N) == 0) {     \
    Op(0);                      \
  } else if constexpr ((N) == 1) { \
    Op(1);                      \
  } else if constexpr ((N) == 2) { \
    Op(2);                      \
  } else if constexpr ((N) == 3) { \
    Op(3);                      \
  } else if constexpr ((N) == 4) { \
    Op(4);                      \
  } else if constexpr ((N) == 5) { \
    Op(5);                      \
  } else if constexpr ((N) == 6) { \
    Op(6);                      \
  } else {                      \
    static_assert((N) == 7);    \
    Op(7);                      \
  }

struct AmxTiles {
  // The configuration is per thread (the OS saves it with the thread's tile state), and
  // loading it clears every tile: it is loaded once, before a thread's first product.
  static void configure() {
    thread_local const bool configured = [] {
      static const TileConfig config = tile_config();
      _tile_loadconfig(&config);
      return true;
    }();
    (void)configured;
  }
  template <int C>
  static void zero() {
    BRICKC_TILE(C, _tile_zero)
  }
  template <int T>
  static void load(const void* p, int64_t stride) {
#define BRICKC_LOAD(n) _tile_loadd(n, p, stride)
    BRICKC_TILE(T, BRICKC_LOAD)
#undef BRICKC_LOAD
  }
  template <int C>
  static void store(void* p, int64_t stride) {
#define BRICKC_STORE(n) _tile_stored(n, p, stride)
    BRICKC_TILE(C, BRICKC_STORE)
#undef BRICKC_STORE
  }
  // Products go to tile 4 or 5 from the pairs (0, 1), (2, 3) and (6, 7) (clang checks
  // the tile numbers of every spelled call, so only these are spelled).
  template <int C, int A, int B>
  static void dp() {
    static_assert((C == 4 || C == 5) && (A == 0 || A == 2 || A == 6) && B == A + 1);
    if constexpr (C == 4) {
      if constexpr (A == 0) _tile_dpbssd(4, 0, 1);
      else if constexpr (A == 2) _tile_dpbssd(4, 2, 3);
      else _tile_dpbssd(4, 6, 7);
    } else {
      if constexpr (A == 0) _tile_dpbssd(5, 0, 1);
      else if constexpr (A == 2) _tile_dpbssd(5, 2, 3);
      else _tile_dpbssd(5, 6, 7);
    }
  }
};

#undef BRICKC_TILE

}  // namespace

void amx_strip_product(const TileStrip& w, const TileActivations& x, int64_t tile, float* out) {
  tile_detail::strip_product<AmxTiles>(w, x, tile, out);
}

}  // namespace brickc::cpu::simd

#else

#include "ir/error.h"

namespace brickc::cpu::simd {
void amx_strip_product(const TileStrip&, const TileActivations&, int64_t, float*) {
  fail("internal: AMX tiles on a processor without them");
}
}  // namespace brickc::cpu::simd

#endif
