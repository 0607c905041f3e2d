"""Typos (错别字): the family "typo".

Three kinds of finding, each checked against the words around it:

- misused words (data/misused.txt, 439 pairs, and the installation's `Context.misused`):
  a wrong form that the text, cut into words, holds as a word of its own (工作布署 → 部署;
  not 发布署名, where 布 and 署 belong to 发布 and 署名). Error.
- 截止/截至 and 既使/即使, which depend on what follows: 截至 takes a time point
  (截至12月5日), 截止 is a deadline (报名截止, 截止日期); 既使 is 即使 unless 又 (or 也使)
  pairs with it.
- a character confused by sound or by shape: a window of 2 to 4 characters (or a long
  word of the dictionary or of official writing) where one character, replaced by one
  that sounds the same (any reading in use), nearly the same (zh/z, ing/in, n/l) or looks
  alike, gives a known word, and where the clause, cut into words at its best, is far
  more probable with the change (`lexicon.Cut`, jieba's frequencies: 工做 → 工作, 坚持不解
  → 坚持不懈, 疫情防空 → 疫情防控, 隐换 → 隐患). The gain, in natural log units, less a
  `PENALTY` for a near sound or a shape, decides: from `ERROR_GAIN` an error, from
  `WARNING_GAIN` a warning. The context is the clause's other words and their
  frequencies: a unigram model over jieba's dictionary, whose many compounds (安全隐患,
  社会和谐) and official_words.txt's (疫情防控, 营商环境) carry the neighbours' evidence.
  Left alone: words common enough (`SOLID`) unless the change swallows them into a longer
  one, function characters (的/地/得, 在/再: grammar), a unit after a number (万剂次),
  people's names that the text gives with a title or 同志, and changes into a name of
  jieba's dictionary.

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
writing): a finding in 9 of its 707 corrected sentences (some of them typos the corpus
kept: 拜讬, 国几米兰). Speed (bench/proofread_bench.py, docs/performance.md): about
110,000 to 130,000 characters a second on one core when every clause is new; a clause
met again (the editor checks at each save) costs a lookup; the load (`lexicon.load`)
about 1.5 s once a process.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from functools import lru_cache
from typing import NamedTuple

import ahocorasick

from . import ERROR, TYPO, WARNING, Context, Finding, family
from .lexicon import DATA, HAN, Cut, Lexicon, NearMiss, NearMisses, han_runs, load, read_lines
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
def _misused_automaton(extra: tuple[tuple[str, str, str], ...]) -> ahocorasick.Automaton:
    automaton = ahocorasick.Automaton()
    for wrong, right, note in misused_pairs() + extra:
        if wrong and right and wrong != right:
            automaton.add_word(wrong, (wrong, right, note))
    automaton.make_automaton()
    return automaton


@family(TYPO)
def check_typos(text: str, context: Context) -> list[Finding]:
    lexicon = load()
    protected = _protected(text, context)
    found = _misused(text, context, lexicon)
    found += _jiezhi(text) + _jishi(text)
    taken = Spans([(f.start, f.end) for f in found] + protected)
    found += [
        f
        for f in _confusions(text, lexicon, taken)
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


def _misused(text: str, context: Context, lexicon: Lexicon) -> list[Finding]:
    automaton = _misused_automaton(tuple(context.misused))
    found = []
    for end, (wrong, right, note) in automaton.iter(text):
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


def _confusions(text: str, lexicon: Lexicon, taken: Spans) -> list[Finding]:
    found: list[Finding] = []
    # the long words with one character changed, found in one pass over the text when a
    # clause is not remembered
    misses: list[NearMiss] | None = None
    starts: list[int] = []
    for offset, run in han_runs(text):
        if len(run) < 2 or lexicon.foreign(run):
            continue
        slips = _remembered.get(run)
        if slips is None:
            if misses is None:
                misses = _long_matcher(lexicon).find(text)
                starts = [miss.start for miss in misses]
            inside = []
            stop = offset + len(run)
            for miss in misses[bisect_left(starts, offset) : bisect_left(starts, stop)]:
                if miss.end <= stop:
                    position = miss.start - offset + miss.position
                    inside.append(
                        Candidate(
                            miss.start - offset,
                            miss.end - offset,
                            position,
                            miss.meant[miss.position],
                        )
                    )
            slips = _slips(run, lexicon, inside)
            if REMEMBER:
                if len(_remembered) >= REMEMBER:
                    _remembered.clear()
                _remembered[run] = slips
        gains: dict[tuple[int, str], float] = {}
        # (position, character meant) -> the candidates that pass, with the kind of slip
        passing: dict[tuple[int, str], list[tuple[Candidate, str]]] = {}
        for cand, how, gain in slips:
            if taken.overlaps(offset + cand.start, offset + cand.end):
                continue
            if how != "shape" and lexicon.rare(run[cand.position]):
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
    reaches `WARNING_GAIN`, in the order found, with that kind and the gain."""
    cut = Cut(lexicon, run)
    gains: dict[tuple[int, str], float] = {}
    slips: list[tuple[Candidate, str, float]] = []
    for s, e, i, c in _candidates(run, cut, long):
        key = (i, c)
        gain = gains.get(key)
        if gain is None:
            # how much more probable the clause is, cut at its best, with the change
            gain = gains[key] = cut.with_change(i, c) - cut.best
        how = lexicon.confused(run[i], c) if gain > 0 else ""
        if not how or gain - PENALTY[how] < WARNING_GAIN:
            continue
        slips.append((Candidate(s, e, i, c), how, gain))
    return tuple(slips)


def _candidates(run: str, cut: Cut, long: list[Candidate]) -> list[tuple[int, int, int, str]]:
    """Every window of 2 to 4 characters, not inside a common word of the best cut, whose
    one character, replaced by one of the same class (sound or shape), gives a known word;
    and `long`, the long words of the lexicon with one character changed. Plain tuples
    (start, end, position, char meant), as in `Candidate`: most come to nothing."""
    lexicon = cut.lexicon
    get, freq = lexicon.index.get, lexicon.freq
    left3, right3, outer3, left4, right4 = lexicon.gates
    known = lexicon.known_classes
    classes = [known[c] if c in known else lexicon.classes(c) for c in run]
    # whether each character belongs to a common word of the best cut (社会主义, 工作)
    solid = [
        end - start > 1 and (freq.get(run[start:end]) or 0) >= SOLID for start, end in cut.token
    ]
    # the first character at or after each that is not in a common word: a window of
    # common words only (坚持 + 发展) is taken as written
    weak = [len(run)] * (len(run) + 1)
    for i in range(len(run) - 1, -1, -1):
        weak[i] = weak[i + 1] if solid[i] else i
    token = cut.token
    # 的, 了, 在, 和 …: whether one stands for another (的/地/得, 在/再) is grammar, not a slip
    # that word frequencies can tell
    # function characters, characters after a numeral (a unit: 万剂次) and characters
    # without a class are never changed
    barred = [
        not classes[i] or (freq.get(c) or 0) >= FUNCTION_CHAR or (i > 0 and run[i - 1] in NUMERALS)
        for i, c in enumerate(run)
    ]
    found: list[tuple[int, int, int, str]] = []
    add = found.append

    def probe(s: int, e: int, i: int) -> None:
        if barred[i]:
            return
        if solid[i] and not (s <= token[i][0] and token[i][1] <= e):
            return  # the change would break a common word (工作人员 → 做人), not swallow it
        before, after, written = run[s:i], run[i + 1 : e], run[i]
        for marker in classes[i]:
            chars = get(before + marker + after)
            if chars:
                for c in chars:
                    if c != written:
                        add((s, e, i, c))

    size = len(run)
    for s in range(size - 1):
        # a window inside a common word of the best cut is taken as written
        inside = token[s][1] if solid[s] else -1
        if s + 2 > inside:
            # two characters cannot swallow a common word of two or more: only the others
            if not solid[s] and not barred[s]:
                probe(s, s + 2, s)
            if not solid[s + 1] and not barred[s + 1]:
                probe(s, s + 2, s + 1)
        if s + 3 <= size and s + 3 > inside and weak[s] < s + 3:
            if run[s + 1 : s + 3] in right3:
                probe(s, s + 3, s)
            if run[s] + run[s + 2] in outer3:
                probe(s, s + 3, s + 1)
            if run[s : s + 2] in left3:
                probe(s, s + 3, s + 2)
        if s + 4 <= size and s + 4 > inside and weak[s] < s + 4:
            if run[s + 2 : s + 4] in right4:
                probe(s, s + 4, s)
                probe(s, s + 4, s + 1)
            if run[s : s + 2] in left4:
                probe(s, s + 4, s + 2)
                probe(s, s + 4, s + 3)
    found += [c for c in long if not (c.position > 0 and run[c.position - 1] in NUMERALS)]
    return found


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
