"""Chinese language data for the typo and name families, loaded once per process.

- Word frequencies: jieba's dictionary (its `FREQ`, shared with the desk's topics, read
  only) plus the words of official writing that it lacks (data/official_words.txt).
- A segmentation score: the log-probability of the best cut of a short span into known
  words (a unigram model, jieba's own), with or without a change. A word that fits far
  better than the one written raises it: 工做 (工 + 做) scores far below 工作, and
  疫情防空 (疫情 + 防空) below 疫情防控 (one word of official writing).
- Characters confused by sound (the same syllable, tones aside, any of a character's
  readings: pypinyin) and by shape (pycorrector's same_stroke.txt, data/README.md).
- `NearMisses`: strings of a list (an account's names) found in a text with exactly one
  character changed, through an Aho-Corasick automaton of their halves.

Load time: about 1.5 s once a process (jieba's dictionary from its cache, 0.7 s, shared
with the desk; pypinyin's tables, the people's names of jieba's dictionary and the typo
index, 0.8 s). Memory: jieba's dictionary (about 80 MB, shared) and about 55 MB more (the
typo index of 172,000 entries under 37,000 contexts, pypinyin's table of readings) and
about 35 MB for the log-probabilities of every word and prefix, one lookup a span
(`Lexicon.log_prob`).
"""

from __future__ import annotations

import importlib.util
import json
import logging
import math
import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from operator import ne
from pathlib import Path
from typing import NamedTuple

import ahocorasick
import jieba

from . import DATA

OFFICIAL_WORDS = DATA / "official_words.txt"
SAME_STROKE = DATA / "same_stroke.txt"


def _pypinyin_data() -> Path:
    """pypinyin's data files. Its modules are not imported: they load its phrase table
    (40 MB in memory) whether it is used or not; its character table is all we need."""
    spec = importlib.util.find_spec("pypinyin")
    if spec is None or spec.origin is None:
        raise ImportError("pypinyin is not installed")
    return Path(spec.origin).parent


PYPINYIN = _pypinyin_data()

HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
OFFICIAL_FREQ = 300  # an official word's frequency unless its line gives one
INDEX_MIN_FREQ = 50  # a dictionary word rarer than this is never suggested
SHORT = range(2, 5)  # lengths of the words the typo index holds (longer: `long_words`)
MAX_WORD = 8  # characters: the longest word a changed character is looked for in
PERSON = re.compile(rb"^(\S+) (?:[5-9]\d|\d{3,}) nr", re.MULTILINE)  # frequent enough to index
CACHE_SIZE = 200_000  # character pairs whose confusion is remembered, at most
_PRIVATE = 0xE000  # class markers in index keys: private-use characters, never in text
PREFIX = 1.0  # in `Lexicon.log_prob`: a prefix of a word only, or a word of frequency 0


def han_runs(text: str) -> Iterator[tuple[int, str]]:
    """Each run of Chinese characters with its offset."""
    for m in HAN.finditer(text):
        yield m.start(), m.group()


def read_lines(path: Path) -> Iterator[list[str]]:
    """The fields of each line of a shipped list (tab-separated; # starts a comment)."""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            yield [field.strip() for field in line.split("\t")]


_TONE_MARKS = dict.fromkeys([0x300, 0x301, 0x304, 0x30C])  # ü keeps its dots: lü is not lu
RARE_READING = 0.02  # of a character's uses in pypinyin's phrases: rarer readings are left out


def toneless(reading: str) -> str:
    return unicodedata.normalize(
        "NFC", unicodedata.normalize("NFD", reading).translate(_TONE_MARKS)
    )


def fuzzy(reading: str) -> str:
    """A reading as a fuzzy pinyin input method hears it: zh, ch, sh as z, c, s; n as l;
    ang, eng, ing (and iang, uang) as an, en, in."""
    reading = re.sub(r"^([zcs])h", r"\1", reading)
    reading = re.sub(r"^n(?=[^g])", "l", reading)
    return re.sub(r"(?<=[aei])ng$", "n", reading)


# pypinyin's phrase table, an entry: "一丁不识": [ ["yī"], ["dīng"], ... ] one item a line.
_PHRASE = re.compile(r'^"([^"\n]+)": \[\n((?:\[\n(?:"[^"\n]*",?\n)+\],?\n)+)\]', re.MULTILINE)
_FIRST_READING = re.compile(r'\[\n"([^"\n]*)"')


def _readings() -> dict[str, str]:
    """pypinyin's readings of each character, most used first (长: zhǎng,cháng)."""
    table = json.loads((PYPINYIN / "pinyin_dict.json").read_text(encoding="utf-8"))
    return {chr(int(code)): readings for code, readings in table.items()}


def _reading_uses() -> dict[str, Counter[str]]:
    """How often pypinyin's phrase table reads each character each way (解: jie 258, xie 7;
    其: qi 253, ji 2), counted from its file line by line."""
    text = (PYPINYIN / "phrases_dict.json").read_text(encoding="utf-8")
    uses: dict[str, Counter[str]] = {}
    for m in _PHRASE.finditer(text):
        for char, reading in zip(m[1], _FIRST_READING.findall(m[2]), strict=False):
            uses.setdefault(char, Counter())[toneless(reading)] += 1
    return uses


# A character used less than this in the dictionary's words is rare (traditional forms
# sum to a few hundred at most: 於 555, 網 14; 政 227,495).
RARE_CHAR = 600


def _rare_han(common: frozenset[str]) -> re.Pattern[str]:
    """A pattern of the Chinese characters (as `HAN`) that are not `common`."""
    ranges: list[str] = []
    for low, high in ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF)):
        first = None
        for code in range(low, high + 2):
            if code <= high and chr(code) not in common:
                if first is None:
                    first = code
            elif first is not None:
                last = code - 1
                ranges.append(chr(first) if first == last else f"{chr(first)}-{chr(last)}")
                first = None
    return re.compile(f"[{''.join(ranges)}]")


class Lexicon:
    """Word frequencies, the typo index and the confusion of characters (see `load`)."""

    def __init__(self, freq: dict[str, int], total: int, official: dict[str, int]) -> None:
        self.freq = freq  # jieba's: words, and their prefixes with 0
        self.extra = official
        self.extra_prefixes = {w[:i] for w in official for i in range(1, len(w))}
        self.log_total = math.log(total)
        self.shapes = _shape_groups()
        self._readings = _readings()
        self._uses = _reading_uses()
        self._sounds: dict[str, frozenset[str]] = {}
        self._confused: dict[tuple[str, str], str] = {}
        self._classes: dict[str, str] = {}
        self.known_classes = self._classes  # `classes` remembered, read directly
        self._markers: dict[str, str] = {}
        # The typo index (`build_index`): for words of n = 2 to 4 characters and each
        # position p, what the word keeps without its character at p (its context), then
        # a class of that character, give the characters of the words there:
        # around[(2, 1)]["工"][zuo] = "作…".
        self.around: dict[tuple[int, int], dict[str, dict[str, str]]] = {
            (size, p): {} for size in SHORT for p in range(size)
        }
        # The halves of the words of 4 characters (left, right): a window of 4 keeps one
        # of them whole under one change, checked before its context is.
        self.halves: tuple[set[str], set[str]] = (set(), set())
        self.long_words: dict[str, int] = {}
        self.person_names: frozenset[str] = frozenset()  # jieba's (nr), never a correction
        # The log-probabilities of words and the prefixes of words (`PREFIX`, above any
        # log-probability: a prefix only, or a word of frequency 0), one lookup a span; no
        # entry: no word starts so. The
        # cut takes jieba's frequency when it has one (`log_prob`), a change the higher of
        # jieba's and the official list's (`log_prob`, then `log_prob_higher` for the few
        # words the official list gives more). A probability is the frequency over
        # jieba's total, so a cut adds them as they are.
        log, log_total = math.log, self.log_total
        # (a comprehension, not dict.fromkeys of a set: that makes a table of keys of any
        # type, whose lookups are slower than those of a table of strings)
        first: dict[str, float] = {prefix: PREFIX for prefix in self.extra_prefixes}
        for word, f in freq.items():
            first[word] = log(f) - log_total if f else PREFIX
        higher: dict[str, float] = {}
        for word, e in official.items():
            f = freq.get(word) or 0
            if not f:
                first[word] = log(e) - log_total if e else PREFIX
            elif e > f:
                higher[word] = log(e) - log_total
        self.log_prob, self.log_prob_higher = first, higher
        # the characters that are words, apart (a small table: the cut looks up each)
        self.char_log_prob = {w: lp for w, lp in first.items() if len(w) == 1 and lp < PREFIX}
        # the words whose log-probability is the official list's (jieba lacks them)
        self.official_only = frozenset(w for w in official if not freq.get(w))
        # How common each character is in the dictionary's words: traditional forms
        # (網, 報, 這) and rare characters hardly occur in it (`foreign`)
        uses: Counter[str] = Counter()
        for word, f in freq.items():
            if f:
                for char in word:
                    uses[char] += f
        self.char_uses = uses
        self.common_chars = frozenset(c for c, u in uses.items() if u >= RARE_CHAR)
        self.rare_chars = _rare_han(self.common_chars)

    def foreign(self, run: str) -> bool:
        """A run the dictionary does not speak: traditional characters or rare ones make
        up a good part of it (at least two, or a fifth). Its confusions are not judged:
        the frequencies would call every traditional form a slip."""
        rare = len(run) - sum(map(self.common_chars.__contains__, run))
        return rare >= 2 or rare * 5 >= len(run) > 0

    def rare_positions(self, text: str) -> list[int]:
        """Where `text` has a rare Chinese character (`rare`): few in most texts, so that
        `foreign` is known of every run at once."""
        return [m.start() for m in self.rare_chars.finditer(text)]

    def rare(self, char: str) -> bool:
        """A traditional form (報, 網) or a rare character: the dictionary hardly uses it."""
        return self.char_uses.get(char, 0) < RARE_CHAR

    # ---------------------------------------------------------------- frequencies

    def frequency(self, word: str) -> int:
        return max(self.freq.get(word) or 0, self.extra.get(word, 0))

    def score(self, span: str, words: dict[str, int] | None = None) -> float:
        """Log-probability of the best cut of `span` into words (unknown characters one
        by one). `words` adds or overrides frequencies (a name, a wrong form)."""
        freq, extra, prefixes = self.freq, self.extra, self.extra_prefixes
        words = words or {}
        longest = max((len(w) for w in words), default=0)
        log_total = self.log_total
        n = len(span)
        best = [0.0] + [-math.inf] * n
        for i in range(n):
            base = best[i]
            for j in range(i + 1, n + 1):
                w = span[i:j]
                f = freq.get(w)
                e = extra.get(w)
                if f is None and e is None and w not in prefixes and j - i > max(1, longest):
                    break
                f = max(f or 0, e or 0, words.get(w, 0))
                if f == 0 and j - i > 1:
                    continue
                value = base + math.log(f or 1) - log_total
                if value > best[j]:
                    best[j] = value
        return best[n]

    def words_at(self, run: str, i: int) -> list[tuple[int, float]]:
        """The words of `run` that start at `i`, as (end, log-probability); the character
        at `i` is always one (an unknown one counts once)."""
        get = self.log_prob.get
        lp = get(run[i])
        found = [(i + 1, lp if lp is not None and lp < PREFIX else -self.log_total)]
        for j in range(i + 2, min(len(run), i + MAX_WORD) + 1):
            lp = get(run[i:j])
            if lp is None:
                break
            if lp < PREFIX:
                found.append((j, lp))
        return found

    # ---------------------------------------------------------------- confusion

    def confused(self, written: str, meant: str) -> str:
        """`confusion`, remembered."""
        key = (written, meant)
        found = self._confused.get(key)
        if found is None:
            if len(self._confused) > CACHE_SIZE:
                self._confused.clear()
            found = self._confused[key] = self.confusion(written, meant)
        return found

    def sounds(self, char: str) -> frozenset[str]:
        """The readings of a character, tones aside, that are in use: its first one and
        any other of at least `RARE_READING` of its uses (解: jie, xie; 其: qi, not ji)."""
        found = self._sounds.get(char)
        if found is None:
            readings = self._readings.get(char, "")
            listed = [toneless(r) for r in readings.split(",") if r]
            uses = self._uses.get(char, Counter())
            total = sum(uses.values())
            found = frozenset(
                r
                for i, r in enumerate(listed)
                if i == 0 or (uses[r] >= 3 and uses[r] >= RARE_READING * total)
            )
            self._sounds[char] = found
        return found

    def confusion(self, written: str, meant: str) -> str:
        """How two characters are confused: "sound" (a reading in common), "near" (readings
        that a fuzzy pinyin input method takes for each other: zh/z, ing/in, n/l), "shape"
        or "" (not at all)."""
        if written == meant:
            return ""
        heard, said = self.sounds(written), self.sounds(meant)
        if heard & said:
            return "sound"
        if {fuzzy(r) for r in heard} & {fuzzy(r) for r in said}:
            return "near"
        if self.shapes.get(written, frozenset()) & self.shapes.get(meant, frozenset()):
            return "shape"
        return ""

    def classes(self, char: str) -> str:
        """The confusion classes of a character as marker characters: one per reading
        and one per group of similar shapes."""
        found = self._classes.get(char)
        if found is None:
            keys = [f"s:{s}" for s in sorted({fuzzy(r) for r in self.sounds(char)})]
            keys += [f"g:{g}" for g in sorted(self.shapes.get(char, ()))]
            found = "".join(self._marker(k) for k in keys)
            self._classes[char] = found
        return found

    def _marker(self, key: str) -> str:
        marker = self._markers.get(key)
        if marker is None:
            marker = chr(_PRIVATE + len(self._markers))
            self._markers[key] = marker
        return marker

    def build_index(self, words: Iterable[tuple[str, int]]) -> None:
        """Words of 2 to 4 characters under their context and the classes of the
        character left out (`around`): 工作 under 工 and [zuo], and under 作 and [gong], so
        工做 finds 工作 by one lookup per class of 做. Longer words go to `long_words`,
        searched with `NearMisses`."""
        classes = self._classes
        left4, right4 = self.halves
        for word, f in words:
            size = len(word)
            if size > 4:
                self.long_words[word] = f
                continue
            if size == 4:
                left4.add(word[:2])
                right4.add(word[2:])
            for j, char in enumerate(word):
                markers = classes.get(char)
                if markers is None:
                    markers = self.classes(char)
                if not markers:
                    continue
                context = word[:j] + word[j + 1 :]
                chars = self.around[(size, j)].setdefault(context, {})
                for marker in markers:
                    chars[marker] = chars.get(marker, "") + char


def _shape_groups() -> dict[str, frozenset[int]]:
    groups: dict[str, set[int]] = {}
    for number, fields in enumerate(read_lines(SAME_STROKE)):
        for char in fields:
            groups.setdefault(char, set()).add(number)
    return {char: frozenset(ids) for char, ids in groups.items()}


def _official_words() -> dict[str, int]:
    found: dict[str, int] = {}
    for fields in read_lines(OFFICIAL_WORDS):
        word = fields[0]
        freq = int(fields[1]) if len(fields) > 1 and fields[1] else OFFICIAL_FREQ
        found[word] = freq
    return found


_lock = threading.Lock()
_loaded: list[Lexicon] = []


def load() -> Lexicon:
    """The lexicon of this process (built on first use)."""
    if _loaded:
        return _loaded[0]
    with _lock:
        if not _loaded:
            _loaded.append(_build())
    return _loaded[0]


def _build() -> Lexicon:
    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    tokenizer = jieba.dt
    lexicon = Lexicon(tokenizer.FREQ, tokenizer.total, _official_words())
    from govwx.content.proofread import typos  # the right forms of misused words

    right = {r: OFFICIAL_FREQ for _, r, _ in typos.misused_pairs()}
    people = _person_names(tokenizer)
    lexicon.person_names = people

    def indexed() -> Iterator[tuple[str, int]]:
        for word, f in tokenizer.FREQ.items():
            if f >= INDEX_MIN_FREQ and len(word) > 1 and HAN.fullmatch(word) and word not in people:
                yield word, f
        for word, f in {**right, **lexicon.extra}.items():
            if HAN.fullmatch(word):
                yield word, max(f, lexicon.freq.get(word) or 0)

    lexicon.build_index(indexed())
    return lexicon


# ------------------------------------------------------------------ the best cut
#
# The best cut of a run of Chinese characters into words (jieba's unigram model), from
# both ends, so that the best cut with one character changed costs a few lookups:
# before[i] is the log-probability of the best cut of run[:i], after[j] that of run[j:].
# Plain lists and functions, not an object: the typo family cuts every clause of a text.


class Cut(NamedTuple):
    """The best cut from the start. `start[j]`: where the last word of the best cut of
    run[:j] starts. `reach[i]`: the end of the longest span from i, of two characters or
    more, that begins a word (the lookups stop there: the table holds every prefix of a
    word). `single[i]`: the log-probability of run[i] alone; `words`: (i, j, lp) of every
    longer word of the run, in order (as in `Lexicon.words_at`); `last[j]`: the
    log-probability of the last word of the best cut of run[:j]."""

    before: list[float]
    start: list[int]
    reach: list[int]
    single: list[float]
    words: list[tuple[int, int, float]]
    last: list[float]


def best_cut(lexicon: Lexicon, run: str) -> Cut:
    """The best cut of `run` from the start: the words starting at each character and the
    best cut up to each, in one pass (before[i] is final when i is reached)."""
    n = len(run)
    log_prob = lexicon.log_prob
    unknown = -lexicon.log_total  # a character of no word counts once
    before = [0.0] + [-math.inf] * n
    start = [0] * (n + 1)
    last = [0.0] * (n + 1)
    reach = list(range(1, n + 1))
    char_log_prob = lexicon.char_log_prob
    single = [char_log_prob.get(char, unknown) for char in run]
    words: list[tuple[int, int, float]] = []
    for i in range(n):
        base = before[i]
        alone = single[i]
        if base + alone > before[i + 1]:
            before[i + 1] = base + alone
            start[i + 1] = i
            last[i + 1] = alone
        for j in range(i + 2, (i + MAX_WORD if i + MAX_WORD < n else n) + 1):
            lp = log_prob.get(run[i:j])
            if lp is None:
                break
            reach[i] = j
            if lp < PREFIX:
                words.append((i, j, lp))
                if base + lp > before[j]:
                    before[j] = base + lp
                    start[j] = i
                    last[j] = lp
    return Cut(before, start, reach, single, words, last)


def best_after(cut: Cut, lowest: int = 0) -> list[float]:
    """after[j], the log-probability of the best cut of run[j:], for j from `lowest` on
    (lower ones are not computed: -inf)."""
    single, words = cut.single, cut.words
    n = len(single)
    after = [-math.inf] * n + [0.0]
    k = len(words) - 1
    for i in range(n - 1, lowest - 1, -1):
        value = single[i] + after[i + 1]
        while k >= 0 and words[k][0] == i:
            _, j, lp = words[k]
            if lp + after[j] > value:
                value = lp + after[j]
            k -= 1
        after[i] = value
    return after


def with_changes(
    lexicon: Lexicon, run: str, cut: Cut, changes: dict[int, dict[str, None]]
) -> dict[tuple[int, str], float]:
    """The log-probability of the best cut of `run` with run[position] replaced by each
    character of changes[position] (the best word over it, and the best cuts on either
    side), by (position, character)."""
    log_prob, higher = lexicon.log_prob, lexicon.log_prob_higher
    char_log_prob = lexicon.char_log_prob
    unknown = -lexicon.log_total
    before, reach = cut.before, cut.reach
    after = best_after(cut, min(changes))
    n = len(run)
    found: dict[tuple[int, str], float] = {}
    for position, chars in changes.items():
        tail = run[position + 1 :]
        rest = n - position
        here, next_after = before[position], after[position + 1]
        # the words over the change: those that start with it (after the character alone,
        # weighed apart, a word or not), then those that start before it, from x where
        # run[x:position] begins a word (a single character always may); with the start,
        # the best cut before it and the first length of the tail to try
        low = position - MAX_WORD + 1 if position >= MAX_WORD else 0
        heads = [("", here, 1)] + [
            (run[x:position], before[x], 0)
            for x in range(low, position)
            if x + 1 >= position or reach[x] >= position
        ]
        for char in chars:
            alone = char_log_prob.get(char, unknown)
            if char in higher:
                alone = higher[char]
            best = here + alone + next_after
            for head, base, first in heads:
                head += char
                for k in range(first, rest):
                    w = head + tail[:k]
                    lp = log_prob.get(w)
                    if lp is None:
                        break
                    if lp == PREFIX:
                        continue
                    if w in higher:
                        lp = higher[w]
                    if base + lp + after[position + 1 + k] > best:
                        best = base + lp + after[position + 1 + k]
            found[(position, char)] = best
    return found


def _person_names(tokenizer: jieba.Tokenizer) -> frozenset[str]:
    """The words jieba's dictionary tags as people's names (nr): never a correction
    (黄文斌 is not 黄文炳 misspelt)."""
    with tokenizer.get_dict_file() as f:
        data = f.read()
    return frozenset(w.decode("utf-8") for w in PERSON.findall(data))


# -------------------------------------------------------------------- near misses


@dataclass(frozen=True)
class NearMiss:
    start: int
    end: int
    written: str
    meant: str  # the entry of the list
    position: int  # of the changed character, in the entry


class NearMisses:
    """The strings of a list found in a text with exactly one character changed (by any
    character: the caller judges the change). A string of length n keeps one of its two
    halves whole under one change, so the automaton holds the halves and each hit is
    compared with the entries it belongs to: a few thousand names over a long text cost
    one pass of the automaton and a handful of comparisons a hit."""

    def __init__(self, entries: Iterable[str], min_length: int = 3) -> None:
        self.entries = frozenset(e for e in entries if len(e) >= max(2, min_length))
        halves: dict[str, list[tuple[str, int]]] = {}
        for entry in self.entries:
            h = len(entry) // 2
            halves.setdefault(entry[:h], []).append((entry, 0))
            halves.setdefault(entry[h:], []).append((entry, h))
        self.halves = halves  # half -> (entry, offset of the half in it)
        self.automaton = ahocorasick.Automaton()
        for half, owners in halves.items():
            self.automaton.add_word(half, (half, owners))
        self._exact = ahocorasick.Automaton()
        for entry in self.entries:
            self._exact.add_word(entry, entry)
        if halves:
            self.automaton.make_automaton()
            self._exact.make_automaton()

    def exact(self, text: str) -> list[tuple[int, int, str]]:
        """Every occurrence of an entry as written: (start, end, entry)."""
        if not self.entries:
            return []
        return [(end + 1 - len(e), end + 1, e) for end, e in self._exact.iter(text)]

    def find(self, text: str) -> list[NearMiss]:
        if not self.entries:
            return []
        return self.matches(text, self.automaton.iter(text))

    def matches(
        self, text: str, hits: Iterable[tuple[int, tuple[str, list[tuple[str, int]]]]]
    ) -> list[NearMiss]:
        """The near misses of the halves found in `text`, (end, (half, owners)) as the
        automaton gives them (or an automaton holding more, `halves` among them)."""
        found: dict[tuple[int, str], NearMiss] = {}
        for end, (half, owners) in hits:
            hit = end + 1 - len(half)
            for entry, offset in owners:
                start = hit - offset
                stop = start + len(entry)
                if start < 0 or stop > len(text) or (start, entry) in found:
                    continue
                written = text[start:stop]
                if sum(map(ne, written, entry)) == 1:
                    changed = next(
                        i for i, (a, b) in enumerate(zip(written, entry, strict=True)) if a != b
                    )
                    found[(start, entry)] = NearMiss(start, stop, written, entry, changed)
        return sorted(found.values(), key=lambda m: (m.start, m.end, m.meant))
