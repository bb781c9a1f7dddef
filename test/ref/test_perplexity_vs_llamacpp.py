#!/usr/bin/env python3
"""`brickc perplexity` against llama.cpp's perplexity (llama-cpp-python) on the same file.

A `brickc synth` model with the real Qwen2.5 vocabulary and a few thousand characters of
Python-like code generated here from a fixed seed. llama.cpp tokenizes the text as
llama-perplexity does (its special tokens added per the vocabulary, special-token texts not
parsed): the token count must equal the one brickc prints. Each chunk of N_CTX tokens is
then evaluated fresh with the logits of every position, positions N_CTX/2 .. N_CTX-2 scored
by -log softmax[next token] in float64, exactly llama-perplexity's formula. brickc's
running and final PPL and its +/- must be within 1 % of llama.cpp's. The weights are F16
and llama.cpp's KV cache F32, so that only its rounding of matmul inputs to F16 separates
the logits from brickc's f32 ones (measured: 0.02 % on the final PPL; with Q8_0 weights and
an F16 cache one chunk differed by 2 %). The random weights make the distributions peaked
and wrong about real text, so the PPL is huge (about 1e24): a misplaced scoring position
or a token missing from a chunk changes it by far more than 1 %.
"""
import json
import os
import random
import re
import subprocess
import sys

import llama_cpp
import numpy as np

BRICKC = os.environ["BRICKC"]
WORK = os.path.join(os.environ.get("BRICKC_WORK", "/tmp/brickc-ref"), "perplexity_vs_llamacpp")
SHARED = os.environ.get("BRICKC_SHARED", os.path.join(os.path.dirname(__file__), "../../../shared"))
TOKENIZER = os.path.join(SHARED, "data", "qwen2.5-tokenizer.json")
THREADS = 2
N_CTX = 128
N_CHUNKS = 3
TOLERANCE = 0.01  # relative, on every running PPL and the final one


def die(msg):
    print(f"FAIL: {msg}", flush=True)
    sys.exit(1)


def code_text(seed=20240601, n_functions=24):
    """Python-like source, the same for every run: names, numbers, docstrings, comments."""
    rng = random.Random(seed)
    words = ["alpha", "beta", "items", "count", "total", "value", "node", "queue", "left",
             "right", "buffer", "offset"]
    out = ["# Generated for brickc's perplexity test: naïve code, café-grade.", "import math", ""]
    for i in range(n_functions):
        a, b = rng.sample(words, 2)
        out += [
            f"def {rng.choice(words)}_{i}({a}, {b}=None):",
            f'    """Return the {a} scaled by {b} ({rng.randint(2, 9)} steps)."""',
            f"    if {b} is None:",
            f"        {b} = [{rng.randint(0, 99)}, {rng.randint(0, 99)}, {rng.randint(0, 9)}]",
            f"    for k in range({rng.randint(2, 20)}):",
            f"        {a} = {a} * {rng.randint(2, 9)} + math.sqrt(k) - {rng.random():.3f}",
            f"    return {a}, len({b})",
            "",
        ]
    return "\n".join(out)


def llama_perplexity(path, text):
    """(token count, running PPL after each chunk, final PPL, its +/-) as llama-perplexity
    computes them."""
    llm = llama_cpp.Llama(model_path=path, n_ctx=N_CTX, n_batch=N_CTX, n_ubatch=N_CTX,
                          n_threads=THREADS, n_threads_batch=THREADS, logits_all=True,
                          flash_attn=False, type_k=llama_cpp.GGML_TYPE_F32,
                          type_v=llama_cpp.GGML_TYPE_F32, verbose=False)
    add_bos = llama_cpp.llama_vocab_get_add_bos(llama_cpp.llama_model_get_vocab(llm.model))
    # add_bos=True asks for the vocabulary's special tokens (llama_tokenize's add_special).
    tokens = llm.tokenize(text.encode(), add_bos=True, special=False)
    first = N_CTX // 2
    nll, nll2, count, running = 0.0, 0.0, 0, []
    for i in range(min(N_CHUNKS, len(tokens) // N_CTX)):
        chunk = tokens[i * N_CTX:(i + 1) * N_CTX]
        if add_bos:
            chunk[0] = llm.token_bos()
        llm.reset()
        llm.eval(chunk)
        logits = np.array(llm.scores[:N_CTX], dtype=np.float64)
        rows = logits[first:N_CTX - 1]
        rows = rows - rows.max(axis=-1, keepdims=True)
        lse = np.log(np.exp(rows).sum(axis=-1))
        nexts = np.array(chunk[first + 1:N_CTX])
        v = lse - rows[np.arange(len(nexts)), nexts]
        nll += float(v.sum())
        nll2 += float((v * v).sum())
        count += N_CTX - 1 - first
        running.append(float(np.exp(nll / count)))
    mean, mean2 = nll / count, nll2 / count
    ppl = float(np.exp(mean))
    return len(tokens), running, ppl, ppl * float(np.sqrt((mean2 - mean * mean) / (count - 1)))


def main():
    if not os.path.exists(TOKENIZER):
        print(f"SKIP: {TOKENIZER} not found (the real Qwen2.5 vocabulary is needed)")
        sys.exit(77)  # SKIP_RETURN_CODE: ctest reports the test as skipped, not passed
    os.makedirs(WORK, exist_ok=True)
    model = os.path.join(WORK, "tiny-real-vocab.gguf")
    text_path = os.path.join(WORK, "code.py.txt")
    out_json = os.path.join(WORK, "ppl.json")
    subprocess.run([BRICKC, "synth", "--model", "test-tiny", "--quant", "f16", "--vocab",
                    TOKENIZER, "--seed", "11", "-t", str(THREADS), "-o", model],
                   check=True, stdout=subprocess.DEVNULL)
    text = code_text()
    with open(text_path, "w", encoding="utf-8") as f:
        f.write(text)

    p = subprocess.run([BRICKC, "perplexity", "-m", model, "-f", text_path, "-c", str(N_CTX),
                        "--chunks", str(N_CHUNKS), "--device", "cpu", "-t", str(THREADS),
                        "--json", out_json], capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        die(f"brickc perplexity exited {p.returncode}:\n{p.stderr}")
    print(p.stderr.strip())
    print(p.stdout.strip())
    m = re.search(r": (\d+) tokens", p.stderr)
    final = re.search(r"^Final estimate: PPL = ([0-9.]+) \+/- ([0-9.]+)$", p.stdout, re.M)
    progress = re.findall(r"\[(\d+)\]([0-9.]+),", p.stdout)
    if not m or not final or len(progress) != N_CHUNKS:
        die(f"unexpected output:\n{p.stdout}\n{p.stderr}")
    ours = json.load(open(out_json))
    n_tokens = int(m.group(1))
    if ours["n_tokens"] != n_tokens or abs(ours["ppl"] - float(final.group(1))) > 1e-4 * ours["ppl"]:
        die(f"--json disagrees with the printed result: {ours}")

    ref_tokens, ref_running, ref_ppl, ref_err = llama_perplexity(model, text)
    print(f"{len(text)} characters; llama.cpp: {ref_tokens} tokens, running PPL "
          f"{', '.join(f'{x:.4f}' for x in ref_running)}")
    print(f"brickc {ours['ppl']:.4f} +/- {ours['ppl_error']:.5f} vs llama.cpp {ref_ppl:.4f} "
          f"+/- {ref_err:.5f}: {100 * (ours['ppl'] / ref_ppl - 1):+.3f} %")
    errors = []
    if n_tokens != ref_tokens:
        errors.append(f"brickc counts {n_tokens} tokens, llama.cpp {ref_tokens}")
    for i, (a, b) in enumerate(zip([c["ppl"] for c in ours["chunks"]], ref_running)):
        if abs(a / b - 1) > TOLERANCE:
            errors.append(f"chunk {i + 1}: running PPL {a:.4f} vs llama.cpp {b:.4f}")
    if abs(ours["ppl"] / ref_ppl - 1) > TOLERANCE:
        errors.append(f"final PPL {ours['ppl']:.4f} vs llama.cpp {ref_ppl:.4f} (> 1 %)")
    if abs(ours["ppl_error"] / ref_err - 1) > TOLERANCE:
        errors.append(f"PPL +/- {ours['ppl_error']:.5f} vs llama.cpp {ref_err:.5f} (> 1 %)")
    os.remove(model)
    if errors:
        die("\n  " + "\n  ".join(errors))
    print("PASS")


if __name__ == "__main__":
    main()
