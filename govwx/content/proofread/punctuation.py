"""Punctuation (标点符号), following GB/T 15834-2011《标点符号用法》.

Rules, each a stable `rule` name:

- ``halfwidth``: a half-width mark (, . ; : ? ! ( ) ") in Chinese text. Each mark of the
  standard has a full-width form (the "形式" of each mark in its clause 4; CY/T 154-2017
  《中文出版物夹用英文的编辑规范》 for Chinese sentences that carry English words).
  Marks inside URLs, e-mail addresses and HTML character references (&amp;), in numbers
  (3.5, 1,000), times (10:30) and English runs are left alone. Error.
- ``unbalanced`` / ``nesting``: paired marks (“” ‘’ 《》 〈〉 （） 【】 「」 『』 〔〕) that
  do not close, close without opening, or cross. A quotation inside double quotes takes
  single quotes, a title inside 《》 takes 〈〉 (4.8, 4.15). A quotation running over
  several paragraphs opens each paragraph and closes only the last (4.8): not an error.
  Error.
- ``doubled``: two pause marks in a row (。。 ，， 、、 ；； ：： or mixed, ，。). The
  standard stacks only question and exclamation marks, up to three (4.2.3.3, 4.3.3.3),
  and allows ？！ for a question said with force (4.3.3.4): more than three is an error,
  another mixture (！？, ？？！) a warning.
- ``ellipsis``: the ellipsis is …… (two U+2026, six dots), or …………  (four, twelve dots)
  for whole lines or paragraphs left out (4.11). 。。。, ..., a single …, ……… and ⋯⋯ are
  errors with …… as the suggestion.
- ``dash``: the dash (破折号) is —— (two U+2014, 4.10). ———, -- in Chinese text and －－
  are errors; a single — between Chinese characters is a warning (it is also the 一字线
  connector of 4.13, as in 北京—上海); two U+2015 (――) look right but are other
  characters: a warning.
- ``quote_position``: the standard has no clause of its own on marks next to a closing
  quote; its examples (4.8) and the usage it codifies keep inside the quotes only the end
  mark of a complete quoted sentence, and put the pause of the surrounding sentence after
  the closing quote when the quotation is part of the sentence. So a comma, enumeration
  comma, semicolon or colon right before a closing quote (他们提出“……，”要求) is an
  error, suggested after it — except a quotation interrupted by its speaker (“……，”他说，
  “……”), where the comma stays inside by long usage. A full stop inside the closing quote
  of a quotation used as part of the sentence (“……。”的要求) and a full stop after a
  quotation that already ends with one (“……。”。) are errors too.
- ``space``: a space between Chinese characters, or before a full-width mark. The
  standard has no rule on spaces (Chinese text does not separate words); most such spaces
  are typing slips, but a layout sometimes spaces a two-character name (王  军) or a
  heading on purpose, so this is a warning.
"""

from __future__ import annotations

import re

from . import ERROR, PUNCTUATION, WARNING, Context, Finding, family, finding_at

HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
HAN_RE = re.compile(f"[{HAN}]")
OPENERS = "“‘《〈（【「『〔［"
CLOSERS = "”’》〉）】」』〕］"
PAIRS = dict(zip(OPENERS, CLOSERS, strict=True))
OPENER_OF = {c: o for o, c in PAIRS.items()}
QUOTES = "“‘「『"
TITLES = "《〈"

FULLWIDTH = {",": "，", ";": "；", ":": "：", "?": "？", "!": "！", ".": "。"}
NAMES = {
    ",": "逗号",
    ";": "分号",
    ":": "冒号",
    "?": "问号",
    "!": "叹号",
    ".": "句号",
    "(": "括号",
    ")": "括号",
    '"': "引号",
}

# (the patterns start with what a match starts with, a character or a lookahead of the
# characters it may start with: the search skips to those characters)
URL = re.compile(
    r"(?=[hfw])(?:(?:https?|ftp)://[!-~]+|www\.[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+[!-~]*)"
)
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
# an HTML character reference (&amp; &nbsp; &#8220; &#x201C;): its semicolon is markup
ENTITY = re.compile(r"&(?:[A-Za-z][A-Za-z0-9]{1,31}|#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6});")
URL_TRAILING = ".,;:!?)\"'"

HALF_MARK = re.compile(r"[,;:?!.](?<!\.\.)(?!(?<=\.)\.)")  # a dot of no .. or ...
HALF_PARENS = re.compile(r"\(([^()\n]{0,80})\)")
HALF_QUOTES = re.compile(r'"([^"\n]{0,200})"')

PAIR_MARK = re.compile(f"[\n{re.escape(OPENERS + CLOSERS)}]")
DOUBLED = re.compile(r"[。，、；：？！]{2,}")
ELLIPSIS = re.compile(r"……*|⋯⋯*|\.\.\.+|。。。+|．．．+|···+")
DASH = re.compile(r"——*|――*|--+|－－+")
PAUSE_BEFORE_CLOSE = re.compile(r"[，、；：][”’」』]")
SPEAKER_RESUMES = re.compile(
    f"[{HAN}]{{0,10}}?(?:说|道|问|答|讲|称|表示|指出|强调|介绍|认为|告诉记者|补充)[，：,:]?\\s*[“「]"
)
STOP_TWICE = re.compile(r"[。？！][”」]。")
STOP_IN_COMPONENT = re.compile(r"。([”」])(?=[的等])")
SPACE = re.compile(
    f"[ \u3000\u00a0](?<=[{HAN}][ \u3000\u00a0])[ \u3000\u00a0]*(?=[{HAN}，。、；：？！”’》）])"
)

CITE = "（GB/T 15834-2011）"


FULL_MARKS = OPENERS + CLOSERS + "，。、；：？！…—"


def _is_cjk(ch: str) -> bool:
    """A Chinese character or a full-width mark: the company a Chinese mark keeps."""
    return bool(ch) and (bool(HAN_RE.match(ch)) or ch in FULL_MARKS)


def _before(text: str, i: int) -> str:
    """The character before `i`, looking past one space."""
    j = i - 1
    if j >= 0 and text[j] == " ":
        j -= 1
    return text[j] if j >= 0 else ""


def _after(text: str, i: int) -> str:
    """The character right after `i` (a space after a mark ends English text)."""
    return text[i + 1] if i + 1 < len(text) else ""


def _protected(text: str) -> list[tuple[int, int]]:
    spans = []
    for m in URL.finditer(text):
        end = m.end()
        while end > m.start() and text[end - 1] in URL_TRAILING:
            end -= 1
        spans.append((m.start(), end))
    spans += [(m.start(), m.end()) for m in EMAIL.finditer(text)]
    spans += [(m.start(), m.end()) for m in ENTITY.finditer(text)]
    return spans


def _inside(spans: list[tuple[int, int]], i: int) -> bool:
    return any(s <= i < e for s, e in spans)


def _finding(
    text: str, start: int, end: int, severity: str, rule: str, message: str, suggestion: str = ""
) -> Finding:
    return finding_at(text, start, end, PUNCTUATION, severity, rule, message, suggestion)


# ------------------------------------------------------------------ half-width marks


def _halfwidth(text: str, protected: list[tuple[int, int]]) -> list[Finding]:
    found: list[Finding] = []
    paired: set[int] = set()

    for pattern, left, right in ((HALF_PARENS, "（", "）"), (HALF_QUOTES, "“", "”")):
        for m in pattern.finditer(text):
            s, e = m.start(), m.end() - 1
            if _inside(protected, s) or _inside(protected, e):
                continue
            paired.update((s, e))
            inner = bool(HAN_RE.search(m.group(1)))
            if inner or _is_cjk(_before(text, s)) or _is_cjk(_after(text, e)):
                for i, mark in ((s, left), (e, right)):
                    found.append(_half(text, i, mark))

    for m in re.finditer(r'[()"]', text):
        i = m.start()
        if i in paired or _inside(protected, i):
            continue
        if _is_cjk(_before(text, i)) or _is_cjk(_after(text, i)):
            ch = text[i]
            mark = {"(": "（", ")": "）"}.get(ch) or ("“" if _is_cjk(_after(text, i)) else "”")
            found.append(_half(text, i, mark))

    for m in HALF_MARK.finditer(text):
        i = m.start()
        ch = text[i]
        if _inside(protected, i):
            continue
        before, after = _before(text, i), _after(text, i)
        if ch == ".":
            chinese = _is_cjk(before) and not (after.isascii() and after.isalnum())
        elif ch == ":":
            chinese = _is_cjk(before) or (_is_cjk(after) and not before.isdigit())
        else:
            chinese = _is_cjk(before) or _is_cjk(after)
        if chinese:
            found.append(_half(text, i, FULLWIDTH[ch]))
    return found


def _half(text: str, i: int, mark: str) -> Finding:
    name = NAMES[text[i]]
    return _finding(
        text,
        i,
        i + 1,
        ERROR,
        "halfwidth",
        f"中文语句中的{name}应使用全角形式「{mark}」{CITE}",
        mark,
    )


# ------------------------------------------------------------------ pairs


def _pairs(text: str) -> list[Finding]:
    found: list[Finding] = []
    stack: list[tuple[str, int]] = []
    n = len(text)
    for m in PAIR_MARK.finditer(text):  # line breaks and paired marks: the rest is skipped
        i = m.start()
        ch = text[i]
        if ch == "\n":
            # a quotation over several paragraphs: each opens, only the last closes
            j = i
            while j < n and text[j] in "\n \u3000\t":
                j += 1
            if stack and stack[-1][0] == "“" and j < n and text[j] == "“":
                stack.pop()
        elif ch in OPENERS:
            if ch == "“" and _enclosing(stack, QUOTES) == "“":
                found.append(
                    _finding(
                        text,
                        i,
                        i + 1,
                        ERROR,
                        "nesting",
                        f"双引号里面再用引号应改用单引号「‘」，或此处应为后引号「”」{CITE}",
                    )
                )
            if ch == "《" and _enclosing(stack, TITLES) == "《":
                found.append(
                    _finding(
                        text,
                        i,
                        i + 1,
                        ERROR,
                        "nesting",
                        f"书名号里面再用书名号应改用单书名号「〈」{CITE}",
                        "〈",
                    )
                )
            stack.append((ch, i))
        elif ch in CLOSERS:
            opener = OPENER_OF[ch]
            if ch == "’" and not any(o == "‘" for o, _ in stack) and _apostrophe(text, i):
                continue
            depth = next((k for k in range(len(stack) - 1, -1, -1) if stack[k][0] == opener), None)
            if depth is None:
                found.append(
                    _finding(
                        text,
                        i,
                        i + 1,
                        ERROR,
                        "unbalanced",
                        f"「{ch}」前面没有对应的「{opener}」{CITE}",
                    )
                )
            else:
                for o, at in stack[depth + 1 :]:
                    found.append(
                        _finding(
                            text,
                            at,
                            at + 1,
                            ERROR,
                            "nesting",
                            f"「{o}」在「{ch}」之前没有闭合，两对符号交叉{CITE}",
                        )
                    )
                del stack[depth:]
    for o, at in stack:
        found.append(
            _finding(
                text, at, at + 1, ERROR, "unbalanced", f"「{o}」没有对应的「{PAIRS[o]}」{CITE}"
            )
        )
    return found


def _enclosing(stack: list[tuple[str, int]], kinds: str) -> str:
    for o, _at in reversed(stack):
        if o in kinds:
            return o
    return ""


def _apostrophe(text: str, i: int) -> bool:
    """’ used as an English apostrophe (China’s)."""
    return i > 0 and text[i - 1].isascii() and text[i - 1].isalpha()


# ------------------------------------------------------------------ repeated marks


def _doubled(text: str) -> list[Finding]:
    found: list[Finding] = []
    for m in DOUBLED.finditer(text):
        run = m.group(0)
        if set(run) == {"。"} and len(run) >= 3:
            continue  # an ellipsis typed with full stops: the ellipsis rule
        if set(run) <= {"？", "！"}:
            if len(set(run)) == 1 and len(run) <= 3 or run == "？！":
                continue
            if len(set(run)) == 1:
                found.append(
                    _finding(
                        text,
                        m.start(),
                        m.end(),
                        ERROR,
                        "doubled",
                        f"问号、叹号叠用最多三个{CITE}",
                        run[:3],
                    )
                )
            else:
                found.append(
                    _finding(
                        text,
                        m.start(),
                        m.end(),
                        WARNING,
                        "doubled",
                        f"疑问、感叹语气都强烈时，在问号后加一个叹号：「？！」{CITE}",
                        "？！",
                    )
                )
            continue
        suggestion = run[0] if len(set(run)) == 1 else ""
        found.append(
            _finding(
                text,
                m.start(),
                m.end(),
                ERROR,
                "doubled",
                f"点号连用：一处停顿只用一个点号{CITE}",
                suggestion,
            )
        )
    return found


# ------------------------------------------------------------------ ellipsis and dash


def _ellipsis(text: str) -> list[Finding]:
    found: list[Finding] = []
    for m in ELLIPSIS.finditer(text):
        run = m.group(0)
        if run in ("……", "…………"):
            continue
        if run[0] in ".·" and not (
            _is_cjk(_before(text, m.start())) or _is_cjk(_after(text, m.end() - 1))
        ):
            continue  # English text keeps its own dots
        found.append(
            _finding(
                text,
                m.start(),
                m.end(),
                ERROR,
                "ellipsis",
                f"省略号的形式是「……」（两个「…」，六个点，占两个字的位置）{CITE}",
                "……",
            )
        )
    return found


def _dash(text: str) -> list[Finding]:
    found: list[Finding] = []
    for m in DASH.finditer(text):
        run = m.group(0)
        s, e = m.start(), m.end()
        before = text[s - 1] if s else ""
        after = text[e] if e < len(text) else ""
        if run == "——":
            continue
        if run == "—":
            if HAN_RE.match(before) and HAN_RE.match(after):
                found.append(
                    _finding(
                        text,
                        s,
                        e,
                        WARNING,
                        "dash",
                        f"作破折号时应为「——」（两个「—」）；作连接号（如北京—上海）可保留{CITE}",
                        "——",
                    )
                )
            continue
        if run[0] == "―":
            severity = WARNING if len(run) == 2 else ERROR
            message = f"破折号应为「——」（两个U+2014「—」），此处字符不同{CITE}"
        elif run[0] == "-":
            if not (_is_cjk(_before(text, s)) or _is_cjk(_after(text, e - 1))):
                continue
            severity, message = ERROR, f"中文里的破折号应为「——」，不用连字符「--」{CITE}"
        elif run[0] == "－":
            severity, message = ERROR, f"破折号应为「——」，不用全角连字符{CITE}"
        else:
            severity, message = ERROR, f"破折号应为「——」（两个「—」，占两个字的位置）{CITE}"
        found.append(_finding(text, s, e, severity, "dash", message, "——"))
    return found


# ------------------------------------------------------------------ marks and quotes


def _quote_position(text: str) -> list[Finding]:
    found: list[Finding] = []
    for m in PAUSE_BEFORE_CLOSE.finditer(text):
        mark, close = m.group(0)[0], m.group(0)[1]
        if mark == "，" and SPEAKER_RESUMES.match(text, m.end()):
            continue  # “……，”他说，“……”
        found.append(
            _finding(
                text,
                m.start(),
                m.end(),
                ERROR,
                "quote_position",
                "引文作为句子的一部分时，句内点号放在后引号之外" + CITE,
                close + mark,
            )
        )
    for m in STOP_TWICE.finditer(text):
        found.append(
            _finding(
                text,
                m.start(),
                m.end(),
                ERROR,
                "quote_position",
                "引号内已有句末点号，引号外不再加句号" + CITE,
                m.group(0)[:2],
            )
        )
    for m in STOP_IN_COMPONENT.finditer(text):
        found.append(
            _finding(
                text,
                m.start(),
                m.end(),
                ERROR,
                "quote_position",
                "引文作为句子成分时，引号内不用句号" + CITE,
                m.group(1),
            )
        )
    return found


def _spaces(text: str) -> list[Finding]:
    found: list[Finding] = []
    for m in SPACE.finditer(text):
        s, e = m.start() - 1, m.end() + 1
        found.append(
            _finding(
                text,
                s,
                e,
                WARNING,
                "space",
                "汉字之间、汉字与标点之间一般不加空格（人名、标题有意排开的除外）",
                text[s] + text[e - 1],
            )
        )
    return found


@family(PUNCTUATION)
def punctuation(text: str, context: Context) -> list[Finding]:
    protected = _protected(text)
    return (
        _halfwidth(text, protected)
        + _pairs(text)
        + _doubled(text)
        + _ellipsis(text)
        + _dash(text)
        + _quote_position(text)
        + _spaces(text)
    )
