"""brickc synth's per-tensor types against llama.cpp's own quantizer: an f16 file of each
shape is quantized by llama_model_quantize (llama-cpp-python) to every mix brickc
synthesizes, and every tensor of `brickc synth --quant <mix>` of the same shape must have
the type llama.cpp gave it. The shapes cover a tied and an untied output, rows that are
not whole K-quant super-blocks (the fallbacks) and the more-bits layers of the _M mixes."""
import ctypes
import os
import subprocess
import sys

import gguf
import llama_cpp

BRICKC = os.environ["BRICKC"]
WORK = os.environ.get("BRICKC_WORK", "/tmp/brickc-ref")
os.makedirs(WORK, exist_ok=True)

# brickc's mix name -> llama.cpp's file type.
MIXES = {
    "q4_k_m": llama_cpp.LLAMA_FTYPE_MOSTLY_Q4_K_M,
    "q5_k_m": llama_cpp.LLAMA_FTYPE_MOSTLY_Q5_K_M,
    "q6_k": llama_cpp.LLAMA_FTYPE_MOSTLY_Q6_K,
    "q4_0": llama_cpp.LLAMA_FTYPE_MOSTLY_Q4_0,
    "q4_1": llama_cpp.LLAMA_FTYPE_MOSTLY_Q4_1,
    "q5_0": llama_cpp.LLAMA_FTYPE_MOSTLY_Q5_0,
    "q5_1": llama_cpp.LLAMA_FTYPE_MOSTLY_Q5_1,
    "q8_0": llama_cpp.LLAMA_FTYPE_MOSTLY_Q8_0,
    "f16": llama_cpp.LLAMA_FTYPE_MOSTLY_F16,
    "f32": llama_cpp.LLAMA_FTYPE_ALL_F32,
}
# (preset, extra synth flags): test-small has an untied output and 512-wide rows;
# test-fallback is tied with 384-wide rows; the 0.5B's 896-wide rows over 8 layers put
# the more-bits rule on layers 0, 3, 6 and 7.
SHAPES = [
    ("test-small", []),
    ("test-fallback", []),
    ("qwen2.5-coder-0.5b", ["--layers", "8", "--vocab-size", "1024"]),
]


def synth(model, quant, flags, name="synth"):
    out = os.path.join(WORK, f"quantize_{name}_{model}_{quant}.gguf")
    subprocess.run([BRICKC, "synth", "--model", model, "--quant", quant, "-t", "2", "-o", out]
                   + flags, check=True, stdout=subprocess.DEVNULL)
    return out


def llama_quantize(src, ftype, out):
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = ftype
    params.nthread = 2
    rc = llama_cpp.llama_model_quantize(src.encode(), out.encode(), ctypes.byref(params))
    if rc != 0:
        raise RuntimeError(f"llama_model_quantize({src} -> {out}) returned {rc}")
    return out


def types(path):
    """Each tensor's type; the file is removed (the 0.5B shape's f32 file is 460 MB)."""
    found = {t.name: t.tensor_type.name for t in gguf.GGUFReader(path).tensors}
    os.remove(path)
    return found


def main():
    failures, compared = [], 0
    for model, flags in SHAPES:
        src = synth(model, "f16", flags, name="source")
        for mix, ftype in MIXES.items():
            want = types(llama_quantize(src, ftype, os.path.join(WORK, "quantize_llama.gguf")))
            got = types(synth(model, mix, flags))
            if set(got) != set(want):
                failures.append(f"{model} {mix}: tensor names differ: {sorted(set(got) ^ set(want))}")
                continue
            wrong = [f"{n}: brickc {got[n]}, llama.cpp {want[n]}" for n in sorted(got) if got[n] != want[n]]
            if wrong:
                failures.append(f"{model} {mix}: {len(wrong)} of {len(got)} types differ: " +
                                "; ".join(wrong[:6]))
            compared += len(got)
            print(f"{model} {mix}: {len(got)} tensors, {len(wrong)} types differ "
                  f"({', '.join(sorted(set(want.values())))})")
        os.remove(src)
    print(f"{compared} tensors compared")
    for f in failures:
        print("FAIL:", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
