#!/usr/bin/env python3
"""Writes the committed seed corpora of the fuzz targets (test/fuzz/corpus/*).

gguf: whole Qwen2 files small enough to mutate quickly, written with the gguf package
(not brickc's writer): a 1-layer model with a 32-wide residual in f32, f16, q8_0 and
q4_0, its vocabulary and chat template taken from a `brickc synth` file, plus a file with
metadata only and one with a split-model header. tokenizer: code, chat markup with
special tokens, invalid UTF-8. The first byte of a tokenizer seed chooses parse_special.

Usage: make_seeds.py BRICKC OUT_DIR   (run from the venv: needs gguf and numpy)
"""
import os
import subprocess
import sys
import tempfile

import gguf
import numpy as np

N_EMBD, N_FF, N_HEAD, N_HEAD_KV, N_VOCAB = 32, 64, 2, 1, 512
HEAD_DIM = N_EMBD // N_HEAD


def tokenizer_fields(brickc: str) -> list:
    """The tokenizer.* fields of a synthesized test model with a 512-token vocabulary."""
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "v.gguf")
        subprocess.run([brickc, "synth", "--model", "test-tiny", "--layers", "1", "--vocab-size",
                        str(N_VOCAB), "--quant", "q8_0", "-o", path], check=True,
                       stdout=subprocess.DEVNULL)
        r = gguf.GGUFReader(path)
        out = []
        for f in r.fields.values():
            if not f.name.startswith("tokenizer."):
                continue
            t = f.types[0]
            if t == gguf.GGUFValueType.ARRAY:
                sub = f.types[1]
                if sub == gguf.GGUFValueType.STRING:
                    val = [bytes(f.parts[i]).decode("utf-8") for i in f.data]
                else:
                    val = [int(f.parts[i][0]) for i in f.data]
                out.append((f.name, t, val, sub))
            elif t == gguf.GGUFValueType.STRING:
                out.append((f.name, t, bytes(f.parts[f.data[0]]).decode("utf-8"), None))
            else:
                out.append((f.name, t, f.parts[f.data[0]][0].item(), None))
        return out


def write_model(path: str, qtype, tok_fields, rng) -> None:
    w = gguf.GGUFWriter(path, "qwen2")
    w.add_name("fuzz-seed")
    w.add_block_count(1)
    w.add_context_length(256)
    w.add_embedding_length(N_EMBD)
    w.add_feed_forward_length(N_FF)
    w.add_head_count(N_HEAD)
    w.add_head_count_kv(N_HEAD_KV)
    w.add_rope_freq_base(1000000.0)
    w.add_layer_norm_rms_eps(1e-6)
    for name, t, val, sub in tok_fields:
        w.add_key_value(name, val, t, sub)
    shapes = {  # numpy order: (rows, row length)
        "token_embd.weight": (N_VOCAB, N_EMBD),
        "blk.0.attn_norm.weight": (N_EMBD,),
        "blk.0.attn_q.weight": (N_HEAD * HEAD_DIM, N_EMBD),
        "blk.0.attn_q.bias": (N_HEAD * HEAD_DIM,),
        "blk.0.attn_k.weight": (N_HEAD_KV * HEAD_DIM, N_EMBD),
        "blk.0.attn_k.bias": (N_HEAD_KV * HEAD_DIM,),
        "blk.0.attn_v.weight": (N_HEAD_KV * HEAD_DIM, N_EMBD),
        "blk.0.attn_v.bias": (N_HEAD_KV * HEAD_DIM,),
        "blk.0.attn_output.weight": (N_EMBD, N_HEAD * HEAD_DIM),
        "blk.0.ffn_norm.weight": (N_EMBD,),
        "blk.0.ffn_gate.weight": (N_FF, N_EMBD),
        "blk.0.ffn_up.weight": (N_FF, N_EMBD),
        "blk.0.ffn_down.weight": (N_EMBD, N_FF),
        "output_norm.weight": (N_EMBD,),
    }
    for name, shape in shapes.items():
        x = rng.standard_normal(shape).astype(np.float32) * 0.1
        if len(shape) == 1:  # norms and biases stay f32, as in llama.cpp's files
            w.add_tensor(name, x)
        elif qtype == gguf.GGMLQuantizationType.F32:
            w.add_tensor(name, x)
        elif qtype == gguf.GGMLQuantizationType.F16:
            w.add_tensor(name, x.astype(np.float16))
        else:
            w.add_tensor(name, gguf.quants.quantize(x, qtype), raw_dtype=qtype)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def main() -> int:
    brickc, out = sys.argv[1], sys.argv[2]
    rng = np.random.default_rng(0)
    tok = tokenizer_fields(brickc)
    g = os.path.join(out, "gguf")
    os.makedirs(g, exist_ok=True)
    Q = gguf.GGMLQuantizationType
    for q in (Q.F32, Q.F16, Q.Q8_0, Q.Q4_0):
        write_model(os.path.join(g, f"qwen2-1layer-{q.name.lower()}.gguf"), q, tok, rng)
    w = gguf.GGUFWriter(os.path.join(g, "metadata-only.gguf"), "qwen2")
    w.add_block_count(0)
    w.add_string("split.note", "no tensors")
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()

    t = os.path.join(out, "tokenizer")
    os.makedirs(t, exist_ok=True)
    seeds = {
        "code": b"\x00def fib(n: int) -> int:\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n",
        "chat": b"\x01<|im_start|>user\nwrite a sort<|im_end|>\n<|im_start|>assistant\n",
        "fim": b"\x01<|fim_prefix|>int main() {<|fim_suffix|>}<|fim_middle|>",
        "unicode": "\x00  naïve café — 日本語 🙂\t\r\n123456 it's".encode("utf-8"),
        "invalid-utf8": b"\x01\xff\xfe\xc3(\xe2\x82 \xf0\x9f\x98 ok\x80",
    }
    for name, data in seeds.items():
        with open(os.path.join(t, name), "wb") as f:
            f.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
