"""The typo family (错别字): misused words, 截止/截至 and 既使, characters confused by
sound or shape, the account's names winning, and the data the family reads."""

from __future__ import annotations

import hashlib
import random
import re

import pytest

from govwx.content.proofread import ERROR, TYPO, WARNING, Context, Finding, Leader, check
from govwx.content.proofread import lexicon as lexicon_module
from govwx.content.proofread import typos as typos_module
from govwx.content.proofread.lexicon import DATA, load
from govwx.content.proofread.typos import MISUSED, Spans, check_typos, misused_pairs
from govwx.content.tests.proofread_texts import CLEAN_PARAGRAPHS as SHARED_PARAGRAPHS

EMPTY = Context()

# The test set whose precision and recall typos.py's docstring states. One typo planted
# in each sentence, and the word it should be: the first 48 were written while the
# thresholds were set, the last 24 after them (held out).
TYPO_SENTENCES = (
    ("我们要坚持不解地推进全面从严治党。", "坚持不懈"),
    ("各乡镇要切实做好防汛工做。", "工作"),
    ("全市上下要慎终如始做好疫情防空工作。", "疫情防控"),
    ("各单位要及时消除公共安全隐换。", "隐患"),
    ("会议传达学习了省委全会经神。", "精神"),
    ("要进一步优化营商环竟，激发市场活力。", "环境"),
    ("全面推进乡村振新，加快建设农业强市。", "振兴"),
    ("切实保障人民群众生命财产安全和身体建康。", "健康"),
    ("加快推进城镇老旧小区改照。", "改造"),
    ("持续深化放管服改革，提升政务服务效律。", "效率"),
    ("认真落实安全生产责任制，严防重特大事故发声。", "发生"),
    ("充分发挥基层党组织战斗堡垒作用和党员先锋模范做用。", "作用"),
    ("市场监管部门对辖区内的餐饮单位开展食品安全专项检察。", "检查"),
    ("我市空气质量优良天数比列达到百分之九十。", "比例"),
    ("推动经济社会发展全面绿色转形。", "转型"),
    ("严厉打击各类违法犯最活动，维护社会治安秩序。", "犯罪"),
    ("为广大市民提供更加便捷高效的公共服物。", "服务"),
    ("兜牢民生底线，保障困难群众基本生活需球。", "需求"),
    ("进一步加大对中小微企业的扶持力渡。", "力度"),
    ("切实解决群众反映强烈的突出问提。", "问题"),
    ("我区将继续加大财政投如，改善农村基础设施条件。", "投入"),
    ("以钉钉子精神抓好各项任务落食。", "落实"),
    ("构建亲清政商关系，为企业发展创造良好环镜。", "环境"),
    ("不断增强群众的获得感、幸福感、安全敢。", "安全感"),
    ("严格落实行政执法三项制渡。", "制度"),
    ("大力培育新型农业经营主休。", "主体"),
    ("坚决遏制重特大安全事故，维护社会大局稳订。", "稳定"),
    ("让发展成果更多更公平惠及全体人民，不断推进共同富欲。", "富裕"),
    ("各地要加强对农村留守儿童和困境儿童的关爱保户。", "保护"),
    ("推动教育资源均衡发展，努力办好人民满意的教肓。", "教育"),
    ("不断提升新闻舆论的传播力、引导力、影响力、公信立。", "公信力"),
    ("培育壮大战略性新兴产叶。", "产业"),
    ("及时把矛盾化解在萌芽状态，确保人民安居乐叶。", "安居乐业"),
    ("加大对违章建筑的查处立度。", "力度"),
    ("坚决反对形式主义、官撩主义。", "官僚主义"),
    ("请广大市民做好个人防护，勤洗手、常通风、戴口照。", "口罩"),
    ("丰富群众精神文化生火。", "文化生活"),
    ("督促施工单位落实安全防范错施。", "措施"),
    ("加强应急队伍建设，提高应对突发事件的能丽。", "能力"),
    ("研究部署下一步工作安拍。", "安排"),
    ("集中力量办好一批民生食事。", "实事"),
    ("持续净化政治生态，营造风清气正的良好政治生太。", "生态"),
    ("切实提高群众满意杜。", "满意度"),
    ("我局将进一步加强与相关部门的沟通写调，形成监管合力。", "协调"),
    ("帮助企业纾困解难，激发市场主体话力。", "活力"),
    ("坚决打赢污染防治攻坚占。", "攻坚战"),
    ("不断提高群众识骗放骗能力。", "防骗"),
    ("按照市委市政府的统一部属，各部门迅速行动。", "部署"),
    # held out
    ("进一步加强基层医疗卫生服务体系建设，提高群众就医的便利性和可及姓。", "可及性"),
    ("要严格落实防火责任制，加强野外用火管理，严防森林火灾发声。", "发生"),
    ("全面落实减税降费政策，切实减清企业负担。", "减轻"),
    ("坚持把人民群众的生命安全放在首位，全力做好抢险救灾各项工做。", "工作"),
    ("我市将继续实施城市更新行动，加快补齐基础设施短版。", "短板"),
    ("推动更多事项网上办、掌上办、就近办，让群众少跑腿、好办事、不添赌。", "添堵"),
    ("要认真贯彻落实中央八项规定及其实施细责精神。", "实施细则"),
    ("稳住经济基本盘，稳定就业大局，保持社会和协稳定。", "和谐"),
    ("各部门要统一思想，切实增强做好工作的责任感和紧迫敢。", "紧迫感"),
    ("进一步强化底线思维，增强忧患意识，有效防范和化解各类风险挑站。", "挑战"),
    ("切实保障人民群众舌尖上的安全，守护群众身体建康。", "健康"),
    ("今年全区共完成植树造林三千亩，森林覆盖律进一步提高。", "覆盖率"),
    ("全面推行河长制，打造水清岸绿的优美生态环竟。", "环境"),
    ("把学习成果转化为推动工作的强大动力和实际成小。", "成效"),
    ("请各单位认真组织学习，抓好贯彻落食。", "落实"),
    ("坚决守住不发生规模性返贫的底线，持续巩固脱贫攻坚成过。", "成果"),
    ("确保各项政策措施落到实处、取得实效，切实提高群众的获得感和满义度。", "满意度"),
    ("推动优质医疗资源扩容下沉，着力解决群众看病难、看病贵问提。", "问题"),
    ("切实兜牢民生底线，保障困难群众基本生活，维护社会公平正意。", "公平正义"),
    ("全面加强生态环境保护，坚决打好蓝天、碧水、净土保卫站。", "保卫战"),
    ("坚决遏制重特大事故发生，确保全市安全生产形式持续稳定。", "形势"),
    ("各单位要结合实际，制定具体实施方按，明确时间表和路线图。", "方案"),
    ("进一步优化审批流程，压缩审批时限，提高审批效律。", "效率"),
    ("要积极回应群众关切，营造良好的舆论氛围和社会环镜。", "环境"),
)

# Correct sentences, some of them close to a typo (人民防空, 布置会场, 截止日期, 既使……又……,
# 发布署名, 按排名, 不解之谜, 发声) and people's names.
CLEAN_SENTENCES = (
    "原则上明确规定不得超过三个工作日。",
    "市人民防空办公室将于9月18日上午10时进行防空警报试鸣。",
    "工作人员提前布置会场，确保会议顺利召开。",
    "截至目前，全市已累计接种新冠病毒疫苗120万剂次。",
    "报名截止日期为2024年3月15日，逾期不再受理。",
    "本次活动既使群众得到了实惠，又推动了文明城市创建。",
    "市作协主席在报纸上发表署名文章。",
    "按排名先后顺序确定入围人选。",
    "这一现象至今仍是不解之谜。",
    "交通事故发生后，交警第一时间赶到现场处置。",
    "市人民检察院依法对该案提起公诉。",
    "人大代表积极为民发声，提出建议四十余件。",
    "张建国同志任市农业农村局局长。",
    "李红梅同志当选为区妇联主席。",
    "会上，郑国栋作了重要讲话，黄文斌同志主持会议。",
    "王家村地处山区，交通不便。",
    "全市共有在校学生十二万余人，教师八千余名。",
    "今年以来，全市累计新增城镇就业两万余人。",
    "严禁在公共场所吸烟，违者将依法予以处罚。",
    "请各单位于本周五前将材料报送至市政府办公室。",
    "要坚持问题导向，对检查发现的问题建立台账，明确整改时限。",
    "深入开展爱国卫生运动，持续改善城乡环境卫生面貌。",
    "扎实推进平安建设，确保社会和谐稳定。",
    "全力以赴做好防台风各项准备工作，确保人员安全转移到位。",
    "积极引导群众树立文明新风，倡导婚事新办、丧事简办。",
    "要加强对重点人群的关爱帮扶，确保不发生规模性返贫。",
    "深入推进河长制工作，打造河畅、水清、岸绿、景美的幸福河湖。",
    "要严格执行请示报告制度，不得瞒报、谎报、迟报、漏报。",
    "市气象台发布暴雨橙色预警信号，请市民减少外出。",
    "受强降雨影响，部分路段出现积水，交警部门实施临时交通管制。",
    "2024年度征兵工作即日起开始网上报名。",
    "我市入选第二批国家级全域旅游示范区。",
    "市委常委会召开会议，传达学习中央经济工作会议精神。",
    "各级各部门要切实增强责任感和紧迫感，抓好工作落实。",
    "今年全市粮食播种面积稳定在一百二十万亩以上。",
    "城乡居民基本医疗保险个人缴费标准为每人每年380元。",
    "符合条件的困难群众可向户籍所在地乡镇人民政府申请最低生活保障。",
    "市民可通过12345政务服务便民热线反映诉求。",
    "该项目总投资约十二亿元，计划年底前建成投入使用。",
    "新建改建农村公路三百公里，改造危旧桥梁二十座。",
    "全市森林覆盖率达到百分之六十二点五。",
    "区市场监管局对辖区内的超市开展了食品安全检查。",
    "我们将持续优化营商环境，为企业提供全生命周期服务。",
    "在党的坚强领导下，全市人民团结奋斗，取得了来之不易的成绩。",
    "会上，与会人员就下一步工作进行了深入交流。",
    "他强调，要牢固树立安全发展理念，坚决守住安全底线。",
    "学校开设了书法、篆刻、剪纸等非遗课程。",
    "凡在本市参加社会保险的职工均可申请技能提升补贴。",
)

CLEAN_PARAGRAPHS = (
    "今年以来，我市坚持以习近平新时代中国特色社会主义思想为指导，全面贯彻党的二十大精神，"
    "认真落实省委省政府决策部署，坚持稳中求进工作总基调，统筹推进稳增长、促改革、调结构、"
    "惠民生、防风险、保稳定各项工作，全市经济运行总体平稳、稳中向好。一季度，全市实现地区"
    "生产总值五百二十亿元，同比增长百分之五点八；规模以上工业增加值增长百分之七点二；固定资产"
    "投资增长百分之九点一；社会消费品零售总额增长百分之六点五。",
    "入汛以来，我市降雨偏多，防汛形势严峻复杂。市委、市政府高度重视，多次召开专题会议研究部署"
    "防汛救灾工作。各级各部门严格落实防汛责任制，加强雨情水情监测预警，全面排查整治山洪地质灾害"
    "隐患点、病险水库和城市易涝点，提前转移受威胁群众三千余人，预置抢险救援力量一千二百人，"
    "确保了人民群众生命财产安全。下一步，全市将继续坚持人民至上、生命至上，毫不松懈抓好防汛各项工作。",
    "为进一步优化营商环境，市政务服务管理局全面推行一网通办，企业开办时间压缩至一个工作日以内，"
    "工程建设项目审批时间压缩至四十个工作日以内。同时，在市民中心设立企业服务专窗，为企业提供"
    "政策咨询、帮办代办等服务。今年上半年，全市新登记市场主体一万二千户，同比增长百分之十五。",
    "近日，市生态环境局联合市公安局、市城市管理局开展大气污染防治联合执法行动，重点检查建筑工地"
    "扬尘治理、餐饮油烟排放和机动车尾气排放等情况。执法人员共检查各类点位一百二十个，发现问题"
    "三十六个，已全部责令整改。下一步，各部门将持续加大执法检查力度，推动全市空气质量持续改善。",
    "乡村振兴，关键在人。近年来，我县大力实施人才回引工程，出台了支持返乡创业的十条措施，"
    "在创业担保贷款、场地租金、社会保险补贴等方面给予支持。截至目前，全县累计引导返乡创业人员"
    "两千三百余人，创办各类经营主体八百余个，带动就业一万余人，为乡村振兴注入了新的活力。",
    "各街道、社区要充分发挥网格员作用，深入开展独居老人、留守儿童、残疾人等特殊群体走访慰问活动，"
    "及时了解他们的生活状况和实际困难，帮助解决急难愁盼问题。对走访中发现的安全隐患，要建立台账、"
    "明确责任、限期整改，切实把党和政府的温暖送到群众心坎上。",
    "为深入贯彻落实党中央、国务院关于安全生产工作的决策部署，有效防范和坚决遏制重特大事故发生，"
    "经市政府同意，决定自即日起至十二月底在全市范围内开展安全生产大排查大整治专项行动。专项行动"
    "重点围绕危险化学品、矿山、消防、道路交通、建筑施工、城镇燃气、特种设备等重点行业领域，"
    "全面排查治理各类风险隐患。对拒不整改或者整改不到位的，依法依规从严处罚，并按规定向社会公开。",
    "根据市委组织部关于干部任前公示的有关规定，现将拟提拔任用的干部人选予以公示。公示期为五个"
    "工作日。公示期间，个人和单位均可通过来信、来电、来访等方式向市委组织部反映公示对象在德、能、"
    "勤、绩、廉等方面的情况和问题。反映问题要实事求是，提倡署真实姓名，并提供联系方式。",
    "冬季是火灾高发季节。请广大市民朋友注意用火用电安全，不私拉乱接电线，不在楼道内为电动自行车"
    "充电。家中无人时，应切断电源、关闭燃气阀门。一旦发生火灾，要保持冷静，及时拨打火警电话119"
    "报警，并按照疏散指示有序撤离。",
    "会议指出，过去一年，全市纪检监察机关坚持严的基调不动摇，一体推进不敢腐、不能腐、不想腐，"
    "持续纠治四风，深化整治群众身边的不正之风和腐败问题，政治生态持续向好。会议要求，要以更高"
    "标准、更严要求推进全面从严治党向纵深发展。",
    "省生态环境厅通报了第三季度全省地表水环境质量状况。全省国控断面水质优良比例为百分之九十一"
    "点二，同比上升一点五个百分点，无劣五类断面。主要江河湖库水质总体保持稳定。",
    "为切实做好今年高考期间的交通保障工作，市公安局交警支队将在各考点周边实行临时交通管制，"
    "禁止机动车鸣笛。请广大驾驶人提前规划出行路线，主动避让送考车辆，共同为考生营造安静、有序的"
    "考试环境。",
    "经区政府研究决定，从本月起对全区城乡低保标准进行调整。城市低保标准由每人每月七百二十元"
    "提高到七百六十元，农村低保标准由每人每年七千二百元提高到七千六百元。",
    "请各位家长加强对孩子的安全教育和看护，教育孩子不私自下水游泳，不擅自与同学结伴游泳，不在无"
    "家长或教师带领的情况下游泳，不到无安全设施、无救援人员的水域游泳。",
    "市统计局数据显示，前三季度全市居民人均可支配收入三万二千元，同比增长百分之六点一。其中，"
    "城镇居民人均可支配收入四万一千元，增长百分之五点三；农村居民人均可支配收入一万九千元，"
    "增长百分之七点四。",
    "街道社区卫生服务中心为辖区六十五岁以上老年人免费开展健康体检，体检项目包括血常规、尿常规、"
    "肝功能、肾功能、血糖、血脂、心电图和腹部超声等。体检结果将录入居民健康档案，并由家庭医生"
    "进行健康指导。",
)


def typos(text: str, context: Context = EMPTY) -> list[Finding]:
    found = check_typos(text, context)
    for f in found:
        assert text[f.start : f.end] == f.text, f
        assert f.family == TYPO
    return sorted(found, key=lambda f: f.start)


def seen(text: str, context: Context = EMPTY) -> list[tuple[str, str, str, str]]:
    return [(f.text, f.suggestion, f.severity, f.rule) for f in typos(text, context)]


def fixes(sentence: str, right: str, f: Finding) -> bool:
    """Whether the finding's suggestion, put in its place, writes the right word."""
    fixed = sentence[: f.start] + f.suggestion + sentence[f.end :]
    return f.text != f.suggestion and right in fixed


# ------------------------------------------------------------------ sound and shape


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("我们要坚持不解地推进全面从严治党。", [("不解", "不懈", WARNING, "typo.sound")]),
        ("各乡镇要切实做好防汛工做。", [("工做", "工作", ERROR, "typo.sound")]),
        (
            "全市上下要慎终如始做好疫情防空工作。",
            [("疫情防空", "疫情防控", ERROR, "typo.sound")],
        ),
        ("各单位要及时消除公共安全隐换。", [("隐换", "隐患", ERROR, "typo.sound")]),
        ("加快推进城镇老旧小区改照。", [("改照", "改造", ERROR, "typo.near")]),
        ("推动教育资源均衡发展，努力办好人民满意的教肓。", [("教肓", "教育", ERROR, "typo.shape")]),
        ("原则上明确规定不得超过三个工作日。", []),
        ("市人民防空办公室将于9月18日上午10时进行防空警报试鸣。", []),
    ],
)
def test_it_reports_characters_confused_by_sound_or_shape(sentence, expected):
    assert seen(sentence) == expected


def test_it_gives_the_offsets_of_the_text_it_names():
    text = "第一段没有问题。\n\n各乡镇要切实做好防汛工做，及时消除公共安全隐换。"
    found = typos(text)
    assert [(f.start, f.end, f.text) for f in found] == [(20, 22, "工做"), (31, 33, "隐换")]
    assert found[0].message == "疑似错别字（同音）：「做」应为「作」，「工作」更合上下文。"


def test_the_test_set_has_no_false_finding_and_finds_most_typos():
    """Precision and recall of the family on the test set (stated in typos.py)."""
    clean = [f for s in CLEAN_SENTENCES + CLEAN_PARAGRAPHS for f in typos(s)]
    assert clean == []
    right = wrong = found = 0
    for sentence, word in TYPO_SENTENCES:
        findings = typos(sentence)
        good = [f for f in findings if fixes(sentence, word, f)]
        right += len(good)
        wrong += len(findings) - len(good)
        found += bool(good)
    assert len(TYPO_SENTENCES) == 72 and len(CLEAN_SENTENCES) == 48
    assert wrong == 0
    assert found == 52  # recall 52 / 72 = 0.72
    held_out = sum(any(fixes(s, w, f) for f in typos(s)) for s, w in TYPO_SENTENCES[48:])
    assert held_out == 17


def test_clean_paragraphs_get_no_typo_finding():
    for paragraph in CLEAN_PARAGRAPHS + SHARED_PARAGRAPHS:
        assert typos(paragraph) == [], paragraph


def test_people_named_with_a_title_are_no_typos():
    assert seen("副市长范伟出席活动并致辞。") == []
    assert seen("副市长袁满出席活动并致辞。") == []
    assert seen("会上，郑国栋作了重要讲话。") == []
    # without a title, 袁满 reads as 圆满 misspelt (范伟 does not: the dictionary has a
    # word that begins so, 范伟赢, see below)
    assert seen("袁满、李明等参加了调研。") == [("袁满", "圆满", WARNING, "typo.sound")]
    assert seen("范伟、李明等参加了调研。") == []


def test_a_name_introduced_by_jiao_is_no_typo():
    assert seen("我的邻居大介是一名医生。") == [("大介", "大街", WARNING, "typo.sound")]
    assert seen("我的邻居叫大介，是一名医生。") == []
    assert seen("这位同志名叫袁满。") == []


def test_a_window_that_begins_a_word_of_the_dictionary_is_taken_as_written():
    # 全世 begins 全世界: the text may hold it cut short, not 全市 misspelt
    assert seen("受全世经济形势影响，出口下降。") == []


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("新学期下周一正式开学学。", [("开学学", "开学", WARNING, "typo.repeated")]),
        ("各项工作要落到实处处。", [("落到实处处", "落到实处", WARNING, "typo.repeated")]),
        # a function character, a pair of pairs, a character that begins the next word,
        # a name before a word that starts with its last character: as written
        ("达到预期目的的措施已经落实。", []),
        ("房间打扫得干干净净。", []),
        ("我跟我的同学学数学。", []),
        ("示例市市场监督管理局", []),
        ("要坚持人民民主。", []),
    ],
)
def test_a_character_typed_twice_at_the_end_of_a_clause(sentence, expected):
    assert seen(sentence) == expected


def test_a_unit_after_a_number_is_left_alone():
    assert seen("累计接种疫苗120万剂次，检测样本3万人次。") == []


# ------------------------------------------------------------------ misused words


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("全市工作布署会议召开。", [("布署", "部署")]),
        ("希望大家再接再励，再创佳绩。", [("再接再励", "再接再厉")]),
        ("工作要按步就班地推进。", [("按步就班", "按部就班")]),
        ("群众迫不急待地走进新馆。", [("迫不急待", "迫不及待")]),
        ("面对难题不能一愁莫展。", [("一愁莫展", "一筹莫展")]),
        ("该工程已于上月峻工。", [("峻工", "竣工")]),
        ("请于周五前签定协议。", [("签定", "签订")]),
        ("凡弄虚做假的一律取消资格。", [("弄虚做假", "弄虚作假")]),
    ],
)
def test_it_reports_words_often_misused(sentence, expected):
    found = typos(sentence)
    assert [(f.text, f.suggestion) for f in found] == expected
    assert {(f.severity, f.rule) for f in found} == {(ERROR, "typo.misused")}


def test_a_misused_word_is_reported_only_where_it_stands_as_a_word():
    # 布署 across 发布 + 署名, 按排 across 按 + 排名, 防犯 across 预防 + 犯罪
    assert seen("市作协主席发布署名文章。") == []
    assert seen("按排名先后顺序录取。") == []
    assert seen("加强预防犯罪宣传教育。") == []
    assert seen("全市工作布署。")[0][:2] == ("布署", "部署")


def test_the_message_names_the_right_form_and_the_note():
    (f,) = typos("全市工作布署会议召开。")
    assert f.message == "「布署」是常见错误写法，应为「部署」（部署：安排、布置（人力、任务））。"


def test_the_installation_adds_its_own_misused_pairs():
    context = Context(misused=(("示例湖", "示范湖", "本市地名"),))
    found = typos("欢迎来到示例湖游玩。", context)
    assert [(f.text, f.suggestion, f.message) for f in found] == [
        ("示例湖", "示范湖", "「示例湖」是常见错误写法，应为「示范湖」（本市地名）。")
    ]


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("截止12月5日，全市共完成接种。", [("截止", "截至")]),
        ("截止目前，已有三千人报名。", [("截止", "截至")]),
        ("截止今年6月底，共受理申请九百件。", [("截止", "截至")]),
        ("截至12月5日，全市共完成接种。", []),
        ("报名截止日期为3月15日。", []),
        ("报名将于本周五截止。", []),
        ("报名截止到本月底。", []),
        ("报名时间截至。", [("截至", "截止")]),
        ("请在截至日期前提交材料。", [("截至", "截止")]),
    ],
)
def test_jiezhi_and_jiezhi_depend_on_what_follows(sentence, expected):
    found = [f for f in typos(sentence) if f.rule == "typo.jiezhi"]
    assert [(f.text, f.suggestion) for f in found] == expected
    assert all(f.severity == ERROR for f in found)


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("既使遇到困难，我们仍要坚持。", [("既使", "即使", WARNING)]),
        ("既使遇到困难也不能放弃。", [("既使", "即使", WARNING)]),
        ("本次活动既使群众得到了实惠，又推动了文明城市创建。", []),
        ("既使企业减轻负担，也使群众得到实惠。", []),
    ],
)
def test_jishi_is_jishi_only_before_a_pair(sentence, expected):
    found = [f for f in typos(sentence) if f.rule == "typo.jishi"]
    assert [(f.text, f.suggestion, f.severity) for f in found] == expected


# ------------------------------------------------------------------ the account's names


def test_the_accounts_names_win_over_a_typo():
    text = "袁满、李明等参加了调研。"
    assert seen(text, Context(leaders=(Leader("袁满", "副市长"),))) == []
    assert seen(text, Context(names=("袁满",))) == []


def test_a_near_miss_of_a_name_is_the_name_familys_not_a_typo():
    context = Context(names=("国务院办公厅", "市生态环境局"))
    text = "国务园办公厅近日印发通知，市生太环境局做好防汛工做。"
    assert seen(text, context) == [("工做", "工作", ERROR, "typo.sound")]
    found = check(text, context)
    assert [(f.text, f.suggestion, f.family) for f in found if f.family in (TYPO, "name")] == [
        ("国务园办公厅", "国务院办公厅", "name"),
        ("市生太环境局", "市生态环境局", "name"),
        ("工做", "工作", TYPO),
    ]


def test_the_accounts_formulations_are_taken_as_written():
    from govwx.content.proofread import Formulation

    text = "全面推进乡村振新工程。"
    assert seen(text) == [("振新", "振兴", ERROR, "typo.near")]
    assert seen(text, Context(formulations=(Formulation("乡村振新工程"),))) == []


def test_check_runs_the_family_end_to_end():
    text = "各乡镇要切实做好防汛工做，截止目前已排查隐换三十处。"
    found = [f for f in check(text, Context()) if f.family == TYPO]
    assert [(f.start, f.end, f.text, f.suggestion, f.rule) for f in found] == [
        (10, 12, "工做", "工作", "typo.sound"),
        (13, 15, "截止", "截至", "typo.jiezhi"),
        (20, 22, "隐换", "隐患", "typo.sound"),
    ]
    assert all(text[f.start : f.end] == f.text for f in found)


def test_a_long_article_with_one_typo_in_the_middle():
    body = "\n".join(CLEAN_PARAGRAPHS * 14)
    middle = len(body) // 2
    at = body.index("\n", middle) + 1
    text = body[:at] + "各乡镇要切实做好防汛工做。\n" + body[at:]
    assert len(text) > 20_000
    found = typos(text)
    assert [(f.start - at, f.text, f.suggestion) for f in found] == [(10, "工做", "工作")]


def test_a_clause_met_again_is_judged_as_the_first_time(monkeypatch):
    text = "".join(sentence for sentence, _ in TYPO_SENTENCES) + "".join(CLEAN_SENTENCES)
    monkeypatch.setattr(typos_module, "REMEMBER", 0)
    typos_module.forget()
    first = typos(text)
    monkeypatch.setattr(typos_module, "REMEMBER", 20_000)
    typos(text)  # every clause remembered
    assert len(typos_module._remembered) > 100
    again = typos(text)
    assert again == first
    assert len(first) == 52  # the test set's findings, as the docstring counts them


def test_the_spans_answer_as_a_scan_of_them_would():
    rng = random.Random(5)
    for _ in range(200):
        spans = [(a, a + rng.randint(0, 6)) for a in (rng.randint(0, 60) for _ in range(8))]
        index = Spans(spans)
        for start in range(0, 70, 3):
            for size in (0, 1, 4):
                end = start + size
                expected = any(start < e and s < end for s, e in spans)
                assert index.overlaps(start, end) is expected
    assert Spans([]).overlaps(0, 10) is False


# ------------------------------------------------------------------ data


def test_the_misused_list_is_well_formed():
    pairs = misused_pairs()
    assert len(pairs) >= 150
    wrongs = [w for w, _, _ in pairs]
    assert len(wrongs) == len(set(wrongs))
    for wrong, right, note in pairs:
        assert wrong != right and note, (wrong, right)
        assert re.fullmatch(r"[\u4e00-\u9fff]+", wrong) and re.fullmatch(r"[\u4e00-\u9fff]+", right)
    # the pairs that depend on context are rules, not entries
    assert not {"截止", "截至", "既使"} & set(wrongs)
    assert ("布署", "部署") in [(w, r) for w, r, _ in pairs]
    assert MISUSED.parent == DATA


def test_no_wrong_form_of_the_list_stands_in_the_clean_texts():
    for text in CLEAN_SENTENCES + CLEAN_PARAGRAPHS:
        assert [f for f in typos(text) if f.rule == "typo.misused"] == []


def test_the_lexicon_reads_the_vendored_data():
    lexicon = load()
    assert lexicon is load()  # once a process
    # pycorrector's same_stroke.txt: 肓 and 育 look alike
    assert lexicon.confusion("肓", "育") == "shape"
    assert lexicon.confusion("肓", "盲") == "shape"
    # pypinyin's readings in use: 解 reads jie and xie, 其 not ji
    assert lexicon.sounds("解") == frozenset({"jie", "xie"})
    assert lexicon.sounds("其") == frozenset({"qi"})
    assert lexicon.confusion("做", "作") == "sound"
    assert lexicon.confusion("照", "造") == "near"
    assert lexicon.confusion("做", "山") == ""
    # official words (data/official_words.txt) count as words
    assert lexicon.frequency("疫情防控") == 300
    assert lexicon.frequency("微信") == 3000


def test_the_vendored_data_names_its_source_and_license():
    readme = (DATA / "README.md").read_text(encoding="utf-8")
    assert "pycorrector 1.1.4" in readme
    assert "62fba7a2573ff011b4c57f1fff301a7015cab339c567991aa0bb6ff53248b322" in readme
    license_text = (DATA / "pycorrector-LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in license_text and "Version 2.0, January 2004" in license_text
    stroke = (DATA / "same_stroke.txt").read_bytes()
    assert hashlib.sha256(stroke).hexdigest() == (
        "c9e31dac045484b16f7f0704af1bd93d2cf841023e2e3a18a1181b413ec62d43"
    )
    assert lexicon_module.SAME_STROKE == DATA / "same_stroke.txt"


def test_traditional_characters_are_not_taken_for_slips() -> None:
    """A text in traditional characters (a reposted notice, a Hong Kong address) is not
    full of typos: the dictionary hardly knows its characters, so its clauses are not
    judged; a simplified slip beside it still is."""
    text = "這個政府網站的電話號碼請於官網查詢，報名截止後不再受理。做好防汛工做。"
    found = [(f.text, f.suggestion) for f in check(text, Context()) if f.family == "typo"]
    assert found == [("工做", "工作")]
