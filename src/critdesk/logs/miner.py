"""An online, Drain-style template miner (pure: messages in, templates out).

He et al., "Drain: An Online Log Parsing Approach with Fixed Depth Tree" (ICWS 2017): a
message is masked (``logs.variables``), split into tokens, and routed through a tree of fixed
depth — first by its token count, then by its first tokens — to a short list of clusters;
it joins the most similar cluster's template if the similarity reaches a threshold, and the
template's differing positions become ``<*>``; otherwise it starts a cluster of its own.

Departures from the paper, each for a general reason rather than for one data set:

- **Similarity over constants.** A template position that is already ``<*>`` accepts any
  value, so it is not evidence against a message; the share of the template's *constant*
  tokens the message repeats is what decides (a template with many variables would
  otherwise repel every message of its own event).
- **Sub-token generalisation.** Where two tokens differ only inside the same punctuation
  (``user=root`` / ``user=guest``, ``'a'`` / ``'b'``, ``[x]`` / ``[y]``), the template keeps
  the punctuation: ``user=<*>``.
- **Routing skips values.** A prefix token that holds a variable goes down the ``<*>``
  branch, and so does a token once a node has ``max_children`` children.
- **Merging at the end** (``finish``): clusters whose templates became identical are one
  group; clusters of different lengths whose templates differ only by runs of variables
  (a size printed as ``451 bytes`` or ``1.16 KB``) are one group.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from critdesk.logs.variables import WILDCARD, mask

MAX_LEAF = 256
_DIGIT_RUNS = re.compile(r"(?<![A-Za-z0-9])\d+(?![A-Za-z])")
_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


@dataclass(eq=False, slots=True)
class Cluster:
    """One group of messages and the template they share."""

    id: int
    tokens: list[str]
    size: int = 0
    # Set by ``finish``: the cluster this one was merged into (itself when it leads).
    parent: int = -1
    constants: int = field(default=0)

    @property
    def template(self) -> str:
        return " ".join(self.tokens)


def _is_name(token: str) -> bool:
    """An upper-case identifier (``RUNNING``, ``TASK_ABORT``): a state or keyword by convention."""
    core = token.strip("()[]{}<>:;,.'\"=")
    return len(core) >= 2 and core.isupper() and core.replace("_", "").isalpha()


def _is_variable(token: str) -> bool:
    return WILDCARD in token


def _generalise(template: str, token: str) -> str:
    """The most specific pattern covering both tokens: ``a=<*>`` for ``a=1``/``a=x``."""
    if template == token:
        return template
    if template == WILDCARD:
        return WILDCARD
    prefix = _common_prefix(template, token)
    suffix = _common_suffix(template[len(prefix) :], token[len(prefix) :])
    if not prefix and not suffix:
        return WILDCARD
    return f"{prefix}{WILDCARD}{suffix}"


def _common_prefix(a: str, b: str) -> str:
    """Shared start, cut back to end right after punctuation (never inside a word)."""
    n = 0
    limit = min(len(a), len(b))
    while n < limit and a[n] == b[n]:
        n += 1
    while n > 0 and a[n - 1] in _ALNUM:
        n -= 1
    # A template's own "<*>" is not a prefix to keep.
    prefix = a[:n]
    return prefix if not prefix.endswith(("<", "<*")) else ""


def _common_suffix(a: str, b: str) -> str:
    n = 0
    limit = min(len(a), len(b))
    while n < limit and a[len(a) - 1 - n] == b[len(b) - 1 - n]:
        n += 1
    while n > 0 and a[len(a) - n] in _ALNUM:
        n -= 1
    suffix = a[len(a) - n :] if n else ""
    return suffix if not suffix.startswith((">", "*>")) else ""


def _fits(template: str, token: str) -> bool:
    """Whether a partly variable template token (``uid=<*>``) covers ``token``."""
    head, _, tail = template.partition(WILDCARD)
    return (
        len(token) >= len(head) + len(tail)
        and token.startswith(head)
        and token.endswith(tail)
        and WILDCARD not in tail
    )


_UNITS = frozenset(
    [
        "b",
        "kb",
        "mb",
        "gb",
        "tb",
        "kib",
        "mib",
        "gib",
        "tib",
        "ms",
        "us",
        "ns",
        "s",
        "sec",
        "secs",
        "second",
        "seconds",
        "min",
        "mins",
        "minute",
        "minutes",
        "h",
        "hr",
        "hrs",
        "hour",
        "hours",
        "d",
        "day",
        "days",
        "%",
    ]
)


def _is_value(token: str) -> bool:
    """A token that is all value: ``<*>``, ``(<*>)``, ``<*>:<*>``, or a unit after one."""
    if WILDCARD in token:
        return not token.replace(WILDCARD, "").strip("()[]{}<>:;,.=/#|+-'\"")
    return token.strip("()[]{}<>:;,.'\"").lower() in _UNITS


def _skeleton(tokens: list[str]) -> tuple[str, ...]:
    return tuple(t for t in tokens if not _is_value(t))


def _covers(general: list[str], specific: list[str]) -> bool:
    for g, s in zip(general, specific, strict=True):
        if g != s and not (WILDCARD in g and (g == WILDCARD or _fits(g, s))):
            return False
    return True


class TemplateMiner:
    """Feed messages with ``add``; each returns the id of its cluster at that moment.

    ``similarity``: the share of a template's constant tokens a message must repeat to join
    it. ``depth``: tree depth (token count + ``depth - 2`` first tokens). ``max_clusters``
    bounds memory: past it, a message that matches no cluster joins the most similar one.
    """

    def __init__(
        self,
        *,
        similarity: float = 0.5,
        depth: int = 4,
        max_children: int = 100,
        max_clusters: int = 50_000,
        cache_size: int = 200_000,
        settled_after: int = 5,
        caps_are_constant: bool = True,
        merge_covered: bool = True,
        merge_skeletons: bool = True,
        aligned: bool = True,
        min_constants: int = 3,
    ) -> None:
        self.min_constants = min_constants
        self.aligned = aligned
        self.settled_after = settled_after
        self.merge_covered = merge_covered
        self.merge_skeletons = merge_skeletons
        self.caps_are_constant = caps_are_constant
        self.similarity = similarity
        self.prefix_depth = max(depth - 2, 0)
        self.max_children = max_children
        self.max_clusters = max_clusters
        self.cache_size = cache_size
        self.clusters: list[Cluster] = []
        self._tree: dict[int, dict[str, object]] = {}
        # Masked message → cluster: a message seen before needs no tree search.
        self._cache: dict[str, Cluster] = {}
        self._spill: Cluster | None = None
        self._fast: dict[str, Cluster] = {}

    def __len__(self) -> int:
        return len(self.clusters)

    def add_fast(self, message: str) -> int:
        """``add`` for bulk analysis: a message whose words are those of one seen before, up
        to the words that hold digits, joins that one's cluster without being masked again
        (a ``jk2``/``jk3`` difference is lost; numbers, ids and times are what it skips)."""
        key = _DIGIT_RUNS.sub("0", message)
        cluster = self._fast.get(key)
        if cluster is None:
            cluster = self.clusters[self.add(message)]
            if len(self._fast) >= self.cache_size:
                self._fast.clear()
            self._fast[key] = cluster
            return cluster.id
        cluster.size += 1
        return cluster.id

    def add(self, message: str) -> int:
        masked = mask(message)
        cluster = self._cache.get(masked)
        if cluster is None:
            cluster = self._add_tokens(masked.split())
            if len(self._cache) >= self.cache_size:
                self._cache.clear()
            self._cache[masked] = cluster
        cluster.size += 1
        return cluster.id

    def add_all(self, messages: Iterable[str]) -> list[int]:
        return [self.add(m) for m in messages]

    # -- the tree -------------------------------------------------------------------------

    def _leaf(self, tokens: list[str], create: bool) -> list[Cluster] | None:
        node = self._tree.get(len(tokens))
        if node is None:
            if not create:
                return None
            node = self._tree[len(tokens)] = {}
        for token in tokens[: self.prefix_depth]:
            key = WILDCARD if _is_variable(token) or token[:1].isdigit() else token
            child = node.get(key)
            if child is None:
                wildcard = node.get(WILDCARD)
                if not create or len(node) >= self.max_children:
                    if wildcard is None:
                        if not create:
                            return None
                        wildcard = node[WILDCARD] = {}
                    child = wildcard
                else:
                    child = node[key] = {}
            node = child  # type: ignore[assignment]
        leaf = node.get("")
        if leaf is None:
            if not create:
                return None
            leaf = node[""] = []
        return leaf  # type: ignore[return-value]

    def _add_tokens(self, tokens: list[str]) -> Cluster:
        full = len(self.clusters) >= self.max_clusters
        leaf = self._leaf(tokens, create=not full)
        if leaf is None or (full and not leaf):
            return self._overflow()
        best, best_score = None, -1.0
        # A leaf holding very many clusters (messages that differ in their first words) is
        # searched at its oldest and newest ends only: bounded time per message.
        candidates = (
            leaf if len(leaf) <= MAX_LEAF else leaf[: MAX_LEAF // 2] + leaf[-MAX_LEAF // 2 :]
        )
        for cluster in candidates:
            score = self._score(cluster, tokens)
            if score > best_score:
                best, best_score = cluster, score
        threshold = self.similarity
        if best is not None and (
            best_score >= threshold or len(self.clusters) >= self.max_clusters
        ):
            self._update(best, tokens)
            return best
        cluster = Cluster(id=len(self.clusters), tokens=list(tokens))
        cluster.parent = cluster.id
        cluster.constants = sum(1 for t in tokens if not _is_variable(t))
        self.clusters.append(cluster)
        leaf.append(cluster)
        return cluster

    def _overflow(self) -> Cluster:
        """Where messages go once ``max_clusters`` is reached and nothing similar exists."""
        if self._spill is None:
            self._spill = Cluster(id=len(self.clusters), tokens=[WILDCARD])
            self._spill.parent = self._spill.id
            self.clusters.append(self._spill)
        return self._spill

    def _score(self, cluster: Cluster, tokens: list[str]) -> float:
        same = 0
        constants = 0
        settled = cluster.size >= self.settled_after
        # More mismatches than this and the message cannot reach the threshold: stop early.
        allowed = cluster.constants * (1.0 - self.similarity)
        misses = 0
        for template, token in zip(cluster.tokens, tokens, strict=True):
            if template == WILDCARD:
                continue
            constants += 1
            if template == token or (WILDCARD in template and _fits(template, token)):
                same += 1
                continue
            misses += 1
            if misses > allowed or (
                settled
                or (self.caps_are_constant and _is_name(template) and _is_name(token))
                or (self.aligned and _is_value(template) != _is_value(token))
            ):
                return -1.0
        if constants == 0:
            return 1.0
        if same < constants and constants < self.min_constants:
            # Too few words to tell a variable from a different message.
            return -1.0
        return same / constants

    def _update(self, cluster: Cluster, tokens: list[str]) -> None:
        template = cluster.tokens
        for i, (old, new) in enumerate(zip(template, tokens, strict=True)):
            if old != new and not (WILDCARD in old and _fits(old, new)):
                template[i] = _generalise(old, new)
        cluster.constants = sum(1 for t in template if not _is_variable(t))

    # -- the end of the stream -------------------------------------------------------------

    def finish(self) -> None:
        """Merges clusters that turned out to be one event (see the module docstring)."""
        for cluster in self.clusters:
            cluster.parent = cluster.id
        if self.merge_covered:
            self._merge_covered()
        if self.merge_skeletons:
            self._merge_skeletons()
        by_template: dict[str, Cluster] = {}
        for cluster in self.clusters:
            lead = self.group(cluster.id)
            first = by_template.setdefault(lead.template, lead)
            if first is not lead:
                lead.parent = first.id

    def _merge_covered(self) -> None:
        """A cluster whose template another one of its length covers joins that one."""
        by_length: dict[int, list[Cluster]] = {}
        for cluster in self.clusters:
            by_length.setdefault(len(cluster.tokens), []).append(cluster)
        for group in by_length.values():
            if len(group) < 2:
                continue
            # Most general first: a cluster joins the most general template covering it.
            general = sorted(group, key=lambda c: (c.constants, -c.size))
            for cluster in group:
                for other in general:
                    if other.constants >= cluster.constants:
                        break
                    if other.parent == other.id and _covers(other.tokens, cluster.tokens):
                        cluster.parent = other.id
                        break

    def _merge_skeletons(self) -> None:
        """Clusters whose templates differ only by runs of values are one event."""
        by_skeleton: dict[tuple[str, ...], Cluster] = {}
        for cluster in self.clusters:
            lead = self.group(cluster.id)
            skeleton = _skeleton(lead.tokens)
            if len(skeleton) < 2:
                continue
            first = by_skeleton.setdefault(skeleton, lead)
            if first is not lead:
                lead.parent = first.id

    def group(self, cluster_id: int) -> Cluster:
        """The cluster leading ``cluster_id``'s group after ``finish``."""
        cluster = self.clusters[cluster_id]
        while cluster.parent != cluster.id:
            cluster = self.clusters[cluster.parent]
        return cluster
