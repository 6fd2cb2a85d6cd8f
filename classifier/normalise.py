"""Undo the common ways exported text differs from the text a person typed.

Corpora and exports rarely carry text as it was written: tokenisers put spaces around
punctuation ("word , word ."), split contractions ("do n't") and links ("https : //t.co/x"),
exporters leave HTML entities ("&amp;", "&#39;") and typesetters turn straight quotes into
curly ones. None of that says anything about whether a text is reporting, opinion or
disinformation, yet each changes the character n-grams the model sees. :func:`normalise` maps
these shapes onto one form so that training and scoring read the same thing.

It is applied by the featurizer to each text before n-grams are taken and never changes the
text a user sees: segment offsets are computed by the segmenter on the original text, and the
featurizer returns no offsets.
"""

from __future__ import annotations

import html
import re

#: Curly, low and prime variants of the two quote characters (``str.replace`` per character
#: is many times faster than ``str.translate`` with a table on long strings).
_QUOTES = (
    ("\u2018", "'"),  # left single quotation mark
    ("\u2019", "'"),  # right single quotation mark (also the typographic apostrophe)
    ("\u201a", "'"),  # single low-9 quotation mark
    ("\u201b", "'"),  # single high-reversed-9 quotation mark
    ("\u2032", "'"),  # prime, often typed for an apostrophe
    ("\u201c", '"'),  # left double quotation mark
    ("\u201d", '"'),  # right double quotation mark
    ("\u201e", '"'),  # double low-9 quotation mark
    ("\u201f", '"'),  # double high-reversed-9 quotation mark
    ("\u2033", '"'),  # double prime
)
#: An HTML entity, also with the space a tokeniser puts before its ";" ("&#38 ;"). Only the
#: strict form with a ";" is decoded, not HTML5's lenient forms: "AT&T" stays as it is.
_ENTITY = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31}) ?;")
# The patterns below start with a literal character: Python's re engine then jumps from one
# candidate to the next, which keeps a whole chunk of texts to a few microseconds a text. A
# pattern that starts with a repeat, a group or a look-behind is tried at every position.
#: A link's scheme cut from its slashes ("https : //", "https:// t.co", "http:/ /"), looked for
#: only when one of :data:`_SCHEME_GAPS` is in the text.
_SPLIT_SCHEME = re.compile(r"(?<![A-Za-z])(https?|ftp) *(?:: *// *|:/ +/ *)", re.IGNORECASE)
_SCHEME_GAPS = (": //", " ://", ":// ", ":/ /")
#: A link's host cut at its dots ("www . example . com", "t . co/x"): a run of host parts with
#: at least one dot that has a space beside it.
_HOST_PARTS = (
    r"(?: ?\. ?[A-Za-z0-9-]{1,24})*(?: \. ?| ?\. )[A-Za-z0-9-]{1,24}(?: ?\. ?[A-Za-z0-9-]{1,24})*"
)
_SPLIT_HOSTS = (
    re.compile(r"://[A-Za-z0-9-]+" + _HOST_PARTS),
    re.compile(r"www(?<![A-Za-z0-9]www)" + _HOST_PARTS),
    re.compile(r"WWW(?<![A-Za-z0-9]WWW)" + _HOST_PARTS),
)
_GAP = re.compile(r" +")
#: Punctuation that a tokeniser detached from the word before it. NUL (the featurizer's
#: separator between texts) counts as neither a word nor a space, so nothing moves across it.
#: Each of these three matches only the space to delete, so a substitution copies no groups.
_DETACHED = re.compile(r" (?<=[^\s\x00] )(?=[,.;:!?%)\]}](?:[\s\x00]|$)|\.\.\.)")
#: An opening bracket detached from the word after it.
_DETACHED_OPEN = re.compile(r" (?<=[(\[{] )(?=[^\s\x00])")
#: A contraction split from its word ("do n't", "it 's", "they 're").
_SPLIT_CONTRACTION = re.compile(r" (?<=\w )(?=(?:n't|N'T|'[sdm]|'[SDM]|'re|'RE|'ve|'VE|'ll|'LL)\b)")


def _unescape(match: re.Match[str]) -> str:
    """The character an entity stands for (an unknown name is kept as written)."""
    return html.unescape(f"&{match.group(1)};")


def _rejoin_links(text: str) -> str:
    """Close up a link whose scheme or host was split by spaces."""
    if any(gap in text for gap in _SCHEME_GAPS):
        text = _SPLIT_SCHEME.sub(lambda m: m.group(1) + "://", text)
    for pattern in _SPLIT_HOSTS:
        text = pattern.sub(lambda m: _GAP.sub("", m.group(0)), text)
    return text


def normalise(text: str) -> str:
    """One spelling of a text for the featurizer, whatever tool exported it.

    - HTML entities are unescaped (``&amp;`` -> ``&``, ``&#39;`` -> ``'``);
    - curly, low and prime quotes become ``'`` and ``"``; PTB quotes (````...''``) become ``"``;
    - links split by a tokeniser are closed up (``https : //t . co/x`` -> ``https://t.co/x``);
    - punctuation detached from its word is re-attached (``word , word .`` -> ``word, word.``),
      as are split contractions (``do n't`` -> ``don't``) and brackets.

    Letters, digits and words are never changed, and the text's case is kept. NUL characters
    are never added, removed or matched across, so the featurizer normalises a whole chunk of
    NUL-separated texts in one call and gets what normalising each text would give.

    Parameters
    ----------
    text : str

    Returns
    -------
    str
        The normalised text.
    """
    if "&" in text:
        text = _ENTITY.sub(_unescape, text)
    for curly, straight in _QUOTES:
        if curly in text:
            text = text.replace(curly, straight)
    text = text.replace("``", '"').replace("''", '"')
    text = _rejoin_links(text)
    text = _SPLIT_CONTRACTION.sub("", text)
    text = _DETACHED.sub("", text)
    return _DETACHED_OPEN.sub("", text)
