"""Tone (文风): how much an article for the public reads like an official document.

No national standard rules on style; the measure follows what the guidance on government
new media asks for (国务院办公厅《关于推进政务新媒体健康有序发展的意见》, 国办发
〔2018〕123号: content the public understands and uses) and what editors of government
accounts correct most: long sentences, stock phrases of circulars, openings about the
officials rather than the news, the reader never addressed. Warnings only.

`tone(text, context)` gives a `Tone`: `score` from 0 (plain) to 100 (officialese), the
`reasons` with the points each added, and `local_share`, the share of place mentions
that are the account's own places (`context.places`) rather than elsewhere
(`context.national_places`), None when the text names none.

The score is the sum of five parts, at most 100:

- long sentences: 30 × (sentences over 60 characters ÷ sentences); a sentence ends at
  。！？；, a line break, or a half-width ? ! ; except inside a web or e-mail address
  (https://example.gov.cn/a?b=1&c=2) or between ASCII letters or digits;
- stock phrases (data/officialese.txt: 高度重视, 认真落实, 进一步提高 …):
  min(30, 10 × phrases per 1,000 characters);
- a leadership-centred opening (「X月X日，市委书记XXX主持召开……」 as the first
  sentence): 20;
- passive and formal constructions (被……所, 予以, 加以): min(10, 4 × their number);
- the reader never addressed (no 您, 你, 大家, 市民朋友 …) in a text of 50 characters or
  more: 10.

The family `tone` reports each long sentence, stock phrase, passive construction and the
leadership opening as a warning with its span, and one summary warning (an empty span at
the start of the text) when the score is 60 or more.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import ahocorasick

from . import TONE, WARNING, Context, Finding, family
from .punctuation import _protected

DATA = Path(__file__).resolve().parent / "data"
LONG = 60
SUMMARY_AT = 60

SENTENCE = re.compile(r"[^。！？；!?;\n]+[。！？；!?;…]*[”’」』）]*")
# a half-width ? ! ; that ends no sentence: one between ASCII letters or digits (a;b, x?y),
# and any inside a web or e-mail address or an HTML character reference (&amp;)
INNER_MARK = re.compile(r"(?<=[A-Za-z0-9])[!?;](?=[A-Za-z0-9])")
HALF_STOPS = "!?;"
LEADERSHIP = re.compile(
    r"^\s*(?:[0-9]{1,2}|[一二三四五六七八九十]{1,3})月(?:[0-9]{1,2}|[一二三四五六七八九十]{1,3})日"
    r"[^。！？]{0,30}?(?:书记|市长|省长|县长|区长|州长|主任|主席|部长|局长|厅长|镇长|乡长)"
    r"[\u4e00-\u9fff]{2,4}?[^。！？]{0,8}?"
    r"(?:主持召开|主持|出席|调研|召开|率队|带队|会见|深入|前往|考察|检查|慰问)"
)
PASSIVE = re.compile(r"(?:被[^，。；！？、\n]{1,12}?所|予以|加以)(?=[\u4e00-\u9fff])")
READER = ("您", "你", "大家", "市民朋友", "朋友们", "居民朋友", "网友", "各位", "读者")


@dataclass(frozen=True)
class Tone:
    score: int
    reasons: list[tuple[str, float]] = field(default_factory=list)
    local_share: float | None = None


@lru_cache(maxsize=1)
def _phrases() -> ahocorasick.Automaton:
    automaton = ahocorasick.Automaton()
    for line in (DATA / "officialese.txt").read_text(encoding="utf-8").splitlines():
        phrase = line.strip()
        if phrase and not phrase.startswith("#"):
            automaton.add_word(phrase, phrase)
    automaton.make_automaton()
    return automaton


def _spans(automaton: ahocorasick.Automaton, text: str) -> list[tuple[int, int]]:
    """Non-overlapping occurrences, the longest first at each place."""
    spans: list[tuple[int, int]] = []
    for end, word in sorted(automaton.iter(text), key=lambda h: (h[0] + 1 - len(h[1]), -len(h[1]))):
        start = end + 1 - len(word)
        if not spans or start >= spans[-1][1]:
            spans.append((start, end + 1))
    return spans


def _masked(text: str) -> str:
    """`text` with its half-width marks that end no sentence replaced by "_", character
    for character, so the sentences found in it have the offsets of `text`."""
    if not any(mark in text for mark in HALF_STOPS):
        return text
    chars = list(text)
    for s, e in _protected(text):
        for i in range(s, e):
            if chars[i] in HALF_STOPS:
                chars[i] = "_"
    for m in INNER_MARK.finditer(text):
        chars[m.start()] = "_"
    return "".join(chars)


def _sentences(text: str) -> list[tuple[int, int]]:
    spans = []
    for m in SENTENCE.finditer(_masked(text)):
        s, e = m.start(), m.end()
        while s < e and text[s].isspace():
            s += 1
        if s < e:
            spans.append((s, e))
    return spans


@lru_cache(maxsize=8)
def _place_automaton(places: tuple[str, ...], national: tuple[str, ...]) -> ahocorasick.Automaton:
    automaton = ahocorasick.Automaton()
    for p in set(places) | set(national):
        if p:
            automaton.add_word(p, p)
    automaton.make_automaton()
    return automaton


def _places(text: str, context: Context) -> float | None:
    own = set(context.places)
    if not any(context.places) and not any(context.national_places):
        return None
    automaton = _place_automaton(context.places, context.national_places)
    local = elsewhere = 0
    for s, e in _spans(automaton, text):
        if text[s:e] in own:
            local += 1
        else:
            elsewhere += 1
    if local + elsewhere == 0:
        return None
    return local / (local + elsewhere)


def _analyse(text: str, context: Context) -> tuple[Tone, list[Finding]]:
    findings: list[Finding] = []
    reasons: list[tuple[str, float]] = []

    def warn(start: int, end: int, rule: str, message: str) -> None:
        findings.append(
            Finding(
                start=start,
                end=end,
                text=text[start:end],
                family=TONE,
                severity=WARNING,
                message=message,
                rule=f"tone.{rule}",
            )
        )

    sentences = _sentences(text)
    long = [(s, e) for s, e in sentences if len(text[s:e].strip()) > LONG]
    for s, e in long:
        warn(s, e, "long_sentence", f"句子较长（{e - s}字），宜拆成短句")
    if sentences and long:
        points = 30 * len(long) / len(sentences)
        reasons.append((f"长句偏多：{len(long)}/{len(sentences)}句超过{LONG}字", round(points, 1)))

    phrases = _spans(_phrases(), text)
    for s, e in phrases:
        warn(s, e, "stock_phrase", f"公文套话「{text[s:e]}」，宜换成具体做法或结果")
    if phrases:
        points = min(30.0, 10 * len(phrases) * 1000 / max(len(text), 1))
        reasons.append((f"公文套话{len(phrases)}处", round(points, 1)))

    if sentences and LEADERSHIP.match(text, sentences[0][0]):
        s, e = sentences[0]
        warn(s, e, "leadership_opening", "以领导活动开头，宜先写与读者有关的事实")
        reasons.append(("以领导活动开头", 20.0))

    passive = list(PASSIVE.finditer(text))
    for m in passive:
        warn(m.start(), m.end(), "passive", f"「{m.group(0)}」偏书面，宜改为主动、直接的说法")
    if passive:
        reasons.append((f"被动、书面句式{len(passive)}处", float(min(10, 4 * len(passive)))))

    if len(text.strip()) >= 50 and not any(word in text for word in READER):
        reasons.append(("没有对读者说话（您、大家、市民朋友……）", 10.0))

    score = min(100, round(sum(points for _reason, points in reasons)))
    if score >= SUMMARY_AT:
        summary = "；".join(reason for reason, _points in reasons)
        warn(0, 0, "summary", f"文风偏公文（{score}分）：{summary}")
    return Tone(score, reasons, _places(text, context)), findings


def tone(text: str, context: Context | None = None) -> Tone:
    """How officialese `text` reads (see the module's doc for the score)."""
    return _analyse(text, context or Context())[0]


@family(TONE)
def tone_family(text: str, context: Context) -> list[Finding]:
    return _analyse(text, context)[1]
