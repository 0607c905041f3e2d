"""Fixed formulations (规范提法) and words to avoid (禁用词).

Family ``formulation``: the official names and fixed formulations of government writing
— the shipped list (data/formulations.txt) plus `context.formulations` — must be written
exactly. An exact occurrence is fine. A near miss is an error with the standard form as
the suggestion:

- a character dropped, added or changed: Levenshtein distance 1 for formulations of 5 to 7
  characters, up to 2 from 8 characters on (shorter ones: order only), with the first and
  last characters in place. Chinese compounds freely at both ends (人民代表大会制度 →
  人民代表大会和…, 人民代表大会制定了…), so a difference at an end says nothing; and a
  mere part of a formulation (人民代表大会) is no near miss either.
- the same characters in another order (一路一带, 中国特色主义社会), from 4 characters on.

A text spelling another formulation of the list exactly is never a near miss of this one.

How it stays fast: exact occurrences come from one Aho-Corasick automaton, and so do the
places in the text of every bigram of the list. A near miss within k edits keeps at least
(L - 1) - 2k of the formulation's L - 1 bigrams, so among any 2k + 1 of them one
survives: for each formulation only its 2k + 1 bigrams rarest *in this text* give the
places to look, and at each place the few spans that start and end as the formulation
does are compared by Levenshtein distance. A reordering must hold the formulation's
character rarest in the text: only the windows around its occurrences are compared, and
only when the text holds all the formulation's characters at all. Measured on a 20,600-
character article with 2,640 formulations (66 provincial place names × 40 department
names: the worst case, every entry sharing bigrams with the others and the text): about
20 ms a call (the best of seven on a shared two-core machine under load; the median 22
ms), plus about 45 ms to build the index, once per list (kept between calls).

Family ``avoid``: words to avoid — the shipped list of advertising superlatives
(data/avoid.txt, 《中华人民共和国广告法》第九条第（三）项: 不得使用"国家级""最高级""最佳"
等用语) plus `context.avoid`, each with its reason — are errors wherever they occur, the
reason as the message. An account's entry for a word replaces the shipped one.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate
from pathlib import Path

import ahocorasick

from . import AVOID, ERROR, FORMULATION, AvoidWord, Context, Finding, Formulation, family

DATA = Path(__file__).resolve().parent / "data"


def read_list(name: str) -> list[str]:
    """The lines of a shipped list, without comments (#) and blank lines."""
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


@lru_cache(maxsize=1)
def shipped_formulations() -> tuple[Formulation, ...]:
    return tuple(Formulation(line) for line in read_list("formulations.txt"))


@lru_cache(maxsize=1)
def shipped_avoid() -> tuple[AvoidWord, ...]:
    words = []
    for line in read_list("avoid.txt"):
        word, reason, suggestion = ([*line.split("|"), "", ""])[:3]
        words.append(AvoidWord(word.strip(), reason.strip(), suggestion.strip()))
    return tuple(words)


def max_edits(length: int) -> int:
    return 0 if length <= 4 else 1 if length <= 7 else 2


# ------------------------------------------------------------------ the index


@dataclass(frozen=True)
class _Entry:
    standard: str
    edits: int
    bigrams: tuple[str, ...]
    chars: tuple[tuple[str, int], ...]  # each character and how often it occurs
    ordered: tuple[str, ...]  # the characters sorted (a reordering sorts the same)
    charset: frozenset[str]


class Index:
    """What the near-miss search needs of a list of formulations, built once per list."""

    def __init__(self, standards: tuple[str, ...]) -> None:
        self.standards = standards
        self.entries = tuple(
            _Entry(
                s,
                max_edits(len(s)),
                tuple(s[j : j + 2] for j in range(len(s) - 1)),
                tuple(Counter(s).items()),
                tuple(sorted(s)),
                frozenset(s),
            )
            for s in standards
        )
        self.exact = _automaton(standards)
        self.bigrams = _automaton({b for e in self.entries for b in e.bigrams})


def _automaton(words: Iterable[str]) -> ahocorasick.Automaton:
    automaton = ahocorasick.Automaton()
    for word in words:
        automaton.add_word(word, word)
    if len(automaton):
        automaton.make_automaton()
    return automaton


@lru_cache(maxsize=8)
def index_for(standards: tuple[str, ...]) -> Index:
    return Index(standards)


def _standards(context: Context) -> tuple[str, ...]:
    seen = dict.fromkeys(f.standard.strip() for f in shipped_formulations() + context.formulations)
    return tuple(s for s in seen if len(s) >= 2)


# ------------------------------------------------------------------ matching


PARTICLES = str.maketrans("", "", "的了和与及地之")


def _strip(s: str) -> str:
    """Without the particles a sentence may put inside a formulation (全面建成了小康社会)."""
    return s.translate(PARTICLES)


def distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance of `a` and `b`, or `limit + 1` once it is beyond `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        if min(cur) > limit:
            return limit + 1
        prev = cur
    return min(prev[-1], limit + 1)


def _closest(text: str, standard: str, anchor: int, k: int) -> tuple[int, int] | None:
    """The span near `anchor` that starts and ends as `standard` does and is within `k`
    edits of it (the closest, then the one of the closest length)."""
    length = len(standard)
    best: tuple[int, int, int, int] | None = None
    for start in range(max(0, anchor - k), min(len(text), anchor + k + 1)):
        if text[start] != standard[0]:
            continue
        for end in range(start + length - k, min(len(text), start + length + k) + 1):
            if end <= start or text[end - 1] != standard[-1]:
                continue
            d = distance(standard, text[start:end], k)
            if d <= k and (best is None or (d, abs(end - start - length)) < best[:2]):
                best = (d, abs(end - start - length), start, end)
    return (best[2], best[3]) if best else None


def _near_misses(text: str, index: Index) -> list[tuple[int, int, str, str]]:
    """(start, end, standard, kind) of every near miss in `text`; kind is near_miss
    (characters dropped, added or changed) or order (the same characters reordered)."""
    # reach(i): how far the exact occurrences starting at or before i reach; a candidate
    # within one (another formulation spelled exactly) is no near miss
    exact = (
        sorted((end + 1 - len(standard), end + 1) for end, standard in index.exact.iter(text))
        if len(index.exact)
        else []
    )
    exact_starts = [start for start, _ in exact]
    exact_reach = list(accumulate((end for _, end in exact), max))

    def reach(i: int) -> int:
        k = bisect_right(exact_starts, i)
        return exact_reach[k - 1] if k else 0

    positions: dict[str, list[int]] = {}
    if len(index.bigrams):
        for end, bigram in index.bigrams.iter(text):
            positions.setdefault(bigram, []).append(end - 1)

    found: dict[tuple[int, int], tuple[str, str]] = {}
    for entry in index.entries:
        k = entry.edits
        if k == 0:
            continue
        length = len(entry.standard)
        counts = [len(positions.get(b, ())) for b in entry.bigrams]
        if sum(1 for c in counts if c) < (length - 1) - 2 * k:
            continue  # too few of its bigrams anywhere in the text
        rarest = sorted(range(len(counts)), key=counts.__getitem__)[: 2 * k + 1]
        anchors = {p - j for j in rarest for p in positions.get(entry.bigrams[j], ())}
        for anchor in anchors:
            if text.startswith(entry.standard, anchor):
                continue
            span = _closest(text, entry.standard, anchor, k)
            if span is None:
                continue
            start, end = span
            candidate = text[start:end]
            if (
                candidate in entry.standard
                or reach(start) >= end
                or _strip(candidate) == _strip(entry.standard)
            ):
                continue
            found[(start, end)] = (entry.standard, "near_miss")

    # reorderings: every window of the formulation's length around an occurrence of its
    # character rarest in the text, when the text holds all its characters; a window
    # holds the formulation's characters only, so it lies in the stretch of them around
    # that occurrence
    chars = Counter(text)
    size = len(text)
    for entry in index.entries:
        length = len(entry.standard)
        if length < 4 or any(chars[c] < n for c, n in entry.chars):
            continue
        own = entry.charset
        rare = min((c for c, _n in entry.chars), key=chars.__getitem__)
        starts: set[int] = set()
        p = text.find(rare)
        while p != -1:
            lo = p
            while lo > 0 and p - lo < length - 1 and text[lo - 1] in own:
                lo -= 1
            hi = p + 1
            while hi < size and hi - p < length and text[hi] in own:
                hi += 1
            starts.update(range(lo, hi - length + 1))
            p = text.find(rare, p + 1)
        for start in sorted(starts):
            if reach(start) >= start + length:
                continue  # an exact occurrence (of this one or another formulation)
            if tuple(sorted(text[start : start + length])) == entry.ordered:
                found[(start, start + length)] = (entry.standard, "order")

    # one finding for one slip: of overlapping spans for the same formulation, the longest
    kept: list[tuple[int, int, str, str]] = []
    for (s, e), (standard, kind) in sorted(found.items(), key=lambda item: item[0][0] - item[0][1]):
        if not any(st == standard and s < ke and ks < e for ks, ke, st, _ in kept):
            kept.append((s, e, standard, kind))
    return sorted(kept)


@family(FORMULATION)
def formulation(text: str, context: Context) -> list[Finding]:
    index = index_for(_standards(context))
    return [
        Finding(
            start=s,
            end=e,
            text=text[s:e],
            family=FORMULATION,
            severity=ERROR,
            message=f"规范提法应为「{standard}」" + ("（字序有误）" if kind == "order" else ""),
            suggestion=standard,
            rule=f"formulation.{kind}",
        )
        for s, e, standard, kind in _near_misses(text, index)
    ]


# ------------------------------------------------------------------ words to avoid


@lru_cache(maxsize=8)
def _avoid_automaton(words: tuple[AvoidWord, ...]) -> ahocorasick.Automaton | None:
    chosen: dict[str, AvoidWord] = {w.word: w for w in shipped_avoid()}
    chosen.update({w.word.strip(): w for w in words if w.word.strip()})
    if not chosen:
        return None
    automaton = ahocorasick.Automaton()
    for word, entry in chosen.items():
        automaton.add_word(word, (word, entry))
    automaton.make_automaton()
    return automaton


@family(AVOID)
def avoid(text: str, context: Context) -> list[Finding]:
    automaton = _avoid_automaton(context.avoid)
    if automaton is None:
        return []
    found = []
    for end, (word, entry) in automaton.iter(text):
        start = end + 1 - len(word)
        found.append(
            Finding(
                start=start,
                end=end + 1,
                text=word,
                family=AVOID,
                severity=ERROR,
                message=entry.reason or f"「{word}」在禁用词表中",
                suggestion=entry.suggestion,
                rule="avoid.word",
            )
        )
    return found
