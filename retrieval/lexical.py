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
from array import array
from collections.abc import Iterable, Iterator
from itertools import chain
from pathlib import Path

import bm25s
import numpy as np
from bm25s import scoring

logging.getLogger("bm25s").setLevel(logging.WARNING)  # bm25s sets DEBUG on its own logger

_WORD = re.compile(r"\w+", re.UNICODE)
_PARTS = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
_NO_TERMS = "no-terms"  # marks a collection of stopwords only, which bm25s cannot index
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
    return list(chain.from_iterable(map(_terms_of, _WORD.findall(text))))


@functools.lru_cache(maxsize=1 << 16)
def _terms_of(word: str) -> tuple[str, ...]:
    """The terms one word contributes (cached: text repeats its words)."""
    terms: list[str] = []
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
    return tuple(_stemmer().stemWords(terms)) if terms else ()


class _WordIds(dict[str, tuple[int, ...]]):
    """A word's term ids in ``vocab``, adding new terms: ``tokenize`` word by word, remembered."""

    def __init__(self, vocab: dict[str, int]) -> None:
        super().__init__()
        self.vocab = vocab

    def __missing__(self, word: str) -> tuple[int, ...]:
        ids = self[word] = tuple(self.vocab.setdefault(t, len(self.vocab)) for t in _terms_of(word))
        return ids


class _TokenIds:
    """Every document's term ids in one flat array (bm25s reads each document as a short-lived
    list). bm25s's usual input, a list of lists of strings, holds a pointer per term and a list
    per document, and bm25s copies it into lists of ids."""

    def __init__(self, texts: Iterable[str], vocab: dict[str, int]) -> None:
        ids_of = _WordIds(vocab)
        flat, ends = array("i"), array("q")
        for text in texts:  # each step in C but the first sight of a word
            flat.extend(chain.from_iterable(map(ids_of.__getitem__, _WORD.findall(text))))
            ends.append(len(flat))
        self.flat = np.frombuffer(flat, dtype=np.int32) if flat else np.zeros(0, dtype=np.int32)
        self.starts = np.concatenate([[0], np.frombuffer(ends, dtype=np.int64)])

    def __len__(self) -> int:
        return len(self.starts) - 1

    def __iter__(self) -> Iterator[list[int]]:
        for start, end in zip(self.starts[:-1], self.starts[1:]):
            yield self.flat[start:end].tolist()

    def term_counts(self, vocab_size: int, block: int = 1 << 16) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(document, term, count) of every term in every document, by document then term."""
        docs, terms, counts = [], [], []
        lengths = np.diff(self.starts)
        for first in range(0, len(self), block):
            last = min(first + block, len(self))
            doc = np.repeat(np.arange(first, last, dtype=np.int64), lengths[first:last])
            keys = doc * vocab_size + self.flat[self.starts[first] : self.starts[last]]
            unique, count = np.unique(keys, return_counts=True)
            docs.append((unique // vocab_size).astype(np.int32))
            terms.append((unique % vocab_size).astype(np.int32))
            counts.append(count)
        return np.concatenate(docs), np.concatenate(terms), np.concatenate(counts)


class _BM25(bm25s.BM25):
    """bm25s's BM25, its score matrix computed with numpy over all documents at once.

    bm25s builds it one document at a time in Python. With this, ``_TokenIds`` and the cached
    word terms, building the search files of 1,000,000 chunks took 58 CPU seconds and 7.4 GB at
    most instead of 165 s and 11.7 GB (``benchmarks/results/scale.md``). Same formulas (bm25s's
    own idf and tf functions), same matrix, same files; only for the methods without a
    non-occurrence term (the default).
    """

    def build_index_from_ids(
        self, unique_token_ids, corpus_token_ids, show_progress=True, leave_progress=False
    ):
        if self.method in self.methods_requiring_nonoccurrence or not isinstance(corpus_token_ids, _TokenIds):
            return super().build_index_from_ids(
                unique_token_ids, corpus_token_ids, show_progress, leave_progress
            )
        n_docs, n_vocab = len(corpus_token_ids), len(unique_token_ids)
        lengths = np.diff(corpus_token_ids.starts)
        doc, term, count = corpus_token_ids.term_counts(n_vocab)
        frequencies = np.bincount(term, minlength=n_vocab)
        idf = scoring._build_idf_array(
            dict(enumerate(frequencies.tolist())),
            n_docs,
            scoring._select_idf_scorer(self.idf_method),
            self.dtype,
        )
        tfc = scoring._select_tfc_scorer(self.method)(
            tf_array=count.astype(self.dtype),
            l_d=lengths[doc],
            l_avg=lengths.mean(),
            k1=self.k1,
            b=self.b,
            delta=self.delta,
        )
        order = np.argsort(term, kind="stable")  # column by column, documents in order within each
        self.nonoccurrence_array = None
        return {
            "data": (idf[term] * tfc)[order].astype(self.dtype),
            "indices": doc[order].astype(self.int_dtype),
            "indptr": np.concatenate([[0], np.cumsum(frequencies)]).astype(np.int64),
            "num_docs": n_docs,
        }


class LexicalIndex:
    """BM25 over chunk texts; ``ids[i]`` is the chunk rowid of corpus row ``i``."""

    def __init__(self, model: bm25s.BM25 | None, ids: np.ndarray) -> None:
        self.model = model
        self.ids = ids

    @classmethod
    def build(cls, ids: list[int], texts: Iterable[str]) -> LexicalIndex:
        if not ids:
            return cls(None, np.zeros(0, dtype=np.int64))
        vocab: dict[str, int] = {}
        corpus = _TokenIds(texts, vocab)
        if not vocab:  # stopwords only: nothing a keyword can find (bm25s cannot index it)
            return cls(None, np.asarray(ids, dtype=np.int64))
        model = _BM25()
        model.index(bm25s.tokenization.Tokenized(ids=corpus, vocab=vocab), show_progress=False)  # type: ignore[arg-type]
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
        elif len(self.ids):
            (folder / _NO_TERMS).touch()

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex:
        ids = np.asarray(json.loads((folder / "ids.json").read_text()), dtype=np.int64)
        if not len(ids) or (folder / _NO_TERMS).exists():
            return cls(None, ids)
        # memory-mapped: opening a million chunks' BM25 takes no time and no memory of its own (the
        # files are only ever replaced whole, never changed in place)
        model = bm25s.BM25.load(str(folder / "bm25"), mmap=True, show_progress=False, verbosity=0)
        return cls(model, ids)
