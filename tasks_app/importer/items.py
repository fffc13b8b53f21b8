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
    """A sentence is one item unless its clauses state separate quantified deliverables:
    "力促2个项目按期动工,总投资近27亿元的8个项目按期投产" is two, "深耕……产业,集聚30家以上
    上下游企业,大力建设……集群" is one (one deliverable, described in three clauses)."""
    clauses, at = [], begin
    for match in re.finditer(",", flat[begin:end]):
        clauses.append((at, begin + match.end()))
        at = begin + match.end()
    clauses.append((at, end))
    counted = [bool(indicators.extract(flat[a:b])) for a, b in clauses]
    cuts = [begin]
    for index in range(1, len(clauses)):
        left = any(counted[cuts_index(clauses, cuts[-1]) : index])
        quantified = left and counted[index]
        opens = index >= 2 and NEW_DELIVERABLE.match(flat[clauses[index][0] : end])
        if (quantified or opens) and clauses[index][0] - cuts[-1] >= MIN_SPLIT_PART:
            cuts.append(clauses[index][0])
    cuts.append(end)
    return list(zip(cuts, cuts[1:], strict=False))


def cuts_index(clauses: list[tuple[int, int]], at: int) -> int:
    return next(index for index, (a, _) in enumerate(clauses) if a == at)
