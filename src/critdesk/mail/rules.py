"""Pure rules of inbound e-mail: machine mail, threading, and what a report by e-mail means.

**Machine mail** (never opens a case, never answered, so no mail loop can start): an
``Auto-Submitted`` header other than ``no``; ``Precedence: bulk|junk|list|auto_reply``;
``X-Autoreply``/``X-Autorespond``/``X-Autoresponder``; a mailing list (``List-Id``,
``List-Unsubscribe``); an empty envelope sender or ``Return-Path: <>`` (bounces); a sender
whose local part is ``mailer-daemon`` or ``postmaster``; a delivery report
(``multipart/report``); a message carrying critdesk's own ``X-Critdesk-*`` headers, an
``X-Loop`` naming critdesk, or sent from the desk's own address.

**Threading**: a message continues a case when its ``In-Reply-To`` or ``References`` hold a
message id naming the case (``<case-PCH-000123@…>``, or any id containing the ref, as the
notifications' ids do), or its subject holds the ref (``PCH-000123``). Ids are read
newest first (In-Reply-To, then References from the end), the subject last. An id that also
names an info request (``…request-42…``) says which request the message answers.

**Impact of a report by e-mail** — the customer answered no questions, so the answers are
inferred from the words of the subject and body, on the side of caution, and the reasons say
which words decided (an engineer confirms or re-assesses):

- *end users blocked* when a blocking word appears: down, outage, unavailable, cannot,
  can't, unable, not working, does not work, broken, blocked, crash(ed), fails/failed/failing,
  stopped working, HTTP 500/502/503/504;
- *application unavailable* when an unavailability word appears: down, outage, unavailable,
  offline, not responding, not loading;
- *security vulnerability*: security, vulnerability, exploit, breach, compromised, CVE-…;
- *data loss*: data loss, lost data, corrupt(ed/ion), data deleted, missing data;
- *degraded*: slow, degraded, latency, timeout(s), timing out, performance;
- *breadth*: all users when everyone, all users, nobody can, … appear; a particular
  circumstance when only, some users, intermittent, sometimes, … appear; otherwise all users
  if the application is unavailable, else end users broadly.

With none of these words the case qualifies as not critical, provisionally: the engineers
still see it in the queue and confirm or redirect it.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser

from critdesk.case.rules import Impact

REF = re.compile(r"\bPCH-(\d{1,12})\b", re.IGNORECASE)
REQUEST_IN_ID = re.compile(r"(?:^|[^a-z])req(?:uest)?[-_.]?(\d{1,12})(?!\d)", re.IGNORECASE)
ENV_TAG = re.compile(r"\[\s*env(?:ironment)?\s*:\s*([^\]\s]{1,100})\s*\]", re.IGNORECASE)
REPLY_PREFIX = re.compile(r"^\s*((re|fwd?|aw|wg|sv|vs|tr)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE)
BULK_PRECEDENCE = frozenset({"bulk", "junk", "list", "auto_reply"})
DAEMONS = frozenset({"mailer-daemon", "postmaster"})
TITLE_MIN, TITLE_MAX = 3, 200


def auto_reason(
    headers: Mapping[str, str],
    *,
    envelope_sender: str | None,
    sender: str | None,
    is_report: bool,
    own_address: str | None = None,
) -> str | None:
    """Why this message was sent by a machine (None: a person wrote it)."""
    auto_submitted = headers.get("auto-submitted", "").strip().lower()
    if auto_submitted and auto_submitted.split(";")[0].strip() != "no":
        return f"Auto-Submitted: {auto_submitted}"
    precedence = headers.get("precedence", "").strip().lower()
    if precedence in BULK_PRECEDENCE:
        return f"Precedence: {precedence}"
    for name in ("x-autoreply", "x-autorespond", "x-autoresponder"):
        if name in headers:
            return f"{name} header"
    for name in ("list-id", "list-unsubscribe"):
        if name in headers:
            return "mailing list"
    if envelope_sender is not None and envelope_sender.strip("<> ") == "":
        return "empty envelope sender (a bounce)"
    if headers.get("return-path", "").replace(" ", "") == "<>":
        return "Return-Path: <> (a bounce)"
    if sender is not None and sender.split("@")[0] in DAEMONS:
        return f"sent by {sender.split('@')[0]}"
    if is_report:
        return "a delivery report"
    own = any(name.startswith("x-critdesk") for name in headers)
    if own or "critdesk" in headers.get("x-loop", "").lower():
        return "sent by critdesk itself"
    if own_address is not None and sender == own_address.lower():
        return "sent from the desk's own address"
    return None


def forged_sender(headers: Mapping[str, str]) -> str | None:
    """The MTA's ``Authentication-Results`` say the From address is forged (DMARC failed).

    Without the header (an MTA that does not check) the sender is taken at its word: the
    listener only accepts mail from the MTA on this host, which should check SPF/DKIM/DMARC.
    """
    results = headers.get("authentication-results", "").lower()
    return "dmarc=fail" if re.search(r"\bdmarc=fail\b", results) else None


def suppresses_replies(headers: Mapping[str, str]) -> bool:
    """Exchange's ``X-Auto-Response-Suppress: All|AutoReply|OOF``: the sender asks for no
    automatic answer (the message itself may still be a person's)."""
    words = {w.strip().lower() for w in headers.get("x-auto-response-suppress", "").split(",")}
    return bool(words & {"all", "autoreply", "oof"})


@dataclass(frozen=True, slots=True)
class Thread:
    case_id: int
    request_id: int | None
    source: str


def thread_of(subject: str, in_reply_to: Sequence[str], references: Sequence[str]) -> list[Thread]:
    """The cases (and requests) this message names, most trustworthy first."""
    found: list[Thread] = []
    for source, ids in (("in-reply-to", in_reply_to), ("references", list(reversed(references)))):
        for message_id in ids:
            case = REF.search(message_id)
            if case is None:
                continue
            request = REQUEST_IN_ID.search(message_id.replace(case.group(0), " "))
            found.append(
                Thread(int(case.group(1)), int(request.group(1)) if request else None, source)
            )
    found.extend(Thread(int(m.group(1)), None, "subject") for m in REF.finditer(subject))
    return found


def clean_title(subject: str) -> str:
    """A case title from a subject: reply prefixes gone, one line, 3 to 200 characters."""
    title = " ".join(REPLY_PREFIX.sub("", subject).split())
    if len(title) < TITLE_MIN:
        title = f"E-mail report: {title}".strip() if title else "E-mail report (no subject)"
    if len(title) > TITLE_MAX:
        title = title[: TITLE_MAX - 1].rstrip() + "…"
    return title


# --- what the words say ---------------------------------------------------------------------

BLOCKING = (
    "down", "outage", "unavailable", "cannot", "can't", "can not", "unable", "not working",
    "does not work", "doesn't work", "broken", "blocked", "crash", "crashed", "crashes",
    "fails", "failed", "failing", "stopped working", "http 500", "http 502", "http 503",
    "http 504",
)  # fmt: skip
UNAVAILABLE = ("down", "outage", "unavailable", "offline", "not responding", "not loading")
SECURITY = (
    "security", "vulnerability", "vulnerable", "exploit", "breach", "compromised", "cve",
)  # fmt: skip
DATA_LOSS = (
    "data loss", "lost data", "data lost", "corrupt", "corrupted", "corruption", "data deleted",
    "missing data",
)  # fmt: skip
DEGRADED = ("slow", "degraded", "latency", "timeout", "timeouts", "timing out", "performance")
ALL_USERS = (
    "everyone", "everybody", "all users", "every user", "all our users", "all customers",
    "nobody can", "no one can", "no-one can",
)  # fmt: skip
PARTICULAR = (
    "only", "some users", "a few users", "one user", "intermittent", "intermittently",
    "sometimes", "occasionally",
)  # fmt: skip


def _words_found(text: str, words: Iterable[str]) -> list[str]:
    return [w for w in words if re.search(rf"(?<![\w-]){re.escape(w)}(?![\w])", text)]


@dataclass(frozen=True, slots=True)
class Inference:
    impact: Impact
    breadth: str
    end_users_blocked: bool
    reasons: tuple[str, ...]


def _quote(words: list[str]) -> str:
    return ", ".join(f"“{w}”" for w in words[:4])


def infer_impact(text: str) -> Inference:
    """The intake answers a report by e-mail implies (see the module's rules)."""
    lowered = " ".join(text.lower().replace("\u2019", "'").split())
    blocking = _words_found(lowered, BLOCKING)
    unavailable = _words_found(lowered, UNAVAILABLE)
    security = _words_found(lowered, SECURITY)
    data_loss = _words_found(lowered, DATA_LOSS)
    degraded = _words_found(lowered, DEGRADED)
    everyone = _words_found(lowered, ALL_USERS)
    particular = _words_found(lowered, PARTICULAR)
    impact = Impact(
        app_unavailable=bool(unavailable),
        security_vulnerability=bool(security),
        data_loss=bool(data_loss),
        degraded=bool(degraded),
    )
    if everyone:
        breadth = "all_users"
    elif particular:
        breadth = "particular_circumstance"
    else:
        breadth = "all_users" if unavailable else "end_users"
    reasons = ["reported by e-mail: the answers below are inferred from its words"]
    for label, words in (
        ("end users blocked", blocking),
        ("application unavailable", unavailable),
        ("security vulnerability", security),
        ("data loss or corruption", data_loss),
        ("degraded", degraded),
        ("all users affected", everyone),
        ("a particular circumstance", particular if not everyone else []),
    ):
        if words:
            reasons.append(f"{label}: {_quote(words)}")
    if not (blocking or unavailable or security or data_loss):
        reasons.append("no words of an outage, a vulnerability or data loss")
    return Inference(impact, breadth, bool(blocking or unavailable), tuple(reasons))


def choose_environment(
    text: str, environments: Sequence[tuple[int, str, bool]]
) -> tuple[int, str] | None:
    """The environment a report by e-mail is about, and why: ``[env: name]``; else the one
    environment named in the text; else the only production one; else the first production
    one (an engineer corrects it). ``environments`` are (id, name, production)."""
    by_name = {name.lower(): env_id for env_id, name, _production in environments}
    tag = ENV_TAG.search(text)
    if tag and tag.group(1).lower() in by_name:
        return by_name[tag.group(1).lower()], f"environment named in the e-mail: {tag.group(1)}"
    lowered = text.lower()
    named = [(i, n) for i, n, _p in environments if _words_found(lowered, [n.lower()])]
    if len(named) == 1:
        return named[0][0], f"environment mentioned in the e-mail: {named[0][1]}"
    production = [(i, n) for i, n, p in environments if p]
    if len(production) == 1:
        env_id, name = production[0]
        return env_id, f"the organisation's only production environment: {name}"
    if production:
        return production[0][0], (
            f"assumed {production[0][1]}; name the environment with [env: name] in the subject"
        )
    if environments:
        return environments[0][0], f"assumed {environments[0][1]} (no production environment)"
    return None


# --- text ------------------------------------------------------------------------------------

_QUOTE_HEADER = re.compile(
    r"^(on .{1,300} wrote:|-{2,}\s*original message\s*-{2,}|_{10,}|from:\s.+)$", re.IGNORECASE
)


def strip_quoted(text: str) -> str:
    """The new part of a reply: up to the quoted message ("On … wrote:", "> " lines)."""
    kept: list[str] = []
    for line in text.splitlines():
        if _QUOTE_HEADER.match(line.strip()):
            break
        if not line.lstrip().startswith(">"):
            kept.append(line)
    stripped = "\n".join(kept).strip()
    return stripped or text.strip()


TEST_RESULT = re.compile(r"^\s*(?:test\s+)?result\s*:\s*(pass|passed|fail|failed)\b", re.I | re.M)


def test_result(text: str) -> str | None:
    """``Result: pass`` / ``Result: fail`` on a line of its own: the answer to a test request."""
    found = TEST_RESULT.search(text)
    if found is None:
        return None
    return "pass" if found.group(1).lower().startswith("pass") else "fail"


class _TextExtractor(HTMLParser):
    BLOCKS = frozenset({"p", "div", "br", "ul", "ol", "tr", "h1", "h2", "h3", "h4", "table", "pre"})
    SKIP = frozenset({"script", "style", "head", "title"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self.skipping += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")
        elif tag == "li":
            self.parts.append("\n- ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    """Readable text of an HTML body: tags gone, blocks on their own lines, entities decoded."""
    extractor = _TextExtractor()
    try:
        extractor.feed(markup)
        extractor.close()
    except Exception:  # HTMLParser is lenient; anything it still chokes on is left as text
        return html.unescape(re.sub(r"<[^>]{0,2000}>", " ", markup))
    lines = (" ".join(line.split()) for line in "".join(extractor.parts).splitlines())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
