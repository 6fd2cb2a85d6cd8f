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
from classifier.normalise import normalise

_U = np.uint64
_P = _U(0x100000001B3)  # FNV-1a prime: the rolling multiplier (odd, so invertible mod 2**64)
_P_INV = _U(pow(0x100000001B3, -1, 2**64))
_KIND_WORD, _KIND_BIGRAM, _KIND_CHAR = _U(0x1F3D5B79), _U(0x5851F42D), _U(0x2545F491)
_KIND_CHAR_WORD = _U(0x62A9D9ED)
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
_COUNTED = (ord("!"), ord("?"), *_QUOTES)  # with the digits: the characters style counts
_LINK_GRAMS = ("http", "www.", ".com", ".org")


# Bits of :func:`_flags`: one table look-up classifies every code point of a chunk at once.
# "Rare" characters (capitals, apostrophes, a link marker's first character, the counted
# punctuation and digits, code points above the Basic Multilingual Plane) are found in one pass
# and told apart afterwards, on the few positions found.
_WORD, _BLANK, _UPPER, _LOWER, _APOSTROPHE, _LINK, _EVENT, _ASTRAL = (
    np.uint8(1 << i) for i in range(8)
)
_RARE = _UPPER | _APOSTROPHE | _LINK | _EVENT | _ASTRAL
_LINK_STARTS = "hw."  # first characters of _LINK_GRAMS (lower case)
#: A chunk at least this long is classified and lower-cased with tables over the whole Basic
#: Multilingual Plane (the same result; building them costs a few milliseconds once).
_BIG_CHUNK = 1 << 16
_BMP = 0x10000
#: Not in the lower-case table: U+0130 (its lower case is two characters; :func:`_lower` keeps
#: it) and U+03A3 (capital sigma: its lower case depends on the letters around it).
_CONTEXTUAL = (0x130, 0x3A3)
#: Powers of the rolling multiplier are kept between chunks up to this length (16 bytes each:
#: at most 32 MB, for chunks of 10,000 sentences; ``label``'s chunks need a quarter of it).
_KEEP_POWERS = 1 << 21


@functools.lru_cache(maxsize=1)
def _flags() -> np.ndarray:
    """Class bits per code point below :data:`_TABLE_SIZE`, then one entry for U+3000 (a space)
    and one for every code point above it (a letter)."""
    chars = "".join(map(chr, range(_TABLE_SIZE)))
    flags = np.zeros(_TABLE_SIZE + 2, dtype=np.uint8)
    for bit, test in (
        (_WORD, str.isalnum),
        (_UPPER, str.isupper),
        (_LOWER, str.islower),
        (_BLANK, str.isspace),
    ):
        mask = np.frombuffer(bytes(map(test, chars)), dtype=bool)  # map over C methods: fast
        flags[:_TABLE_SIZE][mask] |= bit
    flags[ord("_")] |= _WORD
    flags[_SENTINEL] = _BLANK  # the NUL between texts: a blank, never part of a word
    flags[list(_APOSTROPHES)] |= _APOSTROPHE
    flags[[*_COUNTED, *range(ord("0"), ord("9") + 1)]] |= _EVENT
    # No other code point lower-cases to one of these (tests/test_features.py checks it).
    flags[[ord(c) for c in _LINK_STARTS + _LINK_STARTS.upper()]] |= _LINK
    flags[_TABLE_SIZE] = _BLANK
    flags[_TABLE_SIZE + 1] = _WORD
    return flags


@functools.lru_cache(maxsize=1)
def _bmp_flags() -> np.ndarray:
    """:func:`_flags` over the whole Basic Multilingual Plane: ``take(..., mode="clip")`` then
    classifies any code point (those above it are letters, as U+FFFF's entry says)."""
    small = _flags()
    flags = np.full(_BMP, small[_TABLE_SIZE + 1], dtype=np.uint8)
    flags[: _TABLE_SIZE + 1] = small[: _TABLE_SIZE + 1]
    flags[_BMP - 1] |= _ASTRAL  # clipped code points land here (and U+FFFF, harmlessly)
    return flags


@functools.lru_cache(maxsize=1)
def _lower_table() -> np.ndarray:
    """The lower case (uint64) of every code point of the Basic Multilingual Plane, as
    :func:`_lower` gives it: ``str.lower`` is context-free but for capital sigma, which this
    table is never used on."""
    lower = np.arange(_BMP, dtype=np.uint64)
    plain = [c for c in range(_BMP) if not 0xD800 <= c < 0xE000 and c not in _CONTEXTUAL]
    low = "".join(map(chr, plain)).lower()  # one C loop; lengths equal without the exceptions
    lower[plain] = np.frombuffer(low.encode("utf-32-le"), dtype=np.uint32)
    return lower


_POWERS: tuple[np.ndarray, np.ndarray] = (np.zeros(0, np.uint64), np.zeros(0, np.uint64))


def _powers(length: int) -> tuple[np.ndarray, np.ndarray]:
    """``P**(i+1)`` and ``P**-(i+1)`` for ``i < length``, kept between calls up to a size."""
    global _POWERS
    powers, inverse = _POWERS
    if len(powers) < length:
        size = max(length, min(2 * len(powers), _KEEP_POWERS), 1 << 12)
        with np.errstate(over="ignore"):
            powers = np.cumprod(np.full(size, _P, dtype=np.uint64))
            inverse = np.cumprod(np.full(size, _P_INV, dtype=np.uint64))
        if size <= _KEEP_POWERS:
            _POWERS = (powers, inverse)
    return powers[:length], inverse[:length]


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


def _code_points(text: str) -> np.ndarray:
    """The code points of ``text`` (a lone surrogate, which JSON can carry, is one too)."""
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def _rolling_grams(
    s: np.ndarray, blank: np.ndarray, row: np.ndarray, n_min: int, n_max: int
) -> tuple[np.ndarray, np.ndarray]:
    """(row, hash) of every character n-gram of ``s`` with no blank inside (its ends may be).

    ``s`` holds lower-case code points with every blank as a space (uint64); a gram of two
    blanks in a row is no gram of any word.
    """
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
            rows.append(row[:m][ok])
            hashes.append(rolling[ok] + _U(n) * _KIND_CHAR)
    if not rows:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.uint64)
    return np.concatenate(rows), np.concatenate(hashes)


class Chunk:
    """The code points of a chunk of texts and where their words are.

    Texts are laid out as ``" text " + NUL`` one after another, so no n-gram crosses a text. A
    text's rows are known from the lengths, so a NUL inside a text is just one more blank.
    """

    def __init__(self, texts: list[str]):
        # Exported text (HTML entities, detached punctuation, split links, curly quotes) is read
        # in one spelling, for training and scoring alike (classifier/normalise.py).
        texts = [normalise(t) for t in texts]
        self._original = " " + " \x00 ".join(texts) + " \x00" if texts else ""
        if _SURROGATES.search(self._original):
            # A lone surrogate (a JSON "\ud800", an undecodable argv byte) counts as U+FFFD,
            # one for one, so lengths and offsets hold and every name stays encodable.
            self._original = _replace_surrogates(self._original)
        self.n = len(texts)
        self.bounds = np.zeros(self.n + 1, dtype=np.int64)  # text i is [bounds[i], bounds[i+1])
        lengths = np.fromiter(map(len, texts), dtype=np.int64, count=self.n)
        np.cumsum(lengths + 3, out=self.bounds[1:])
        self.cp = _code_points(self._original)
        self._at = self.cp.astype(
            np.intp
        )  # an intp index makes table look-ups several times faster
        self.flags = _bmp_flags().take(self._at, mode="clip")
        # A 0/1 byte is a valid bool: shift the bit down rather than compare (faster).
        self.blank = ((self.flags >> 1) & 1).view(bool)  # _BLANK is bit 1
        word = (self.flags & _WORD).view(bool)  # _WORD is bit 0
        rare = np.flatnonzero(self.flags & _RARE)
        self.rare, self.rare_flags = rare, self.flags[rare]
        # An apostrophe between two word characters belongs to the word ("don't", "Russia's").
        apostrophes = self._rare(_APOSTROPHE)
        apostrophes = apostrophes[(apostrophes > 0) & (apostrophes < len(word) - 1)]
        word[apostrophes[word[apostrophes - 1] & word[apostrophes + 1]]] = True
        # Word tokens: maximal runs of word characters. The layout starts and ends with a blank,
        # so the edges alternate: a start, then an end.
        edges = np.flatnonzero(np.diff(word.view(np.int8))) + 1
        self.starts, self.ends = edges[0::2], edges[1::2]
        self.token_row = self.rows_of(self.starts)

    def rows_of(self, positions: np.ndarray) -> np.ndarray:
        """The text row of each position in the chunk (sorted)."""
        # Where each text starts among the positions: n searches rather than one per position.
        per_text = np.diff(np.searchsorted(positions, self.bounds))
        return np.repeat(np.arange(self.n), per_text)

    def _rare(self, bit: np.uint8) -> np.ndarray:
        """Positions of the rare characters of one kind (see :data:`_RARE`)."""
        return self.rare[(self.rare_flags & bit) != 0]

    @functools.cached_property
    def low(self) -> np.ndarray:
        """Lower-case code points (uint64), as :func:`_lower` gives them."""
        at = self._at
        if len(at) < _BIG_CHUNK or (at == 0x3A3).any():
            return _code_points(self.low_text).astype(np.uint64)
        # A big chunk: a table over the Basic Multilingual Plane, and the few code points above
        # it one by one (none of them has a lower case longer than one character).
        low = _lower_table().take(at, mode="clip")
        above = self._rare(_ASTRAL)
        low[above] = [ord(chr(c).lower()) for c in self.cp[above].tolist()]
        return low

    @functools.cached_property
    def low_text(self) -> str:
        """The lower-cased layout as a string (for the readable word n-grams)."""
        return _lower(self._original)

    @functools.cached_property
    def row(self) -> np.ndarray:
        """The text row of every code point."""
        return np.repeat(np.arange(self.n), np.diff(self.bounds))

    @functools.cached_property
    def _prefix(self) -> tuple[np.ndarray, np.ndarray]:
        """Prefix sums of ``low[i] * P**(i+1)`` and the inverse powers: any span's hash is then
        two look-ups and a product."""
        powers, inverse = _powers(len(self.low))
        prefix = np.zeros(len(self.low) + 1, dtype=np.uint64)
        with np.errstate(over="ignore"):
            np.cumsum(np.multiply(self.low, powers), out=prefix[1:])
        return prefix, inverse

    def _span_hashes(self, starts: np.ndarray, ends: np.ndarray, kind: np.uint64) -> np.ndarray:
        """Hash of the lower-cased characters of each span [start, end)."""
        prefix, inverse = self._prefix
        with np.errstate(over="ignore"):
            raw = (prefix[ends] - prefix[starts]) * inverse[starts]
            return raw + (ends - starts).astype(np.uint64) + kind

    @functools.cached_property
    def token_hashes(self) -> np.ndarray:
        """Hash of each word token's lower-cased characters."""
        if not len(self.starts):
            return np.zeros(0, dtype=np.uint64)
        return self._span_hashes(self.starts, self.ends, _KIND_WORD)

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

    @functools.cached_property
    def char_words(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(row, hash, start, end) of every character word: a maximal run of non-blank
        characters (blank: white space or NUL), the unit that character n-grams live in."""
        edges = np.flatnonzero(np.diff(self.blank.view(np.int8))) + 1  # a start, then an end
        starts, ends = edges[0::2], edges[1::2]
        return self.rows_of(starts), self._span_hashes(starts, ends, _KIND_CHAR_WORD), starts, ends

    def char_grams(self, n_min: int, n_max: int) -> tuple[np.ndarray, np.ndarray]:
        """(row, hash) of every character n-gram inside space-padded words."""
        # The NUL between texts counts as a space: a gram with a space inside is no gram, so no
        # gram crosses from one text into the next.
        s = np.where(self.blank, _SPACE, self.low).astype(np.uint64)
        return _rolling_grams(s, self.blank, self.row, n_min, n_max)

    def word_char_grams(
        self, starts: np.ndarray, ends: np.ndarray, n_min: int, n_max: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """(i, hash) of every character n-gram of the character words [starts[i], ends[i]),
        each padded with the blanks around it: what :meth:`char_grams` finds in them."""
        lengths = ends - starts + 2
        if not len(lengths):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.uint64)
        first = np.cumsum(lengths) - lengths
        at = np.arange(lengths.sum()) + np.repeat(starts - 1 - first, lengths)
        blank = self.blank[at]
        s = np.where(blank, _SPACE, self.low[at]).astype(np.uint64)
        return _rolling_grams(s, blank, np.repeat(np.arange(len(lengths)), lengths), n_min, n_max)

    def style(
        self,
        lexicons: tuple[HashIndex, np.ndarray],
        *,
        lexicon_hits: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> np.ndarray:
        """Dense stylistic signals, one row per text, columns :data:`STYLE_FEATURES`.

        ``lexicon_hits``: (row, lexicon) of every word 1-2-gram in a lexicon, when the caller
        has found them already; else they are looked up in ``lexicons``.
        """
        n = self.n
        count = functools.partial(np.bincount, minlength=n)
        tokens = np.maximum(count(self.token_row), 1)
        capped = lambda c: np.minimum(c, 3) / 3  # noqa: E731
        events = self._rare(_EVENT)
        kind, rows = self.cp[events], self.rows_of(events)
        columns = [
            count(self.token_row, weights=self._caps()) / tokens,
            capped(count(rows[kind == ord("!")])),
            capped(count(rows[kind == ord("?")])),
            capped(count(rows[np.isin(kind, _QUOTES)])),
            capped(count(rows[(kind >= ord("0")) & (kind <= ord("9"))])),
            capped(count(self.char_link_rows())),
            np.minimum(np.log1p(count(self.token_row)) / math.log(64), 1.0),
        ]
        if lexicon_hits is None:
            index, owners = lexicons
            rows, grams = self.word_grams(2)
            entry = index.lookup(grams)
            found = entry >= 0
            lexicon_hits = rows[found], owners[entry[found]]
        rows, owner = lexicon_hits
        hits = np.bincount(rows * len(LEXICONS) + owner, minlength=n * len(LEXICONS))
        columns += list(capped(hits.reshape(n, len(LEXICONS)).T.astype(float)))
        return np.column_stack(columns) if n else np.zeros((0, len(STYLE_FEATURES)))

    def _caps(self) -> np.ndarray:
        """Per word token: is it in capitals (two or more upper-case letters, no lower-case)?"""
        upper = self._rare(_UPPER)  # few: found first, then their tokens
        token = np.searchsorted(self.starts, upper, side="right") - 1
        inside = (token >= 0) & (upper < self.ends[np.maximum(token, 0)])
        counts = np.bincount(token[inside], minlength=len(self.starts))
        candidates = np.flatnonzero(counts >= 2)
        starts, lengths = self.starts[candidates], (self.ends - self.starts)[candidates]
        at = np.arange(lengths.sum()) + np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
        lower = np.bincount(
            np.repeat(np.arange(len(candidates)), lengths),
            weights=(self.flags[at] & _LOWER) != 0,
            minlength=len(candidates),
        )
        caps = np.zeros(len(self.starts), dtype=bool)
        caps[candidates[lower == 0]] = True
        return caps

    def char_link_rows(self) -> np.ndarray:
        """Row of each occurrence of a link marker (``http``, ``www.``, ``.com``, ``.org``)."""
        low = self.low
        # Candidates: where a marker's first character is (few), then the next three checked.
        at = self._rare(_LINK)
        at = at[at < len(low) - 3]
        first = low[at]
        hits = []
        for marker in _LINK_GRAMS:
            found = at[first == ord(marker[0])]
            for k, c in enumerate(marker[1:], 1):  # each character narrows the candidates
                found = found[low[found + k] == ord(c)]
            hits.append(found)
        return self.rows_of(np.sort(np.concatenate(hits)))


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
