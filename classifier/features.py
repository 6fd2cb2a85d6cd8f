"""Text -> features, vectorised with NumPy alone (no scikit-learn, no Python loop per n-gram).

A chunk of texts becomes one array of Unicode code points. Word 1-2-grams and character n-grams
inside words (each word padded with a space on both sides, as scikit-learn's ``char_wb``) are
found with array operations and identified by 64-bit hashes of their lower-cased characters;
a sorted vocabulary of the hashes seen in training turns them into columns.

Weights are TF-IDF: an n-gram's weight in a text is ``count * idf / norm``, where ``norm`` is
the square root of the sum of ``count * idf**2`` over the text's known n-grams of the same block
(words, characters). For a text whose n-grams are distinct, as in most sentences, that is the
usual L2-normalised TF-IDF; it needs no per-text deduplication, so scoring is one pass of
look-ups and sums. Training (:meth:`Featurizer.transform`, a SciPy matrix) and scoring
(:meth:`Featurizer.decision`, sums straight into the linear model) share every step up to the
final sum, which is what the parity test checks.

A few stylistic signals (capitals, ``!``, ``?``, quotes, digits, links, length, and word lists
of first/second person, hedges and attribution) are added as dense columns.
"""

from __future__ import annotations

import functools
import itertools
import math

import numpy as np

from classifier.normalise import normalise

_U = np.uint64
_P = _U(0x100000001B3)  # FNV-1a prime: the rolling multiplier (odd, so invertible mod 2**64)
_P_INV = _U(pow(0x100000001B3, -1, 2**64))
_KIND_WORD, _KIND_BIGRAM, _KIND_CHAR = _U(0x1F3D5B79), _U(0x5851F42D), _U(0x2545F491)
_SPACE, _SENTINEL = 32, 0
_APOSTROPHES = (ord("'"), ord("\u2019"))
_TABLE_SIZE = 0x3000  # code points above this count as letters (CJK and the like)

#: Word lists of the lexical style signals (lower case; a two-word entry is a bigram).
LEXICONS: dict[str, tuple[str, ...]] = {
    "first_person": ("i", "me", "my", "mine", "we", "us", "our", "ours", "i'm", "i\u2019m"),
    "second_person": ("you", "your", "yours", "you're", "you\u2019re", "u", "ya"),
    "hedge": (
        "may",
        "might",
        "could",
        "perhaps",
        "possibly",
        "likely",
        "probably",
        "seem",
        "seems",
        "appear",
        "appears",
        "suggest",
        "suggests",
        "reportedly",
        "allegedly",
        "arguably",
    ),
    "attribution": (
        "said",
        "says",
        "told",
        "stated",
        "announced",
        "confirmed",
        "reported",
        "added",
        "according to",
        "spokesman",
        "spokeswoman",
        "spokesperson",
        "statement",
        "official",
        "officials",
    ),
}
#: Names of the stylistic features, in column order.
STYLE_FEATURES: tuple[str, ...] = (
    "caps_words",
    "exclamation",
    "question",
    "quote",
    "digit",
    "link",
    "length",
    *LEXICONS,
)
#: The signals a model uses unless told otherwise. Text length is left out: it says more about
#: the register (wire copy runs long, comments short) than about the label, and a model that
#: used it called long news sentences disinformation.
DEFAULT_STYLE: tuple[str, ...] = tuple(s for s in STYLE_FEATURES if s != "length")
_QUOTES = tuple(map(ord, '"\u201c\u201d'))
_LINK_GRAMS = ("http", "www.", ".com", ".org")


_FIBONACCI = _U(0x9E3779B97F4A7C15)  # 2**64 / golden ratio: multiplicative hashing's constant


@functools.lru_cache(maxsize=1)
def _tables() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per code point below :data:`_TABLE_SIZE`: is word character, upper, lower, space."""
    chars = [chr(i) for i in range(_TABLE_SIZE)]
    word = np.array([c.isalnum() or c == "_" for c in chars])
    upper = np.array([c.isupper() for c in chars])
    lower = np.array([c.islower() for c in chars])
    space = np.array([c.isspace() for c in chars])
    return word, upper, lower, space


def _classes(cp: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Word, upper, lower and space masks of code points."""
    word_t, upper_t, lower_t, space_t = _tables()
    low = cp < _TABLE_SIZE
    idx = np.where(low, cp, 0)
    word = np.where(low, word_t[idx], cp != 0x3000)
    space = np.where(low, space_t[idx], cp == 0x3000)
    upper = low & upper_t[idx]
    lower = low & lower_t[idx]
    word &= cp != _SENTINEL
    return word, upper, lower, space


def _lower(text: str) -> str:
    """Lower case without changing the length (a character whose lower case is longer stays)."""
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in text)


class _Chunk:
    """The code points of a chunk of texts and where their words are.

    Texts are laid out as ``" text " + NUL`` one after another, so no n-gram crosses a text.
    """

    def __init__(self, texts: list[str]):
        # One spelling whatever exported the text (entities, curly quotes, "word ," ...): see
        # classifier.normalise; it never moves anything across the NUL between texts.
        original = normalise("\x00".join(f" {t} " for t in texts) + "\x00")
        self.n = len(texts)
        self.cp = np.frombuffer(original.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
        self.low_text = _lower(original)
        self.low = np.frombuffer(self.low_text.encode("utf-32-le"), dtype=np.uint32).astype(
            np.int64
        )
        word, self.upper, lower, space = _classes(self.cp)
        self.lower_mask = lower
        sentinel = self.cp == _SENTINEL
        self.row = np.concatenate(([0], np.cumsum(sentinel[:-1]))).astype(np.int64)
        # An apostrophe between two word characters belongs to the word ("don't", "Russia's").
        apostrophe = np.isin(self.cp, _APOSTROPHES)
        inner = np.zeros_like(word)
        inner[1:-1] = apostrophe[1:-1] & word[:-2] & word[2:]
        self.word = word | inner
        self.space = space
        self.sentinel = sentinel
        # Word tokens: maximal runs of word characters.
        w = self.word.astype(np.int8)
        edges = np.diff(np.concatenate(([0], w, [0])))
        self.starts = np.flatnonzero(edges == 1)
        self.ends = np.flatnonzero(edges == -1)
        self.token_row = self.row[self.starts]

    @functools.cached_property
    def token_hashes(self) -> np.ndarray:
        """Hash of each word token's lower-cased characters."""
        if not len(self.starts):
            return np.zeros(0, dtype=np.uint64)
        with np.errstate(over="ignore"):
            powers = np.cumprod(np.full(len(self.low), _P, dtype=np.uint64))
            inverse = np.cumprod(np.full(len(self.low), _P_INV, dtype=np.uint64))
            prefix = np.concatenate(([_U(0)], np.cumsum(self.low.astype(np.uint64) * powers)))
            raw = (prefix[self.ends] - prefix[self.starts]) * inverse[self.starts]
            return raw + (self.ends - self.starts).astype(np.uint64) + _KIND_WORD

    def word_grams(self, n_max: int) -> tuple[np.ndarray, np.ndarray]:
        """(row, hash) of every word 1- to ``n_max``-gram (n_max is 1 or 2)."""
        return self._bigrams if n_max >= 2 else (self.token_row, self.token_hashes)

    @functools.cached_property
    def _bigrams(self) -> tuple[np.ndarray, np.ndarray]:
        """Word 1- and 2-grams: the word features and the lexicon signals both need them."""
        rows, hashes = [self.token_row], [self.token_hashes]
        if len(self.starts) > 1:
            same = self.token_row[1:] == self.token_row[:-1]
            with np.errstate(over="ignore"):
                pair = self.token_hashes[:-1] * _P + self.token_hashes[1:] + _KIND_BIGRAM
            rows.append(self.token_row[:-1][same])
            hashes.append(pair[same])
        return np.concatenate(rows), np.concatenate(hashes)

    def char_grams(self, n_min: int, n_max: int) -> tuple[np.ndarray, np.ndarray]:
        """(row, hash) of every character n-gram inside space-padded words."""
        # The NUL between texts counts as a space: a gram with a space inside is no gram, so no
        # gram crosses from one text into the next.
        blank = self.space | self.sentinel
        s = np.where(blank, _SPACE, self.low).astype(np.uint64)
        blank_sum = np.concatenate(([0], np.cumsum(blank)))
        rows, hashes = [], []
        rolling = s.copy()
        length = len(s)
        with np.errstate(over="ignore"):
            for n in range(2, n_max + 1):
                m = length - n + 1
                if m <= 0:
                    break
                rolling = rolling[:m] * _P + s[n - 1 : n - 1 + m]
                if n < n_min:
                    continue
                ok = (blank_sum[n - 1 : n - 1 + m] - blank_sum[1 : 1 + m]) == 0  # no space inside
                if n == 2:  # two spaces in a row are not an n-gram of any word
                    ok &= ~(blank[:m] & blank[1 : 1 + m])
                rows.append(self.row[:m][ok])
                hashes.append(rolling[ok] + _U(n) * _KIND_CHAR)
        if not rows:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.uint64)
        return np.concatenate(rows), np.concatenate(hashes)

    def style(self, lexicons: tuple[HashIndex, np.ndarray]) -> np.ndarray:
        """Dense stylistic signals, one row per text, columns :data:`STYLE_FEATURES`."""
        n = self.n
        count = functools.partial(np.bincount, minlength=n)
        tokens = np.maximum(count(self.token_row), 1)
        # A word in capitals: two or more upper-case letters and no lower-case one.
        up = np.concatenate(([0], np.cumsum(self.upper)))
        lo = np.concatenate(([0], np.cumsum(self.lower_mask)))
        caps = ((up[self.ends] - up[self.starts]) >= 2) & ((lo[self.ends] - lo[self.starts]) == 0)
        capped = lambda c: np.minimum(c, 3) / 3  # noqa: E731
        columns = [
            count(self.token_row, weights=caps) / tokens,
            capped(count(self.row[self.cp == ord("!")])),
            capped(count(self.row[self.cp == ord("?")])),
            capped(count(self.row[np.isin(self.cp, _QUOTES)])),
            capped(count(self.row[(self.cp >= ord("0")) & (self.cp <= ord("9"))])),
            capped(count(self.char_link_rows())),
            np.minimum(np.log1p(count(self.token_row)) / math.log(64), 1.0),
        ]
        index, owners = lexicons
        rows, grams = self.word_grams(2)
        entry = index.lookup(grams)
        found = entry >= 0
        hits = np.bincount(
            rows[found] * len(LEXICONS) + owners[entry[found]], minlength=n * len(LEXICONS)
        )
        columns += list(capped(hits.reshape(n, len(LEXICONS)).T.astype(float)))
        return np.column_stack(columns) if n else np.zeros((0, len(STYLE_FEATURES)))

    def char_link_rows(self) -> np.ndarray:
        """Row of each occurrence of a link marker (``http``, ``www.``, ``.com``, ``.org``)."""
        hits = []
        for marker in _LINK_GRAMS:
            codes = [ord(c) for c in marker]
            m = len(self.low) - len(codes) + 1
            if m <= 0:
                continue
            ok = np.ones(m, dtype=bool)
            for k, c in enumerate(codes):
                ok &= self.low[k : k + m] == c
            hits.append(self.row[:m][ok])
        return np.concatenate(hits) if hits else np.zeros(0, dtype=np.int64)


def style_features(texts: list[str]) -> np.ndarray:
    """The stylistic signals of ``texts``: one row per text, columns :data:`STYLE_FEATURES`."""
    return _Chunk(list(texts)).style(_lexicon_hashes())


@functools.lru_cache(maxsize=1)
def _lexicon_hashes() -> tuple[HashIndex, np.ndarray]:
    """A hash table of every lexicon entry (as the tokenizer hashes it) and each entry's lexicon."""
    entries = [entry for words in LEXICONS.values() for entry in words]
    owners = np.array([owner for owner, words in enumerate(LEXICONS.values()) for _ in words])
    chunk = _Chunk(entries)
    # Each entry is one word (its token's hash) or two (their bigram's hash).
    rows, grams = chunk.word_grams(2)
    tokens = len(chunk.token_row)
    hashes = np.zeros(len(entries), dtype=np.uint64)
    single = np.bincount(chunk.token_row, minlength=len(entries)) == 1
    hashes[single] = chunk.token_hashes[np.isin(chunk.token_row, np.flatnonzero(single))]
    hashes[rows[tokens:]] = grams[tokens:]  # at most one bigram per entry
    return HashIndex(hashes), owners


class HashIndex:
    """Column of each vocabulary hash, found by open addressing (vectorised linear probing).

    A key's first slot is the top bits of ``key * 0x9E37...`` (multiplicative hashing), which
    depend on every bit of the key, so rolling hashes need no extra mixing.

    Parameters
    ----------
    keys : ndarray of uint64
        The vocabulary's hashes (distinct).
    """

    EMPTY = np.uint64(0)

    def __init__(self, keys: np.ndarray):
        size = 1 << max(4, int(len(keys) * 2 - 1).bit_length())  # load factor at most 1/2
        self.mask = np.uint64(size - 1)
        self.shift = np.uint64(64 - (size.bit_length() - 1))
        self.keys = np.zeros(size, dtype=np.uint64)
        self.values = np.full(size, -1, dtype=np.int32)
        pending = np.arange(len(keys))
        probe = np.uint64(0)
        while len(pending):
            slots = ((self._home(keys[pending]) + probe) & self.mask).astype(np.int64)
            free = self.values[slots] == -1
            # Of the keys that want the same free slot, the first takes it; the rest probe on.
            _, first = np.unique(slots, return_index=True)
            take = np.zeros(len(pending), dtype=bool)
            take[first] = True
            take &= free
            self.keys[slots[take]] = keys[pending[take]]
            self.values[slots[take]] = pending[take]
            pending = pending[~take]
            probe += np.uint64(1)

    @classmethod
    def from_table(cls, keys: np.ndarray, values: np.ndarray) -> HashIndex:
        """An index from a table saved earlier (no rebuilding at load time)."""
        index = cls.__new__(cls)
        index.keys, index.values = keys, values
        index.mask = np.uint64(len(keys) - 1)
        index.shift = np.uint64(64 - (len(keys).bit_length() - 1))
        return index

    def _home(self, hashes: np.ndarray) -> np.ndarray:
        """Each hash's first slot."""
        with np.errstate(over="ignore"):
            return (hashes * _FIBONACCI) >> self.shift

    def lookup(self, hashes: np.ndarray) -> np.ndarray:
        """Column of each hash, or -1 for a hash not in the vocabulary."""
        # First probe over the whole array: most keys are found (or missed) there.
        home = self._home(hashes)
        slots = home.astype(np.intp)
        values = self.values[slots].astype(np.int64)
        occupied = values >= 0
        hit = occupied & (self.keys[slots] == hashes)
        out = np.where(hit, values, -1)
        todo = np.flatnonzero(occupied & ~hit)
        probe = np.uint64(1)
        while len(todo):
            slots = ((home[todo] + probe) & self.mask).astype(np.int64)
            values = self.values[slots]
            hit = self.keys[slots] == hashes[todo]
            hit &= values >= 0
            out[todo[hit]] = values[hit]
            todo = todo[~hit & (values >= 0)]  # an empty slot ends the search
            probe += np.uint64(1)
        return out


class Featurizer:
    """Word and character n-gram TF-IDF plus style signals, fitted on training texts.

    Parameters
    ----------
    word_ngrams : int
        Longest word n-gram (1 or 2); 0 for no word features.
    char_ngrams : tuple of int, optional
        Shortest and longest character n-gram inside words; None for no character features.
    char_min_df : int
        Character n-grams seen in fewer training texts are dropped.
    style : tuple of str
        Which of :data:`STYLE_FEATURES` to use, in that order.
    """

    def __init__(
        self,
        word_ngrams: int = 2,
        char_ngrams: tuple[int, int] | None = (3, 5),
        char_min_df: int = 2,
        style: tuple[str, ...] = DEFAULT_STYLE,
    ):
        self.word_ngrams = word_ngrams
        self.char_ngrams = char_ngrams
        self.char_min_df = char_min_df
        self.style = tuple(style)

    # scikit-learn's estimator protocol (Pipeline, clone) needs only these two.
    def get_params(self, deep: bool = True) -> dict:
        return {
            "word_ngrams": self.word_ngrams,
            "char_ngrams": self.char_ngrams,
            "char_min_df": self.char_min_df,
            "style": list(self.style),
        }

    def set_params(self, **params) -> Featurizer:
        for key, value in params.items():
            setattr(self, key, value)
        return self

    def _blocks(self, chunk: _Chunk) -> list[tuple[np.ndarray, np.ndarray]]:
        """(row, hash) of each block's n-grams: words, then characters."""
        return [grams for grams, _ in self._blocks_with_min_df(chunk)]

    def _blocks_with_min_df(self, chunk: _Chunk) -> list[tuple[tuple[np.ndarray, np.ndarray], int]]:
        """Each block's n-grams and the fewest training texts an n-gram must be in to be kept."""
        blocks = []
        if self.word_ngrams:
            blocks.append((chunk.word_grams(self.word_ngrams), 1))
        if self.char_ngrams:
            blocks.append((chunk.char_grams(*self.char_ngrams), self.char_min_df))
        return blocks

    def fit(self, texts: list[str], y=None) -> Featurizer:
        """Learn the vocabulary (sorted hashes), idf weights and readable word n-grams."""
        chunk = _Chunk(list(texts))
        n = len(texts)
        vocab, idf = [], []
        for (rows, hashes), min_df in self._blocks_with_min_df(chunk):
            order = np.lexsort((hashes, rows))
            rows, hashes = rows[order], hashes[order]
            first = np.ones(len(hashes), dtype=bool)
            first[1:] = (hashes[1:] != hashes[:-1]) | (rows[1:] != rows[:-1])
            kept, df = np.unique(hashes[first], return_counts=True)
            kept, df = kept[df >= min_df], df[df >= min_df]
            vocab.append(kept)
            idf.append(np.log((1 + n) / (1 + df)) + 1)
        self.vocabulary_ = [v.astype(np.uint64) for v in vocab]
        self.idf_ = [i.astype(np.float64) for i in idf]
        self._indexes = [HashIndex(v) for v in self.vocabulary_]
        self.word_names_ = self._word_names(chunk) if self.word_ngrams else []
        self._lexicons = _lexicon_hashes()
        return self

    def _word_names(self, chunk: _Chunk) -> list[str]:
        """The text of each word-vocabulary entry (for explanations and reports)."""
        low = chunk.low_text
        tokens = [low[s:e] for s, e in zip(chunk.starts.tolist(), chunk.ends.tolist())]
        names: dict[int, str] = {}
        for h, t in zip(chunk.token_hashes.tolist(), tokens):
            names.setdefault(h, t)
        if self.word_ngrams >= 2 and len(tokens) > 1:
            _, grams = chunk.word_grams(2)
            pairs = [
                f"{a} {b}"
                for a, b, same in zip(
                    tokens[:-1], tokens[1:], (chunk.token_row[1:] == chunk.token_row[:-1]).tolist()
                )
                if same
            ]
            for h, t in zip(grams[len(tokens) :].tolist(), pairs):
                names.setdefault(h, t)
        return [names.get(h, "?") for h in self.vocabulary_[0].tolist()]

    def to_arrays(self) -> tuple[dict[str, np.ndarray], dict]:
        """The fitted state as plain arrays (for ``.npz``) and JSON-able parameters."""
        arrays = {}
        for b, (vocab, idf, index) in enumerate(zip(self.vocabulary_, self.idf_, self._indexes)):
            arrays[f"vocabulary_{b}"] = vocab
            arrays[f"idf_{b}"] = idf
            arrays[f"index_keys_{b}"] = index.keys
            arrays[f"index_values_{b}"] = index.values
        # One UTF-8 blob, not a fixed-width string array (which pads every name to the longest).
        arrays["word_names"] = np.frombuffer(
            "\n".join(self.word_names_).encode("utf-8"), dtype=np.uint8
        )
        return arrays, {**self.get_params(), "blocks": len(self.vocabulary_)}

    @classmethod
    def from_arrays(cls, arrays, params: dict) -> Featurizer:
        """Rebuild a fitted featurizer from :meth:`to_arrays`' output."""
        params = dict(params)
        blocks = params.pop("blocks")
        if params.get("char_ngrams") is not None:
            params["char_ngrams"] = tuple(params["char_ngrams"])
        params["style"] = tuple(params["style"])
        featurizer = cls(**params)
        featurizer.vocabulary_ = [arrays[f"vocabulary_{b}"] for b in range(blocks)]
        featurizer.idf_ = [arrays[f"idf_{b}"] for b in range(blocks)]
        featurizer._indexes = [
            HashIndex.from_table(arrays[f"index_keys_{b}"], arrays[f"index_values_{b}"])
            for b in range(blocks)
        ]
        blob = arrays["word_names"].tobytes().decode("utf-8")
        featurizer.word_names_ = blob.split("\n") if blob else []
        featurizer._lexicons = _lexicon_hashes()
        return featurizer

    def explained(self) -> np.ndarray:
        """Mask of the columns an explanation may name: word n-grams and style signals."""
        mask = np.zeros(self.n_features, dtype=bool)
        if self.word_ngrams:
            mask[: len(self.idf_[0])] = True
        mask[self.n_features - len(self.style) :] = True
        return mask

    def readable_names(self) -> list[str]:
        """Per column: the word n-gram, ``[signal]`` for a style column, '' for a character n-gram."""
        names: list[str] = []
        for b, vocab in enumerate(self.vocabulary_):
            names += self.word_names_ if b == 0 and self.word_ngrams else [""] * len(vocab)
        return names + [f"[{s}]" for s in self.style]

    @property
    def n_features(self) -> int:
        return sum(len(v) for v in self.vocabulary_) + len(self.style)

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """``word__<n-gram>``, ``char__<index>`` and ``style__<signal>`` column names."""
        names: list[str] = []
        for b, vocab in enumerate(self.vocabulary_):
            if b == 0 and self.word_ngrams:
                names += [f"word__{w}" for w in self.word_names_]
            else:
                names += [f"char__{i}" for i in range(len(vocab))]
        names += [f"style__{s}" for s in self.style]
        return np.array(names, dtype=object)

    def _known(self, texts: list[str]):
        """Per block: row and block column of every known n-gram occurrence, and the block's
        norm per text; the style columns; and where the style columns start."""
        chunk = _Chunk(list(texts))
        blocks = []
        offset = 0
        for (rows, hashes), vocab, idf, index in zip(
            self._blocks(chunk), self.vocabulary_, self.idf_, self._indexes
        ):
            col = index.lookup(hashes)
            found = col >= 0
            rows, col = rows[found], col[found]
            norm = np.sqrt(np.bincount(rows, weights=(idf * idf)[col], minlength=chunk.n))
            norm[norm == 0] = 1.0
            blocks.append((rows, col, norm, offset))
            offset += len(vocab)
        columns = [STYLE_FEATURES.index(s) for s in self.style]
        return blocks, chunk.style(self._lexicons)[:, columns], offset

    def transform(self, texts: list[str]):
        """The feature matrix (SciPy CSR): n-gram blocks, then the style columns."""
        import scipy.sparse as sp

        blocks, style, offset = self._known(texts)
        n = len(texts)
        rows = np.concatenate([b[0] for b in blocks] + [np.repeat(np.arange(n), style.shape[1])])
        cols = np.concatenate(
            [col + start for _, col, _, start in blocks]
            + [np.tile(np.arange(style.shape[1]) + offset, n)]
        )
        weights = [idf[col] / norm[r] for (r, col, norm, _), idf in zip(blocks, self.idf_)]
        data = np.concatenate([*weights, style.ravel()])
        matrix = sp.csr_matrix((data, (rows, cols)), shape=(n, self.n_features))
        matrix.sum_duplicates()
        matrix.eliminate_zeros()
        return matrix

    def fit_transform(self, texts: list[str], y=None):
        return self.fit(texts).transform(texts)

    def decision(self, texts: list[str], coef: np.ndarray, intercept: np.ndarray) -> np.ndarray:
        """``features(texts) @ coef.T + intercept`` without building the feature matrix.

        Parameters
        ----------
        texts : list of str
        coef : ndarray of shape (n_classes, n_features)
        intercept : ndarray of shape (n_classes,)

        Returns
        -------
        ndarray of shape (n_texts, n_classes)
        """
        blocks, style, offset = self._known(texts)
        n = len(texts)
        out = np.tile(intercept.astype(np.float64), (n, 1))
        for (rows, cols, norm, start), idf in zip(blocks, self.idf_):
            # Sum idf * coef over each text's occurrences, then divide by the text's norm once.
            weighted = idf * coef[:, start : start + len(idf)]
            for k in range(coef.shape[0]):
                out[:, k] += np.bincount(rows, weights=weighted[k][cols], minlength=n) / norm
        out += style @ coef[:, offset:].T
        return out

    def contributions(self, text: str, direction: np.ndarray) -> list[tuple[int, float]]:
        """(column, push) of every known feature of one text along ``direction``."""
        blocks, style, offset = self._known([text])
        pushes: dict[int, float] = {}
        for (_, cols, norm, start), idf in zip(blocks, self.idf_):
            for c in cols.tolist():
                pushes[start + c] = (
                    pushes.get(start + c, 0.0) + idf[c] / norm[0] * direction[start + c]
                )
        for j, value in enumerate(style[0].tolist()):
            if value:
                pushes[offset + j] = value * direction[offset + j]
        return list(pushes.items())

    def word_terms(self, text: str) -> set[str]:
        """The word n-grams of ``text`` as the featurizer sees them (lower case)."""
        chunk = _Chunk([text])
        low = chunk.low_text
        tokens = [low[s:e] for s, e in zip(chunk.starts.tolist(), chunk.ends.tolist())]
        terms = set(tokens)
        if self.word_ngrams >= 2:
            terms |= {f"{a} {b}" for a, b in itertools.pairwise(tokens)}
        return terms
