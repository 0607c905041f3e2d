"""Numbers (数字用法), following GB/T 15835-2011《出版物上数字用法》.

Rules, each a stable `rule` name:

- ``mixed``: one number written partly in Arabic and partly in Chinese numerals. Only
  万 and 亿 may stand as units after Arabic figures (10亿零817万5288人); otherwise
  "4000 可以写作'四千'，但不能写作'4千'" (5.3). 3千, 1百零8, 一百08, 二0二六年 are errors,
  suggested in Arabic figures. 千米, 千克, 千瓦 … are units, not numerals.
- ``year_zero``: in a year written in Chinese numerals 0 is 〇, not 零 (5.2.5: 二〇一二,
  not 二零一二). Error.
- ``fullwidth``: Arabic figures are half-width (正体二分字身, 5.1.7.1): ５％ is an error.
- ``percent``: 百分之5 mixes the two kinds (5.3): error, 5%. A space between the figure
  and % (5 %) is a warning: the standard writes them together, GB 3101 and ISO 80000
  separate them. A range keeps the % (or 万, 亿) on both numbers — 15%～30%, not 15～30%
  (5.1.3): error. A range of percentages is joined by the wave dash ～ (GB/T 15834-2011
  4.13: 数值范围一般用浪纹线): a hyphen (5%-10%, read as a subtraction) is an error;
  —, – or the half-width ~ a warning.
- ``date_style``: the dates of one text keep one style (5.1.4 and the standard's 局部体例
  一致 principle). When 2026年12月5日, 2026-12-05 and 二〇二六年十二月五日 styles mix, the
  dates in the less used styles are warnings, suggested in the most used one. One date
  that mixes the kinds itself (12月五日) is an error.
- ``counting``: a large exact amount written in Chinese numerals before a measure word
  (三千五百人) — counting takes Arabic figures (4.1.1). A warning, since the standard
  leaves either form to the writer when few digits are involved (4.3).

Fixed expressions keep their Chinese numerals (4.2.3): 一律, 十三五, 第一, 三中全会,
一带一路, 星期一, 二万五千里长征 … The rules above only fire where Arabic and Chinese
numerals meet, on a date, or on an amount before a measure word, and a short list of
fixed expressions is exempt from the last.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from . import ERROR, NUMBER, WARNING, Context, Finding, family, finding_at

CN_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6}
CN_DIGITS |= {"七": 7, "八": 8, "九": 9}
CN_UNITS = {"十": 10, "百": 100, "千": 1000}
CN_BIG = {"万": 10_000, "亿": 100_000_000}
CN_NUMERAL = "〇零一二三四五六七八九十百千万亿两"
CITE = "（GB/T 15835-2011）"

# The patterns start with what a match starts with (a character, or a lookahead of the
# characters it may start with), and only then look behind: the search skips to those
# characters, where a pattern that starts by looking behind is tried at every position.
RUN = re.compile(rf"(?=[0-9{CN_NUMERAL}])[0-9{CN_NUMERAL}]*[0-9][0-9.{CN_NUMERAL}]*")
UNIT_CHARS = "米克瓦帕伏焦赫"  # 千米, 千克, 千瓦, 百帕 …: units, not numerals
ARABIC_WITH_BIG_UNITS = re.compile(r"[0-9]+(?:\.[0-9]+)?(?:[万亿]零?(?:[0-9]+(?:\.[0-9]+)?)?)*")
LIST_MARK = re.compile(rf"[0-9]\.[{CN_NUMERAL}]")  # 1.一是…: a list number, then a word
YEAR_ZERO = re.compile(r"[〇零一二三四五六七八九]{4}(?=年)")
FULLWIDTH_DIGITS = re.compile(r"[０-９]+(?:[．.][０-９]+)?[％%]?")
PERCENT_WORDS = re.compile(r"百分之\s*([0-9]+(?:\.[0-9]+)?)")
PERCENT_SPACE = re.compile(r"([0-9]+(?:\.[0-9]+)?)[ \u3000\u00a0]+([%％])")
PERCENT_FULLWIDTH_SIGN = re.compile(r"％(?<=[0-9]％)")
RANGE = re.compile(
    r"([0-9](?<![0-9.][0-9])[0-9]*(?:\.[0-9]+)?)(%|万|亿)?\s*([-—–~～－])\s*"
    r"([0-9]+(?:\.[0-9]+)?)(%|万|亿)(?![0-9])"
)

DATE_ARABIC = re.compile(r"(?=[0-9])(?<![0-9.])(?:([0-9]{4})年)?([0-9]{1,2})月([0-9]{1,2})[日号]")
DATE_ISO = re.compile(
    r"([0-9](?<![0-9./-][0-9])[0-9]{3})([-/.])([0-9]{1,2})\2([0-9]{1,2})(?![0-9./-])"
)
DATE_CHINESE = re.compile(
    r"(?=[〇零一二三四五六七八九十])(?:([〇零一二三四五六七八九]{4})年)?([一二三四五六七八九十]{1,2})月([一二三四五六七八九十]{1,3})[日号]"
)
DATE_MIXED = re.compile(
    r"(?=[0-9一二三四五六七八九十])(?:([0-9]{4})年)?(?:([0-9]{1,2})月([一二三四五六七八九十]{1,3})|([一二三四五六七八九十]{1,2})月([0-9]{1,2}))[日号]"
)

MEASURE = (
    "人|名|位|个|元|万元|亿元|家|件|次|户|所|座|辆|台|套|项|条|份|篇|本|张|吨|公斤|"
    "米|公里|千米|平方米|平方公里|亩|公顷|天|小时|岁|株|头|只|场|起|例|册|箱|间"
)
COUNTING = re.compile(
    rf"([一二三四五六七八九十两](?<![第初][一二三四五六七八九十两])[{CN_NUMERAL}]{{2,}})(?={MEASURE})"
)
APPROXIMATE = re.compile(r"[一二三四五六七八九][一二三四五六七八九]|[几多余上近数]")
FIXED = (
    "二万五千里",
    "三百六十行",
    "九百九十九",
    "一千零一夜",
    "千千万万",
    "万万千千",
    "百万雄师",
    "十万八千里",
    "三千大千",
)


def _finding(
    text: str, start: int, end: int, severity: str, rule: str, message: str, suggestion: str = ""
) -> Finding:
    return finding_at(text, start, end, NUMBER, severity, rule, message, suggestion)


# ------------------------------------------------------------------ numerals


def cn_to_int(s: str) -> int:
    """The value of a Chinese numeral: 三千零五十二 → 3052, 十二 → 12, 二〇二六 → 2026
    (figure by figure when there are no units). Arabic figures may stand in for digits
    (1百零8 → 108, 3千 → 3000). Raises ValueError on anything else."""
    if "." in s:
        return _decimal_with_units(s)
    if not any(c in CN_UNITS or c in CN_BIG for c in s):
        return int("".join(str(CN_DIGITS[c]) if c in CN_DIGITS else c for c in s))
    total = section = number = 0
    i = 0
    while i < len(s):
        c = s[i]
        if c.isdigit():
            j = i
            while j < len(s) and s[j].isdigit():
                j += 1
            number, i = int(s[i:j]), j
            continue
        if c in CN_DIGITS:
            number = CN_DIGITS[c]
        elif c in CN_UNITS:
            section += (number or 1) * CN_UNITS[c]
            number = 0
        elif c == "亿":
            total = (total + section + number) * CN_BIG[c]
            section = number = 0
        elif c == "万":
            total += (section + number) * CN_BIG[c]
            section = number = 0
        else:
            raise ValueError(s)
        i += 1
    return total + section + number


def _decimal_with_units(s: str) -> int:
    m = re.fullmatch(r"([0-9]+\.[0-9]+)([十百千])([万亿]?)", s)
    if not m:
        raise ValueError(s)
    value = float(m.group(1)) * CN_UNITS[m.group(2)]
    return int(round(value * (CN_BIG[m.group(3)] if m.group(3) else 1)))


def int_to_cn(n: int) -> str:
    """12 → 十二, 31 → 三十一 (months and days)."""
    digits = "〇一二三四五六七八九"
    if n < 10:
        return digits[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else digits[tens]) + "十" + (digits[ones] if ones else "")


def year_to_cn(year: int) -> str:
    return "".join("〇一二三四五六七八九"[int(c)] for c in str(year))


def _arabic(value: int, big: str) -> str:
    if big:
        return f"{value // CN_BIG[big]}{big}" if value % CN_BIG[big] == 0 else str(value)
    return str(value)


def _mixed(text: str) -> list[Finding]:
    found: list[Finding] = []
    for m in RUN.finditer(text):
        run, start = m.group(0), m.start()
        after = text[m.end() : m.end() + 1]
        if run[-1] in "千百" and after and after in UNIT_CHARS:
            run = run[:-1]
        run = run.rstrip(".")
        cn = [c for c in run if c in CN_NUMERAL]
        if not cn or ARABIC_WITH_BIG_UNITS.fullmatch(run) or LIST_MARK.search(run):
            continue
        if len(cn) == 1 and cn[0] in "一二三四五六七八九两" and run[0] == cn[0]:
            continue  # 高三1班, 统一3项: a word's last character, then a number
        if len(cn) == 1 and cn[0] in "一两" and run[-1] == cn[0]:
            continue  # 3一起: a number, then a word's first character
        lead = len(run) - len(run.lstrip(CN_NUMERAL))
        if lead and not any(c.isdigit() for c in run[:lead]) and len(run) - lead >= 1:
            # Chinese numerals before figures: only a number when they carry a unit or
            # the run is a year (二0二六年)
            head = run[:lead]
            if not any(c in CN_UNITS or c in CN_BIG or c in "〇零" for c in head) and not (
                text.startswith("年", start + len(run))
            ):
                continue
        big = run[-1] if run[-1] in CN_BIG else ""
        try:
            suggestion = _arabic(cn_to_int(run), big)
        except (KeyError, ValueError):
            suggestion = ""
        found.append(
            _finding(
                text,
                start,
                start + len(run),
                ERROR,
                "mixed",
                f"同一个数不能同时用阿拉伯数字和汉字数字（「万」「亿」除外）{CITE}",
                suggestion,
            )
        )
    for m in YEAR_ZERO.finditer(text):
        if "零" in m.group(0):
            found.append(
                _finding(
                    text,
                    m.start(),
                    m.end(),
                    ERROR,
                    "year_zero",
                    f"年份用汉字数字时，「0」写作「〇」，不写作「零」{CITE}",
                    m.group(0).replace("零", "〇"),
                )
            )
    for m in FULLWIDTH_DIGITS.finditer(text):
        half = m.group(0).translate(str.maketrans("０１２３４５６７８９．％", "0123456789.%"))
        found.append(
            _finding(
                text,
                m.start(),
                m.end(),
                ERROR,
                "fullwidth",
                f"阿拉伯数字应使用半角形式（二分字身）{CITE}",
                half,
            )
        )
    return found


# ------------------------------------------------------------------ percentages


def _percent(text: str) -> list[Finding]:
    found: list[Finding] = []
    for m in PERCENT_WORDS.finditer(text):
        found.append(
            _finding(
                text,
                m.start(),
                m.end(),
                ERROR,
                "percent",
                f"「百分之」后不用阿拉伯数字：写作「{m.group(1)}%」{CITE}",
                f"{m.group(1)}%",
            )
        )
    for m in PERCENT_SPACE.finditer(text):
        found.append(
            _finding(
                text,
                m.start(),
                m.end(),
                WARNING,
                "percent",
                f"数字与百分号之间一般不加空格{CITE}",
                f"{m.group(1)}%",
            )
        )
    for m in PERCENT_FULLWIDTH_SIGN.finditer(text):
        found.append(
            _finding(
                text,
                m.start(),
                m.end(),
                WARNING,
                "percent",
                f"与半角数字连用的百分号用半角「%」{CITE}",
                "%",
            )
        )
    for m in RANGE.finditer(text):
        a, first_unit, dash, b, unit = m.groups()
        wanted = f"{a}{unit}～{b}{unit}"
        if first_unit is None:
            found.append(
                _finding(
                    text,
                    m.start(),
                    m.end(),
                    ERROR,
                    "percent",
                    f"表示范围时，前一个数的「{unit}」不能省略{CITE}",
                    wanted,
                )
            )
        elif first_unit == unit and unit == "%" and dash != "～":
            severity = ERROR if dash in "-－" else WARNING
            found.append(
                _finding(
                    text,
                    m.start(),
                    m.end(),
                    severity,
                    "percent",
                    "数值范围一般用浪纹线「～」连接（GB/T 15834-2011 连接号；GB/T 15835-2011）",
                    wanted,
                )
            )
    return found


# ------------------------------------------------------------------ dates


@dataclass(frozen=True)
class _Date:
    start: int
    end: int
    style: str  # arabic, iso, chinese
    year: int | None
    month: int
    day: int


STYLE_NAMES = {"arabic": "2026年12月5日", "iso": "2026-12-05", "chinese": "二〇二六年十二月五日"}
STYLE_ORDER = ("arabic", "iso", "chinese")


def _valid(month: int, day: int) -> bool:
    return 1 <= month <= 12 and 1 <= day <= 31


def _dates(text: str) -> list[_Date]:
    dates: list[_Date] = []
    for m in DATE_ARABIC.finditer(text):
        y, mo, d = m.groups()
        if _valid(int(mo), int(d)):
            dates.append(
                _Date(m.start(), m.end(), "arabic", int(y) if y else None, int(mo), int(d))
            )
    for m in DATE_ISO.finditer(text):
        y, _sep, mo, d = m.groups()
        if 1900 <= int(y) <= 2100 and _valid(int(mo), int(d)):
            dates.append(_Date(m.start(), m.end(), "iso", int(y), int(mo), int(d)))
    for m in DATE_CHINESE.finditer(text):
        y, mo, d = m.groups()
        try:
            month, day = cn_to_int(mo), cn_to_int(d)
        except (KeyError, ValueError):
            continue
        if _valid(month, day):
            year = cn_to_int(y.replace("零", "〇")) if y else None
            dates.append(_Date(m.start(), m.end(), "chinese", year, month, day))
    return dates


def _render(d: _Date, style: str) -> str:
    if style == "iso" and d.year is not None:
        return f"{d.year}-{d.month:02d}-{d.day:02d}"
    if style == "chinese":
        year = f"{year_to_cn(d.year)}年" if d.year is not None else ""
        return f"{year}{int_to_cn(d.month)}月{int_to_cn(d.day)}日"
    year = f"{d.year}年" if d.year is not None else ""
    return f"{year}{d.month}月{d.day}日"


def _date_style(text: str) -> list[Finding]:
    found: list[Finding] = []
    for m in DATE_MIXED.finditer(text):
        y, mo1, d1, mo2, d2 = m.groups()
        month = int(mo1) if mo1 else cn_to_int(mo2)
        day = cn_to_int(d1) if d1 else int(d2)
        if _valid(month, day):
            year = f"{y}年" if y else ""
            found.append(
                _finding(
                    text,
                    m.start(),
                    m.end(),
                    ERROR,
                    "date_style",
                    f"同一日期中阿拉伯数字与汉字数字混用{CITE}",
                    f"{year}{month}月{day}日",
                )
            )
    dates = _dates(text)
    counts = Counter(d.style for d in dates)
    if len(counts) < 2:
        return found
    main = max(STYLE_ORDER, key=lambda s: (counts[s], -STYLE_ORDER.index(s)))
    for d in dates:
        if d.style == main:
            continue
        found.append(
            _finding(
                text,
                d.start,
                d.end,
                WARNING,
                "date_style",
                f"同一篇文字中日期写法应一致：本文多用「{STYLE_NAMES[main]}」式{CITE}",
                _render(d, main),
            )
        )
    return found


# ------------------------------------------------------------------ counting


def _counting(text: str) -> list[Finding]:
    found: list[Finding] = []
    for m in COUNTING.finditer(text):
        run = m.group(1)
        if not any(c in "百千万亿" for c in run) or APPROXIMATE.search(run):
            continue
        # a fixed expression starting within 4 characters before the run, or in it
        lo = max(0, m.start() - 4)
        if any(text.find(f, lo, m.end() - 1 + len(f)) != -1 for f in FIXED):
            continue
        try:
            value = cn_to_int(run)
        except (KeyError, ValueError):
            continue
        big = "万" if run.endswith("万") else "亿" if run.endswith("亿") else ""
        found.append(
            _finding(
                text,
                m.start(1),
                m.end(1),
                WARNING,
                "counting",
                f"用于计量的数字宜用阿拉伯数字{CITE}",
                _arabic(value, big),
            )
        )
    return found


@family(NUMBER)
def numbers(text: str, context: Context) -> list[Finding]:
    return _mixed(text) + _percent(text) + _date_style(text) + _counting(text)
