#!/usr/bin/env python3
"""GGUF interop with the reference implementation, the `gguf` package (gguf-py).

1. gguf.GGUFWriter writes files holding every metadata type (scalars, arrays of each,
   strings) and tensors of several types, at the default alignment, at alignment 64, and
   split into parts; `brickc inspect --json` must report the same keys, types, values
   (floats compared bit for bit after f32 rounding), tensor infos and data offsets as
   gguf.GGUFReader does.
2. Our Writer (through test/tools/gguf_write_sample) writes a file with every value type;
   gguf.GGUFReader must read back exactly what it declared, tensor bytes included, with
   the layout llama.cpp requires (offsets = running sum of padded sizes).

Random values come from a fresh seed each run (printed; set BRICKC_SEED to replay).
"""
import json
import math
import os
import random
import subprocess
import sys

import numpy as np
import gguf

BRICKC = os.environ["BRICKC"]
BIN = os.environ["BRICKC_TEST_BIN"]
WORK = os.path.join(os.environ["BRICKC_WORK"], "gguf_interop")
os.makedirs(WORK, exist_ok=True)

SEED = int(os.environ.get("BRICKC_SEED", int.from_bytes(os.urandom(4), "little")))
rng = random.Random(SEED)
nprng = np.random.default_rng(SEED)
print(f"seed {SEED}")

VT = gguf.GGUFValueType
# GGUF value type ids (the spec's table) -> brickc's names.
OUR_NAME = {VT.UINT8: "u8", VT.INT8: "i8", VT.UINT16: "u16", VT.INT16: "i16",
            VT.UINT32: "u32", VT.INT32: "i32", VT.FLOAT32: "f32", VT.BOOL: "bool",
            VT.STRING: "string", VT.ARRAY: "array", VT.UINT64: "u64", VT.INT64: "i64",
            VT.FLOAT64: "f64"}
INT_RANGE = {VT.UINT8: (0, 2**8 - 1), VT.INT8: (-2**7, 2**7 - 1),
             VT.UINT16: (0, 2**16 - 1), VT.INT16: (-2**15, 2**15 - 1),
             VT.UINT32: (0, 2**32 - 1), VT.INT32: (-2**31, 2**31 - 1),
             VT.UINT64: (0, 2**64 - 1), VT.INT64: (-2**63, 2**63 - 1)}

failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
        print("FAIL:", msg)


def random_value(t):
    if t in INT_RANGE:
        return rng.randint(*INT_RANGE[t])
    if t == VT.FLOAT32:
        return float(np.float32(rng.uniform(-1, 1) * 2.0 ** rng.randint(-100, 100)))
    if t == VT.FLOAT64:
        return rng.uniform(-1, 1) * 2.0 ** rng.randint(-900, 900)
    if t == VT.BOOL:
        return rng.random() < 0.5
    pieces = ["a", "Z", "9", " ", '"', "\\", "\n", "Ġ", "é", "中", "🙂", "<|im_end|>", "{%"]
    return "".join(rng.choice(pieces) for _ in range(rng.randint(0, 10)))


def float_bits(x, t):
    """Bit pattern of x in the stored width; JSON has no NaN/inf, inspect prints strings."""
    if isinstance(x, str):
        x = float(x)
    dt, it = (np.float32, np.uint32) if t == VT.FLOAT32 else (np.float64, np.uint64)
    v = np.array([x], dtype=dt)
    return "nan" if np.isnan(v[0]) else int(v.view(it)[0])


def same_scalar(ours, theirs, t):
    if t in (VT.FLOAT32, VT.FLOAT64):
        return float_bits(ours, t) == float_bits(theirs, t)
    if t == VT.BOOL:
        return bool(ours) == bool(theirs) and isinstance(ours, bool)
    return ours == theirs and type(ours) is type(theirs)


def elem_type(field):
    """An array's element type; gguf-py lists it in `types` only when the array is non-empty,
    so for an empty one take the raw id stored just before the length."""
    return VT(field.types[-1]) if len(field.types) > 1 else VT(int(field.parts[-2][0]))


def inspect_json(path):
    r = subprocess.run([BRICKC, "inspect", "-m", path, "--json"], capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"brickc inspect failed on {path}: {r.stderr}")
    return json.loads(r.stdout)


def compare_with_gguf_py(path):
    """brickc inspect --json vs gguf.GGUFReader, part by part."""
    ours = inspect_json(path)
    n_checked = 0
    for split, part in enumerate(ours["parts"]):
        r = gguf.GGUFReader(part["path"])
        where = f"{os.path.basename(part['path'])}"
        check(part["data_offset"] == r.data_offset,
              f"{where}: data offset {part['data_offset']} vs gguf-py {r.data_offset}")
        if split == 0:
            check(ours["version"] == r.fields["GGUF.version"].contents(), f"{where}: version")
            check(ours["alignment"] == r.alignment,
                  f"{where}: alignment {ours['alignment']} vs gguf-py {r.alignment}")
            keys = [k for k in r.fields if not k.startswith("GGUF.")]
            check(list(ours["metadata"]) == keys, f"{where}: keys {list(ours['metadata'])} vs {keys}")
            for k in keys:
                f, m = r.fields[k], ours["metadata"].get(k)
                if m is None:
                    continue
                t = VT(f.types[0])
                check(m["type"] == OUR_NAME[t], f"{where}: {k}: type {m['type']} vs {OUR_NAME[t]}")
                if t == VT.ARRAY:
                    et = elem_type(f)
                    check(m["elem_type"] == OUR_NAME[et], f"{where}: {k}: elem {m['elem_type']}")
                    theirs = f.contents() if len(f.types) > 1 else []
                    check(len(m["value"]) == len(theirs), f"{where}: {k}: length")
                    for i, (a, b) in enumerate(zip(m["value"], theirs)):
                        check(same_scalar(a, b, et), f"{where}: {k}[{i}]: {a!r} vs gguf-py {b!r}")
                else:
                    check(same_scalar(m["value"], f.contents(), t),
                          f"{where}: {k}: {m['value']!r} vs gguf-py {f.contents()!r}")
                n_checked += 1
        mine = [t for t in ours["tensors"] if t["split"] == split]
        check(len(mine) == len(r.tensors), f"{where}: {len(mine)} tensors vs gguf-py {len(r.tensors)}")
        for a, b in zip(mine, r.tensors):
            n = a["name"]
            check(n == b.name, f"{where}: tensor {n} vs gguf-py {b.name}")
            check(a["type"].lower() == b.tensor_type.name.lower(), f"{where}: {n}: type {a['type']} vs {b.tensor_type.name}")
            check(a["ne"] == [int(x) for x in b.shape], f"{where}: {n}: ne {a['ne']} vs {list(b.shape)}")
            check(a["nbytes"] == b.n_bytes, f"{where}: {n}: nbytes {a['nbytes']} vs {b.n_bytes}")
            check(part["data_offset"] + a["offset"] == b.data_offset, f"{where}: {n}: offset")
            n_checked += 1
    total = sum(t.n_elements for p in ours["parts"] for t in gguf.GGUFReader(p["path"]).tensors)
    check(ours["totals"]["parameters"] == total, f"{path}: parameters {ours['totals']['parameters']} vs {total}")
    return n_checked


def write_with_gguf_py(path, alignment=None, split_max_tensors=0):
    w = gguf.GGUFWriter(path, arch="qwen2", split_max_tensors=split_max_tensors)
    if alignment:
        w.add_custom_alignment(alignment)
    scalar_types = [VT.UINT8, VT.INT8, VT.UINT16, VT.INT16, VT.UINT32, VT.INT32, VT.FLOAT32,
                    VT.BOOL, VT.STRING, VT.UINT64, VT.INT64, VT.FLOAT64]
    for t in scalar_types:
        w.add_key_value(f"test.{OUR_NAME[t]}", random_value(t), t)
    for t in scalar_types:
        items = [random_value(t) for _ in range(rng.randint(1, 50))]
        w.add_key_value(f"test.array.{OUR_NAME[t]}", items, VT.ARRAY, sub_type=t)
    w.add_key_value("test.f32_edges", [math.inf, -math.inf, -0.0, math.nan, 1e-45], VT.ARRAY, sub_type=VT.FLOAT32)
    w.add_key_value("test.empty_string", "", VT.STRING)
    w.add_string("tokenizer.chat_template", "{% for m in messages %}{{ m['content'] }}{% endfor %}")

    Q = gguf.GGMLQuantizationType
    w.add_tensor("t.f32", nprng.standard_normal((3, 5), dtype=np.float32))
    w.add_tensor("t.f16", nprng.standard_normal(7).astype(np.float16))
    w.add_tensor("t.f64", nprng.standard_normal((2, 2)))
    w.add_tensor("t.i8", nprng.integers(-128, 127, (4, 4), dtype=np.int8))
    w.add_tensor("t.i32", nprng.integers(-1000, 1000, 9, dtype=np.int32))
    for name, qt, rows, cols in [("t.q4_0", Q.Q4_0, 3, 64), ("t.q8_0", Q.Q8_0, 2, 96),
                                 ("t.q4_k", Q.Q4_K, 2, 512), ("t.q6_k", Q.Q6_K, 4, 256),
                                 ("t.q5_0", Q.Q5_0, 1, 32), ("t.bf16", Q.BF16, 3, 10)]:
        block, size = gguf.GGML_QUANT_SIZES[qt]
        raw = nprng.integers(0, 256, (rows, cols // block * size), dtype=np.uint8)
        w.add_tensor(name, raw, raw_dtype=qt)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def part_one(path, n_parts):
    stem, ext = os.path.splitext(path)
    return path if n_parts == 1 else f"{stem}-00001-of-{n_parts:05d}{ext}"


# ---- 1. gguf-py writes, brickc reads ----
for label, alignment, split in [("default", None, 0), ("align64", 64, 0), ("split", None, 4)]:
    path = os.path.join(WORK, f"py_{label}.gguf")
    write_with_gguf_py(path, alignment, split)
    n_parts = 1 if not split else math.ceil(11 / split)
    first = part_one(path, n_parts)
    n = compare_with_gguf_py(first)
    parts = inspect_json(first)["splits"]
    check(parts == n_parts, f"{label}: {parts} parts vs {n_parts} written")
    print(f"gguf-py -> brickc [{label}]: {parts} part(s), {n} keys and tensors compared")

# ---- 2. brickc writes, gguf-py reads ----
for alignment in (32, 64, 1):
    path = os.path.join(WORK, f"brickc_a{alignment}.gguf")
    seed = rng.randint(0, 2**63)
    r = subprocess.run([os.path.join(BIN, "gguf_write_sample"), path, str(seed), str(alignment)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"gguf_write_sample failed: {r.stderr}")
    declared = json.loads(r.stdout)
    rd = gguf.GGUFReader(path)
    keys = [k for k in rd.fields if not k.startswith("GGUF.")]
    check(keys == [m["key"] for m in declared["metadata"]], f"a{alignment}: key order")
    check(rd.fields["GGUF.version"].contents() == 3, f"a{alignment}: version")
    check(rd.alignment == alignment, f"a{alignment}: gguf-py alignment {rd.alignment}")
    for m in declared["metadata"]:
        f = rd.fields.get(m["key"])
        if f is None:
            check(False, f"a{alignment}: {m['key']} missing in gguf-py")
            continue
        t = VT(f.types[0])
        check(OUR_NAME[t] == m["type"], f"a{alignment}: {m['key']}: type {OUR_NAME[t]} vs declared {m['type']}")
        if t == VT.ARRAY:
            et = elem_type(f)
            check(OUR_NAME[et] == m["elem_type"], f"a{alignment}: {m['key']}: elem type")
            theirs = f.contents() if len(f.types) > 1 else []
            check(len(theirs) == len(m["value"]), f"a{alignment}: {m['key']}: length")
            for i, (a, b) in enumerate(zip(m["value"], theirs)):
                check(same_scalar(a, b, et), f"a{alignment}: {m['key']}[{i}]: declared {a!r}, gguf-py {b!r}")
        else:
            check(same_scalar(m["value"], f.contents(), t),
                  f"a{alignment}: {m['key']}: declared {m['value']!r}, gguf-py {f.contents()!r}")
    check(len(rd.tensors) == len(declared["tensors"]), f"a{alignment}: tensor count")
    running = 0
    check(rd.data_offset % alignment == 0, f"a{alignment}: data section at {rd.data_offset}")
    for a, b in zip(declared["tensors"], rd.tensors):
        n = a["name"]
        check(b.name == n, f"a{alignment}: tensor {b.name} vs declared {n}")
        check(b.tensor_type.name.lower() == a["type"].lower(), f"a{alignment}: {n}: type")
        check([int(x) for x in b.shape] == a["ne"], f"a{alignment}: {n}: ne")
        data = bytes.fromhex(a["data"])
        check(b.n_bytes == len(data), f"a{alignment}: {n}: nbytes {b.n_bytes} vs {len(data)}")
        check(b.data.tobytes() == data, f"a{alignment}: {n}: data differs")
        # llama.cpp's loader requires exactly this layout.
        check(b.data_offset - rd.data_offset == running, f"a{alignment}: {n}: offset not the running padded sum")
        running += (b.n_bytes + alignment - 1) // alignment * alignment
    check(os.path.getsize(path) == rd.data_offset + running, f"a{alignment}: file size")
    # Our reader agrees with gguf-py on the file our writer made.
    compare_with_gguf_py(path)
    print(f"brickc -> gguf-py [alignment {alignment}]: {len(declared['metadata'])} keys, "
          f"{len(declared['tensors'])} tensors, {os.path.getsize(path)} bytes")

if failures:
    print(f"{len(failures)} mismatches (seed {SEED})")
    sys.exit(1)
print("gguf interop: all checks passed")
