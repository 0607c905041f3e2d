"""Texts the proofreading tests share: clean paragraphs of the kind a city's account
publishes (plain, correct, every rule family must leave them without an error or a
veto), the numbers they publish on purpose, and a long article built from them."""

from __future__ import annotations

from govwx.content.proofread import FAMILIES, Context, Finding

CLEAN_PARAGRAPHS = (
    "为方便市民办事，示例市政务服务中心自2026年3月1日起推行“一窗通办”服务（详见"
    "《示例市政务服务事项清单》）。市民朋友只需在综合窗口提交一次材料，即可办理社保、"
    "医保、公积金等87项常办事项。改革后，群众平均办事时间由45分钟缩短至15分钟，"
    "需要提交的材料减少30%～40%。",
    "今年以来，全市坚持以人民为中心的发展思想，做好稳就业、保民生各项工作。1月至9月，"
    "全市城镇新增就业3.2万人，城镇调查失业率保持在5%以内。市人力资源和社会保障局开通了"
    "就业服务热线12345，工作日9:00至17:00有专人接听，您也可以拨打0571-88001234咨询。",
    "在乡村振兴战略实施中，示例县把发展特色产业作为重点。当地引导农户种植高山茶叶，"
    "建成标准化茶园1.5万亩，带动2000余户农户增收。村民王大姐说：“以前茶叶卖不上价，"
    "现在合作社统一收购，一年能多挣两万多元。”曾经的荒坡——如今的茶园——成了村里的"
    "“绿色银行”。",
    "下一步，示例市将围绕高质量发展目标，持续优化营商环境，推动政务服务事项"
    "“网上办、掌上办、就近办”。“我们会把每一条留言都转到相关部门，”市政务服务中心"
    "负责人表示，“并在5个工作日内答复。”欢迎大家通过“示例发布”微信公众号留言，"
    "或登录市政府门户网站https://www.example.gov.cn查询办事指南、表格下载……",
)

PUBLIC_NUMBERS = ("12345", "0571-88001234")

CONTEXT = Context(
    places=("示例市", "示例", "示例县"),
    national_places=("北京", "上海", "杭州"),
    public_numbers=PUBLIC_NUMBERS,
)


def long_article(chars: int, extra: str = "") -> str:
    """An article of about `chars` characters: the clean paragraphs again and again,
    with `extra` in the middle."""
    paragraphs: list[str] = []
    total = 0
    while total < chars:
        for p in CLEAN_PARAGRAPHS:
            paragraphs.append(p)
            total += len(p) + 1
    middle = len(paragraphs) // 2
    if extra:
        paragraphs.insert(middle, extra)
    return "\n".join(paragraphs)


def run(name: str, text: str, context: Context = CONTEXT) -> list[Finding]:
    """The findings of one rule family, each checked to name exactly the text at its
    offsets and to carry the family's name."""
    from govwx.content.proofread import families  # noqa: F401  (registers them)

    found = sorted(FAMILIES[name](text, context), key=lambda f: (f.start, f.end, f.rule))
    for f in found:
        assert text[f.start : f.end] == f.text, f
        assert f.family == name, f
    return found


def spans(found: list[Finding]) -> list[tuple[str, str, str]]:
    """(text, suggestion, severity) of each finding, in order."""
    return [(f.text, f.suggestion, f.severity) for f in found]
