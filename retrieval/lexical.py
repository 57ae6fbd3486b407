"""BM25 keyword search with bm25s, tuned for prose and code alike.

The tokenizer keeps identifiers whole and also splits them (``get_parser`` → ``get_parser``,
``get``, ``parser``; ``HTTPAdapter`` → ``httpadapter``, ``http``, ``adapter``) and stems English
words, so that a question in words finds code and prose with either spelling.
"""

from __future__ import annotations

import functools
import json
import logging
import re
from pathlib import Path

import bm25s
import numpy as np

logging.getLogger("bm25s").setLevel(logging.WARNING)  # bm25s sets DEBUG on its own logger

_WORD = re.compile(r"\w+", re.UNICODE)
_PARTS = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
_STOPWORDS = frozenset("""
    a an and are as at be but by for from has have he her his how i if in into is it its of on or
    our she so than that the their them then there these they this to was we were what when where
    which who whom why will with would you your do does did can could should not no yes all any
    each about over under between through
""".split())  # fmt: skip


@functools.cache
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def tokenize(text: str) -> list[str]:
    """Lower-cased, stemmed terms of ``text``; identifiers also contribute their parts."""
    terms: list[str] = []
    for match in _WORD.finditer(text):
        word = match.group()
        lower = word.lower()
        if lower not in _STOPWORDS and (len(lower) > 1 or lower.isdigit()):
            terms.append(lower)
        parts = (
            [p.lower() for p in _PARTS.findall(word.replace("_", " "))]
            if ("_" in word or not (word.islower() or word.isupper()))
            else []
        )
        if len(parts) > 1:
            terms.extend(p for p in parts if len(p) > 1 and p not in _STOPWORDS)
    return _stemmer().stemWords(terms) if terms else []


class LexicalIndex:
    """BM25 over chunk texts; ``ids[i]`` is the chunk rowid of corpus row ``i``."""

    def __init__(self, model: bm25s.BM25 | None, ids: np.ndarray) -> None:
        self.model = model
        self.ids = ids

    @classmethod
    def build(cls, ids: list[int], texts: list[str]) -> LexicalIndex:
        if not ids:
            return cls(None, np.zeros(0, dtype=np.int64))
        model = bm25s.BM25()
        model.index([tokenize(t) for t in texts], show_progress=False)
        return cls(model, np.asarray(ids, dtype=np.int64))

    def search(self, query: str, n: int) -> list[tuple[int, float]]:
        """Up to ``n`` (rowid, score) pairs with a positive score, best first."""
        if self.model is None:
            return []
        vocab = self.model.vocab_dict
        terms = [t for t in tokenize(query) if t in vocab]
        if not terms:
            return []
        scores = self.model.get_scores(terms)
        n = min(n, len(scores))
        top = np.argpartition(-scores, n - 1)[:n]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(int(self.ids[i]), float(scores[i])) for i in top if scores[i] > 0]

    def save(self, folder: Path) -> None:
        """Write into ``folder``, which must not exist yet (the store fills a temporary folder
        through ``core.files.atomic_folder`` and swaps it in whole)."""
        folder.mkdir(parents=True)
        (folder / "ids.json").write_text(json.dumps(self.ids.tolist()))
        if self.model is not None:
            self.model.save(str(folder / "bm25"), show_progress=False)

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex:
        ids = np.asarray(json.loads((folder / "ids.json").read_text()), dtype=np.int64)
        if not len(ids):
            return cls(None, ids)
        model = bm25s.BM25.load(str(folder / "bm25"), show_progress=False, verbosity=0)
        return cls(model, ids)
