// The portable kernels: each weight block is unpacked to small integers, dotted with the
// activation block in int32, and scaled in f32. Slow but obvious; the SIMD kernels must
// agree with these (test/unit/cpu_qdot_test.cpp).
#include <cstring>

#include "frontend/quant/quant.h"
#include "runtime/cpu/simd/qdot.h"

namespace brickc::cpu::simd {
namespace {

float f32(const uint8_t* p) {
  float f;
  std::memcpy(&f, p, sizeof f);
  return f;
}

int16_t i16(const uint8_t* p) {
  int16_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

int32_t idot(const int8_t* a, const int8_t* b, int n) {
  int32_t s = 0;
  for (int i = 0; i < n; ++i) s += int32_t{a[i]} * int32_t{b[i]};
  return s;
}

// Q8_0 activation block: f16 d, int8 qs[32].
const int8_t* q8_0_qs(const uint8_t* x) { return reinterpret_cast<const int8_t*>(x + 2); }

// The 32 quants of a Q4_0/Q4_1 (bits = 4) or Q5_0/Q5_1 block, minus `offset`.
void unpack_small(const uint8_t* qs, uint32_t qh, int offset, int8_t* q) {
  for (int j = 0; j < 16; ++j) {
    q[j] = static_cast<int8_t>((qs[j] & 0x0f) + ((qh >> j) & 1) * 16 - offset);
    q[j + 16] = static_cast<int8_t>((qs[j] >> 4) + ((qh >> (j + 16)) & 1) * 16 - offset);
  }
}

// Formats with a 32-element block: value = d·q (+ m), layout d, [m], [qh], qs[16 or 32].
template <DType T>
float dot1_small(const uint8_t* w, const uint8_t* x, int64_t step, int64_t n) {
  constexpr bool has_min = T == DType::Q4_1 || T == DType::Q5_1;
  constexpr bool five = T == DType::Q5_0 || T == DType::Q5_1;
  constexpr int block = T == DType::Q8_0 ? 34 : 2 + (has_min ? 2 : 0) + (five ? 4 : 0) + 16;
  float sum = 0;
  for (int64_t b = 0; b < n / 32; ++b, w += block, x += step) {
    const float d = quant::load_fp16(w) * quant::load_fp16(x);
    const int8_t* xq = q8_0_qs(x);
    int8_t q[32];
    if constexpr (T == DType::Q8_0) {
      std::memcpy(q, w + 2, 32);
    } else {
      const uint8_t* p = w + (has_min ? 4 : 2);
      uint32_t qh = 0;
      if constexpr (five) {
        std::memcpy(&qh, p, 4);
        p += 4;
      }
      unpack_small(p, qh, has_min ? 0 : (five ? 16 : 8), q);
    }
    sum += d * static_cast<float>(idot(q, xq, 32));
    if constexpr (has_min) {
      int32_t xs = 0;
      for (int i = 0; i < 32; ++i) xs += xq[i];
      sum += quant::load_fp16(w + 2) * quant::load_fp16(x) * static_cast<float>(xs);
    }
  }
  return sum;
}

// Q8_K activation block: f32 d, int8 qs[256], int16 bsums[16] (sums of 16 quants).
const int8_t* q8_k_qs(const uint8_t* x) { return reinterpret_cast<const int8_t*>(x + 4); }
int32_t q8_k_bsum(const uint8_t* x, int g) { return i16(x + 260 + 2 * g); }

// Q4_K (144 bytes: d, dmin, scales[12], qs[128]) and Q5_K (176: + qh[32] before qs):
// value = d·sc·q − dmin·m per 32-element sub-block.
template <bool Five>
float dot1_q45_k(const uint8_t* w, const uint8_t* x, int64_t step, int64_t n) {
  float sum = 0;
  for (int64_t b = 0; b < n / 256; ++b, w += Five ? 176 : 144, x += step) {
    uint8_t sc[8], m[8];
    quant::unpack_k_scales(w + 4, sc, m);
    const uint8_t* qh = w + 16;
    const uint8_t* qs = w + (Five ? 48 : 16);
    const int8_t* xq = q8_k_qs(x);
    int32_t isum = 0, msum = 0;
    for (int c = 0; c < 4; ++c) {
      int8_t lo[32], hi[32];
      for (int l = 0; l < 32; ++l) {
        lo[l] = static_cast<int8_t>(qs[32 * c + l] & 0x0f);
        hi[l] = static_cast<int8_t>(qs[32 * c + l] >> 4);
        if (Five) {
          lo[l] = static_cast<int8_t>(lo[l] + ((qh[l] >> (2 * c)) & 1) * 16);
          hi[l] = static_cast<int8_t>(hi[l] + ((qh[l] >> (2 * c + 1)) & 1) * 16);
        }
      }
      isum += sc[2 * c] * idot(lo, xq + 64 * c, 32) + sc[2 * c + 1] * idot(hi, xq + 64 * c + 32, 32);
    }
    for (int j = 0; j < 8; ++j) msum += m[j] * (q8_k_bsum(x, 2 * j) + q8_k_bsum(x, 2 * j + 1));
    const float dx = f32(x);
    sum += quant::load_fp16(w) * dx * static_cast<float>(isum) -
           quant::load_fp16(w + 2) * dx * static_cast<float>(msum);
  }
  return sum;
}

// Q6_K, 210 bytes: ql[128], qh[64], int8 scales[16], d; value = d·sc·(q − 32) per
// 16-element sub-block (element e is in sub-block e/16).
float dot1_q6_k(const uint8_t* w, const uint8_t* x, int64_t step, int64_t n) {
  float sum = 0;
  for (int64_t b = 0; b < n / 256; ++b, w += 210, x += step) {
    int8_t q[256];
    for (int h = 0; h < 2; ++h) {
      const uint8_t* ql = w + 64 * h;
      const uint8_t* qh = w + 128 + 32 * h;
      for (int l = 0; l < 32; ++l) {
        q[128 * h + l] = static_cast<int8_t>((ql[l] & 0x0f) | ((qh[l] & 3) << 4));
        q[128 * h + l + 32] = static_cast<int8_t>((ql[l + 32] & 0x0f) | (((qh[l] >> 2) & 3) << 4));
        q[128 * h + l + 64] = static_cast<int8_t>((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4));
        q[128 * h + l + 96] = static_cast<int8_t>((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4));
      }
    }
    const int8_t* sc = reinterpret_cast<const int8_t*>(w + 192);
    const int8_t* xq = q8_k_qs(x);
    int32_t isum = 0;
    for (int k = 0; k < 16; ++k)
      isum += sc[k] * (idot(q + 16 * k, xq + 16 * k, 16) - 32 * q8_k_bsum(x, k));
    sum += quant::load_fp16(w + 208) * f32(x) * static_cast<float>(isum);
  }
  return sum;
}

// Token by token: the portable set is the reference, not the fast path.
template <float (*Dot1)(const uint8_t*, const uint8_t*, int64_t, int64_t), int64_t kBlockBytes>
void dot(const uint8_t* w, const QActivations& x, int nt, int64_t n, float* out) {
  for (int t = 0; t < nt; ++t) out[t] = Dot1(w, x.q + kBlockBytes * t, kBlockBytes * x.pitch, n);
}

}  // namespace

DotFn portable_kernel(DType weight) {
  switch (weight) {
    case DType::Q4_0: return dot<dot1_small<DType::Q4_0>, 34>;
    case DType::Q4_1: return dot<dot1_small<DType::Q4_1>, 34>;
    case DType::Q5_0: return dot<dot1_small<DType::Q5_0>, 34>;
    case DType::Q5_1: return dot<dot1_small<DType::Q5_1>, 34>;
    case DType::Q8_0: return dot<dot1_small<DType::Q8_0>, 34>;
    case DType::Q4_K: return dot<dot1_q45_k<false>, 292>;
    case DType::Q5_K: return dot<dot1_q45_k<true>, 292>;
    case DType::Q6_K: return dot<dot1_q6_k, 292>;
    default: return nullptr;
  }
}

}  // namespace brickc::cpu::simd
