"""Split text into segments (lines, then sentences) with character offsets.

Comment threads are line-based, so text is cut at line breaks first; each line is then split
into sentences by the Punkt algorithm with a fixed list of abbreviations and sentence starters,
so that nothing is downloaded at run time. :mod:`classifier.punkt` applies it without importing
nltk (two seconds of start-up); the tests hold it equal, segment for segment, to nltk's own
``PunktSentenceTokenizer`` with the same parameters.
"""

from __future__ import annotations

import functools
import re

from classifier.records import Segment

#: Abbreviations after which a period does not end a sentence (lower case, final period dropped).
ABBREVIATIONS: frozenset[str] = frozenset(
    """
    mr mrs ms dr prof sr jr st mt ft
    sen rep gov gen lt col maj capt cmdr adm sgt cpl pvt pres supt insp det
    u.s u.k u.n e.u u.s.a d.c
    inc corp co ltd llc plc dept univ assn est approx
    jan feb mar apr jun jul aug sep sept oct nov dec
    mon tue tues wed thu thurs fri sat sun
    no nos vol pp p fig ed eds rev
    vs etc e.g i.e al cf
    a.m p.m
    ave blvd rd
    """.split()
)

#: Words that start a new sentence even right after an abbreviation ("at 3 p.m. The ...").
SENTENCE_STARTERS: frozenset[str] = frozenset(
    """
    the a an this that these those it its he she they we i you his her their our my
    but and however meanwhile yet so also in on at after before when while if although
    there here some many most officials police
    """.split()
)

_LINE = re.compile(r"[^\r\n]+")
_WORDLIKE = re.compile(r"\w")


def segmenter_params() -> dict[str, list[str]]:
    """The segmenter's parameters, recorded with every model."""
    return {"abbreviations": sorted(ABBREVIATIONS), "sentence_starters": sorted(SENTENCE_STARTERS)}


@functools.lru_cache(maxsize=1)
def _tokenizer():
    """Punkt with the project's parameters, without nltk."""
    from classifier.punkt import Punkt

    return Punkt(ABBREVIATIONS, SENTENCE_STARTERS)


def segment(text: str, *, tokenizer=None) -> list[Segment]:
    """Split ``text`` into line and sentence segments.

    Parameters
    ----------
    text : str
        Any text; line breaks always end a segment.
    tokenizer : optional
        Sentence splitter with ``span_tokenize``; the nltk-free Punkt when omitted.

    Returns
    -------
    list[Segment]
        Non-empty segments in order, stripped of surrounding white space, with offsets into
        ``text`` such that ``text[s.start:s.end] == s.text``.
    """
    tokenizer = tokenizer or _tokenizer()
    segments: list[Segment] = []
    for line in _LINE.finditer(text):
        first = len(segments)
        for start, end in tokenizer.span_tokenize(line.group()):
            piece = line.group()[start:end]
            stripped = piece.strip()
            if not stripped:
                continue
            offset = line.start() + start + (len(piece) - len(piece.lstrip()))
            if len(segments) > first and not _WORDLIKE.search(stripped):
                # Punkt cuts "you!!" into "you!" and "!": a piece without a letter or digit
                # belongs to the sentence before it.
                previous = segments.pop()
                end = offset + len(stripped)
                segments.append(Segment(text[previous.start : end], previous.start, end))
                continue
            segments.append(Segment(stripped, offset, offset + len(stripped)))
    return segments
