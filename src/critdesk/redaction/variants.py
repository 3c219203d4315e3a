"""How known names are also written: "Northwind" for "Northwind Insurance Ltd", "Alice" or
"anorthwind" for "Alice Northwind". Only variants distinctive enough to stand alone are made;
a word that is also common English ("Global", "Will") or technology ("Cloud") is not."""

from __future__ import annotations

import re

from critdesk.redaction.keep import KEEP_WORDS

# Legal forms dropped to find "Northwind Insurance" in "Northwind Insurance Ltd".
_LEGAL_SUFFIX = re.compile(
    r"(?i)[\s,]+(?:ltd\.?|limited|inc\.?|incorporated|llc|l\.l\.c\.|plc|gmbh|ag|s\.?a\.?|"
    r"b\.?v\.?|n\.?v\.?|corp\.?|corporation|co\.?|company|llp|pty\.?(?:\s+ltd\.?)?|sarl|"
    r"s\.?a\.?s\.?|ab|as|oy|kk|srl|s\.?p\.?a\.?|pte\.?(?:\s+ltd\.?)?)$"
)

# Words too common to stand alone for an organisation.
# fmt: off
GENERIC_WORDS = frozenset(
    (
        "the", "a", "an", "and", "of", "for", "global", "international", "national", "general",
        "united", "first", "new", "north", "south", "east", "west", "central", "city", "royal",
        "american", "british", "european", "bank", "health", "group", "services", "solutions",
        "systems", "software", "technologies", "tech", "digital", "data", "insurance", "retail",
        "travel", "energy", "capital", "partners", "holdings", "consulting", "media", "financial",
        "finance", "trust", "care", "home", "world", "best", "great", "big", "smart", "open",
        "next", "blue", "green", "red", "star", "sun", "one", "prime", "alpha", "delta", "apex",
        "summit", "pioneer", "standard", "universal", "direct", "express", "premier", "advanced",
        "applied", "modern", "network", "networks", "labs", "works", "airlines", "airline",
        "airways", "healthcare", "hospital", "hospitals", "clinic", "cycles", "coffee", "winery",
        "toys", "video", "research", "institute", "university", "council", "logistics", "foods",
        "pharma", "pharmaceuticals", "motors", "industries", "manufacturing", "telecom",
        "communications", "insurers", "assurance", "mutual", "society", "building", "partnership",
        "associates", "agency", "bureau", "foundation", "second", "third", "fourth", "fifth",
        "sixth", "seventh", "eighth", "ninth", "tenth"
    )
)
# fmt: on
# Words that are never a person's name on their own.
# fmt: off
_NOT_NAMES = frozenset(
    (
        "admin", "user", "test", "support", "team", "service", "office", "sales", "info", "de",
        "la", "le", "von", "van", "del", "di", "da", "dos", "mr", "mrs", "ms", "dr"
    )
)
# fmt: on
# First names that are also everyday words: taken only when the next word does not continue
# a sentence the way the everyday word would ("Will this fix…?", "May I…").
# fmt: off
AMBIGUOUS_FIRST_NAMES = frozenset(
    (
        "will", "may", "june", "april", "august", "mark", "bill", "grace", "frank", "rose", "hope",
        "joy", "faith", "pat", "sue", "rob", "don", "ray", "guy", "art", "max", "jack", "chase",
        "page", "miles", "drew", "dean", "lance", "summer", "dawn", "eve", "sky", "river",
        "hunter", "penny", "ruby", "amber", "iris", "ivy", "jade", "lily", "violet", "sunny",
        "jean", "sol", "bob", "carol", "dan", "sam", "ben", "tom"
    )
)
# fmt: on
SENTENCE_CONTINUATIONS = re.compile(
    r"\s+(?:this|that|the|you|it|we|they|he|she|there|a|an|our|your|my|his|her|its|these|"
    r"those|i|be|not|also|only|need|have|has|any|all|some|one|no)\b"
)


def _word(word: str) -> str:
    return word.strip(".,").lower()


def _is_name_like(word: str) -> bool:
    return word.replace("-", "").replace("'", "").isalpha()


def distinctive(word: str) -> bool:
    """A word that can stand for an organisation or a person's surname on its own."""
    folded = _word(word)
    return (
        len(folded) >= 4
        and _is_name_like(folded)
        and folded not in GENERIC_WORDS
        and folded not in KEEP_WORDS
        and folded not in AMBIGUOUS_FIRST_NAMES
    )


def usable_first_name(word: str) -> bool:
    """A first name to look for on its own (capitalised, case-sensitive)."""
    folded = _word(word)
    return (
        len(folded) >= 3
        and word[:1].isupper()
        and _is_name_like(folded)
        and folded not in _NOT_NAMES
        and folded not in KEEP_WORDS
    )


def organisation_variants(name: str) -> list[str]:
    """ "Northwind Insurance Ltd" is also written "Northwind Insurance", "Northwind",
    "northwindinsurance" and "northwind-insurance"."""
    found = []
    base = name.strip()
    while (stripped := _LEGAL_SUFFIX.sub("", base)) != base and stripped:
        base = stripped
    words = base.split()
    if base != name.strip() and (len(words) > 1 or distinctive(base)):
        found.append(base)
    # Trailing industry words are often dropped: "Blue Yonder Airlines" -> "Blue Yonder".
    shorter = list(words)
    while len(shorter) > 1 and shorter[-1].lower() in GENERIC_WORDS:
        shorter = shorter[:-1]
        if len(shorter) > 1 or distinctive(shorter[0]):
            found.append(" ".join(shorter))
    if len(words) > 1 and distinctive(words[0]):
        found.append(words[0])
    # Written as one word in package, host, repository and database names.
    plain = [re.sub(r"[^\w-]", "", w) for w in words]
    if len(words) > 1 and len("".join(plain)) >= 8:
        found.extend(("".join(plain), "-".join(plain), "_".join(plain)))
    return found


def contact_variants(name: str) -> tuple[list[str], str | None]:
    """Other spellings of a person's name, and the first name to look for on its own.

    "Alice Northwind" -> "Northwind, Alice", "Northwind", user names "alice.northwind",
    "alice_northwind", "anorthwind"; first name "Alice".
    """
    parts = name.split()
    if len(parts) < 2:
        return [], None
    first, last = parts[0], parts[-1]
    found = [f"{last}, {' '.join(parts[:-1])}"]
    if distinctive(last):
        found.append(last)
    login_first, login_last = _login(first), _login(last)
    if login_first and login_last:
        found.extend((f"{login_first}.{login_last}", f"{login_first}_{login_last}"))
        initial_login = login_first[0] + login_last
        if len(initial_login) >= 5:
            found.append(initial_login)
    return found, first if usable_first_name(first) else None


def _login(word: str) -> str:
    return re.sub(r"[^a-z]", "", word.lower())
