"""Actors of the pipeline demo (``examples/pipeline.py``): analyzers and a totals keeper.

Stdlib and interactors only: every actor's interpreter imports this module, and an own-GIL
interpreter cannot load extensions such as msgspec or numpy.

The work is deliberately pure Python, the kind threads cannot run in parallel: each chunk
is a batch of generated text that is tokenized and counted word by word. The same
functions run on threads in the demo's baseline, so both runs must agree to the last word.
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from typing import Any

import interactors

SYLLABLES = (
    "ka", "lo", "mi", "ra", "ne", "to", "su", "vi", "an", "el", "or", "un",
    "pe", "di", "go", "ba", "tri", "zel", "qua", "ho", "st", "ai", "eo", "nd",
)  # fmt: skip
SENTENCE_LENGTH = 17


def generate_text(seed: int, words: int) -> str:
    """``words`` pseudo-words of one to three syllables; the same text for the same seed."""
    rng = random.Random(seed)
    choice, randint = rng.choice, rng.randint
    out = []
    for i in range(words):
        out.append("".join([choice(SYLLABLES) for _ in range(randint(1, 3))]))
        if i % SENTENCE_LENGTH == SENTENCE_LENGTH - 1:
            out.append(".")
    return " ".join(out)


def analyze_chunk(seed: int, words: int) -> dict[str, Any]:
    """Word statistics of one chunk of generated text (pure Python, CPU-bound)."""
    counts: Counter[str] = Counter()
    letters = vowels = sentences = 0
    for word in generate_text(seed, words).split():
        if word == ".":
            sentences += 1
            continue
        counts[word] += 1
        letters += len(word)
        vowels += sum(1 for c in word if c in "aeiou")
    return {"counts": dict(counts), "letters": letters, "vowels": vowels, "sentences": sentences}


class WordTotals:
    """Sums the statistics of chunks; the summary is the same whatever the chunk order."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.letters = self.vowels = self.sentences = 0

    def add(self, partial: dict[str, Any]) -> None:
        self.counts.update(partial["counts"])
        self.letters += partial["letters"]
        self.vowels += partial["vowels"]
        self.sentences += partial["sentences"]

    def summary(self) -> dict[str, Any]:
        fingerprint = hashlib.sha256(repr(sorted(self.counts.items())).encode()).hexdigest()
        return {
            "words": self.counts.total(),
            "distinct": len(self.counts),
            "sentences": self.sentences,
            "vowel_share": self.vowels / max(1, self.letters),
            "top": self.counts.most_common(3),
            "fingerprint": fingerprint[:16],
        }


class Totals(interactors.Actor):
    """The last stage: analyzers send it their chunks' statistics directly."""

    def __init__(self) -> None:
        self.totals = WordTotals()
        self.merged: set[int] = set()

    def merge(self, index: int, partial: dict[str, Any]) -> None:
        # A chunk retried after a crash must count once.
        if index not in self.merged:
            self.merged.add(index)
            self.totals.add(partial)

    def summary(self) -> dict[str, Any]:
        return self.totals.summary()


class Analyzer(interactors.Actor):
    """The CPU-bound stage: analyzes one chunk per message, forwards it to ``totals``."""

    on_error = "restart"  # a failed chunk may have left a bad state: start afresh

    def __init__(self, totals: Any) -> None:
        self.totals = totals  # a Totals ref: messages go actor to actor

    def analyze(self, index: int, seed: int, words: int, crash: bool = False) -> int:
        """Analyze chunk ``index``; return its word count. ``crash`` simulates a fault."""
        if crash:
            raise RuntimeError(f"simulated crash while analyzing chunk {index}")
        partial = analyze_chunk(seed, words)
        self.totals.tell.merge(index, partial)
        return sum(partial["counts"].values())
