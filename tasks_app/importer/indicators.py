"""Quantitative targets in one sentence of a work report: value, unit, comparator, kind, clause.

Written for the genre: 增长7% / 下降4.3% (growth), 达85% (level),
以上 / 不低于 / 超过 / 突破 (floors), 以内 / 不超过 / 控制在 (ceilings),
左右 / 约 / 近 (approximations),
新增 / 新建 / 引进 (counts of new things), 1-2家 / 4至5个 (ranges), 万 / 亿 multipliers,
and 分别 sentences that pair names with numbers.

Parsing runs on a copy where full-width ASCII forms are folded to half-width one character for one,
so every index also points into the original and each indicator keeps its verbatim clause.
"""

import re
from dataclasses import asdict, dataclass
from decimal import Decimal, InvalidOperation

import cn2an

# Full-width ASCII (，％１２（）…) -> half-width, one character for one.
FOLD = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}

CLAUSE_BREAK = re.compile(r"[,;。!?:\n]")

# Kept as units (the register states "5亿元", "115万平方米"); other 万/亿 are multipliers.
COMPOSITE_UNITS = [
    "万亿元",
    "万亿美元",
    "亿美元",
    "万美元",
    "亿元",
    "万元",
    "万平方米",
    "万平方公里",
    "万亩",
    "万吨",
    "万千瓦",
    "万千伏安",
    "万立方米",
    "万标箱",
]
PLAIN_UNITS = [
    "个百分点",
    "微克/立方米",
    "平方公里",
    "平方米",
    "公顷",
    "立方米",
    "千瓦时",
    "千伏安",
    "兆瓦",
    "千瓦",
    "个月",
    "人次",
    "家次",
    "批次",
    "个工作日",
    "场次",
    "公里",
    "千米",
    "美元",
    "元",
    "%",
    "‰",
    "家",
    "个",
    "项",
    "件",
    "名",
    "人",
    "套",
    "所",
    "座",
    "条",
    "宗",
    "场",
    "次",
    "支",
    "张",
    "台",
    "辆",
    "间",
    "户",
    "处",
    "批",
    "栋",
    "亩",
    "吨",
    "斤",
    "艘",
    "期",
    "块",
    "米",
    "天",
    "小时",
    "分钟",
    "工作日",
    "倍",
    "位",
    "只",
    "株",
    "棵",
    "部",
    "盏",
    "根",
    "公顷",
    "标箱",
    "岁",
    "所",
]
UNITS = sorted(set(COMPOSITE_UNITS + PLAIN_UNITS), key=len, reverse=True)
COUNT_UNITS = set("家个项件名人套所座条宗场次支张台辆间户处批栋只株棵部盏根位艘期块") | {
    "人次",
    "家次",
    "场次",
    "批次",
}
PEOPLE_WORDS = (
    "人才", "师生", "人口", "居民", "学生", "人员", "职工", "群众", "青年", "市民", "渔民", "农民",
    "劳动力", "妇女", "儿童", "老人", "毕业生",
)  # fmt: skip

CN_NUMERAL = "[一二两三四五六七八九十][零〇一二两三四五六七八九十百千]*"
NUMBER = re.compile(
    rf"(?P<value>\d+(?:\.\d+)?|{CN_NUMERAL})"
    rf"(?:\s*%?\s*(?P<dash>[-~—–]|至|到)\s*(?P<high>\d+(?:\.\d+)?|{CN_NUMERAL}))?"
    r"\s*(?P<mult>万亿|万|亿)?(?P<more>余|多)?(?P<mult_after>万亿|万|亿)?"
)
# Chinese numerals below ten name things ("两个毫不动摇", "三大攻坚战", "四个意识") more often
# than they count them; they are read only with units that measure.
CN_SMALL_UNITS_REFUSED = {
    "个",
    "项",
    "位",
    "条",
    "种",
    "批",
    "次",
    "件",
    "名",
    "支",
    "张",
    "部",
    "期",
    "元",
    "倍",
    "年",
}
MULTIPLIERS = {
    "万亿": Decimal(10) ** 12,
    "万": Decimal(10000),
    "亿": Decimal(10) ** 8,
    None: Decimal(1),
}

SUFFIX_FLOOR = ("及以上", "以上")
SUFFIX_CEILING = ("以内", "以下")
SUFFIX_APPROX = ("左右",)
PREFIX = [  # (words that end the text before the number, comparator); longest words first
    (("不低于", "不少于", "不小于", "至少", "确保不低于"), "gte"),
    (
        ("不超过", "不高于", "不多于", "控制在", "压减至", "压缩至", "降至", "降低至", "下降至"),
        "lte",
    ),
    (("超过", "突破", "高于", "多于", "大于", "超"), "gt"),
    (("低于", "少于", "小于"), "lt"),
    (("大约", "接近", "约", "近"), "approx"),
]
LEVEL_WORDS = (
    "达到",
    "达",
    "提升至",
    "提升到",
    "提高至",
    "提高到",
    "增至",
    "扩大至",
    "扩容至",
    "保持在",
    "稳定在",
    "稳定达到",
    "占比",
    "比重",
)
GROWTH_WORDS = ("增长", "增速", "增幅", "提高", "提升", "增加", "上升")
DECLINE_WORDS = ("下降", "降低", "减少", "压减", "降幅", "削减", "压缩")
COUNT_WORDS = (
    "新增",
    "新建",
    "引进",
    "新组建",
    "新开",
    "新改建",
    "新改扩建",
    "新装",
    "培育",
    "招引",
    "新设",
    "新开工",
    "新认定",
    "引育",
    "新落地",
)
ESTIMATE_WORDS = ("预计", "将高达")
# Text between two numbers of one enumeration: "5亿元、10亿元以上", "分别下降20%、10%".
ENUM_GAP = re.compile(r"^\s*(?:[、和及与]|以及)\s*$")
NAME_STRIP_HEAD = re.compile(
    r"^(?:今年|全年|年内|力争|确保|争取|推动|推进|实现|完成|全面|加快|支持|其中|再|全区|"
    r"新增|新建|引进|培育|打造|建设|建成|开展|举办|组织|集聚|落地|开工|分别|的)+"
)
NAME_STRIP_TAIL = re.compile(
    r"(?:达到|达|超过|超|突破|不低于|不少于|不超过|控制在|低于|约|近|增长|下降|提升至|提高至|提高到|"
    r"提升|提高|降低|减少|分别|力争|确保|实现|为|在|以上|左右|的)+$"
)


@dataclass
class Found:
    name: str
    value: str
    value_max: str | None
    unit: str
    comparator: str
    kind: str
    text: str
    start: int = 0  # index of the number in the sentence, for pairing with clauses and labels

    def as_dict(self) -> dict:
        data = asdict(self)
        data.pop("start")
        return data


def fold(text: str) -> str:
    return text.translate(FOLD)


def extract(sentence: str) -> list[dict]:
    """The targets stated in sentence, in order; [] for estimates and text without numbers."""
    return [found.as_dict() for found in extract_found(sentence)]


def extract_found(sentence: str) -> list[Found]:
    folded = fold(sentence)
    results: list[Found] = []
    for start, end in _clauses(folded):
        clause = folded[start:end]
        if any(word in clause for word in ESTIMATE_WORDS):
            continue
        for found in _clause_targets(clause):
            found.text = sentence[start:end].strip()[:300]
            found.start += start
            results.append(found)
    return results


def _clauses(folded: str) -> list[tuple[int, int]]:
    spans, begin = [], 0
    for match in CLAUSE_BREAK.finditer(folded):
        spans.append((begin, match.start()))
        begin = match.end()
    spans.append((begin, len(folded)))
    return [(a, b) for a, b in spans if folded[a:b].strip()]


@dataclass
class _Mention:
    start: int
    end: int  # after unit and suffix words
    value: Decimal
    high: Decimal | None
    unit: str
    prefix_cmp: str | None
    suffix_cmp: str | None
    growth: int  # 0 none, 1 growth, -1 decline
    level: bool


def _clause_targets(clause: str) -> list[Found]:
    mentions = [m for m in (_mention(clause, match) for match in NUMBER.finditer(clause)) if m]
    starts = [match.span(1) for match in FROM_SPAN.finditer(clause)]
    mentions = [m for m in mentions if not any(a <= m.start < b for a, b in starts)]
    _share_across_enumerations(clause, mentions)
    found = [_found(clause, mention) for mention in mentions]
    _pair_respectively(clause, found)
    return found


def _mention(clause: str, match: re.Match) -> _Mention | None:
    start, after = match.start(), match.end()
    before = clause[:start]
    if _is_not_a_quantity(clause, start, after, before):
        return None
    value, high = _number(match["value"]), _number(match["high"]) if match["high"] else None
    if value is None or (match["high"] and high is None):
        return None
    if match["more"]:  # "200余家", "5000多亿元": the unit follows 余/多
        after = match.end()
    mult = match["mult"] or match["mult_after"]
    unit, after = _unit(clause, after, mult)
    if unit is None or _is_idiom(match, value, unit, before) or _is_not_a_target(clause, after):
        return None
    if DELTA.search(before) and unit not in ("%", "个百分点"):
        return None
    value, high, unit = _scale(value, high, unit, mult, clause[after:])
    if "每万人" in before and unit in COUNT_UNITS:
        unit = f"{unit}/万人"  # 每万人发明专利拥有量达170件
    if _is_size_qualifier(before):
        return None
    per = re.match(r"/(?:日|天|年|月|人|次)", clause[after:])
    after += per.end() if per else 0  # "100万吨/日以上": the suffix follows the period
    suffix_cmp, after = _suffix(clause, after)
    if match["more"] and suffix_cmp is None:
        suffix_cmp = "gt"  # 两千余套, 200多家: more than the number
    prefix_cmp, growth, level = _prefix(before, unit)
    return _Mention(start, after, value, high, unit, prefix_cmp, suffix_cmp, growth, level)


def _is_not_a_quantity(clause: str, start: int, after: int, before: str) -> bool:
    previous = before[-1:] if before else ""
    if previous and (previous.isascii() and (previous.isalpha() or previous in "+./#")):
        return True  # PM2.5, 5G, "1+5+7", IC2
    if previous == "第":
        return True  # 第22位
    following = clause[after : after + 1]
    if following and following.isascii() and (following.isalpha() or following == "+"):
        return True
    return _inside_short_quote(clause, start)


def _inside_short_quote(clause: str, at: int) -> bool:
    """Names in quotes ("9610", "两个1000万"工程, 惠企"15条") are not quantities; quoted targets
    ("一个片区1-2所幼儿园") are longer than a name."""
    opening = max(clause.rfind("“", 0, at), clause.rfind('"', 0, at))
    if opening < 0 or clause.count('"', 0, at) % 2 == 0 and clause.rfind("”", 0, at) > opening:
        return False
    closing = min(
        (i for i in (clause.find("”", at), clause.find('"', at)) if i >= 0), default=len(clause)
    )
    return closing - opening - 1 <= 8


def _decimal(text: str) -> Decimal | None:
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _number(text: str) -> Decimal | None:
    """Digits or Chinese numerals (十, 两千, 一百二十) -> Decimal; None when not a number."""
    if text[:1].isdigit():
        return _decimal(text)
    try:
        value = cn2an.cn2an(text.replace("两", "二"), "strict")
    except (ValueError, KeyError, IndexError, TypeError):
        return None
    return _decimal(str(value))


CHANGE = r"(?:提高|增加|提升|扩大|降低|下降|减少|调整|上调|下调|压减|压缩|精简|缩减)(?:到|至)"
FROM_VALUE = re.compile(rf"^{CHANGE}")
# "分别从每月503元、228元提高到554元、251元": every number between 从 and 提高到 is a start.
FROM_SPAN = re.compile(rf"从([^,;。]*?){CHANGE}")
DELTA = re.compile(r"比(?:上年|去年|上一年)[^,、\d]{0,8}?(?:增加|减少|多|少)\s*$")
MEETING = re.compile(r"^[、,和及\d一二三四五六七八九十次届]*(?:全会|会议|代表大会|党代会|全体会议)")


def _is_not_a_target(clause: str, after: int) -> bool:
    """ "由380元提高到420元": a starting value; "比上年增加1800亿元": a difference; "十六次全会"."""
    rest = clause[after:].lstrip()
    framing = rest.startswith("方面")  # "重点做好以下十个方面工作" counts the report's own headings
    return bool(FROM_VALUE.match(rest) or MEETING.match(rest) or framing)


def _is_idiom(match: re.Match, value: Decimal, unit: str, before: str) -> bool:
    """Chinese numerals that name rather than count: 一批, 两个维护, 三所 counts."""
    if match["value"][:1].isdigit():
        return False
    if before[-1:] and before[-1] in "零〇一二两三四五六七八九十百千万亿第每":
        return True
    if re.search(r"(?:至少|不少于|不低于)\S{0,3}$", before):
        return False  # 至少建有一所幼儿园
    value *= MULTIPLIERS.get(match["mult"] or match["mult_after"], Decimal(1))
    return value < 2 or (value < 10 and unit in CN_SMALL_UNITS_REFUSED)


def _unit(clause: str, at: int, mult: str | None) -> tuple[str | None, int]:
    rest = clause[at:]
    if mult:  # the multiplier is part of a composite unit ("亿元") or scales a plain one
        for unit in COMPOSITE_UNITS:
            if (mult + rest).startswith(unit):
                return unit, at + len(unit) - len(mult)
    for unit in UNITS:
        if rest.startswith(unit) and unit not in COMPOSITE_UNITS:
            return unit, at + len(unit)
    if mult:
        return "", at  # bare 万/亿: "超10万科技人才"
    return None, at


def _scale(value, high, unit, mult, rest):
    if unit in COMPOSITE_UNITS:
        if unit in ("万亿元", "万亿美元"):
            return value * 10000, high * 10000 if high else None, unit[1:]
        return value, high, unit
    if mult and unit not in COUNT_UNITS and unit not in ("", "%", "‰", "个百分点"):
        return value, high, mult + unit  # 1.3万亿斤, 3万千瓦时: the register keeps the scale
    factor = MULTIPLIERS.get(mult, Decimal(1))
    if unit == "" and mult == "万亿":
        return value * 10000, high * 10000 if high else None, "亿"
    if unit == "" and mult == "亿":
        return value, high, "亿元"  # "150亿土地出让任务": money
    if unit == "":
        noun = CLAUSE_BREAK.split(rest, maxsplit=1)[0][:8]
        unit = "人" if any(word in noun for word in PEOPLE_WORDS) else "万"
        if unit == "万":
            return value, high, unit
    return value * factor, high * factor if high else None, unit


def _is_size_qualifier(before: str) -> bool:
    """'15家以上超10亿元规模企业': the amount qualifies the firms counted just before it."""
    return bool(re.search(r"\d+(?:家|个)(?:以上)?(?:超过|超|年产值)?$", before))


def _suffix(clause: str, at: int) -> tuple[str | None, int]:
    rest = clause[at:]
    for words, comparator in (
        (SUFFIX_FLOOR, "gte"),
        (SUFFIX_CEILING, "lte"),
        (SUFFIX_APPROX, "approx"),
    ):
        for word in words:
            if rest.startswith(word):
                return comparator, at + len(word)
    return None, at


def _prefix(before: str, unit: str) -> tuple[str | None, int, bool]:
    tail = re.sub(r"(?:分别|同比|比上年|年均|平均|每年|力争|达到|达)$", "", before[-12:])
    tail_full = before[-12:]
    growth = 0
    if unit in ("%", "个百分点"):
        if any(tail.endswith(word) or tail_full.endswith(word) for word in GROWTH_WORDS):
            growth = 1
        elif any(tail.endswith(word) or tail_full.endswith(word) for word in DECLINE_WORDS):
            growth = -1
        elif re.search(r"(?:增长|增速)(?:达到|达)?$", tail_full):
            growth = 1
    per_head = re.sub(r"(?:每[人生户年月日]|每千人|人均|年均)+$", "", tail_full)
    for words, comparator in PREFIX:
        if any(tail_full.endswith(word) or per_head.endswith(word) for word in words):
            return comparator, growth, False
    if re.search(r"(?:至少|不少于)[\u4e00-\u9fff]{1,2}$", tail_full):
        return "gte", growth, False
    level = any(tail_full.endswith(word) for word in LEVEL_WORDS)
    return None, growth, level


def _share_across_enumerations(clause: str, mentions: list[_Mention]) -> None:
    """'5亿元、10亿元以上': 以上 covers the whole list; '增长5%、6%': so does 增长."""
    for left, right in zip(mentions, mentions[1:], strict=False):
        if ENUM_GAP.match(clause[left.end : right.start]) and left.unit == right.unit:
            right.prefix_cmp = right.prefix_cmp or left.prefix_cmp
            right.growth = right.growth or left.growth
            right.level = right.level or left.level
    for left, right in reversed(list(zip(mentions, mentions[1:], strict=False))):
        if ENUM_GAP.match(clause[left.end : right.start]) and left.unit == right.unit:
            left.suffix_cmp = left.suffix_cmp or right.suffix_cmp


def _found(clause: str, mention: _Mention) -> Found:
    comparator = _comparator(mention)
    value = -mention.value if mention.growth < 0 else mention.value
    kind = _kind(clause, mention, comparator)
    return Found(
        name=_name(clause, mention),
        value=_plain(value),
        value_max=_plain(mention.high) if comparator == "between" else None,
        unit=mention.unit,
        comparator=comparator,
        kind=kind,
        text=clause,
        start=mention.start,
    )


def _comparator(mention: _Mention) -> str:
    if mention.high is not None and mention.high > mention.value:
        return "between"
    if mention.suffix_cmp:
        if mention.growth < 0:  # 下降10%以上: the growth is at most -10%
            return {"gte": "lte", "lte": "gte"}.get(mention.suffix_cmp, mention.suffix_cmp)
        return mention.suffix_cmp
    if mention.prefix_cmp:
        return mention.prefix_cmp
    if mention.growth:
        return "growth"
    return "eq"


def _kind(clause: str, mention: _Mention, comparator: str) -> str:
    if mention.growth:
        return "growth"
    if mention.unit in COUNT_UNITS and any(word in clause[: mention.start] for word in COUNT_WORDS):
        return "count"
    return {
        "between": "range",
        "gte": "floor",
        "gt": "floor",
        "lte": "ceiling",
        "lt": "ceiling",
        "approx": "approx",
    }.get(comparator, "level")


def _plain(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text


def _name(clause: str, mention: _Mention) -> str:
    before = re.split(r"[、()]", clause[: mention.start])[-1]
    before = NAME_STRIP_TAIL.sub("", before)
    after = re.split(r"[、和及与()]", clause[mention.end :])[0]
    after = re.sub(r"^(?:的|超\d.*?元)", "", after)
    before_name = NAME_STRIP_HEAD.sub("", before).strip()
    if mention.growth or mention.level or not after.strip():
        name = before_name or after
    else:
        name = after.strip() or before_name
    return (name.strip(' “”"') or clause.strip())[:100]


def _pair_respectively(clause: str, found: list[Found]) -> None:
    """'A、B分别增长5%、6%': A gets 5%, B gets 6%; 'A和B分别不少于100万平方米': both get 100."""
    if "分别" not in clause or not found:
        return
    head = clause[: clause.index("分别")]
    head = re.split(r"[、和及与]", NAME_STRIP_HEAD.sub("", re.split(r"\d", head)[-1]))
    names = [name.strip() for name in head if name.strip()]
    if len(names) < 2:
        return
    if len(found) == len(names):
        for item, name in zip(found, names, strict=True):
            item.name = name[:100]
    elif len(found) == 1:
        template = found[0]
        found[:] = [Found(**{**asdict(template), "name": name[:100]}) for name in names]
