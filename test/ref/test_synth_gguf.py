"""brickc synth files read by the reference reader (gguf-py): every tensor's name, shape and
type is what the preset and llama.cpp's quantizer rules imply (recomputed here from the
hyperparameter table of gguf-qwen2.md §2 and the rules of §5), and every key is there with
the type llama.cpp's loader expects."""
import os
import subprocess
import sys

import gguf
import jinja2
import numpy as np

BRICKC = os.environ["BRICKC"]
WORK = os.environ.get("BRICKC_WORK", "/tmp/brickc-ref")
os.makedirs(WORK, exist_ok=True)

T = gguf.GGMLQuantizationType
V = gguf.GGUFValueType

# name: (layers, n_embd, n_ff, heads, kv heads, head_dim, tied, n_vocab without --vocab)
PRESETS = {
    "test-tiny": (2, 256, 768, 4, 2, 64, True, 4096),
    "test-small": (4, 512, 1536, 8, 2, 64, False, 8192),
    "test-fallback": (3, 384, 1024, 6, 2, 64, True, 4096),
    "qwen2.5-coder-0.5b": (24, 896, 4864, 14, 2, 64, True, 151936),
}
FTYPE = {"q4_k_m": 15, "q4_0": 2, "q8_0": 7, "f16": 1}
failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)


def more_bits(i, n):
    return i < n // 8 or i >= 7 * n // 8 or (i - n // 8) % 3 == 2


def block(t):
    return gguf.GGML_QUANT_SIZES[t][0]


def expected_tensors(p, quant, layers):
    n_layer, embd, ff, heads, kv_heads, hd, tied, vocab = p
    n_layer = layers or n_layer
    kv = kv_heads * hd
    shapes = {"token_embd.weight": (embd, vocab), "output_norm.weight": (embd,)}
    if not tied:
        shapes["output.weight"] = (embd, vocab)
    for i in range(n_layer):
        b = f"blk.{i}."
        shapes.update({
            b + "attn_norm.weight": (embd,), b + "ffn_norm.weight": (embd,),
            b + "attn_q.weight": (embd, heads * hd), b + "attn_q.bias": (heads * hd,),
            b + "attn_k.weight": (embd, kv), b + "attn_k.bias": (kv,),
            b + "attn_v.weight": (embd, kv), b + "attn_v.bias": (kv,),
            b + "attn_output.weight": (heads * hd, embd),
            b + "ffn_gate.weight": (embd, ff), b + "ffn_up.weight": (embd, ff),
            b + "ffn_down.weight": (ff, embd),
        })
    default = {"q4_k_m": T.Q4_K, "q4_0": T.Q4_0, "q8_0": T.Q8_0, "f16": T.F16}[quant]
    types = {}
    for name, ne in shapes.items():
        if len(ne) == 1:
            types[name] = T.F32
            continue
        if quant == "f16":
            types[name] = T.F16
            continue
        t = default
        if name == "output.weight" or (tied and name == "token_embd.weight"):
            t = T.Q8_0 if ne[0] % block(t) else (t if t == T.Q8_0 else T.Q6_K)
        elif quant == "q4_k_m" and ("attn_v" in name or "ffn_down" in name):
            if more_bits(int(name.split(".")[1]), n_layer):
                t = T.Q6_K
        if ne[0] % block(t):
            t = {T.Q4_K: T.Q5_0, T.Q5_K: T.Q5_1, T.Q6_K: T.Q8_0}[t]
        types[name] = t
    return shapes, types


def synth(model, quant, layers=None):
    out = os.path.join(WORK, f"synth_gguf_{model}_{quant}.gguf")
    cmd = [BRICKC, "synth", "--model", model, "--quant", quant, "-t", "2", "-o", out]
    if layers:
        cmd += ["--layers", str(layers)]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return out


def field(r, key):
    f = r.fields.get(key)
    check(f is not None, f"missing key {key}")
    return f


def check_scalar(r, key, vtype, value=None):
    f = field(r, key)
    if f is None:
        return
    check(f.types == [vtype], f"{key}: type {f.types}, expected {vtype}")
    if value is not None:
        got = f.contents()
        ok = abs(got - value) <= 1e-6 * abs(value) if isinstance(value, float) else got == value
        check(ok, f"{key} = {got}, expected {value}")


def check_chat_template(tmpl):
    """Rendered by Jinja2 (what llama-cpp-python uses), the template gives Qwen2.5-Instruct's
    ChatML: the default system prompt unless the conversation brings its own."""
    env = jinja2.Environment(loader=jinja2.BaseLoader())
    render = env.from_string(tmpl).render

    def turn(role, text):
        return f"<|im_start|>{role}\n{text}<|im_end|>\n"

    default = turn("system", "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.")
    user = [{"role": "user", "content": "hi"}]
    got = render(messages=user, add_generation_prompt=True)
    want = default + turn("user", "hi") + "<|im_start|>assistant\n"
    check(got == want, f"chat template without a system message: {got!r}, expected {want!r}")
    own = [{"role": "system", "content": "Be brief."}] + user + [{"role": "assistant", "content": "ok"}]
    got = render(messages=own, add_generation_prompt=False)
    want = turn("system", "Be brief.") + turn("user", "hi") + turn("assistant", "ok")
    check(got == want, f"chat template with a system message: {got!r}, expected {want!r}")


def check_file(model, quant, layers=None):
    p = PRESETS[model]
    path = synth(model, quant, layers)
    r = gguf.GGUFReader(path)
    shapes, types = expected_tensors(p, quant, layers)
    got = {t.name: t for t in r.tensors}
    check(set(got) == set(shapes), f"{model} {quant}: tensor names differ: "
          f"extra {sorted(set(got) - set(shapes))[:5]}, missing {sorted(set(shapes) - set(got))[:5]}")
    for name, ne in shapes.items():
        t = got.get(name)
        if t is None:
            continue
        check(tuple(int(x) for x in t.shape) == ne, f"{model} {name}: ne {list(t.shape)}, expected {ne}")
        check(t.tensor_type == types[name], f"{model} {quant} {name}: {t.tensor_type.name}, "
              f"expected {types[name].name}")
    n_layer, embd, ff, heads, kv_heads, hd, tied, vocab = p
    check_scalar(r, "general.architecture", V.STRING, "qwen2")
    check_scalar(r, "general.file_type", V.UINT32, FTYPE[quant])
    check_scalar(r, "general.quantization_version", V.UINT32, 2)
    check_scalar(r, "qwen2.block_count", V.UINT32, layers or n_layer)
    check_scalar(r, "qwen2.context_length", V.UINT32, 32768)
    check_scalar(r, "qwen2.embedding_length", V.UINT32, embd)
    check_scalar(r, "qwen2.feed_forward_length", V.UINT32, ff)
    check_scalar(r, "qwen2.attention.head_count", V.UINT32, heads)
    check_scalar(r, "qwen2.attention.head_count_kv", V.UINT32, kv_heads)
    check_scalar(r, "qwen2.rope.freq_base", V.FLOAT32, 1e6)
    check_scalar(r, "qwen2.attention.layer_norm_rms_epsilon", V.FLOAT32, 1e-6)
    check_scalar(r, "tokenizer.ggml.model", V.STRING, "gpt2")
    check_scalar(r, "tokenizer.ggml.pre", V.STRING, "qwen2")
    check_scalar(r, "tokenizer.ggml.add_bos_token", V.BOOL, False)
    for key in ("tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id",
                "tokenizer.ggml.padding_token_id"):
        check_scalar(r, key, V.UINT32)
    tokens = field(r, "tokenizer.ggml.tokens")
    types_f = field(r, "tokenizer.ggml.token_type")
    merges = field(r, "tokenizer.ggml.merges")
    check(tokens.types == [V.ARRAY, V.STRING], f"tokens typed {tokens.types}")
    check(types_f.types == [V.ARRAY, V.INT32], f"token_type typed {types_f.types}")
    check(merges.types == [V.ARRAY, V.STRING], f"merges typed {merges.types}")
    toks = tokens.contents()
    ttypes = types_f.contents()
    check(len(toks) == vocab == len(ttypes), f"{len(toks)} tokens, {len(ttypes)} types, n_vocab {vocab}")
    eos = field(r, "tokenizer.ggml.eos_token_id").contents()
    bos = field(r, "tokenizer.ggml.bos_token_id").contents()
    check(toks[eos] == "<|im_end|>" and toks[bos] == "<|endoftext|>", f"eos {toks[eos]!r} bos {toks[bos]!r}")
    check("Ċ" in toks and "Ġ" in toks, "byte symbols for newline/space missing")
    check_chat_template(field(r, "tokenizer.chat_template").contents())
    # The data is really there: dequantize one tensor and look at it.
    t = got["blk.0.attn_norm.weight"]
    w = np.asarray(t.data, dtype=np.float32)
    check(abs(float(w.mean()) - 1.0) < 0.05, f"attn_norm mean {w.mean()}")
    print(f"{model} {quant}{' layers ' + str(layers) if layers else ''}: {len(r.tensors)} tensors, "
          f"{len(toks)} tokens, {len(merges.contents())} merges checked")
    os.remove(path)


for model in ("test-tiny", "test-small", "test-fallback"):
    for quant in ("q4_k_m", "q4_0", "q8_0", "f16"):
        check_file(model, quant)
check_file("qwen2.5-coder-0.5b", "q4_k_m", layers=4)

if failures:
    print(f"FAIL: {len(failures)} mismatches")
    for f in failures[:40]:
        print("  " + f)
    sys.exit(1)
print("PASS")
