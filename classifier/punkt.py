"""Sentence spans by nltk's Punkt algorithm, for fixed parameters, without importing nltk.

nltk takes about two seconds to import, more than everything else ``credscore score`` does.
credscore's Punkt is not trained: its parameters are a list of abbreviations and a list of
sentence starters, with no collocations and no orthographic statistics. For such parameters
Punkt's decisions reduce to the few rules below, ported line by line from
``nltk.tokenize.punkt`` (nltk 3.9+: ``PunktLanguageVars``, ``PunktToken``,
``PunktSentenceTokenizer.span_tokenize`` and the two annotation passes). The test suite checks
that these spans equal nltk's on the golden cases, the labels, the seed documents, generated
punctuation torture text and, where present, thousands of sentences from other corpora.
"""

from __future__ import annotations

import itertools
import re
import string
from collections.abc import Iterator
from dataclasses import dataclass

_SENT_END_CHARS = (".", "?", "!")
_PUNCTUATION = tuple(";:,.!?")
_NON_WORD = r"(?:[)\";}\]\*:@\'\({\[\u2018\u2019\u201c\u201d\xab\xbb?!])"
_MULTI_CHAR = r"(?:\-{2,}|\.{2,}|(?:\.\s){2,}\.)"
_WORD_START = r"[^\(\"\`{\[:;&\#\*@\)}\]\-,]"
_WORD_TOKENIZER = re.compile(
    rf"""(
        {_MULTI_CHAR}
        |
        (?={_WORD_START})\S+?
        (?=
            \s|
            $|
            {_NON_WORD}|{_MULTI_CHAR}|
            ,(?=$|\s|{_NON_WORD}|{_MULTI_CHAR})
        )
        |
        \S
    )""",
    re.UNICODE | re.VERBOSE,
)
_PERIOD_CONTEXT = re.compile(
    rf"""
    [\.\?!]
    (?=(?P<after_tok>
        {_NON_WORD}
        |
        \s+(?P<next_tok>\S+)
    ))""",
    re.UNICODE | re.VERBOSE,
)
_BOUNDARY_REALIGNMENT = re.compile(
    r'["\')\]}\u2018\u2019\u201c\u201d\xab\xbb]+?(?:\s+|(?=--)|$)', re.MULTILINE
)
_NUMERIC = re.compile(r"^-?[\.,]?\d[\d,\.-]*\.?$")
_INITIAL = re.compile(r"[^\W\d]\.$", re.UNICODE)
_ELLIPSIS = re.compile(r"\.\.+$")


@dataclass
class _Token:
    tok: str
    sentbreak: bool = False
    abbr: bool = False
    ellipsis: bool = False

    @property
    def type(self) -> str:
        return _NUMERIC.sub("##number##", self.tok.lower())

    @property
    def type_no_period(self) -> str:
        typ = self.type
        return typ[:-1] if len(typ) > 1 and typ[-1] == "." else typ

    @property
    def type_no_sentperiod(self) -> str:
        return self.type_no_period if self.sentbreak else self.type


@dataclass(frozen=True)
class Punkt:
    """Punkt with fixed abbreviations and sentence starters (no training statistics)."""

    abbreviations: frozenset[str]
    sentence_starters: frozenset[str]

    def _tokens(self, text: str) -> list[_Token]:
        tokens: list[_Token] = []
        for line in text.split("\n"):
            if line.strip():
                tokens.extend(_Token(t) for t in _WORD_TOKENIZER.findall(line))
        return tokens

    def _first_pass(self, token: _Token) -> None:
        tok = token.tok
        if tok in _SENT_END_CHARS:
            token.sentbreak = True
        elif _ELLIPSIS.match(tok):
            token.ellipsis = True
        elif tok.endswith(".") and not tok.endswith(".."):
            stem = tok[:-1].lower()
            if stem in self.abbreviations or stem.split("-")[-1] in self.abbreviations:
                token.abbr = True
            else:
                token.sentbreak = True

    @staticmethod
    def _orthographic(token: _Token) -> bool | None:
        """Punkt's orthographic heuristic with no statistics: False or unknown (None)."""
        if token.tok in _PUNCTUATION or token.tok[0].islower():
            return False
        return None

    def _second_pass(self, first: _Token, second: _Token) -> None:
        if not first.tok.endswith("."):
            return
        initial = bool(_INITIAL.match(first.tok))
        if (
            (first.abbr or first.ellipsis)
            and not initial
            and second.tok[0].isupper()
            and second.type_no_sentperiod in self.sentence_starters
        ):
            first.sentbreak = True
            return
        if initial or first.type_no_period == "##number##":
            looks = self._orthographic(second)
            if looks is False or (looks is None and initial and second.tok[0].isupper()):
                first.sentbreak = False
                first.abbr = True

    def _contains_break(self, context: str) -> bool:
        tokens = self._tokens(context)
        for token in tokens:
            self._first_pass(token)
        for first, second in itertools.pairwise(tokens):
            self._second_pass(first, second)
        return any(t.sentbreak for t in tokens[:-1])

    @staticmethod
    def _last_whitespace(text: str) -> int:
        for i in range(len(text) - 1, -1, -1):
            if text[i] in string.whitespace:
                return i
        return 0

    def _end_contexts(self, text: str) -> Iterator[tuple[re.Match, str]]:
        previous_slice = slice(0, 0)
        previous_match = None
        for match in _PERIOD_CONTEXT.finditer(text):
            before = text[previous_slice.stop : match.start()]
            after_space = self._last_whitespace(before)
            if after_space:
                after_space += previous_slice.stop + 1
            else:
                after_space = previous_slice.start
            word = slice(after_space, match.start())
            if previous_match and previous_slice.stop <= word.start:
                yield (
                    previous_match,
                    text[previous_slice]
                    + previous_match.group()
                    + previous_match.group("after_tok"),
                )
            previous_match = match
            previous_slice = word
        if previous_match:
            yield (
                previous_match,
                text[previous_slice] + previous_match.group() + previous_match.group("after_tok"),
            )

    def _slices(self, text: str) -> Iterator[slice]:
        last_break = 0
        for match, context in self._end_contexts(text):
            if self._contains_break(context):
                yield slice(last_break, match.end())
                last_break = match.start("next_tok") if match.group("next_tok") else match.end()
        yield slice(last_break, len(text.rstrip()))

    def span_tokenize(self, text: str) -> Iterator[tuple[int, int]]:
        """(start, end) of each sentence of ``text``, as nltk's ``span_tokenize`` gives them."""
        slices = list(self._slices(text))
        realign = 0
        for i, first in enumerate(slices):
            first = slice(first.start + realign, first.stop)
            second = slices[i + 1] if i + 1 < len(slices) else None
            if second is None:
                if text[first]:
                    yield first.start, first.stop
                continue
            match = _BOUNDARY_REALIGNMENT.match(text[second])
            if match:
                yield first.start, second.start + len(match.group(0).rstrip())
                realign = match.end()
            else:
                realign = 0
                if text[first]:
                    yield first.start, first.stop
