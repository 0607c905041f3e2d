"""The account's own names: the family "name".

The names an account gives (`Context.names`: its departments, offices and services, from
the matrix and the catalogue; `Context.places`: the places of its area; and
`Context.leaders`: its leaders' names and titles) are authoritative. A near miss of one
of them is an error whose suggestion is the name itself:

- a name or place of three characters or more with one character changed into one that
  sounds the same or looks alike (国务园办公厅 → 国务院办公厅, 市生太环境局 → 市生态环境局),
  where the clause reads better with the name (推动城区 is not 东城区 misspelt);
- a leader's name with one character changed: by sound or shape (王建国 → 汪建国), or by
  any character where the leader's own title stands next to it (市长张三 → 市长李三);
- a leader named with a title that is not theirs (副市长张三 when 张三 is 市长), unless
  it is a former one (原副市长, 时任副市长).

The text's exact names give no finding. A few thousand names over a long text cost one
pass of an Aho-Corasick automaton (`lexicon.NearMisses`), built once per context.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from . import ERROR, NAME, Context, Finding, Leader, family
from .lexicon import Lexicon, NearMiss, NearMisses, load

NAME_FREQ = 100  # the frequency a name is given when the clause is scored with it
NAME_GAIN = 2.0  # the clause must read this much better with the name
STANDALONE = 20000  # a character this frequent alone (去, 在) ends a phrase, not a name
WORD_FREQ = 20  # a written window this frequent in the dictionary is a word, not a slip
CONTEXT = 4  # characters on each side of a near miss that the clause is scored on

# Titles the text may give a leader, besides the leaders' own.
TITLES = tuple(
    """书记 副书记 市委书记 市委副书记 区委书记 区委副书记 县委书记 县委副书记 省委书记
    省委副书记 党委书记 党委副书记 党组书记 党组副书记 党工委书记 纪委书记 常委 市委常委
    区委常委 县委常委 省长 副省长 常务副省长 代省长 市长 副市长 常务副市长 代市长 区长 副区长
    常务副区长 代区长 县长 副县长 常务副县长 代县长 镇长 副镇长 乡长 副乡长 街道办事处主任
    主任 副主任 常务副主任 局长 副局长 厅长 副厅长 处长 副处长 科长 副科长 部长 副部长 主席
    副主席 秘书长 副秘书长 院长 副院长 检察长 副检察长 庭长 所长 副所长 队长 副队长 站长
    校长 副校长 馆长 副馆长 行长 署长 司长 组长 副组长 团长 政委 总指挥 副总指挥 指挥长
    巡视员 调研员 一级巡视员 二级巡视员 督察长 总经理 董事长""".split()
)
FORMER = ("原", "前", "时任", "曾任", "老")
# The common surnames (one character), for names that the text gives with a title.
SURNAMES = frozenset(
    "".join(
        """王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡
        余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫阎段雷侯
        龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳
        翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游
        辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费
        卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查
        麻苑迟邝萧""".split()
    )
)
COMPOUND_SURNAMES = frozenset(
    "欧阳 司马 诸葛 上官 东方 皇甫 令狐 慕容 长孙 宇文 尉迟 司徒 夏侯 公孙 端木 轩辕 独孤 南宫 呼延".split()
)
# What follows a person's name in official writing (besides a title): 张三同志, 张三作了讲话.
AFTER_NAME = frozenset(
    """同志 先生 女士 在 作 说 表示 指出 强调 要求 出席 主持 讲话 介绍 参加 带队 一行 任 为 等 代表
    调研 看望 慰问 会见 检查 督导 听取 批示 致辞 宣读 通报 传达 部署 回答 发言""".split()
)
SEPARATORS = re.compile(r"[、，,/／;；\s]+")


@dataclass(frozen=True)
class Authority:
    near: NearMisses  # names and places of 3+ characters, leaders' names
    exact: NearMisses  # every name, place and leader's name of 2+ characters
    kinds: dict[str, str]  # entry -> "name", "place" or "leader"
    leaders: dict[str, tuple[str, ...]]  # name -> titles
    titles: frozenset[str]
    longest_title: int


_last: list[tuple[Context, Authority]] = []


def authority_for(context: Context) -> Authority:
    """The authority of a context, built once. The context last asked for is known by
    identity: hashing a context of thousands of names (as the cache does) costs more than
    the question a typo asks of it."""
    held = _last[:1]
    if held and held[0][0] is context:
        return held[0][1]
    authority = _build_authority(context)
    _last[:] = [(context, authority)]
    return authority


@lru_cache(maxsize=64)
def _build_authority(context: Context) -> Authority:
    kinds: dict[str, str] = {}
    for place in context.places:
        kinds[place] = "place"
    for name in context.names:
        kinds[name] = "name"
    leaders: dict[str, tuple[str, ...]] = {}
    for leader in context.leaders:
        if len(leader.name) >= 2:
            kinds[leader.name] = "leader"
            leaders[leader.name] = titles_of(leader)
    near = [e for e, kind in kinds.items() if kind == "leader" or len(e) >= 3]
    titles = frozenset(TITLES).union(*leaders.values())
    return Authority(
        near=NearMisses(near, min_length=2),
        exact=NearMisses([e for e in kinds if len(e) >= 2], min_length=2),
        kinds=kinds,
        leaders=leaders,
        titles=titles,
        longest_title=max(len(t) for t in titles),
    )


def titles_of(leader: Leader) -> tuple[str, ...]:
    """市委副书记、市长 → (市委副书记, 市长)."""
    return tuple(t for t in SEPARATORS.split(leader.title) if t)


def matcher_for(context: Context) -> NearMisses:
    """Every name, place and leader's name of the context (for the typo family)."""
    return authority_for(context).exact


@family(NAME)
def check_names(text: str, context: Context) -> list[Finding]:
    return list(find(text, context))


_found: list[tuple[str, Context, tuple[Finding, ...]]] = []


def find(text: str, context: Context) -> tuple[Finding, ...]:
    """The name family's findings (kept for the typo family, which runs on the same
    text next and leaves these spans alone: the last text and context asked for, the
    context known by identity)."""
    held = _found[:1]
    if held and held[0][1] is context and held[0][0] == text:
        return held[0][2]
    found = _find(text, context)
    _found[:] = [(text, context, found)]
    return found


def _find(text: str, context: Context) -> tuple[Finding, ...]:
    if not (context.names or context.places or context.leaders):
        return ()
    authority = authority_for(context)
    lexicon = load()
    exact = authority.exact.exact(text)
    found: list[Finding] = []
    misses = [m for m in authority.near.find(text) if not _overlaps_exact(m, exact)]
    for miss in _longest(misses):
        finding = _judge(text, miss, authority, lexicon)
        if finding is not None:
            found.append(finding)
    for start, end, entry in exact:
        if authority.kinds[entry] == "leader":
            finding = _wrong_title(text, start, end, entry, authority)
            if finding is not None:
                found.append(finding)
    return tuple(found)


def _overlaps_exact(miss: NearMiss, exact: list[tuple[int, int, str]]) -> bool:
    """Whether a name as written, as long as the near miss or longer, overlaps it: the
    text names something of its own there (a shorter one, 示例市 in 示例市人民政俯, does
    not)."""
    size = miss.end - miss.start
    return any(miss.start < e and s < miss.end and e - s >= size for s, e, _ in exact)


def _longest(misses: list[NearMiss]) -> list[NearMiss]:
    """Of overlapping near misses, the longest (国务园办公厅 over 国务园)."""
    kept: list[NearMiss] = []
    for m in sorted(misses, key=lambda m: (-(m.end - m.start), m.start)):
        if not any(m.start < k.end and k.start < m.end for k in kept):
            kept.append(m)
    return sorted(kept, key=lambda m: m.start)


# ------------------------------------------------------------------ near misses


def _judge(text: str, miss: NearMiss, authority: Authority, lexicon: Lexicon) -> Finding | None:
    kind = authority.kinds[miss.meant]
    written = miss.written[miss.position]
    meant = miss.meant[miss.position]
    how = lexicon.confusion(written, meant)
    if kind == "leader":
        before = _title_before(text, miss.start, authority)
        after = _title_after(text, miss.end, authority)
        titles = authority.leaders[miss.meant]
        own = any(t and _fits(t, titles) for t in (before, after))
        unique = any(t and "副" not in t for t in (before, after))
        allowed = (own and (len(miss.meant) >= 3 or unique)) or (
            bool(how) and bool(before or after or len(miss.meant) >= 3)
        )
    else:
        allowed = bool(how)
    if not allowed or not _reads_better(text, miss, lexicon):
        return None
    what = {"name": "本单位名称", "place": "本地地名", "leader": "领导姓名"}[kind]
    return Finding(
        miss.start,
        miss.end,
        miss.written,
        NAME,
        ERROR,
        f"与{what}「{miss.meant}」只差一字（「{written}」应为「{meant}」），请核对。",
        suggestion=miss.meant,
        rule=f"name.{kind}",
    )


def _reads_better(text: str, miss: NearMiss, lexicon: Lexicon) -> bool:
    """Whether the written window is a slip for the name rather than words of their own:
    推动城区 keeps 推动, 到东城去 keeps 去, 全国庆祝 keeps 全国."""
    p, last = miss.position, len(miss.meant) - 1
    written = miss.written[p]
    if lexicon.frequency(miss.written) >= WORD_FREQ and len(miss.written) <= 4:
        return False
    if p in (0, last) and lexicon.frequency(written) >= STANDALONE:
        return False
    if p == 0 and miss.start > 0 and lexicon.frequency(text[miss.start - 1 : miss.start + 1]):
        return False
    if p == last and lexicon.frequency(text[miss.end - 1 : miss.end + 1]):
        return False
    a = max(0, miss.start - CONTEXT)
    b = min(len(text), miss.end + CONTEXT)
    span = text[a:b]
    changed = text[a : miss.start] + miss.meant + text[miss.end : b]
    gain = lexicon.score(changed, {miss.meant: NAME_FREQ}) - lexicon.score(span)
    return gain >= NAME_GAIN


# ------------------------------------------------------------------ people


def in_person_name(text: str, start: int, end: int, context: Context) -> bool:
    """Whether text[start:end] touches a person's name as official writing gives one: a
    surname and one or two characters, with a title before it or a title, 同志 or a verb
    of speech after it (副市长范伟, 郑国栋作了讲话, 黄文斌同志); or is within a name the
    text introduces with 叫 (名叫, 叫做): two or three characters standing alone after it
    (他叫大介，), whatever the surname."""
    if _introduced(text, start, end):
        return True
    authority = authority_for(context)
    for k in range(max(0, start - 3), end):
        for surname in (text[k : k + 2], text[k]):
            if surname not in SURNAMES and surname not in COMPOUND_SURNAMES:
                continue
            for given in (1, 2):
                stop = k + len(surname) + given
                if stop <= start or stop > len(text):
                    continue
                if _title_before(text, k, authority) or _after_name(text, stop, authority):
                    return True
    return False


NAMED = "叫"  # 他叫大介，名叫王芳。, 叫做
HAN_CHAR = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def _introduced(text: str, start: int, end: int) -> bool:
    """Whether text[start:end] lies in the two or three characters that follow 叫 (or 叫做)
    and stand alone (a mark or the end after them): a name given as such."""
    for p in range(max(0, start - 3), start):
        if text[p] != NAMED:
            continue
        first = p + 2 if text[p + 1 : p + 2] == "做" else p + 1
        last = first
        while last < len(text) and last - first <= 3 and HAN_CHAR.match(text[last]):
            last += 1
        if 2 <= last - first <= 3 and first <= start and end <= last:
            return True
    return False


def _after_name(text: str, end: int, authority: Authority) -> bool:
    return bool(_title_after(text, end, authority)) or any(
        text[end : end + size] in AFTER_NAME for size in (1, 2)
    )


# ------------------------------------------------------------------ leaders' titles


def _title_before(text: str, start: int, authority: Authority) -> str:
    for size in range(min(authority.longest_title, start), 0, -1):
        if text[start - size : start] in authority.titles:
            return text[start - size : start]
    return ""


def _title_after(text: str, end: int, authority: Authority) -> str:
    for size in range(min(authority.longest_title, len(text) - end), 0, -1):
        if text[end : end + size] in authority.titles:
            return text[end : end + size]
    return ""


def _fits(written: str, titles: tuple[str, ...]) -> bool:
    """Whether a title as written names one of the leader's: the same, or a shorter or
    longer form of it that keeps its rank (书记 for 市委书记, 常务副市长 for 副市长; not 市长
    for 副市长, nor 副市长 for 市长)."""
    for title in titles:
        if written == title:
            return True
        if title.endswith(written) and not title[: -len(written)].endswith("副"):
            return True
        if written.endswith(title) and not written[: -len(title)].endswith("副"):
            return True
    return False


def _wrong_title(
    text: str, start: int, end: int, name: str, authority: Authority
) -> Finding | None:
    titles = authority.leaders[name]
    if not titles:
        return None
    before = _title_before(text, start, authority)
    after = _title_after(text, end, authority)
    if before:
        at = start - len(before)
        if text[max(0, at - 2) : at].endswith(FORMER):
            return None
        written, t_start = before, at
    elif after:
        written, t_start = after, end
    else:
        return None
    if _fits(written, titles):
        return None
    right = _closest(written, titles)
    return Finding(
        t_start,
        t_start + len(written),
        written,
        NAME,
        ERROR,
        f"{name}的职务是「{'、'.join(titles)}」，不是「{written}」。",
        suggestion=right,
        rule="name.title",
    )


def _closest(written: str, titles: tuple[str, ...]) -> str:
    """The leader's title nearest the one written (市长 for 副市长)."""

    def likeness(title: str) -> tuple[int, int]:
        suffix = 0
        while suffix < min(len(title), len(written)) and title[-1 - suffix] == written[-1 - suffix]:
            suffix += 1
        return suffix, len(set(title) & set(written))

    return max(titles, key=likeness)
