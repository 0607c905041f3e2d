"""The compiled keyword matcher.

Exact keywords sit in a dict, contained keywords in one Aho-Corasick automaton, so the
cost of matching a message depends on its length and on the keywords found in it, not on
the number of rules. A regex keyword is indexed by a literal that every match must
contain (taken from the parsed pattern), so it is only tried when that literal occurs;
regexes with no such literal are tried on every message, in priority order, and only
while they could still beat the best hit.

Rules are ranked by (priority, id); the lowest rank wins.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from typing import Any

import ahocorasick

try:  # CPython 3.11+
    from re import _constants as sre_constants  # type: ignore[attr-defined]
    from re import _parser as sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover
    import sre_constants  # type: ignore[no-redef]
    import sre_parse  # type: ignore[no-redef]

from govwx.wechat.protocol import Reply

EXACT, CONTAINS, REGEX = "exact", "contains", "regex"


@dataclass(frozen=True)
class CompiledRule:
    rank: int
    pk: int
    name: str
    reply_all: bool
    replies: tuple[Reply, ...]
    handoff: bool = False

    def choose(self, rng: random.Random | None = None) -> tuple[Reply, ...]:
        """The replies to send: all of them, or one at random."""
        if self.reply_all or len(self.replies) <= 1:
            return self.replies
        return ((rng or random).choice(self.replies),)


def required_literal(pattern: str) -> str | None:
    """The longest literal every match of `pattern` must contain, or None."""
    try:
        parsed = sre_parse.parse(pattern)
    except re.error:
        return None
    if parsed.state.flags & re.IGNORECASE:
        return None
    best, run = "", []
    for op, av in parsed:
        if op is sre_constants.LITERAL:
            run.append(chr(av))
            continue
        if len("".join(run)) > len(best):
            best = "".join(run)
        run = []
    if len("".join(run)) > len(best):
        best = "".join(run)
    return best or None


@dataclass
class Matcher:
    rules: list[CompiledRule] = field(default_factory=list)
    exact: dict[str, int] = field(default_factory=dict)
    automaton: Any = None
    regex_indexed: Any = None  # automaton: literal -> [(rank, compiled)]
    regex_always: list[tuple[int, re.Pattern[str]]] = field(default_factory=list)

    def match(self, text: str) -> CompiledRule | None:
        best = self.exact.get(text)
        if self.automaton is not None and text:
            for _, rank in self.automaton.iter(text):
                if best is None or rank < best:
                    best = rank
        if self.regex_indexed is not None and text:
            for _, candidates in self.regex_indexed.iter(text):
                for rank, rx in candidates:
                    if (best is None or rank < best) and rx.search(text):
                        best = rank
        for rank, rx in self.regex_always:
            if best is not None and rank >= best:
                break
            if rx.search(text):
                best = rank
        return None if best is None else self.rules[best]


@dataclass(frozen=True)
class RuleSpec:
    """What the matcher needs of a rule; ordered by (priority, pk) on input."""

    pk: int
    name: str
    reply_all: bool
    keywords: tuple[tuple[str, str], ...]  # (text, match)
    replies: tuple[Reply, ...]
    handoff: bool = False


def compile_rules(specs: list[RuleSpec]) -> Matcher:
    m = Matcher()
    contains: dict[str, int] = {}
    indexed: dict[str, list[tuple[int, re.Pattern[str]]]] = {}
    for rank, spec in enumerate(specs):
        m.rules.append(
            CompiledRule(rank, spec.pk, spec.name, spec.reply_all, spec.replies, spec.handoff)
        )
        for text, how in spec.keywords:
            if how == EXACT:
                m.exact.setdefault(text, rank)
            elif how == CONTAINS:
                if text:
                    contains.setdefault(text, rank)
            elif how == REGEX:
                rx = re.compile(text)
                lit = required_literal(text)
                if lit:
                    indexed.setdefault(lit, []).append((rank, rx))
                else:
                    m.regex_always.append((rank, rx))
    if contains:
        a = ahocorasick.Automaton()
        for kw, rank in contains.items():
            a.add_word(kw, rank)
        a.make_automaton()
        m.automaton = a
    if indexed:
        a = ahocorasick.Automaton()
        for lit, cands in indexed.items():
            a.add_word(lit, tuple(cands))
        a.make_automaton()
        m.regex_indexed = a
    m.regex_always.sort(key=lambda x: x[0])
    return m
