"""Work items: the sentences of a key area, one item per deliverable a department can own."""

import re

from tasks_app.importer import indicators
from tasks_app.importer.suggestions import suggest_departments

SENTENCE_END = re.compile(r"[。;!?]")
ACTION_START = re.compile(
    r"^(?:加快|加速|推进|推动|支持|依托|建设|打造|引进|完善|实施|开展|深化|加强|强化|提升|优化|新建|"
    r"新增|建成|完成|启动|出台|制定|构建|鼓励|落实|培育|确保|力争|争取|举办|设立|组建|探索|持续|"
    r"全面|大力|积极|深入|扎实|稳步|着力|规划建设|开工|拆除|集聚|招引|引导|筹建|创建|争创)"
)
# Verbs that open a further deliverable in a sentence of several ("……,加快推进A建设,依托B打造C"),
# unlike those that carry the same one on ("推进……,建设……示范区", "形成……格局", "让……").
NEW_DELIVERABLE = re.compile(
    r"(?:加快推进|加快建设|加快实施|依托|支持|规划建设|力促|设立|引进|新增|新建改建|新建和|"
    r"高端谋划|一体实施|全面推进|力争|确保|开展|坚决|精心|不断深化|继续深化|继续开展|深入开展|"
    r"新装设|加大|启动|举办)"
)
# Those that open a project of its own even in a sentence's second clause ("规划建设……产业园,
# 加快推进……基地建设"); the second clause of a sentence otherwise carries the first on.
NEW_PROJECT = re.compile(r"(?:加快推进|加快实施|规划建设|新建改建|高端谋划|一体实施|加大)")
# A first clause that states a general aim ("加强……监管", "积极发展金融业") or a stance ("坚持……",
# "聚焦……", "把……作为……") is followed by its first measure, which belongs to it.
AIM = re.compile(
    r"^(?:我们要|要)?(?:持续|全面|统筹|进一步|不断|大力|切实|着力|加快|积极|更加)?"
    r"(?:加强|强化|壮大|提升|优化|完善|健全|发展|坚持|聚焦|围绕|立足|突出|紧扣|对标|按照|运用|发挥)"
    r"|^把[^,]{1,40}作为"
)
# A clause that ends in a completed result ("……教学楼如期竣工交付") is a milestone of its own.
COMPLETED = re.compile(r"(?:竣工|交付|投产|开园|开业|动工|开工|建成|通车|贯通|投用)[,。;]?$")
# A first clause this short names a theme ("扩大重点区域投资,加快推进……项目"), not a deliverable.
THEME_MAX = 10
# "以……为重点/为抓手/的标准, ……": every clause of the sentence works under that frame.
FRAME = re.compile(r"^以[^,]{1,30}?(?:为|标准)")
# 确保/力争 state the purpose of the clauses before them ("确保党员、干部决不……") unless they
# name a measurable result of their own ("确保10条问题河渠……", "力争……可办率达85%").
PURPOSE = re.compile(r"^(?:确保|力争|争取)")
# A clause that has another party act ("支持集体经济组织……合作", "鼓励……企业拓展……市场") is
# carried on by the clauses after it, which say what that party does, until a new party is named.
OTHERS_ACT = re.compile(r"^(?:支持|鼓励|引导|带动)")
ITEM_PUNCTUATION = ",，;；。 "
MIN_SPLIT_PART = 6


def items_into(area: dict, line: str, *, only_targets: bool) -> None:
    """Append the work items of line (original text) to area["tasks"]."""
    flat = indicators.fold(line)
    for begin, end in item_spans(flat):
        source = line[begin:end].strip().rstrip(",， ")  # a clause's item ends without its comma
        if len(source.strip(ITEM_PUNCTUATION)) < 2:
            continue
        found = indicators.extract(source)
        if only_targets and not found:
            continue
        area["tasks"].append(
            {
                "code": "",
                "title": source.rstrip(ITEM_PUNCTUATION)[:200],
                "source_text": source,
                "indicators": found,
                "suggestions": suggest_departments(source),
            }
        )


def item_spans(flat: str) -> list[tuple[int, int]]:
    """Sentences, and within a long sentence the clauses that start a new deliverable."""
    spans, begin = [], 0
    for match in SENTENCE_END.finditer(flat):
        spans.extend(_split_sentence(flat, begin, match.end()))
        begin = match.end()
    if flat[begin:].strip():
        spans.extend(_split_sentence(flat, begin, len(flat)))
    return spans


def _split_sentence(flat: str, begin: int, end: int) -> list[tuple[int, int]]:
    """A sentence is one item unless its clauses state separate deliverables: each quantified
    ("力促2个项目按期动工,总投资近27亿元的8个项目按期投产" is two), or opened by a verb that
    starts a new one ("……专业园区,加快推进……基地建设"); "深耕……产业,集聚30家以上上下游企业,
    大力建设……集群" is one (one deliverable, described in three clauses)."""
    clauses = _clauses(flat, begin, end)
    texts = [flat[a:b] for a, b in clauses]
    counted = [bool(indicators.extract(text)) for text in texts]
    cuts, first = [begin], 0
    for index in range(1, len(clauses)):
        quantified = counted[index] and any(counted[first:index])
        opens = _opens_deliverable(texts, index, counted[index])
        if (quantified or opens) and clauses[index][0] - cuts[-1] >= MIN_SPLIT_PART:
            cuts.append(clauses[index][0])
            first = index
    cuts.append(end)
    return list(zip(cuts, cuts[1:], strict=False))


def _clauses(flat: str, begin: int, end: int) -> list[tuple[int, int]]:
    bounds = [begin] + [begin + match.end() for match in re.finditer(",", flat[begin:end])]
    return list(zip(bounds, bounds[1:] + [end], strict=False))


def _opens_deliverable(texts: list[str], index: int, measurable: bool) -> bool:
    """Whether clause index of a sentence's clauses opens a deliverable of its own."""
    text = texts[index]
    if PURPOSE.match(text):
        return measurable and index >= 2
    if FRAME.match(texts[0]):
        return False
    if any(OTHERS_ACT.match(before) for before in texts[:index]) and not OTHERS_ACT.match(text):
        return False
    if COMPLETED.search(texts[index - 1]) and NEW_DELIVERABLE.match(text):
        return True
    if index == 1:
        lead = texts[0].strip(ITEM_PUNCTUATION)
        return bool(NEW_PROJECT.match(text)) and len(lead) > THEME_MAX and not AIM.match(lead)
    return bool(NEW_DELIVERABLE.match(text))
