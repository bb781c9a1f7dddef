#!/usr/bin/env python3
"""brickc's quant formats against two independent references, on fresh random data:

  * gguf-py (the `gguf` package, numpy): gguf.quants.dequantize for every type it has, and
    gguf.quants.quantize for the types it can quantize (F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1,
    Q8_0 in gguf 0.19.0);
  * ggml's own C reference, from the libggml-base.so that llama-cpp-python ships:
    dequantize_row_* and quantize_row_*_ref (the k-quants and Q8_K, which gguf-py cannot
    quantize, are checked byte for byte here).

brickc runs through test/tools/quant_tool. Dequantized values must agree bit for bit
(compared as uint32); quantized bytes must be identical; and dequantize(quantize(x)) must
stay within each format's error bound (stated and justified next to each bound below).
Prints per-type numbers and exits non-zero on any failure."""
import ctypes
import importlib.util
import os
import subprocess
import sys

import warnings

import numpy as np
from gguf import GGML_QUANT_SIZES, GGMLQuantizationType as T
from gguf import quants

# numpy warns when casting out-of-range values to float16; those cases are intended.
warnings.filterwarnings("ignore", category=RuntimeWarning)

BIN = os.environ.get("BRICKC_TEST_BIN", "build/bin")
WORK = os.path.join(os.environ.get("BRICKC_WORK", "/tmp/brickc-ref-work"), "quant")
TOOL = os.path.join(BIN, "quant_tool")

DEQUANT_TYPES = ["F32", "F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0",
                 "Q4_K", "Q5_K", "Q6_K", "Q8_K"]
QUANT_TYPES = DEQUANT_TYPES
GGUF_QUANTIZES = {"F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0"}  # (and F32)

# Byte offsets of the fp16 scale fields in each block (ggml-common.h); the rest of a block
# is quant bits, where any byte value is valid.
FP16_SCALES = {"Q4_0": [0], "Q4_1": [0, 2], "Q5_0": [0], "Q5_1": [0, 2], "Q8_0": [0],
               "Q4_K": [0, 2], "Q5_K": [0, 2], "Q6_K": [208]}

failures = []


def check(ok, msg):
    if not ok:
        failures.append(msg)
        print("FAIL:", msg)


# ---------------------------------------------------------------------------- references

def load_ggml():
    spec = importlib.util.find_spec("llama_cpp")
    if spec is None:
        sys.exit("llama-cpp-python is not installed in this venv (scripts/requirements.txt)")
    path = os.path.join(spec.submodule_search_locations[0], "lib", "libggml-base.so")
    lib = ctypes.CDLL(path)
    for fn in ["ggml_fp16_to_fp32_row", "ggml_fp32_to_fp16_row", "ggml_bf16_to_fp32_row",
               "ggml_fp32_to_bf16_row_ref"]:
        getattr(lib, fn).argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64]
        getattr(lib, fn).restype = None
    for t in DEQUANT_TYPES[3:]:
        name = t.lower().replace("_k", "_K")
        for fn in [f"dequantize_row_{name}", f"quantize_row_{name}_ref"]:
            getattr(lib, fn).argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64]
            getattr(lib, fn).restype = None
    return lib


GGML = load_ggml()


def ggml_dequant(t, raw):
    n = raw.size // GGML_QUANT_SIZES[T[t]][1] * GGML_QUANT_SIZES[T[t]][0]
    out = np.zeros(n, dtype=np.float32)
    raw = np.ascontiguousarray(raw)
    fn = {"F32": None, "F16": "ggml_fp16_to_fp32_row", "BF16": "ggml_bf16_to_fp32_row"}.get(
        t, "dequantize_row_" + t.lower().replace("_k", "_K"))
    if fn is None:
        return raw.view(np.float32).copy()
    getattr(GGML, fn)(raw.ctypes.data, out.ctypes.data, n)
    return out


def ggml_quant(t, x):
    x = np.ascontiguousarray(x, dtype=np.float32).ravel()
    bs, ts = GGML_QUANT_SIZES[T[t]]
    # Zeroed: ggml's Q8_K leaves the bsums of all-zero blocks unwritten (brickc writes 0).
    out = np.zeros(x.size // bs * ts, dtype=np.uint8)
    fn = {"F32": None, "F16": "ggml_fp32_to_fp16_row", "BF16": "ggml_fp32_to_bf16_row_ref"}.get(
        t, "quantize_row_" + t.lower().replace("_k", "_K") + "_ref")
    if fn is None:
        return x.view(np.uint8).copy()
    getattr(GGML, fn)(x.ctypes.data, out.ctypes.data, x.size)
    return out


def q8k_dequant_numpy(raw):
    # gguf-py has no Q8_K; the format is y = d·q with an f32 d (292-byte blocks).
    blocks = raw.reshape(-1, 292)
    d = blocks[:, :4].copy().view(np.float32)
    q = blocks[:, 4:260].copy().view(np.int8).astype(np.float32)
    return (d * q).ravel()


def run_tool(mode, t, data, suffix):
    os.makedirs(WORK, exist_ok=True)
    src = os.path.join(WORK, f"{t}.{mode}.{suffix}.in")
    dst = os.path.join(WORK, f"{t}.{mode}.{suffix}.out")
    np.ascontiguousarray(data).tofile(src)
    if os.path.exists(dst):
        os.remove(dst)
    r = subprocess.run([TOOL, mode, t, src, dst], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"quant_tool {mode} {t} failed ({r.returncode}): {r.stderr.strip()}")
    return np.fromfile(dst, dtype=np.float32 if mode == "dequant" else np.uint8)


def bits(a):
    return np.ascontiguousarray(a, dtype=np.float32).view(np.uint32)


# ---------------------------------------------------------------------------- dequantize

def random_fp16_scales(rng, n):
    """Finite fp16 scales: mostly log-uniform over realistic magnitudes (2^-20 .. 2^4) with
    random sign, plus zeros, subnormals and large normals up to 65504."""
    mag = np.exp2(rng.uniform(-20, 4, n))
    h = (mag * rng.choice([-1.0, 1.0], n)).astype(np.float16).view(np.uint16)
    kind = rng.random(n)
    sign = rng.integers(0, 2, n).astype(np.uint16) << 15
    h = np.where(kind < 0.05, sign, h)                                        # ±0
    h = np.where((kind >= 0.05) & (kind < 0.12),
                 sign | rng.integers(1, 0x400, n).astype(np.uint16), h)       # subnormal
    h = np.where((kind >= 0.12) & (kind < 0.17),
                 sign | rng.integers(0x4c00, 0x7c00, n).astype(np.uint16), h)  # 2^4..65504
    return h.astype(np.uint16)


def dequant_input(rng, t):
    if t == "F32":  # every bit pattern (NaNs included): dequantizing F32 is a copy
        return rng.integers(0, 2**32, 1 << 18, dtype=np.uint64).astype(np.uint32).view(np.uint8)
    if t in ("F16", "BF16"):  # all 65536 patterns, then random ones
        allp = np.arange(65536, dtype=np.uint16)
        return np.concatenate([allp, rng.integers(0, 65536, 1 << 17).astype(np.uint16)]).view(np.uint8)
    bs, ts = GGML_QUANT_SIZES[T[t]]
    nblocks = 4096
    raw = rng.integers(0, 256, (nblocks, ts), dtype=np.uint8)
    if t == "Q8_K":  # f32 d: log-uniform 2^-30 .. 2^10 with sign, some zeros and subnormals
        d = (np.exp2(rng.uniform(-30, 10, nblocks)) * rng.choice([-1.0, 1.0], nblocks)).astype(np.float32)
        kind = rng.random(nblocks)
        d = np.where(kind < 0.05, np.float32(0), d)
        d = np.where((kind >= 0.05) & (kind < 0.1),
                     rng.integers(1, 1 << 23, nblocks).astype(np.uint32).view(np.float32), d)
        raw[:, :4] = d.astype(np.float32).view(np.uint8).reshape(nblocks, 4)
    else:
        for off in FP16_SCALES[t]:
            raw[:, off:off + 2] = random_fp16_scales(rng, nblocks).view(np.uint8).reshape(nblocks, 2)
    return raw.ravel()


def test_dequantize(rng):
    print("== dequantize: brickc vs gguf-py and ggml, bit for bit ==")
    print(f"{'type':6} {'blocks':>8} {'values':>9} {'!=gguf':>7} {'!=ggml':>7}  notes")
    for t in DEQUANT_TYPES:
        raw = dequant_input(rng, t)
        bs, ts = GGML_QUANT_SIZES[T[t]]
        ours = run_tool("dequant", t, raw, "rand")
        check(ours.size == raw.size // ts * bs, f"dequant {t}: {ours.size} values out")
        notes = ""
        if t == "Q8_K":
            ref = q8k_dequant_numpy(raw)
            notes = "gguf-py has no Q8_K: numpy d*q stands in"
        else:
            ref = quants.dequantize(raw, T[t]).ravel()
        bad_gguf = int(np.count_nonzero(bits(ours) != bits(ref)))
        g = ggml_dequant(t, raw)
        if t == "F16":
            # ggml's fp16->f32 quiets signalling NaNs (it multiplies); numpy and brickc keep
            # the bits. Compare NaNs by NaN-ness and sign, everything else bit for bit.
            nan = np.isnan(g)
            bad_ggml = int(np.count_nonzero((bits(ours) != bits(g)) & ~nan)
                           + np.count_nonzero(nan & ~(np.isnan(ours) & (np.signbit(ours) == np.signbit(g)))))
            notes = f"{int(nan.sum())} NaN inputs compared by NaN-ness+sign vs ggml"
        else:
            bad_ggml = int(np.count_nonzero(bits(ours) != bits(g)))
        print(f"{t:6} {raw.size // ts:8d} {ours.size:9d} {bad_gguf:7d} {bad_ggml:7d}  {notes}")
        check(bad_gguf == 0, f"dequant {t}: {bad_gguf} values differ from gguf-py")
        check(bad_ggml == 0, f"dequant {t}: {bad_ggml} values differ from ggml")


# ---------------------------------------------------------------------------- quantize

ROW = 4096  # a row is 16 super-blocks / 128 small blocks


def distributions(rng):
    """(name, rows, kquant_rmse_bound). The k-quant RMSE bound is skipped only for 'tiny',
    where their fp16 super-block scales underflow (a property of the format)."""
    r = 16
    out = []
    out.append(("gauss", rng.normal(0, 0.02, (r, ROW)), True))
    out.append(("uniform", rng.uniform(-1, 1, (r, ROW)), True))
    x = rng.normal(0, 1, (r, ROW))
    spikes = rng.random((r, ROW)) < 0.01
    x[spikes] *= 50
    out.append(("outliers", x, True))
    out.append(("laplace", rng.laplace(0, 0.1, (r, ROW)), True))
    out.append(("shifted", rng.normal(3, 0.5, (r, ROW)) * rng.choice([-1, 1], (r, 1)), True))
    # Structured blocks: all-zero, constant, one spike in zeros, all-positive, all-negative,
    # and values with exact .5 ties after scaling, one block pattern per 256 elements.
    s = rng.normal(0, 1, (r, ROW))
    blocks = s.reshape(r, ROW // 256, 256)
    blocks[:, 0] = 0
    blocks[:, 1] = rng.normal(0, 1, (r, 1))
    blocks[:, 2] = 0
    blocks[:, 2, 17] = rng.normal(0, 1, r)
    blocks[:, 3] = np.abs(blocks[:, 3])
    blocks[:, 4] = -np.abs(blocks[:, 4])
    blocks[:, 5] = rng.integers(-16, 16, (r, 256)) * 0.5
    blocks[:, 6, :128] = 0
    out.append(("special", s, True))
    out.append(("tiny", rng.normal(0, 1e-6, (r, ROW)), False))
    return [(n, x.astype(np.float32), b) for n, x, b in out]


def f16_specials(rng):
    """Rows for F16/BF16 only: ties, overflow, f32 and fp16 subnormals, ±0, ±inf."""
    v = [0.0, -0.0, np.inf, -np.inf, 65504.0, 65519.99, 65520.0, 1e6, 2.0**-24, 2.0**-25,
         3 * 2.0**-25, 2.0**-14, 1 + 2.0**-11, 1 + 3 * 2.0**-11, 1e-40, -1e-45]
    base = np.array(v, dtype=np.float32)
    # random f32 bit patterns excluding NaN (NaN handling is checked against ggml below)
    r = rng.integers(0, 2**32, ROW * 4 - base.size, dtype=np.uint64).astype(np.uint32).view(np.float32)
    r = np.where(np.isnan(r), np.float32(1), r)
    return np.concatenate([base, r]).astype(np.float32).reshape(4, ROW)


def blockwise(x, size):
    return x.reshape(-1, size).astype(np.float64)


def fp16_dq(h):
    return h.view(np.float16).astype(np.float64)


def error_bound(t, x, raw):
    """Per-element bound on |dequantize(quantize(x)) - x| for the 32-element formats, F16,
    BF16 and Q8_K; None for the k-quants (RMSE check instead)."""
    ax = np.abs(x.astype(np.float64))
    if t == "F32":
        return np.zeros_like(ax)
    if t == "F16":  # round to nearest: half an ulp, 2^-11 relative, 2^-25 in the subnormals
        return np.maximum(ax * 2.0**-11, 2.0**-25)
    if t == "BF16":  # 8 significant bits: half an ulp is 2^-8 relative, 2^-134 in the subnormals
        return np.maximum(ax * 2.0**-8, 2.0**-134)
    bs, ts = GGML_QUANT_SIZES[T[t]]
    xb = blockwise(x, bs)
    blk = raw.reshape(-1, ts)
    amax = np.abs(xb).max(axis=1)
    eps = 2.0**-23 * amax  # float32 rounding of x*id and of the dequantizing multiply
    if t == "Q8_0":
        # q = round(x/d), d = amax/127: rounding error <= d/2; the block stores d rounded to
        # fp16 (d16), which moves each value by |q|·|d16 - d| <= 127·|d16 - d|.
        d = amax / 127
        d16 = np.abs(fp16_dq(blk[:, :2].copy()).ravel())
        b = d * (0.5 + 1e-5) + 127 * np.abs(d16 - d) + eps
    elif t in ("Q4_0", "Q5_0"):
        # d = max/-k (k = 8 or 16) puts the largest-magnitude value on level -k exactly;
        # levels run -k..k-1, so values of the other sign beyond (k-0.5)·|d| are clamped to
        # k-1 and can be off by up to one step |d|; all others by at most |d|/2. The
        # per-element check below uses |d|/2 outside that clamp zone and |d| inside it.
        k = 8 if t == "Q4_0" else 16
        d = amax / k
        d16 = np.abs(fp16_dq(blk[:, :2].copy()).ravel())
        b = d * (1 + 1e-5) + k * np.abs(d16 - d) + eps
        # tighter where no clamping can happen
        imax = np.abs(xb).argmax(axis=1)
        smax = np.sign(xb[np.arange(xb.shape[0]), imax])
        t_ = xb * (-smax[:, None]) / np.where(d == 0, 1, d)[:, None]  # = x/d_signed
        half = (d * (0.5 + 1e-5) + k * np.abs(d16 - d) + eps)[:, None] * np.ones_like(xb)
        full = b[:, None] * np.ones_like(xb)
        return np.where(t_ > k - 0.5 - 1e-4, full, half).ravel()
    elif t in ("Q4_1", "Q5_1"):
        # d = (max-min)/k, levels 0..k above min: rounding error <= d/2; the stored d16 and
        # m16 (fp16) move a value by at most k·|d16-d| + |m16-min|.
        k = 15 if t == "Q4_1" else 31
        mx, mn = xb.max(axis=1), xb.min(axis=1)
        d = (mx - mn) / k
        d16 = fp16_dq(blk[:, :2].copy()).ravel()
        m16 = fp16_dq(blk[:, 2:4].copy()).ravel()
        b = d * (0.5 + 1e-5) + k * np.abs(d16 - d) + np.abs(m16 - mn) + 2.0**-23 * (np.abs(mx) + np.abs(mn))
    elif t == "Q8_K":
        # d = max/-127 stored as f32; levels -127..127 cover the block: error <= |d|/2.
        b = amax / 127 * (0.5 + 1e-5) + eps
    else:
        return None
    return np.repeat(b, bs)


# K-quant RMSE bounds. The reference for each sub-block is an ideal uniform quantizer with
# exact scales over the sub-block's range: step D = (max - min(min,0))/nmax for the
# asymmetric Q4_K (nmax 15) and Q5_K (31) on 32 values, D = amax/32 for Q6_K on 16 values
# (levels -32..31). Its error is uniform on [-D/2, D/2], so
# RMSE_ideal = sqrt(mean(D^2/12)). The k-quant search fits scale and min by least squares
# (which can only lower the error at the chosen levels), but then stores the sub-block
# scales and mins with 6 bits (Q4_K/Q5_K) or 8 bits (Q6_K) relative to the super-block's
# largest, and requantizes against those rounded values: small sub-blocks in a super-block
# with a large one get a coarser relative scale, and clamping at the ends of their shifted
# range. The refit wins: measured ratios are 0.7-0.95 on every distribution here, so a
# ratio above 1.2 means the search or the scale packing is broken, not unlucky data.
# (Q8_K has no search and no packed scales: it gets the elementwise |d|/2 bound instead.)
KQ_GEOMETRY = {"Q4_K": (32, 15, True), "Q5_K": (32, 31, True), "Q6_K": (16, 32, False)}
KQ_FACTOR = {"Q4_K": 1.2, "Q5_K": 1.2, "Q6_K": 1.2}


def ideal_rmse(t, x):
    size, nmax, asym = KQ_GEOMETRY[t]
    xb = blockwise(x, size)
    if asym:
        D = (xb.max(axis=1) - np.minimum(xb.min(axis=1), 0)) / nmax
    else:
        D = np.abs(xb).max(axis=1) / nmax
    return float(np.sqrt(np.mean(D ** 2 / 12)))


def test_quantize(rng):
    print("\n== quantize: brickc vs gguf-py and ggml bytes; round-trip error ==")
    dists = distributions(rng)
    print(f"{'type':6} {'dist':9} {'blocks':>6} {'!=gguf':>7} {'!=ggml':>7} "
          f"{'max|err|':>10} {'rmse':>10} {'rmse/rms':>9} {'bound':>22}")
    for t in QUANT_TYPES:
        bs, ts = GGML_QUANT_SIZES[T[t]]
        rows = list(dists)
        if t in ("F16", "BF16"):
            rows.append(("specials", f16_specials(rng), True))
        x_all = np.concatenate([x for _, x, _ in rows], axis=0)
        ours_all = run_tool("quant", t, x_all, "rand").reshape(x_all.shape[0], -1)
        ggml_all = ggml_quant(t, x_all).reshape(x_all.shape[0], -1)
        deq_all = run_tool("dequant", t, ours_all, "rt").reshape(x_all.shape)
        r0 = 0
        for name, x, want_bound in rows:
            r1 = r0 + x.shape[0]
            ours, deq = ours_all[r0:r1], deq_all[r0:r1]
            nblocks = x.size // bs
            bad_ggml = int(np.count_nonzero(ours != ggml_all[r0:r1]))
            bad_gguf = "-"
            if t in GGUF_QUANTIZES or t == "F32":
                ref = quants.quantize(x, T[t]).view(np.uint8).reshape(ours.shape)
                bad_gguf = int(np.count_nonzero(ours != ref))
                check(bad_gguf == 0, f"quant {t} {name}: {bad_gguf} bytes differ from gguf-py")
            check(bad_ggml == 0, f"quant {t} {name}: {bad_ggml} bytes differ from ggml's "
                                 f"quantize_row_{t}_ref")
            # The round trip through gguf-py's dequantizer must give the same values too.
            if t != "Q8_K":
                rt = quants.dequantize(ours.ravel(), T[t]).ravel()
                check(np.array_equal(bits(rt), bits(deq.ravel())),
                      f"quant {t} {name}: gguf-py dequantizes our bytes differently")
            x64, d64 = x.astype(np.float64).ravel(), deq.astype(np.float64).ravel()
            finite = np.isfinite(x64)
            if t in ("F16", "BF16"):
                # Beyond the largest finite value plus half an ulp, rounding gives inf.
                lim = 65520.0 if t == "F16" else float(np.array([0x7f7f8000], np.uint32).view(np.float32)[0])
                ovf = finite & (np.abs(x64) >= lim)
                check(bool(np.all(np.isinf(d64[ovf]) & (np.sign(d64[ovf]) == np.sign(x64[ovf])))),
                      f"quant {t} {name}: values beyond the range do not become inf")
                finite &= ~ovf
            err = np.abs(d64 - x64)[finite]
            maxerr = float(err.max()) if err.size else 0.0
            rmse = float(np.sqrt(np.mean(err ** 2))) if err.size else 0.0
            rms = float(np.sqrt(np.mean(x64[finite] ** 2))) if err.size else 0.0
            rel = rmse / rms if rms > 0 else 0.0
            desc = "bytes only"
            b = error_bound(t, x.ravel(), ours.ravel())
            if b is not None or want_bound:
                if b is not None:
                    over = int(np.count_nonzero(err > b[finite]))
                    desc = f"elementwise, {over} over"
                    check(over == 0, f"quant {t} {name}: {over} elements exceed the error bound "
                                     f"(worst {float((err - b[finite]).max()):.3g} over)")
                else:
                    ideal = ideal_rmse(t, x.ravel())
                    ratio = rmse / ideal if ideal > 0 else 0.0
                    desc = f"rmse/ideal {ratio:.3f} <= {KQ_FACTOR[t]}"
                    check(rmse <= KQ_FACTOR[t] * ideal + 1e-12,
                          f"quant {t} {name}: rmse {rmse:.4g} > {KQ_FACTOR[t]} x ideal {ideal:.4g}")
            print(f"{t:6} {name:9} {nblocks:6d} {bad_gguf!s:>7} {bad_ggml:7d} "
                  f"{maxerr:10.3g} {rmse:10.3g} {rel:9.3g} {desc:>22}")
            r0 = r1


def test_nan_narrowing(rng):
    # NaN in, NaN out, with ggml's rules: f16 gets the canonical 0x7e00 (sign kept), bf16 the
    # top bits forced quiet. gguf-py's numpy cast keeps NaN payloads, so ggml is the reference.
    print("\n== f32 NaN -> F16/BF16 vs ggml ==")
    nans = (rng.integers(0x7f800001, 0x80000000, ROW, dtype=np.uint64).astype(np.uint32)
            | (rng.integers(0, 2, ROW).astype(np.uint32) << 31)).view(np.float32)
    for t in ("F16", "BF16"):
        ours = run_tool("quant", t, nans, "nan")
        bad = int(np.count_nonzero(ours != ggml_quant(t, nans)))
        print(f"{t}: {ROW} NaNs, {bad} bytes differ from ggml")
        check(bad == 0, f"quant {t}: NaN handling differs from ggml in {bad} bytes")


def main():
    if not os.path.exists(TOOL):
        sys.exit(f"{TOOL} not found: build the quant_tool target")
    seed = int.from_bytes(os.urandom(4), "little")
    print(f"seed {seed}")
    rng = np.random.default_rng(seed)
    test_dequantize(rng)
    test_quantize(rng)
    test_nan_narrowing(rng)
    if failures:
        print(f"\n{len(failures)} failure(s) (seed {seed})")
        sys.exit(1)
    print("\nall quant checks passed")


if __name__ == "__main__":
    main()
