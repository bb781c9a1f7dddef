"""A synthetic model carrying the real Qwen2.5 vocabulary (brickc synth --vocab) tokenizes
exactly as Hugging Face tokenizers does with the same tokenizer.json, under llama.cpp: this
proves the tokens, their types and the merges were written right."""
import os
import subprocess
import sys

import llama_cpp
from tokenizers import Tokenizer

BRICKC = os.environ["BRICKC"]
WORK = os.environ.get("BRICKC_WORK", "/tmp/brickc-ref")
SHARED = os.environ.get("BRICKC_SHARED", os.path.join(os.path.dirname(__file__), "../../../shared"))
TOKENIZER = os.path.join(SHARED, "data", "qwen2.5-tokenizer.json")
os.makedirs(WORK, exist_ok=True)

if not os.path.exists(TOKENIZER):
    print(f"SKIP: {TOKENIZER} not found")
    sys.exit(77)  # SKIP_RETURN_CODE: ctest reports the test as skipped, not passed

path = os.path.join(WORK, "synth_real_vocab.gguf")
subprocess.run([BRICKC, "synth", "--model", "test-tiny", "--vocab", TOKENIZER, "-t", "2", "-o", path],
               check=True, stdout=subprocess.DEVNULL)
llm = llama_cpp.Llama(model_path=path, n_ctx=64, n_threads=2, verbose=False)
hf = Tokenizer.from_file(TOKENIZER)

failures = []
if llm.n_vocab() != 151936:
    failures.append(f"n_vocab {llm.n_vocab()}, expected 151936 (151665 tokens + padding)")
for ident, want in ((llm.token_eos(), 151645), (llm.token_bos(), 151643)):
    if ident != want:
        failures.append(f"special id {ident}, expected {want}")

texts = [
    "def quicksort(xs):\n    return xs",
    "Hello, world! It's 2024 and we're testing 12345 tokens.",
    "    if (x != NULL) {\n\t\treturn -1;\n    }\n\n",
    "naïve café — 東京 🙂 Ünïcödé",
    "import numpy as np\nprint(np.arange(10).reshape(2, 5))",
    "a <tool_call>{\"name\": \"f\"}</tool_call> b",
]
for text in texts:
    ours = llm.tokenize(text.encode(), add_bos=False, special=False)
    ref = hf.encode(text, add_special_tokens=False).ids
    status = "ok" if ours == ref else "MISMATCH"
    print(f"{status}: {text!r}: {len(ref)} tokens")
    if ours != ref:
        failures.append(f"{text!r}: llama.cpp {ours} vs tokenizers {ref}")
llm.eval(llm.tokenize(texts[0].encode(), add_bos=False))  # the weights load and run too
# Control tokens are matched only as special text; the round trip restores the text.
chat = "<|im_start|>user\nhi<|im_end|>\n"
ours = llm.tokenize(chat.encode(), add_bos=False, special=True)
ref = hf.encode(chat, add_special_tokens=False).ids
print(f"{'ok' if ours == ref else 'MISMATCH'}: {chat!r} with special tokens: {ours}")
if ours != ref:
    failures.append(f"{chat!r}: llama.cpp {ours} vs tokenizers {ref}")
if llm.detokenize(ours, special=True).decode() != chat:
    failures.append("detokenize does not restore the chat text")

del llm
os.remove(path)
if failures:
    print("FAIL:\n  " + "\n  ".join(failures))
    sys.exit(1)
print("PASS")
