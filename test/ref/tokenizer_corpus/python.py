#!/usr/bin/env python3
"""Merge intervals and count words: a small program for tokenizer tests."""
from __future__ import annotations

import collections
import re
from dataclasses import dataclass, field
from typing import Iterable


@dataclass(order=True)
class Interval:
    start: int
    end: int
    tags: list[str] = field(default_factory=list, compare=False)

    def __len__(self) -> int:
        return max(0, self.end - self.start)


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    out: list[Interval] = []
    for iv in sorted(intervals):
        if out and iv.start <= out[-1].end:
            out[-1].end = max(out[-1].end, iv.end)
            out[-1].tags += iv.tags
        else:
            out.append(Interval(iv.start, iv.end, list(iv.tags)))
    return out


def word_counts(text: str) -> dict[str, int]:
    words = re.findall(r"[A-Za-z']+", text.lower())
    return dict(collections.Counter(words).most_common(10))


if __name__ == "__main__":
    ivs = [Interval(1, 3), Interval(2, 6, ["x"]), Interval(8, 10), Interval(15, 18)]
    print(merge(ivs))
    print(word_counts("It's the cat's hat, isn't it? We'll see; they'd've known."))
    print(f"{3.14159:.2f} {1e-9!r} {0x1F:#x} {0b1010} {1_000_000}")
    lam = lambda x, *a, **kw: (x, a, kw)  # noqa: E731
    assert lam(1, 2, k=3) == (1, (2,), {"k": 3})
