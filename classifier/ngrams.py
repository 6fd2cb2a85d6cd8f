"""Hashing n-grams of a chunk of texts: one array of code points, words, n-grams, style signals.

A chunk of texts becomes one array of Unicode code points. Word 1-2-grams and character n-grams
inside words (each word padded with a space on both sides, as scikit-learn's ``char_wb``) are
found with array operations and identified by 64-bit rolling hashes of their lower-cased
characters, with no Python loop per n-gram. A few stylistic signals (capitals, ``!``, ``?``,
quotes, digits, links, length, and word lists of first/second person, hedges and attribution)
are computed per text as dense columns.
"""

from __future__ import annotations

import functools
import math
import re

import numpy as np

from classifier.hashindex import HashIndex

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


_SURROGATES = re.compile("[\ud800-\udfff]")


def _replace_surrogates(text: str) -> str:
    """Each surrogate code point as U+FFFD: the same length, so every offset stays exact."""
    return _SURROGATES.sub("\ufffd", text)


def _lower(text: str) -> str:
    """Lower case without changing the length (a character whose lower case is longer stays)."""
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in text)


class Chunk:
    """The code points of a chunk of texts and where their words are.

    Texts are laid out as ``" text " + NUL`` one after another, so no n-gram crosses a text.
    A NUL inside a text counts as a space and each surrogate code point as U+FFFD; both keep
    the text's length, and a text without either is featurized exactly as before.
    """

    def __init__(self, texts: list[str]):
        original = "\x00".join(f" {t} " for t in texts) + "\x00"
        if original.count("\x00") > max(len(texts), 1):
            # A NUL inside a text would read as the end of that text: it is a space instead
            # (never a word character, never inside a character n-gram, as the separator is).
            texts = [t.replace("\x00", " ") for t in texts]
            original = "\x00".join(f" {t} " for t in texts) + "\x00"
        self.n = len(texts)
        try:
            encoded = original.encode("utf-32-le")
        except UnicodeEncodeError:  # lone surrogates: a JSON "\ud800", undecodable argv bytes
            original = _replace_surrogates(original)
            encoded = original.encode("utf-32-le")
        self.cp = np.frombuffer(encoded, dtype=np.uint32).astype(np.int64)
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
    return Chunk(list(texts)).style(lexicon_hashes())


@functools.lru_cache(maxsize=1)
def lexicon_hashes() -> tuple[HashIndex, np.ndarray]:
    """A hash table of every lexicon entry (as the tokenizer hashes it) and each entry's lexicon."""
    entries = [entry for words in LEXICONS.values() for entry in words]
    owners = np.array([owner for owner, words in enumerate(LEXICONS.values()) for _ in words])
    chunk = Chunk(entries)
    # Each entry is one word (its token's hash) or two (their bigram's hash).
    rows, grams = chunk.word_grams(2)
    tokens = len(chunk.token_row)
    hashes = np.zeros(len(entries), dtype=np.uint64)
    single = np.bincount(chunk.token_row, minlength=len(entries)) == 1
    hashes[single] = chunk.token_hashes[np.isin(chunk.token_row, np.flatnonzero(single))]
    hashes[rows[tokens:]] = grams[tokens:]  # at most one bigram per entry
    return HashIndex(hashes), owners
