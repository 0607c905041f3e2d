"""Typos (错别字): the family "typo".

Four kinds of finding, each checked against the words around it:

- misused words (data/misused.txt, 524 pairs, and the installation's `Context.misused`):
  a wrong form that the text, cut into words, holds as a word of its own (工作布署 → 部署;
  not 发布署名, where 布 and 署 belong to 发布 and 署名). Error.
- 截止/截至 and 既使/即使, which depend on what follows: 截至 takes a time point
  (截至12月5日), 截止 is a deadline (报名截止, 截止日期); 既使 is 即使 unless 又 (or 也使)
  pairs with it.
- a character typed twice at the end of a clause (正式开学学。 → 开学): the best cut ends
  with a word and the same character alone after it. Not a function character (目的的),
  a pair of pairs (干干净净) or a person's name of jieba's dictionary. Warning.
- a character confused by sound or by shape: a window of 2 to 4 characters (or a long
  word of the dictionary or of official writing) where one character, replaced by one
  that sounds the same (any reading in use), nearly the same (zh/z, ing/in, n/l) or looks
  alike, gives a known word, and where the clause, cut into words at its best, is far
  more probable with the change (`lexicon.best_cut`, jieba's frequencies: 工做 → 工作,
  坚持不解 → 坚持不懈, 疫情防空 → 疫情防控, 隐换 → 隐患). The gain, in natural log units,
  less a `PENALTY` for a near sound or a shape, decides: from `ERROR_GAIN` an error, from
  `WARNING_GAIN` a warning. The context is the clause's other words and their
  frequencies: a unigram model over jieba's dictionary, whose many compounds (安全隐患,
  社会和谐) and official_words.txt's (疫情防控, 营商环境) carry the neighbours' evidence.
  Left alone: words common enough (`SOLID`) unless the change swallows them into a longer
  one, function characters (的/地/得, 在/再: grammar), a unit after a number (万剂次), a
  window that begins a word of the dictionary (全世 of 全世界: the text may hold the word
  cut short), people's names that the text gives with a title or 同志 or introduces with
  叫 (他叫大介，), and changes into a name of jieba's dictionary.

The account's own names, places, leaders and formulations win: nothing on one of them
(as written, or a near miss that the name family reports) is a typo.

Measured on the test set of govwx/content/tests/test_proofread_typos.py (72 sentences of
official writing with one planted typo each, 24 of them written after the thresholds were
set; 48 clean sentences and 16 clean paragraphs): precision 1.00 (52 findings on the
typo sentences, all right; none on the clean texts), recall 52/72 = 0.72 (35/48 on the
sentences the thresholds were set on, 17/24 on the held-out ones; 15/24 before 短板 and
可及性 joined official_words.txt). The misses are mostly a slip into a common word
(事故发声, 统一部属, 专项检察, 形式) or next to a character common on its own (身体建康:
建 + 康 … 成小, 成过). On pycorrector's SIGHAN 2015 sample (learners' essays, not official
writing): a finding in 6 of its 707 corrected sentences (some of them typos the corpus
kept: 国几米兰, 机官). Speed (bench/proofread_bench.py, docs/performance.md): 0.7 to 1.0 s
for the bench's 203,930 characters on one core of a shared machine when every clause is
new, compiled (setup.py; 1.3 to 1.9 s as source); a clause met again (the editor checks
at each save) costs a lookup; the load (`lexicon.load`) about 2 s once a process. Most
of the time is dictionary lookups: the spans of the best cut, the windows of the index,
the words over each change. This module and lexicon.py are compiled by mypyc as they are
(`compiled.py`): plain typed Python, written so that it compiles well (a dictionary's
`get` called on the dictionary, not kept as a bound method; no nested functions; floats
never compared by identity).
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left
from functools import lru_cache
from typing import NamedTuple, cast

import ahocorasick

from . import ERROR, TYPO, WARNING, Context, Finding, family
from .lexicon import (
    DATA,
    HAN,
    INDEX_MIN_FREQ,
    PREFIX,
    Cut,
    Lexicon,
    NearMiss,
    NearMisses,
    best_cut,
    load,
    read_lines,
    with_changes,
)
from .names import find as find_names
from .names import in_person_name, matcher_for

MISUSED = DATA / "misused.txt"

WRONG_FREQ = 100  # the frequency a wrong form is given to see whether the text holds it
MARGIN = 6  # characters on each side of a misused word that its cut takes in
ERROR_GAIN = 10.0
WARNING_GAIN = 7.0
# What a change costs besides: a shared reading nothing (the usual slip of a pinyin input
# method), readings that a fuzzy input method confuses (zh/z, ing/in) and similar shapes
# more.
PENALTY = {"sound": 0.0, "near": 1.5, "shape": 2.0}
NUMERALS = frozenset("0123456789〇零一二两三四五六七八九十百千万亿")
NUMERAL = re.compile(f"[{''.join(sorted(NUMERALS))}]")
FUNCTION_CHAR = 100_000  # a character this frequent alone is not changed
SOLID = 1000  # a word of the best cut this frequent is taken as written, unless swallowed

# 截至 takes a time point: 截至目前, 截至12月5日, 截至今年6月底.
TIME_POINT = (
    r"(?:\d|[〇零一二两三四五六七八九十]+[年月日时号]|目前|今年|去年|前年|当前|今天|今日|"
    r"昨天|昨日|现在|本月|上月|本周|上周|本年|年底|年末|月底|月末|发稿|报告期|上半年|"
    r"下半年|前三季度|[一二三四]季度|第[一二三四]季度|上午|下午|中午|晚上|当日|当天)"
)
JIEZHI_TIME = re.compile(r"截止(?=" + TIME_POINT + ")")
# 截止 stands alone (报名截止。) or names the deadline (截止日期, 截止时间).
JIEZHI_DEADLINE = re.compile(r"截至(?=[，。；！？、,.;!?\s]|$|日期|时间|期限)")
JISHI = re.compile(r"既使")
# 既使……又……, 既使……也使……: 既 pairs with what follows, 使 is a verb
JISHI_PAIR = re.compile(r"又|也[使让为]|还[使让]")
SENTENCE_END = re.compile(r"[。！？；!?;\n]")


@lru_cache(maxsize=1)
def misused_pairs() -> tuple[tuple[str, str, str], ...]:
    """The shipped list: (wrong, right, note)."""
    pairs = []
    for fields in read_lines(MISUSED):
        wrong, right = fields[0], fields[1]
        note = fields[2] if len(fields) > 2 else ""
        pairs.append((wrong, right, note))
    return tuple(pairs)


@lru_cache(maxsize=64)
def _text_automaton(extra: tuple[tuple[str, str, str], ...]) -> ahocorasick.Automaton:
    """What the family looks for in a whole text, in one pass: the misused words (the
    shipped list and an installation's `extra`), as (wrong, right, note), and the halves
    of the long words of the lexicon (`_long_matcher`), as (half, owners)."""
    wanted: dict[str, list[object]] = {}
    for wrong, right, note in misused_pairs() + extra:
        if wrong and right and wrong != right:
            wanted[wrong] = [(wrong, right, note), None]
    for half, owners in _long_matcher(load()).halves.items():
        wanted.setdefault(half, [None, None])[1] = (half, owners)
    automaton = ahocorasick.Automaton()
    for key, value in wanted.items():
        automaton.add_word(key, tuple(value))
    automaton.make_automaton()
    return automaton


@family(TYPO)
def check_typos(text: str, context: Context) -> list[Finding]:
    lexicon = load()
    protected = _protected(text, context)
    hits = list(_text_automaton(tuple(context.misused)).iter(text))
    found = _misused(text, hits, lexicon)
    found += _jiezhi(text) + _jishi(text)
    found += [
        f for f in _repeated(text, lexicon) if not in_person_name(text, f.start, f.end, context)
    ]
    taken = Spans([(f.start, f.end) for f in found] + protected)
    found += [
        f
        for f in _confusions(text, hits, lexicon, taken)
        if not in_person_name(text, f.start, f.end, context)
    ]
    held = Spans(protected)
    return [f for f in found if not held.overlaps(f.start, f.end)]


# ------------------------------------------------------------------ names win


def _protected(text: str, context: Context) -> list[tuple[int, int]]:
    """Where the account's own names and formulations stand, as written or nearly (the
    name family reports a near miss of a name; it is no typo)."""
    spans = [(start, end) for start, end, _ in matcher_for(context).exact(text)]
    spans += [(f.start, f.end) for f in find_names(text, context)]
    for formulation in context.formulations:
        standard = formulation.standard
        at = text.find(standard) if standard else -1
        while at >= 0:
            spans.append((at, at + len(standard)))
            at = text.find(standard, at + 1)
    return spans


class Spans:
    """Spans of a text, asked whether one overlaps a given span: sorted by start, with the
    furthest end of each prefix, so that a question costs one bisection (an account's
    names and formulations stand thousands of times in a long text)."""

    def __init__(self, spans: list[tuple[int, int]]) -> None:
        ordered = sorted(spans)
        self.starts = [s for s, _ in ordered]
        self.reach: list[int] = []
        furthest = -1
        for _, e in ordered:
            furthest = max(furthest, e)
            self.reach.append(furthest)

    def overlaps(self, start: int, end: int) -> bool:
        """Whether a span (s, e) has start < e and s < end."""
        k = bisect_left(self.starts, end)  # the spans with s < end
        return k > 0 and self.reach[k - 1] > start


# ------------------------------------------------------------------ misused words


def _misused(
    text: str, hits: list[tuple[int, tuple[object, object]]], lexicon: Lexicon
) -> list[Finding]:
    """The misused words among `hits` (`_text_automaton`) that stand alone."""
    found = []
    for end, (misused, _) in hits:
        if misused is None:
            continue
        wrong, right, note = cast(tuple[str, str, str], misused)
        start = end + 1 - len(wrong)
        if not _stands_alone(text, start, start + len(wrong), lexicon):
            continue
        message = f"「{wrong}」是常见错误写法，应为「{right}」"
        if note:
            message += f"（{note}）"
        found.append(
            Finding(
                start,
                start + len(wrong),
                wrong,
                TYPO,
                ERROR,
                message + "。",
                suggestion=right,
                rule="typo.misused",
            )
        )
    return _longest(found)


def _stands_alone(text: str, start: int, end: int, lexicon: Lexicon) -> bool:
    """Whether the best cut of the clause around text[start:end] keeps it as one word
    (given the frequency of an ordinary word): 工作布署 does, 发布署名 does not."""
    wrong = text[start:end]
    if not HAN.fullmatch(wrong):
        return True  # an installation's pair with other characters: as written
    a, b = _clause(text, start, end, MARGIN)
    words = {wrong: WRONG_FREQ}
    whole = lexicon.score(text[a:b], words)
    forced = (
        lexicon.score(text[a:start], words)
        + lexicon.score(wrong, words)
        + lexicon.score(text[end:b], words)
    )
    return forced >= whole - 1e-9


def _clause(text: str, start: int, end: int, margin: int) -> tuple[int, int]:
    """Up to `margin` Chinese characters on each side of text[start:end]."""
    a = start
    while a > 0 and start - a < margin and _is_han(text[a - 1]):
        a -= 1
    b = end
    while b < len(text) and b - end < margin and _is_han(text[b]):
        b += 1
    return a, b


def _is_han(char: str) -> bool:
    return "\u3400" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff"


def _longest(found: list[Finding]) -> list[Finding]:
    """Of overlapping findings, the longest (再接再励 over 接再励 if both were listed)."""
    kept: list[Finding] = []
    for f in sorted(found, key=lambda f: (-(f.end - f.start), f.start)):
        if not any(f.start < k.end and k.start < f.end for k in kept):
            kept.append(f)
    return sorted(kept, key=lambda f: f.start)


# ------------------------------------------------------------------ 截止/截至, 既使


def _jiezhi(text: str) -> list[Finding]:
    found = []
    for m in JIEZHI_TIME.finditer(text):
        found.append(
            Finding(
                m.start(),
                m.end(),
                "截止",
                TYPO,
                ERROR,
                "「截至」后接时间点（截至12月5日、截至目前）；「截止」指到期停止，不带时间宾语。",
                suggestion="截至",
                rule="typo.jiezhi",
            )
        )
    for m in JIEZHI_DEADLINE.finditer(text):
        found.append(
            Finding(
                m.start(),
                m.end(),
                "截至",
                TYPO,
                ERROR,
                "「截至」须后接时间点；表示到期停止（报名截止、截止日期）应为「截止」。",
                suggestion="截止",
                rule="typo.jiezhi",
            )
        )
    return found


def _jishi(text: str) -> list[Finding]:
    found = []
    for m in JISHI.finditer(text):
        end = SENTENCE_END.search(text, m.end())
        rest = text[m.end() : end.start() if end else len(text)]
        if JISHI_PAIR.search(rest):
            continue
        found.append(
            Finding(
                m.start(),
                m.end(),
                "既使",
                TYPO,
                WARNING,
                "表示假设让步应为「即使」；「既使」只用于「既使……又……」。",
                suggestion="即使",
                rule="typo.jishi",
            )
        )
    return found


# ------------------------------------------------------------------ a character typed twice

DOUBLED = re.compile(
    r"([\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff])\1(?=[^\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|$)"
)


def _repeated(text: str, lexicon: Lexicon) -> list[Finding]:
    """A character typed twice at the end of a clause (正式开学学。): the best cut of the
    clause ends with a word of two characters or more and the same character alone after
    it. Not a function character (目的的, 为了了), a pair of pairs (干干净净) or a word
    that the dictionary gives as a person's name."""
    found = []
    for m in DOUBLED.finditer(text):
        k = m.start()
        char = text[k]
        if (lexicon.freq.get(char) or 0) >= FUNCTION_CHAR:
            continue
        if k >= 2 and text[k - 2] == text[k - 1]:
            continue  # 干干净净, 明明白白
        run_start = k
        while run_start > 0 and _is_han(text[run_start - 1]):
            run_start -= 1
        run = text[run_start : k + 2]
        start = best_cut(lexicon, run).start
        n = len(run)
        if start[n] != n - 1 or start[n - 1] > n - 3:
            continue  # the last character is not alone, or the word before it is short
        word = run[start[n - 1] : n - 1]
        if lexicon.frequency(word) < INDEX_MIN_FREQ or word in lexicon.person_names:
            continue
        first = run_start + start[n - 1]
        found.append(
            Finding(
                first,
                k + 2,
                text[first : k + 2],
                TYPO,
                WARNING,
                f"疑似多打了一个「{char}」：「{text[first : k + 2]}」应为「{word}」。",
                suggestion=word,
                rule="typo.repeated",
            )
        )
    return found


# ------------------------------------------------------------------ sound and shape


class Candidate(NamedTuple):
    start: int  # of the window, in the run
    end: int
    position: int  # of the changed character, in the run
    char: str  # the character meant


# The slips found in a clause depend on the clause alone (and the lexicon of the process):
# they are remembered, so that a text checked again (the editor checks an article at each
# save) or a clause met again (下一步, 会议指出) costs a lookup. At most `REMEMBER` clauses;
# all are forgotten when that many are held.
REMEMBER = 20_000
_remembered: dict[str, tuple[tuple[Candidate, str, float], ...]] = {}


def forget() -> None:
    """Forget the clauses remembered (benchmarks of the first check)."""
    _remembered.clear()


def _confusions(
    text: str, hits: list[tuple[int, tuple[object, object]]], lexicon: Lexicon, taken: Spans
) -> list[Finding]:
    found: list[Finding] = []
    # What clauses not remembered need of the whole text, found in one pass when the
    # first such clause is met: the long words with one character changed
    misses: list[NearMiss] | None = None
    next_miss = 0
    rare = lexicon.rare
    # the rare characters (traditional forms), for the runs the dictionary does not speak
    # (`Lexicon.foreign`): few in most texts
    rare_at = lexicon.rare_positions(text)
    for m in HAN.finditer(text):
        run = m.group()
        if len(run) < 2:
            continue
        offset = m.start()
        if rare_at:
            count = bisect_left(rare_at, offset + len(run)) - bisect_left(rare_at, offset)
            if count >= 2 or count * 5 >= len(run):
                continue  # as `lexicon.foreign(run)`
        slips = _remembered.get(run)
        if slips is None:
            if misses is None:
                misses = _long_matcher(lexicon).matches(
                    text,
                    [
                        (end, cast(tuple[str, list[tuple[str, int]]], owners))
                        for end, (_, owners) in hits
                        if owners is not None
                    ],
                )
            stop = offset + len(run)
            while next_miss < len(misses) and misses[next_miss].start < offset:
                next_miss += 1
            inside = []
            k = next_miss
            while k < len(misses) and misses[k].start < stop:
                miss = misses[k]
                if miss.end <= stop:
                    inside.append(
                        Candidate(
                            miss.start - offset,
                            miss.end - offset,
                            miss.start - offset + miss.position,
                            miss.meant[miss.position],
                        )
                    )
                k += 1
            slips = _slips(run, lexicon, inside)
            if REMEMBER:
                if len(_remembered) >= REMEMBER:
                    _remembered.clear()
                _remembered[run] = slips
        if not slips:
            continue
        gains: dict[tuple[int, str], float] = {}
        # (position, character meant) -> the candidates that pass, with the kind of slip
        passing: dict[tuple[int, str], list[tuple[Candidate, str]]] = {}
        for cand, how, gain in slips:
            if taken.overlaps(offset + cand.start, offset + cand.end):
                continue
            if how != "shape" and rare(run[cand.position]):
                continue  # 報名 → 报名: a traditional form reads as its simplified one
            key = (cand.position, cand.char)
            gains[key] = gain
            passing.setdefault(key, []).append((cand, how))
        chosen: list[tuple[float, Candidate, str]] = []
        for key, options in sorted(passing.items(), key=lambda item: -gains[item[0]]):
            # the shortest window that carries the change: 工做 → 工作, not 防汛工做
            cand, how = min(options, key=lambda o: o[0].end - o[0].start)
            if any(cand.start < c.end and c.start < cand.end for _, c, _ in chosen):
                continue
            chosen.append((gains[key] - PENALTY[how], cand, how))
        for gain, cand, how in chosen:
            found.append(_finding(offset, run, cand, how, gain))
    return found


def _slips(
    run: str, lexicon: Lexicon, long: list[Candidate]
) -> tuple[tuple[Candidate, str, float], ...]:
    """The candidates of a clause whose gain, less the penalty of their kind of slip,
    reaches `WARNING_GAIN`, in the order found, with that kind and the gain. `long`: the
    long words of the lexicon with one character changed in it."""
    cut = best_cut(lexicon, run)
    candidates = _candidates(run, lexicon, cut, long)
    if not candidates:
        return ()
    # the characters meant at each position, then how much more probable the clause is,
    # cut at its best, with each change
    meant: dict[int, dict[str, None]] = {}
    for _, _, i, c in candidates:
        if i in meant:
            meant[i][c] = None
        else:
            meant[i] = {c: None}
    gains = with_changes(lexicon, run, cut, meant)
    best = cut.before[-1]
    confused = lexicon.confused
    known = lexicon.log_prob
    slips: list[tuple[Candidate, str, float]] = []
    for s, e, i, c in candidates:
        gain = gains[(i, c)] - best
        if gain < WARNING_GAIN:
            continue  # short even before the penalty of its kind
        how = confused(run[i], c)
        if not how or gain - PENALTY[how] < WARNING_GAIN:
            continue
        if known.get(run[s:e]) == PREFIX:
            # the window as written begins a word of the dictionary (全世 of 全世界): the
            # text may hold that word cut short, or one the dictionary lacks
            continue
        slips.append((Candidate(s, e, i, c), how, gain))
    return tuple(slips)


# The classes of each character met that may be changed, none for one that may not (a
# function character: 的, 了, 在, 和 …, whether one stands for another (的/地/得, 在/再) is
# grammar, not a slip that word frequencies can tell; a character without a class). A
# table of the process's lexicon (`load`), filled as characters are met.
_changeable: dict[str, tuple[str, ...]] = {}


def _changeable_classes(lexicon: Lexicon, char: str) -> tuple[str, ...]:
    found = _changeable.get(char)
    if found is None:
        classes = lexicon.known_classes.get(char)
        if classes is None:
            classes = lexicon.classes(char)
        common = (lexicon.freq.get(char) or 0) >= FUNCTION_CHAR
        found = _changeable[char] = () if common else tuple(classes)
    return found


# The characters meant by a change of one character of a pair (the first, then the
# second), by the words of two characters of the index: 工做 → 作 (as the second). A table
# of the process's lexicon, filled as pairs are met; at most `PAIRS` each, then forgotten.
PAIRS = 200_000
_pair_meant: tuple[dict[str, str], dict[str, str]] = ({}, {})


def _meant_in_pair(lexicon: Lexicon, pair: str, changed: int) -> str:
    """The characters (in the order of the classes of the one written, a character once
    per class) that, at position `changed` of `pair`, make a word of the index."""
    written = pair[changed]
    known = lexicon.around[(2, changed)].get(pair[1 - changed])
    meant = ""
    if known:
        for marker in _changeable_classes(lexicon, written):
            for c in known.get(marker, ""):
                if c != written:
                    meant += c
    table = _pair_meant[changed]
    if len(table) >= PAIRS:
        table.clear()
    table[pair] = meant
    return meant


def _run_classes(run: str, lexicon: Lexicon) -> list[tuple[str, ...]]:
    """The classes of each character of `run` that may be changed (`_changeable`)."""
    classes = []
    for char in run:
        found = _changeable.get(char)
        if found is None:
            found = _changeable_classes(lexicon, char)
        classes.append(found)
    return classes


# What two characters are of the words of 3 and 4 characters of the index (`_gates`):
# the context of a word of 3 with its first character changed (then the window starts
# one before) or its last (the window starts there), the left half of a word of 4 or its
# right half (the window starts two before). A window of 3 or 4 is looked up only when
# its gate is open.
AFTER_FIRST3, BEFORE_LAST3, LEFT4, RIGHT4 = 1, 2, 4, 8
_gate_bits: list[dict[str, int]] = []


def _gates(lexicon: Lexicon) -> dict[str, int]:
    """The gates of every two characters that open one (a table of the process)."""
    if not _gate_bits:
        bits: dict[str, int] = {}
        left4, right4 = lexicon.halves
        for pairs, bit in (
            (lexicon.around[(3, 0)], AFTER_FIRST3),
            (lexicon.around[(3, 2)], BEFORE_LAST3),
            (left4, LEFT4),
            (right4, RIGHT4),
        ):
            for pair in pairs:
                bits[pair] = bits.get(pair, 0) | bit
        _gate_bits.append(bits)
    return _gate_bits[0]


def _candidates(
    run: str,
    lexicon: Lexicon,
    cut: Cut,
    long: list[Candidate],
) -> list[tuple[int, int, int, str]]:
    """Every window of 2 to 4 characters, not inside a common word of the best cut `cut`
    (whose last word up to each end starts at `cut.start[end]`), whose one character,
    replaced by one of the same class (sound or shape), gives a known word; and `long`,
    the long words of the lexicon with one character changed. Plain tuples (start, end,
    position, char meant), as in `Candidate`, in the order of (start, end, position):
    most come to nothing."""
    n = len(run)
    classes = _run_classes(run, lexicon)
    # no change after a numeral (a unit: 万剂次)
    if NUMERAL.search(run):
        for i in range(1, n):
            if run[i - 1] in NUMERALS:
                classes[i] = ()
    # The words of the best cut, from the end: the one each character belongs to
    # (`token`), whether it is a common one (`solid`: 社会主义, 工作), the first character
    # at or after each that is in no common word (`weak`: a window of common words only,
    # 坚持 + 发展, is taken as written), and the classes of a character that may change and
    # is in no common word (`free`).
    # common: jieba's frequency from `SOLID`, read off the cut's log-probability (the
    # official list's words that jieba lacks are not common)
    start, last = cut.start, cut.last
    solid_lp = math.log(SOLID) - lexicon.log_total
    official_only = lexicon.official_only
    token: list[tuple[int, int]] = [(0, 0)] * n
    solid = [False] * n
    weak = [n] * (n + 1)
    free = classes.copy()
    following = n
    j = n
    while j > 0:
        i = start[j]
        word = (i, j)
        if j - i > 1 and last[j] >= solid_lp and run[i:j] not in official_only:
            for k in range(i, j):
                token[k] = word
                solid[k] = True
                weak[k] = following
                free[k] = ()
        else:
            for k in range(i, j):
                token[k] = word
                weak[k] = k
            following = i
        j = i
    around = lexicon.around
    found: list[tuple[int, int, int, str]] = []
    # Windows of two characters: the character changed in no common word (two characters
    # cannot swallow a common word of two or more), with the one before it, then the one
    # after it.
    first, second = _pair_meant
    for i, markers in enumerate(free):
        if not markers:
            continue
        if i:
            pair = run[i - 1 : i + 1]
            chars = second.get(pair)
            if chars is None:
                chars = _meant_in_pair(lexicon, pair, 1)
            for c in chars:
                found.append((i - 1, i + 1, i, c))
        if i + 1 < n:
            pair = run[i : i + 2]
            chars = first.get(pair)
            if chars is None:
                chars = _meant_in_pair(lexicon, pair, 0)
            for c in chars:
                found.append((i, i + 2, i, c))
    # Windows of three and four characters, not inside a common word of the best cut and
    # not of common words only.
    wide: list[tuple[int, int, int, str]] = []
    window = _Window(run, classes, solid, token, wide)

    a30, a31, a32 = around[(3, 0)], around[(3, 1)], around[(3, 2)]
    a40, a41, a42, a43 = around[(4, 0)], around[(4, 1)], around[(4, 2)], around[(4, 3)]
    gates = _gates(lexicon)
    for s in range(n - 2):
        if weak[s] >= s + 4:
            continue
        inside = token[s][1] if solid[s] else -1
        # the gate of run[s:s+2], asked once when needed
        gate = -1
        if s + 3 > inside and weak[s] < s + 3:
            if classes[s] and gates.get(run[s + 1 : s + 3], 0) & AFTER_FIRST3:
                window.probe(a30[run[s + 1 : s + 3]], s, s + 3, s)
            if classes[s + 1]:
                known = a31.get(run[s] + run[s + 2])
                if known:
                    window.probe(known, s, s + 3, s + 1)
            if classes[s + 2]:
                gate = gates.get(run[s : s + 2], 0)
                if gate & BEFORE_LAST3:
                    window.probe(a32[run[s : s + 2]], s, s + 3, s + 2)
        if s + 4 <= n and s + 4 > inside:
            if (classes[s] or classes[s + 1]) and gates.get(run[s + 2 : s + 4], 0) & RIGHT4:
                if classes[s]:
                    known = a40.get(run[s + 1 : s + 4])
                    if known:
                        window.probe(known, s, s + 4, s)
                if classes[s + 1]:
                    known = a41.get(run[s] + run[s + 2 : s + 4])
                    if known:
                        window.probe(known, s, s + 4, s + 1)
            if gate < 0 and (classes[s + 2] or classes[s + 3]):
                gate = gates.get(run[s : s + 2], 0)
            if gate > 0 and gate & LEFT4:
                if classes[s + 2]:
                    known = a42.get(run[s : s + 2] + run[s + 3])
                    if known:
                        window.probe(known, s, s + 4, s + 2)
                if classes[s + 3]:
                    known = a43.get(run[s : s + 3])
                    if known:
                        window.probe(known, s, s + 4, s + 3)
    if wide:
        found += wide
        found.sort(key=_window_order)
    if long:
        found += [c for c in long if not (c.position > 0 and run[c.position - 1] in NUMERALS)]
    return found


class _Window:
    """The windows of 3 and 4 characters of a run that `_candidates` probes."""

    def __init__(
        self,
        run: str,
        classes: list[tuple[str, ...]],
        solid: list[bool],
        token: list[tuple[int, int]],
        found: list[tuple[int, int, int, str]],
    ) -> None:
        self.run, self.classes, self.solid, self.token = run, classes, solid, token
        self.found = found

    def probe(self, known: dict[str, str], s: int, e: int, i: int) -> None:
        """The words of the index around window run[s:e] at position i (`known`: by the
        class of the character left out)."""
        token = self.token[i]
        if self.solid[i] and not (s <= token[0] and token[1] <= e):
            return  # the change would break a common word (工作人员 → 做人), not swallow it
        written = self.run[i]
        for marker in self.classes[i]:
            chars = known.get(marker)
            if chars:
                for c in chars:
                    if c != written:
                        self.found.append((s, e, i, c))


def _window_order(candidate: tuple[int, int, int, str]) -> tuple[int, int, int]:
    return candidate[0], candidate[1], candidate[2]


_long: list[NearMisses] = []


def _long_matcher(lexicon: Lexicon) -> NearMisses:
    if not _long:
        _long.append(NearMisses(lexicon.long_words, min_length=5))
    return _long[0]


def _finding(offset: int, run: str, cand: Candidate, how: str, gain: float) -> Finding:
    window = run[cand.start : cand.end]
    k = cand.position - cand.start
    meant = window[:k] + cand.char + window[k + 1 :]
    written = run[cand.position]
    kind = {"sound": "同音", "near": "音近", "shape": "形近"}[how]
    return Finding(
        offset + cand.start,
        offset + cand.end,
        window,
        TYPO,
        ERROR if gain >= ERROR_GAIN else WARNING,
        f"疑似错别字（{kind}）：「{written}」应为「{cand.char}」，「{meant}」更合上下文。",
        suggestion=meant,
        rule=f"typo.{how}",
    )
