// llama.cpp's reference k-quant quantizers (quantize_row_q{4,5,6,8}_K_ref, ggml-quants.c),
// rewritten: the same searches, float operations and operation order, so the same bytes.
// Sums are accumulated strictly in element order (no reassociation: built without
// -ffast-math and with -ffp-contract=off); the sub-block searches run four sub-blocks at
// once, one per vector lane, each lane in that order.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "frontend/quant/blocks.h"
#include "frontend/quant/half.h"

namespace brickc::quant::detail {
namespace {

constexpr int kQK = 256;

inline int clamp_int(int v, int lo, int hi) { return std::max(lo, std::min(hi, v)); }

// Four float or int32 lanes (GCC/Clang vector extensions, an SSE2 register): one lane per
// sub-block, each lane doing its sub-block's operations in the scalar reference's order, so
// the bytes stay the reference's. Synthesizing a model is mostly these searches.
typedef float F4 __attribute__((vector_size(16)));
typedef int32_t I4 __attribute__((vector_size(16)));

inline F4 sel(I4 m, F4 a, F4 b) {
  return std::bit_cast<F4>((m & std::bit_cast<I4>(a)) | (~m & std::bit_cast<I4>(b)));
}
inline I4 sel(I4 m, I4 a, I4 b) { return (m & a) | (~m & b); }
// clamp_int(nearest_int(f), lo, hi) of each lane.
inline I4 level4(F4 f, int lo, int hi) {
  const I4 l = (std::bit_cast<I4>(f + 12582912.0f) & 0x007fffff) - 0x00400000;
  const I4 above = sel(l < lo, I4{} + lo, l);
  return sel(above > hi, I4{} + hi, above);
}

// Asymmetric fit of four 32-value sub-blocks at once (make_qkx2_quants, squared-error
// variant), lane j sub-block j, x and w transposed (x[i][j] = value i of sub-block j):
// levels L in [0, nmax] with x ≈ scale·L − neg_min, min <= 0. Starts from the min/max grid,
// then tries nstep+1 stretched grids (nmax + rmin + rdelta·is levels over the range), refits
// scale and min by weighted least squares on each, and keeps the one with the least
// weighted error. As in the reference, a kept grid's min moves the range of the next ones.
F4 fit_scale_min4(int nmax, const F4 (&x)[32], const F4 (&w)[32], I4 (&L)[32], F4& neg_min,
                  float rmin, float rdelta, int nstep) {
  F4 min = x[0], max = x[0], sum_w = w[0];
  F4 sum_x = sum_w * x[0];
  for (int i = 1; i < 32; ++i) {
    min = sel(x[i] < min, x[i], min);
    max = sel(x[i] > max, x[i], max);
    sum_w += w[i];
    sum_x += w[i] * x[i];
  }
  min = sel(min > 0, F4{}, min);
  const I4 flat = max == min;  // the reference returns scale 0 and levels 0 for these
  const F4 min0 = min;
  F4 iscale = static_cast<float>(nmax) / (max - min);
  F4 scale = 1 / iscale;
  F4 best_error = {};
  for (int i = 0; i < 32; ++i) {
    L[i] = level4(iscale * (x[i] - min), 0, nmax);
    const F4 diff = scale * __builtin_convertvector(L[i], F4) + min - x[i];
    best_error += w[i] * (diff * diff);
  }
  I4 laux[32];
  for (int is = 0; is <= nstep; ++is) {
    iscale = (rmin + rdelta * static_cast<float>(is) + static_cast<float>(nmax)) / (max - min);
    F4 sum_l = {}, sum_l2 = {}, sum_xl = {};
    for (int i = 0; i < 32; ++i) {
      laux[i] = level4(iscale * (x[i] - min), 0, nmax);
      const F4 fl = __builtin_convertvector(laux[i], F4);
      sum_l += w[i] * fl;
      sum_l2 += w[i] * fl * fl;
      sum_xl += w[i] * fl * x[i];
    }
    const F4 D = sum_w * sum_l2 - sum_l * sum_l;
    F4 this_scale = (sum_w * sum_xl - sum_x * sum_l) / D;
    F4 this_min = (sum_l2 * sum_x - sum_l * sum_xl) / D;
    const I4 positive = this_min > 0;
    this_min = sel(positive, F4{}, this_min);
    this_scale = sel(positive, sum_xl / sum_l2, this_scale);
    F4 error = {};
    for (int i = 0; i < 32; ++i) {
      const F4 diff = this_scale * __builtin_convertvector(laux[i], F4) + this_min - x[i];
      error += w[i] * (diff * diff);
    }
    const I4 take = (D > 0) & (error < best_error) & ~flat;
    for (int i = 0; i < 32; ++i) L[i] = sel(take, laux[i], L[i]);
    best_error = sel(take, error, best_error);
    scale = sel(take, this_scale, scale);
    min = sel(take, this_min, min);
  }
  for (int i = 0; i < 32; ++i) L[i] = sel(flat, I4{}, L[i]);
  neg_min = -sel(flat, min0, min);
  return sel(flat, F4{}, scale);
}

// Symmetric fit of four 16-value sub-blocks at once (make_qx_quants with rmse_type 1 and no
// importance weights), lane j sub-block j, x transposed as in fit_scale_min4: levels L in
// [0, 2·nmax) for x ≈ scale·(L − nmax), weights x². Tries 19 grids around nmax levels per
// |max| and keeps the best weighted least-squares scale.
F4 fit_symmetric_scale4(int nmax, const F4 (&x)[16], I4 (&L)[16]) {
  F4 max = {}, amax = {};
  for (int i = 0; i < 16; ++i) {
    const F4 ax = std::bit_cast<F4>(std::bit_cast<I4>(x[i]) & 0x7fffffff);
    const I4 larger = ax > amax;
    amax = sel(larger, ax, amax);
    max = sel(larger, x[i], max);
  }
  const I4 zero = amax < 1e-15f;  // GROUP_MAX_EPS: treated as all zero
  auto level = [&](F4 iscale, int i) { return level4(iscale * x[i], -nmax, nmax - 1); };
  F4 iscale = static_cast<float>(-nmax) / max;
  F4 sumlx = {}, suml2 = {};
  for (int i = 0; i < 16; ++i) {
    const I4 l = level(iscale, i);
    L[i] = l + nmax;
    const F4 w = x[i] * x[i];
    const F4 fl = __builtin_convertvector(l, F4);
    sumlx += w * x[i] * fl;
    suml2 += w * fl * fl;
  }
  F4 scale = sel(suml2 != 0, sumlx / suml2, F4{});
  F4 best = scale * sumlx;
  for (int is = -9; is <= 9; ++is) {
    if (is == 0) continue;
    iscale = -(static_cast<float>(nmax) + 0.1f * static_cast<float>(is)) / max;
    I4 laux[16];
    sumlx = suml2 = F4{};
    for (int i = 0; i < 16; ++i) {
      laux[i] = level(iscale, i);
      const F4 w = x[i] * x[i];
      const F4 fl = __builtin_convertvector(laux[i], F4);
      sumlx += w * x[i] * fl;
      suml2 += w * fl * fl;
    }
    const I4 take = (suml2 > 0) & (sumlx * sumlx > best * suml2);
    for (int i = 0; i < 16; ++i) L[i] = sel(take, laux[i] + nmax, L[i]);
    scale = sel(take, sumlx / suml2, scale);
    best = sel(take, scale * sumlx, best);
  }
  for (int i = 0; i < 16; ++i) L[i] = sel(zero, I4{}, L[i]);
  return sel(zero, F4{}, scale);
}

// Q4_K/Q5_K scale bytes: 6-bit scale ls[j] and min lm[j] of 8 sub-blocks in 12 bytes (layout
// in quant.h's unpack_k_scales).
void pack_k_scales(const uint8_t* ls, const uint8_t* lm, uint8_t* s) {
  for (int j = 0; j < 4; ++j) {
    s[j] = static_cast<uint8_t>(ls[j] | ((ls[j + 4] >> 4) << 6));
    s[j + 4] = static_cast<uint8_t>(lm[j] | ((lm[j + 4] >> 4) << 6));
    s[j + 8] = static_cast<uint8_t>((ls[j + 4] & 0x0f) | ((lm[j + 4] & 0x0f) << 4));
  }
}

// What Q4_K and Q5_K share (they differ in nmax and the search grid): fits a scale and min
// per 32-element sub-block (weights |x| + rms of the sub-block), quantizes those to 6 bits
// against the block's largest, writes d, dmin and the scale bytes at y, and requantizes x
// against the stored (rounded) scales into the levels L, which the caller packs.
void quantize_k_scales_and_levels(const float* x, uint8_t* y, uint8_t* L, int nmax, float rmin,
                                  float rdelta, int nstep) {
  float scales[8], mins[8];
  for (int h = 0; h < 8; h += 4) {  // sub-blocks h .. h + 3, lane j sub-block h + j
    F4 xt[32], wt[32];
    for (int j = 0; j < 4; ++j) {
      const float* xb = x + 32 * (h + j);
      float sum_x2 = 0;
      for (int l = 0; l < 32; ++l) sum_x2 += xb[l] * xb[l];
      const float av_x = std::sqrt(sum_x2 / 32.0f);
      for (int l = 0; l < 32; ++l) {
        xt[l][j] = xb[l];
        wt[l][j] = av_x + std::fabs(xb[l]);
      }
    }
    I4 lt[32];
    F4 neg_mins;
    const F4 fit = fit_scale_min4(nmax, xt, wt, lt, neg_mins, rmin, rdelta, nstep);
    for (int j = 0; j < 4; ++j) {
      scales[h + j] = fit[j];
      mins[h + j] = neg_mins[j];
      for (int l = 0; l < 32; ++l) L[32 * (h + j) + l] = static_cast<uint8_t>(lt[l][j]);
    }
  }
  float max_scale = 0, max_min = 0;
  for (int j = 0; j < 8; ++j) {
    if (scales[j] > max_scale) max_scale = scales[j];
    if (mins[j] > max_min) max_min = mins[j];
  }
  const float inv_scale = max_scale > 0 ? 63.0f / max_scale : 0.0f;
  const float inv_min = max_min > 0 ? 63.0f / max_min : 0.0f;
  uint8_t ls[8], lm[8];
  for (int j = 0; j < 8; ++j) {
    // The reference narrows to uint8_t before clamping; keep that for identical bytes.
    ls[j] = std::min<uint8_t>(63, static_cast<uint8_t>(nearest_int(inv_scale * scales[j])));
    lm[j] = std::min<uint8_t>(63, static_cast<uint8_t>(nearest_int(inv_min * mins[j])));
  }
  const uint16_t d16 = float_to_half(max_scale / 63.0f);
  const uint16_t dmin16 = float_to_half(max_min / 63.0f);
  store_u16(y, d16);
  store_u16(y + 2, dmin16);
  pack_k_scales(ls, lm, y + 4);
  const float d = half_to_float(d16), dmin = half_to_float(dmin16);
  for (int j = 0; j < 8; ++j) {
    const float dj = d * static_cast<float>(ls[j]);
    if (dj == 0) continue;  // keeps the levels of the fit
    const float mj = dmin * static_cast<float>(lm[j]);
    for (int i = 0; i < 32; ++i) {
      const int l = nearest_int((x[32 * j + i] + mj) / dj);
      L[32 * j + i] = static_cast<uint8_t>(clamp_int(l, 0, nmax));
    }
  }
}

}  // namespace

// Q4_K, 144 bytes: d, dmin, scales[12], qs[128] (nibble layout in dequantize.cpp).
void quantize_q4_k(const float* x, uint8_t* y, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, x += kQK, y += 144) {
    uint8_t L[kQK];
    quantize_k_scales_and_levels(x, y, L, 15, -1.0f, 0.1f, 20);
    uint8_t* qs = y + 16;
    for (int c = 0; c < 4; ++c)
      for (int l = 0; l < 32; ++l)
        qs[32 * c + l] = static_cast<uint8_t>(L[64 * c + l] | (L[64 * c + l + 32] << 4));
  }
}

// Q5_K, 176 bytes: d, dmin, scales[12], qh[32], qs[128].
void quantize_q5_k(const float* x, uint8_t* y, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, x += kQK, y += 176) {
    uint8_t L[kQK];
    quantize_k_scales_and_levels(x, y, L, 31, -0.5f, 0.1f, 15);
    uint8_t* qh = y + 16;
    uint8_t* qs = y + 48;
    std::memset(qh, 0, 32);
    for (int c = 0; c < 4; ++c) {
      for (int l = 0; l < 32; ++l) {
        const int lo = L[64 * c + l], hi = L[64 * c + l + 32];
        qh[l] = static_cast<uint8_t>(qh[l] | ((lo >> 4) << (2 * c)) | ((hi >> 4) << (2 * c + 1)));
        qs[32 * c + l] = static_cast<uint8_t>((lo & 0x0f) | ((hi & 0x0f) << 4));
      }
    }
  }
}

// Q6_K, 210 bytes: ql[128], qh[64], int8 scales[16], d. Symmetric 6-bit levels per
// 16-element sub-block, sub-block scales quantized to int8 against the largest.
void quantize_q6_k(const float* x, uint8_t* y, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, x += kQK, y += 210) {
    int8_t L[kQK];
    float scales[16];
    float max_scale = 0, max_abs_scale = 0;
    for (int h = 0; h < 16; h += 4) {  // sub-blocks h .. h + 3, lane j sub-block h + j
      F4 xt[16];
      for (int j = 0; j < 4; ++j)
        for (int i = 0; i < 16; ++i) xt[i][j] = x[16 * (h + j) + i];
      I4 lt[16];
      const F4 fit = fit_symmetric_scale4(32, xt, lt);
      for (int j = 0; j < 4; ++j) {
        scales[h + j] = fit[j];
        for (int i = 0; i < 16; ++i) L[16 * (h + j) + i] = static_cast<int8_t>(lt[i][j]);
      }
    }
    for (int ib = 0; ib < 16; ++ib) {
      if (std::fabs(scales[ib]) > max_abs_scale) {
        max_abs_scale = std::fabs(scales[ib]);
        max_scale = scales[ib];
      }
    }
    if (max_abs_scale < 1e-15f) {
      std::memset(y, 0, 210);
      continue;
    }
    const float iscale = -128.0f / max_scale;
    const uint16_t d16 = float_to_half(1 / iscale);
    store_u16(y + 208, d16);
    int8_t* sc = reinterpret_cast<int8_t*>(y + 192);
    for (int ib = 0; ib < 16; ++ib)
      sc[ib] = static_cast<int8_t>(std::min(127, nearest_int(iscale * scales[ib])));
    const float d = half_to_float(d16);
    for (int j = 0; j < 16; ++j) {
      const float dj = d * static_cast<float>(sc[j]);
      if (dj == 0) continue;  // keeps the levels of the fit
      for (int i = 0; i < 16; ++i) {
        const int l = nearest_int(x[16 * j + i] / dj);
        L[16 * j + i] = static_cast<int8_t>(clamp_int(l, -32, 31) + 32);
      }
    }
    uint8_t* ql = y;
    uint8_t* qh = y + 128;
    for (int h = 0; h < 2; ++h) {
      const int8_t* Lh = L + 128 * h;
      for (int l = 0; l < 32; ++l) {
        const int q1 = Lh[l], q2 = Lh[l + 32], q3 = Lh[l + 64], q4 = Lh[l + 96];
        ql[64 * h + l] = static_cast<uint8_t>((q1 & 0x0f) | ((q3 & 0x0f) << 4));
        ql[64 * h + l + 32] = static_cast<uint8_t>((q2 & 0x0f) | ((q4 & 0x0f) << 4));
        qh[32 * h + l] = static_cast<uint8_t>((q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) |
                                              ((q4 >> 4) << 6));
      }
    }
  }
}

// Q8_K, 292 bytes: f32 d, int8 qs[256], int16 bsums[16] (sums of 16 consecutive qs).
// Scaled by the signed largest-magnitude value so that it maps to −127 exactly.
void quantize_q8_k(const float* x, uint8_t* y, int64_t nb) {
  for (int64_t b = 0; b < nb; ++b, x += kQK, y += 292) {
    float max = 0, amax = 0;
    for (int j = 0; j < kQK; ++j) {
      if (std::fabs(x[j]) > amax) {
        amax = std::fabs(x[j]);
        max = x[j];
      }
    }
    int8_t* qs = reinterpret_cast<int8_t*>(y + 4);
    if (amax == 0) {
      // The reference leaves bsums unwritten here; zero is their value for these qs.
      std::memset(y, 0, 292);
      continue;
    }
    const float iscale = -127.0f / max;
    for (int j = 0; j < kQK; ++j)
      qs[j] = static_cast<int8_t>(std::min(127, nearest_int(iscale * x[j])));
    for (int g = 0; g < 16; ++g) {
      int sum = 0;
      for (int i = 0; i < 16; ++i) sum += qs[16 * g + i];
      uint8_t* p = y + 260 + 2 * g;
      const int16_t s16 = static_cast<int16_t>(sum);
      std::memcpy(p, &s16, sizeof s16);
    }
    store_f32(y, 1 / iscale);
  }
}

}  // namespace brickc::quant::detail
