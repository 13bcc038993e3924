"""Token rows as integer ids into one vocabulary: flat arrays instead of millions of tuples."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import chain

import numpy as np

ROWS_PER_CHUNK = 1 << 16  # rows tokenized or copied per step: bounds the temporary arrays


@dataclass(frozen=True)
class TokenTable:
    """Row i's tokens are `words[j]` for j in `ids[offsets[i]:offsets[i + 1]]`.

    At a million passages the sentences' tokens as Python tuples take about 1 GB; as int32 ids
    they take 200 MB, can be memory-mapped from the index, and feed BM25 without a Python loop.
    """

    words: Sequence[str]  # id -> token
    ids: np.ndarray  # int32, every row's ids end to end
    offsets: np.ndarray  # int64, len(rows) + 1

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, row: int) -> tuple[str, ...]:
        lo, hi = int(self.offsets[row]), int(self.offsets[row + 1])
        words = self.words
        return tuple(words[i] for i in self.ids[lo:hi].tolist())

    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    @classmethod
    def build(cls, rows: Iterable[Sequence[str]]) -> TokenTable:
        """The table of `rows`, each a sequence of tokens."""
        rows = list(rows)
        return cls.assemble(len(rows), None, np.full(len(rows), -1), lambda i: rows[i])

    @classmethod
    def assemble(
        cls,
        count: int,
        old: TokenTable | None,
        source: np.ndarray,
        tokens_of: Callable[[int], Sequence[str]],
    ) -> TokenTable:
        """`count` rows: row i is `old`'s row `source[i]`, or `tokens_of(i)` where that is -1.

        The vocabulary keeps only the words some row uses: `old`'s in their order, then new
        words in order of first use, so an unchanged corpus gets an unchanged table.
        """
        vocabulary = {} if old is None else {word: i for i, word in enumerate(old.words)}
        source = np.asarray(source, dtype=np.int64)
        copied, fresh = np.flatnonzero(source >= 0), np.flatnonzero(source < 0)
        lengths = np.zeros(count, dtype=np.int64)
        if old is not None:
            lengths[copied] = old.lengths()[source[copied]]
        fresh_ids = []
        for lo in range(0, len(fresh), ROWS_PER_CHUNK):
            rows = fresh[lo : lo + ROWS_PER_CHUNK]
            tokens = [tokens_of(int(i)) for i in rows]
            lengths[rows] = [len(t) for t in tokens]
            fresh_ids.append(
                np.fromiter(
                    (
                        vocabulary.setdefault(t, len(vocabulary))
                        for t in chain.from_iterable(tokens)
                    ),
                    dtype=np.int32,
                )
            )
        offsets = np.zeros(count + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        ids = np.empty(int(offsets[-1]), dtype=np.int32)
        if old is not None:
            for lo in range(0, len(copied), ROWS_PER_CHUNK):
                rows = copied[lo : lo + ROWS_PER_CHUNK]
                ids[spans(offsets[rows], lengths[rows])] = old.ids[
                    spans(old.offsets[source[rows]], lengths[rows])
                ]
        ids[spans(offsets[fresh], lengths[fresh])] = (
            np.concatenate(fresh_ids) if fresh_ids else np.zeros(0, dtype=np.int32)
        )
        return cls(list(vocabulary), ids, offsets).compacted()

    def compacted(self) -> TokenTable:
        """The same rows over a vocabulary of only the words they use (old order kept)."""
        used = np.bincount(self.ids, minlength=len(self.words)) > 0
        if used.all():
            return self
        renumber = np.cumsum(used, dtype=np.int64) - 1
        words = [word for word, keep in zip(self.words, used.tolist(), strict=True) if keep]
        return TokenTable(words, renumber[self.ids].astype(np.int32), self.offsets)


def spans(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Positions start..start+length-1 of every (start, length) pair, end to end."""
    starts, lengths = np.asarray(starts, dtype=np.int64), np.asarray(lengths, dtype=np.int64)
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    ends = np.cumsum(lengths)
    return np.repeat(starts - (ends - lengths), lengths) + np.arange(total, dtype=np.int64)
