"""Text → index terms for the lexical (BM25) retriever.

Bug reports mix prose with identifiers, so a plain ``\\w+`` split loses what matters most:
``NullPointerException``, ``ensureElementIsVisible()``, ``packed_simd_2``, ``ORA-00942``,
``com.acme.billing.InvoiceService``, ``2.53.17``. Each raw token (word characters joined by
``.``, ``-`` or ``_``) is handled so:

- a **version number** (``2.53.17``, ``v10.2.1b``) is kept whole, and also as its
  ``major.minor`` prefix, so "2.53" finds "2.53.17";
- a **compound** (dotted name, snake_case, camelCase, hyphenated word or error code) yields
  its parts (``null``, ``pointer``, ``exception``) *and* the parts joined without separators
  (``nullpointerexception``), so the exact identifier scores higher than a loose mix of its
  words, and "read-only" meets "readonly", "e-mail" meets "email";
- parts are lower-cased, English stopwords dropped, and alphabetic parts stemmed with the
  Snowball English stemmer (PyStemmer), so "archiving" meets "archive". Numbers and codes are
  never stemmed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from itertools import chain

import Stemmer

# The classic English stopword list (Snowball's, as used by NLTK and Lucene's analysers) with
# the apostrophe-free forms of contractions, since apostrophes are dropped before splitting —
# except those that are words of their own in bug reports ("shell", "id", "well", "ill").
_STOPWORD_TEXT = """
    a about above after again against all am an and any are aren arent as at be because been
    before being below between both but by can cant cannot could couldn couldnt did didn didnt
    do does doesn doesnt doing don dont down during each few for from further had hadn hadnt
    has hasn hasnt have haven havent having he hes her here heres hers herself him himself his
    how hows i im ive if in into is isn isnt it its itself me more most mustn mustnt my myself
    no nor not of off on once only or other ought our ours ourselves out over own same shan
    shant she shes should shouldn shouldnt so some such than that thats the their theirs them
    themselves then there theres these they theyd theyll theyre theyve this those through to
    too under until up very was wasn wasnt we were weve weren werent what whats when whens
    where wheres which while who whos whom why whys with wont would wouldn wouldnt you youd
    youll youre youve your yours yourself yourselves
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())

MAX_TERM_LENGTH = 48

_APOSTROPHE = re.compile(r"(?<=\w)['’](?=\w)")
_RAW = re.compile(r"\w(?:[\w.\-]*\w)?")
_VERSION = re.compile(r"v?(\d+)\.(\d+)(?:\.\d+)*[a-z]*\d*", re.IGNORECASE)
_HYPHENS = re.compile(r"[_\-]+")
# camelCase / PascalCase / ACRONYMWord boundaries; letter-digit runs stay together (utf8, x86).
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+[0-9]*|[A-Z]+[0-9]*|[0-9]+[a-z]*")

_stemmer = Stemmer.Stemmer("english")


@lru_cache(maxsize=200_000)
def _stem(word: str) -> str:
    return str(_stemmer.stemWord(word))


def _terms_of(raw: str) -> tuple[str, ...]:
    """The index terms of one raw token."""
    terms: list[str] = []
    words: list[str] = []
    for chunk in _HYPHENS.split(raw):
        if not chunk:
            continue
        version = _VERSION.fullmatch(chunk)
        if version is not None:
            whole = chunk.lower().lstrip("v")
            prefix = f"{version.group(1)}.{version.group(2)}"
            terms.extend((whole,) if whole == prefix else (whole, prefix))
            words.append(whole)
            continue
        for segment in chunk.split("."):
            parts = _split_camel(segment) if segment else []
            terms.extend(t for t in map(_normalise, parts) if t)
            if len(parts) > 1 and len(segment) <= MAX_TERM_LENGTH:
                terms.append(segment.lower())
            words.extend(parts)
    if len(words) > 1 and len(raw) <= MAX_TERM_LENGTH:
        joined = "".join(words).lower()
        if joined not in terms:
            terms.append(joined)
    return tuple(terms)


def _split_camel(chunk: str) -> list[str]:
    if chunk.islower() or chunk.isupper() or chunk.isdigit():
        return [chunk]
    return _CAMEL.findall(chunk) or [chunk]


def _normalise(part: str) -> str | None:
    word = part.lower()
    if word in STOPWORDS or len(word) > MAX_TERM_LENGTH:
        return None
    if word.isalpha():
        return _stem(word) if len(word) > 1 else None
    return word


# Raw token → its terms. Texts repeat a small vocabulary, so nearly every token is a hit; a
# plain dict (cleared when full) is markedly faster here than an lru_cache wrapper.
_CACHE: dict[str, tuple[str, ...]] = {}
_CACHE_SIZE = 500_000


def analyze(text: str) -> list[str]:
    """The index terms of ``text``, in order, with repeats (BM25 counts them)."""
    if "'" in text or "’" in text:
        text = _APOSTROPHE.sub("", text)
    raws = _RAW.findall(text)
    cache = _CACHE
    missing = [raw for raw in set(raws) if raw not in cache]
    if missing:
        if len(cache) + len(missing) > _CACHE_SIZE:
            cache.clear()
            missing = list(set(raws))
        for raw in missing:
            cache[raw] = _terms_of(raw)
    return list(chain.from_iterable(map(cache.__getitem__, raws)))


def analyze_fields(fields: Iterable[tuple[str, int]]) -> list[str]:
    """Terms of several fields, each repeated by its weight (title counted more than body)."""
    terms: list[str] = []
    for text, weight in fields:
        if text:
            terms.extend(analyze(text) * weight)
    return terms
