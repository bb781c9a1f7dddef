"""Summarizes PTX or `ptxas -v` output one line per kernel, sorted by name, for FileCheck.

  ptx_kernels.py ptx FILE    name: dp4a=N ld.global.nc.v4=N ld.local=N mma=N ldmatrix=N cp.async=N
                               acquire=N release=N griddepcontrol=N ld.global.cg.v4=N
                               ld.generic=N dp4a.u32=N cp.async.ca=N ld.global.cg.v2=N
                               shfl=N st.global.u8=N trap=N
  (ld.generic: loads that name no state space, which the compiler emits where it cannot
  tell shared from global memory; dp4a.u32: dot products of unsigned weight bytes;
  cp.async: the 16-byte .cg copies, cp.async.ca the smaller ones)
  ptx_kernels.py ptxas FILE  name: stack=N spill-stores=N spill-loads=N registers=N
"""
import re
import sys


def ptx(text):
    rows = {}
    for m in re.finditer(r"\.entry (\w+)\((.*?)\n}\n", text, re.S):
        body = m.group(2)
        rows[m.group(1)] = ("dp4a={} ld.global.nc.v4={} ld.local={} mma={} ldmatrix={} cp.async={} "
                            "acquire={} release={} griddepcontrol={} ld.global.cg.v4={} ld.generic={} dp4a.u32={} "
                            "cp.async.ca={} ld.global.cg.v2={} shfl={} st.global.u8={} trap={}").format(
            body.count("dp4a."), body.count("ld.global.nc.v4."), body.count("ld.local"),
            body.count("mma.sync.aligned."), body.count("ldmatrix.sync."),
            body.count("cp.async.cg."), body.count("ld.acquire.gpu."),
            body.count("red.release.gpu."), body.count("griddepcontrol."),
            body.count("ld.global.cg.v4."),
            sum(not re.search(r"\.(global|shared|local|param|const)\b", op)
                for op in re.findall(r"\bld\.[\w.]+", body)),
            body.count("dp4a.u32."), body.count("cp.async.ca."), body.count("ld.global.cg.v2."),
            body.count("shfl.sync."), body.count("st.global.u8"), body.count("trap;"))
    return rows


def ptxas(text):
    rows, name = {}, None
    for line in text.splitlines():
        m = re.search(r"Compiling entry function '(\w+)'", line)
        if m:
            name = m.group(1)
        m = re.search(r"(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads", line)
        if m and name:
            rows[name] = "stack={} spill-stores={} spill-loads={}".format(*m.groups())
        m = re.search(r"Used (\d+) registers", line)
        if m and name in rows:
            rows[name] += " registers={}".format(m.group(1))
    return rows


rows = {"ptx": ptx, "ptxas": ptxas}[sys.argv[1]](open(sys.argv[2]).read())
if not rows:
    sys.exit("no kernels found in " + sys.argv[2])
for name in sorted(rows):
    print(f"{name}: {rows[name]}")
