#!/usr/bin/env python3
"""brickc's chat and FIM prompts against the references, on a `brickc synth --vocab` GGUF
with the real Qwen2.5 vocabulary.

- ChatML: the template text the GGUF carries (read back with the gguf package) is rendered
  with Python's jinja2 the way Hugging Face's apply_chat_template does (trim_blocks,
  lstrip_blocks); brickc's ChatTemplate::render (test/tools/prompt_tool) must give the
  same bytes, for fixed conversations and freshly generated random ones (with and without
  a system message, multi-turn, with and without the generation prompt). The token ids
  of the text must equal llama.cpp's tokenize(text, special=True).
- FIM: llama-server's infill assembly (gguf-qwen2.md §6) rebuilt here from llama.cpp's
  primitives (llama_vocab_fim_* ids, tokenize(piece, special=False)) must equal brickc's
  fim_prompt_tokens, file-level and repo-level.
- EOG: brickc's set against llama_vocab_is_eog over the whole vocabulary. Known difference:
  recent llama.cpp also marks the text '</s>' as end-of-generation (added for PaddleOCR);
  in Qwen2.5 that is an ordinary token (id 128247, NORMAL) that code such as HTML emits,
  so brickc keeps the Qwen set {eos, <|im_end|>, <|fim_pad|>, <|repo_name|>, <|file_sep|>}.
  The same rule makes that llama.cpp retype '</s>' as CONTROL, so its tokenize(special=True)
  turns the text '</s>' into id 128247; the random contents below leave '</s>' out, as
  that is a tokenizer question (test_tokenizer_parity.py), not a template one.
"""
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import gguf
import jinja2
import jinja2.sandbox
import llama_cpp

BRICKC = os.environ["BRICKC"]
TOOL = Path(os.environ["BRICKC_TEST_BIN"]) / "prompt_tool"
WORK = Path(os.environ["BRICKC_WORK"]) / "chat_template"
SHARED = Path(os.environ["BRICKC_SHARED"])

failures = []


def check(ok, msg):
    if not ok:
        failures.append(msg)
        print("FAIL:", msg)


def prompt_tool(mode, model, requests=None):
    r = subprocess.run([str(TOOL), mode, str(model)], input=json.dumps(requests or []).encode(),
                       capture_output=True)
    if r.returncode != 0:
        sys.exit(f"prompt_tool {mode} failed ({r.returncode}): {r.stderr.decode()}")
    return json.loads(r.stdout)


def first_difference(a, b):
    i = next((k for k in range(min(len(a), len(b))) if a[k] != b[k]), min(len(a), len(b)))
    return f"from index {i}: {a[i:i + 8]} vs {b[i:i + 8]} (lengths {len(a)}, {len(b)})"


def field_str(reader, key):
    f = reader.fields[key]
    return bytes(f.parts[f.data[0]]).decode("utf-8")


def random_text(rng):
    pieces = ["def f(x):\n    return x + 1\n", "héllo wörld", "日本語のテキスト", "  indented\n\n",
              "emoji 🙂 ok", "a\tb", "<|im_end|>", "<tool_call>", "'quotes' and \"more\"",
              "{{ not jinja }}", "{% raw %}", "\\n literally", "x" * 50, ""]
    n = rng.randint(0, 4)
    return "".join(rng.choice(pieces) for _ in range(n)) + "".join(
        chr(rng.choice([rng.randint(0x20, 0x7e), rng.randint(0xa0, 0x2fff)])) for _ in range(rng.randint(0, 20)))


def random_conversation(rng):
    msgs = []
    if rng.random() < 0.5:
        msgs.append({"role": "system", "content": random_text(rng)})
    for i in range(rng.randint(1, 5)):
        msgs.append({"role": "user" if i % 2 == 0 else "assistant", "content": random_text(rng)})
    return {"messages": msgs, "add_generation_prompt": rng.random() < 0.8}


def main():
    WORK.mkdir(parents=True, exist_ok=True)
    model = WORK / "tiny-qwen-vocab.gguf"
    r = subprocess.run([BRICKC, "synth", "--model", "test-tiny", "--vocab",
                        str(SHARED / "data" / "qwen2.5-tokenizer.json"), "-o", str(model)],
                       capture_output=True)
    if r.returncode != 0:
        sys.exit(f"brickc synth failed: {r.stderr.decode()}")

    reader = gguf.GGUFReader(str(model))
    template_text = field_str(reader, "tokenizer.chat_template")
    env = jinja2.sandbox.ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    template = env.from_string(template_text)

    llm = llama_cpp.Llama(str(model), vocab_only=True, verbose=False)
    vocab = llama_cpp.llama_model_get_vocab(llm.model)

    # --- ChatML -------------------------------------------------------------------------
    seed = int(time.time())
    rng = random.Random(seed)
    print(f"random conversations from seed {seed}")
    fixed = [
        {"messages": [{"role": "user", "content": "Write quicksort in Python."}]},
        {"messages": [{"role": "system", "content": "You are terse."},
                      {"role": "user", "content": "hi"}]},
        {"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b\n"},
                      {"role": "user", "content": "c"}], "add_generation_prompt": True},
        {"messages": [{"role": "user", "content": "no prompt"}], "add_generation_prompt": False},
        {"messages": [], "add_generation_prompt": True},
    ]
    convs = fixed + [random_conversation(rng) for _ in range(200)]
    for c in convs:
        c.setdefault("add_generation_prompt", True)
    ours = prompt_tool("chat", model, convs)
    n_text = n_tok = 0
    for i, (c, got) in enumerate(zip(convs, ours)):
        want = template.render(messages=c["messages"], add_generation_prompt=c["add_generation_prompt"])
        ok = got["text"] == want
        n_text += ok
        check(ok, f"conversation {i}: brickc {got['text']!r} != jinja2 {want!r}")
        ids = llm.tokenize(want.encode("utf-8"), add_bos=False, special=True)
        ok = got["tokens"] == ids
        n_tok += ok
        check(ok, f"conversation {i}: brickc ids != llama.cpp ids {first_difference(got['tokens'], ids)}")
    print(f"chat: {n_text}/{len(convs)} texts equal jinja2, {n_tok}/{len(convs)} token lists equal llama.cpp")

    # --- FIM ----------------------------------------------------------------------------
    fim = {"prefix": llama_cpp.llama_vocab_fim_pre(vocab), "suffix": llama_cpp.llama_vocab_fim_suf(vocab),
           "middle": llama_cpp.llama_vocab_fim_mid(vocab), "repo": llama_cpp.llama_vocab_fim_rep(vocab),
           "sep": llama_cpp.llama_vocab_fim_sep(vocab)}

    def tok(s):
        return llm.tokenize(s.encode("utf-8"), add_bos=False, special=False) if s else []

    def reference_fim(req):
        out = []
        if "repo" in req:
            out += [fim["repo"]] + tok(req["repo"] + "\n")
            for f in req.get("files", []):
                out += [fim["sep"]] + tok(f["path"] + "\n") + tok(f["content"])
            out += [fim["sep"]] + tok(req.get("path", "") + "\n")
        return out + [fim["prefix"]] + tok(req["prefix"]) + [fim["suffix"]] + tok(req["suffix"]) + [fim["middle"]]

    fim_reqs = [
        {"prefix": "def quicksort(xs):\n    ", "suffix": "\n    return left + [p] + right\n"},
        {"prefix": "", "suffix": ""},
        {"prefix": "s = '<|fim_middle|>'  # special text stays text\n", "suffix": "print(s)\n"},
        {"repo": "myproject", "files": [{"path": "utils.py", "content": "def add(a, b):\n    return a + b\n"},
                                        {"path": "README.md", "content": "# demo\n"}],
         "path": "main.py", "prefix": "from utils import add\n", "suffix": "\n"},
    ]
    for _ in range(30):
        req = {"prefix": random_text(rng), "suffix": random_text(rng)}
        if rng.random() < 0.5:
            req.update(repo=random_text(rng), path=random_text(rng),
                       files=[{"path": random_text(rng), "content": random_text(rng)}
                              for _ in range(rng.randint(0, 3))])
        fim_reqs.append(req)
    ours = prompt_tool("fim", model, fim_reqs)
    n_fim = 0
    for i, (req, got) in enumerate(zip(fim_reqs, ours)):
        want = reference_fim(req)
        ok = got["tokens"] == want
        n_fim += ok
        check(ok, f"FIM request {i}: brickc ids != llama.cpp assembly {first_difference(got['tokens'], want)}")
    print(f"fim: {n_fim}/{len(fim_reqs)} token lists equal llama-server's assembly")

    # --- EOG and FIM ids ----------------------------------------------------------------
    info = prompt_tool("eog", model)
    n_vocab = llama_cpp.llama_vocab_n_tokens(vocab)
    llama_eog = {i for i in range(n_vocab) if llama_cpp.llama_vocab_is_eog(vocab, i)}
    token_texts = reader.fields["tokenizer.ggml.tokens"]
    token_types = reader.fields["tokenizer.ggml.token_type"]

    def text_of(i):
        return bytes(token_texts.parts[token_texts.data[i]]).decode("utf-8")

    known = {i for i in llama_eog if text_of(i) == "</s>"
             and int(token_types.parts[token_types.data[i]][0]) == gguf.TokenType.NORMAL}
    print(f"eog: brickc {info['eog']}, llama.cpp {sorted(llama_eog)} "
          f"(llama.cpp's '</s>' ids left out on purpose: {sorted(known)})")
    check(set(info["eog"]) == llama_eog - known, f"EOG set {info['eog']} != llama.cpp's {sorted(llama_eog - known)}")
    want_fim = {"prefix": fim["prefix"], "suffix": fim["suffix"], "middle": fim["middle"],
                "pad": llama_cpp.llama_vocab_fim_pad(vocab), "repo_name": fim["repo"], "file_sep": fim["sep"]}
    check(info["fim"] == want_fim, f"FIM ids {info['fim']} != llama.cpp's {want_fim}")
    print(f"fim ids: {info['fim']}")

    if failures:
        print(f"{len(failures)} failure(s)")
        sys.exit(1)
    print("ok")


if __name__ == "__main__":
    main()
