"""Synthetic weights give peaked next-token distributions under llama.cpp: over >= 128
positions of random prompts the mean top-1 probability is far above uniform (> 50/n_vocab),
yet the model is not degenerate: the argmax varies, top-1 < 0.999 on average, and the
argmax is rarely just the input token echoed back (a failure mode of tied embeddings)."""
import os
import subprocess
import sys

import llama_cpp
import numpy as np

BRICKC = os.environ["BRICKC"]
WORK = os.environ.get("BRICKC_WORK", "/tmp/brickc-ref")
os.makedirs(WORK, exist_ok=True)

rng = np.random.default_rng()
failures = []


def measure(model, quant, extra=()):
    seed = int(rng.integers(0, 2**31))
    path = os.path.join(WORK, f"synth_peaked_{model}_{quant}.gguf")
    subprocess.run([BRICKC, "synth", "--model", model, "--quant", quant, "--seed", str(seed),
                    "-t", "2", "-o", path, *extra], check=True, stdout=subprocess.DEVNULL)
    llm = llama_cpp.Llama(model_path=path, n_ctx=256, logits_all=True, n_threads=2, verbose=False)
    n_vocab = llm.n_vocab()
    # Prompts from the real (non-special, non-pad) tokens: the generated vocabulary has at
    # most 8192 tokens, its 22 special tokens last.
    n_real = min(n_vocab, 8192) - 22
    top1, argmax, echoed = [], [], 0
    for _ in range(2):
        ids = rng.integers(0, n_real, 96).tolist()
        llm.reset()
        llm.eval(ids)
        logits = np.asarray(llm.scores[: len(ids)], dtype=np.float64)
        p = np.exp(logits - logits.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        top1.extend(p.max(axis=1))
        argmax.extend(p.argmax(axis=1))
        echoed += int(np.sum(p.argmax(axis=1) == np.asarray(ids)))
    del llm
    os.remove(path)
    mean_top1 = float(np.mean(top1))
    distinct = len(set(argmax))
    echo = echoed / len(argmax)
    print(f"{model} {quant} seed {seed}: n_vocab {n_vocab}, {len(top1)} positions, mean top-1 "
          f"{mean_top1:.3f} (uniform {1 / n_vocab:.2e}, ratio {mean_top1 * n_vocab:.0f}x), "
          f"{distinct} distinct argmax, echo {echo:.2f}")
    if not mean_top1 > 50 / n_vocab:
        failures.append(f"{model}: mean top-1 {mean_top1:.4f} not above 50x uniform")
    if not mean_top1 < 0.999:
        failures.append(f"{model}: mean top-1 {mean_top1:.4f}: distributions are one-hot")
    if distinct < len(argmax) // 4:
        failures.append(f"{model}: only {distinct} distinct argmax tokens over {len(argmax)} positions")
    if echo > 0.2:
        failures.append(f"{model}: argmax echoes the input token at {echo:.0%} of positions")


measure("test-tiny", "q4_k_m")
measure("test-small", "q4_k_m")
measure("test-fallback", "q8_0")
measure("qwen2.5-coder-0.5b", "q4_0", ["--layers", "2"])

if failures:
    print("FAIL:\n  " + "\n  ".join(failures))
    sys.exit(1)
print("PASS")
