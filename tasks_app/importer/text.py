"""A work report's text -> a draft plan in the format of tasks_app/data/plan_2020.json.

The genre: a review of last year, then the part that plans this year
("二、2020年工作计划", "2021年工作安排", "二、2019年主要工作任务"). That part opens with the
headline targets ("主要预期目标是: 地区生产总值增长7%; ..."), then numbered sections ("(一)" or
"一、"), each a run of paragraphs that open with a short heading sentence (the key area) followed
by the work items. Only the plan part is read: last year's results and estimates (预计) are
not this year's targets.
"""

import re
from dataclasses import dataclass

from tasks_app.importer import indicators
from tasks_app.importer.suggestions import suggest_departments

NUMERALS = "一二三四五六七八九十"
SECTION_LINE = re.compile(
    rf"^\s*(?:\((?P<paren>[{NUMERALS}]+)\)|(?P<dun>[{NUMERALS}]+)、)\s*(?P<title>\S.*)$"
)
PLAN_HEADING = re.compile(
    r"(?:(?P<year>20\d\d)年|今年|明年|新的一年)?[^,。]{0,12}?"
    r"(?:工作计划|工作安排|主要工作|工作任务|重点工作|工作部署|主要任务)"
)
NOT_PLAN = re.compile(r"回顾|总结|成绩|做了|完成情况|形势")
END_OF_PLAN = re.compile(r"^\s*(?:附件|附:|附录|名词解释|有关名词解释)")
CLOSING = re.compile(r"^\s*(?:各位代表|同志们|各位委员)")
TARGETS_LEAD = re.compile(r"目标(?:是|为)?\s*:")
PARAGRAPH_NUMBER = re.compile(r"^\s*\d{1,2}\s*[.、]\s*")
SENTENCE_END = re.compile(r"[。;!?]")
ACTION_START = re.compile(
    r"^(?:加快|加速|推进|推动|支持|依托|建设|打造|引进|完善|实施|开展|深化|加强|强化|提升|优化|新建|"
    r"新增|建成|完成|启动|出台|制定|构建|鼓励|落实|培育|确保|力争|争取|举办|设立|组建|探索|持续|"
    r"全面|大力|积极|深入|扎实|稳步|着力|规划建设|开工|拆除|集聚|招引|引导|筹建|创建|争创)"
)
ITEM_PUNCTUATION = ",，;；。 "
MIN_SPLIT_PART = 12
HEADING_MAX = 30


def parse_report(
    text: str, *, year: int, title: str = "", government: str = "", report_date: str | None = None
) -> dict:
    """The draft plan of text; never raises on odd text (the worst case is an empty draft)."""
    lines = text.split("\n")
    folded = [indicators.fold(line) for line in lines]
    start, heading, warnings = _plan_part(folded, year)
    end = _plan_end(folded, start)
    plan = {
        "year": year,
        "title": (title or f"{government}{year}年政府工作报告")[:200],
        "government": government[:100],
    }
    if report_date:
        plan["report_date"] = report_date
    data = {
        "plan": plan,
        "headline_targets": [],
        "sections": [],
        "plan_part": {"heading": heading, "first_line": start + 1, "last_line": end},
        "warnings": warnings,
    }
    _read_plan_part(data, lines[start:end], folded[start:end])
    if not data["sections"]:
        data["warnings"].append("未识别出带编号的方面(如“(一)”或“一、”),请检查草稿。")
    return number_codes(data)


def _plan_part(folded: list[str], year: int) -> tuple[int, str, list[str]]:
    """(index of the first line after the plan heading, the heading, warnings)."""
    candidates = []
    for index, line in enumerate(folded):
        stripped = line.strip()
        if not stripped or len(stripped) > 40 or "。" in stripped or NOT_PLAN.search(stripped):
            continue
        match = PLAN_HEADING.search(stripped)
        if match and (match["year"] is None or int(match["year"]) == year):
            candidates.append((match["year"] is not None, index, stripped))
    if not candidates:
        return 0, "", ["未找到“20XX年工作计划/工作安排/主要工作”等标题,已按全文解析,请核对。"]
    # A heading naming the year wins over "今年工作" wording; among equals, the first one.
    with_year = [c for c in candidates if c[0]] or candidates
    _, index, heading = with_year[0]
    return index + 1, heading, []


def _plan_end(folded: list[str], start: int) -> int:
    for index in range(start, len(folded)):
        if END_OF_PLAN.match(folded[index]):
            return index
    return len(folded)


@dataclass
class _Cursor:
    section: dict | None = None
    area: dict | None = None
    style: str | None = None
    paragraphs_in_section: int = 0


def _read_plan_part(data: dict, lines: list[str], folded: list[str]) -> None:
    cursor = _Cursor()
    for line, flat in zip(lines, folded, strict=True):
        if not flat.strip():
            continue
        section = _section_heading(flat, cursor.style)
        if section:
            cursor.style = cursor.style or section[0]
            cursor.section = {
                "number": len(data["sections"]) + 1,
                "title": line.strip()[len(flat.strip()) - len(section[1]) :][:200],
                "key_areas": [],
            }
            data["sections"].append(cursor.section)
            cursor.area, cursor.paragraphs_in_section = None, 0
            continue
        if cursor.section is None:
            _headline_targets(data, line, flat)
            continue
        if CLOSING.match(flat):
            break
        cursor.paragraphs_in_section += 1
        _paragraph(cursor, line, flat)


def _section_heading(flat: str, style: str | None) -> tuple[str, str] | None:
    match = SECTION_LINE.match(flat)
    if not match or len(flat.strip()) > 80 or flat.rstrip().endswith("。"):
        return None
    found = "paren" if match["paren"] else "dun"
    if style and found != style:
        return None
    return found, match["title"].strip()


def _headline_targets(data: dict, line: str, flat: str) -> None:
    for lead in TARGETS_LEAD.finditer(flat):
        begin = lead.end()
        stop = flat.find("。", begin)
        stop = len(flat) if stop < 0 else stop
        group = _group(flat[max(0, lead.start() - 30) : lead.start()])
        separator = ";" if ";" in flat[begin:stop] else ","
        for original in _target_pieces(line, flat, begin, stop, separator):
            number = len(data["headline_targets"]) + 1
            data["headline_targets"].append(
                {
                    "code": f"H{number:02d}",
                    "group": group,
                    "title": original[:200],
                    "source_text": original,
                    "indicators": indicators.extract(original),
                }
            )


def _target_pieces(line: str, flat: str, begin: int, stop: int, separator: str) -> list[str]:
    """'A增长7%;B达到5家,新增C 3家;D': a ;-piece splits further at commas only when every
    comma part states its own target (so '增长6.8%左右,实际执行时努力争取更好结果' stays one)."""
    pieces, offset = [], begin
    for piece in flat[begin:stop].split(separator):
        original = line[offset : offset + len(piece)].strip()
        offset += len(piece) + 1
        parts = [part for part in re.split(r"[,,]", original) if part.strip()]
        if separator == ";" and len(parts) > 1 and all(indicators.extract(p) for p in parts):
            pieces.extend(part.strip() for part in parts)
        elif len(original) >= 4:
            pieces.append(original)
    return pieces


def _group(lead: str) -> str:
    if "创新" in lead:
        return "innovation"
    if "民生" in lead:
        return "livelihood"
    return "economic"


def _paragraph(cursor: _Cursor, line: str, flat: str) -> None:
    number = PARAGRAPH_NUMBER.match(flat)
    skip = number.end() if number else 0
    heading, body_at = _heading_sentence(flat, skip)
    one_sentence = len(SENTENCE_END.findall(flat.rstrip("。; "))) == 0
    is_intro = "我们要" in flat[:120] or (
        heading is None and cursor.paragraphs_in_section == 1 and one_sentence
    )
    if heading is not None and not is_intro:
        cursor.area = _new_area(cursor.section, line[skip : skip + len(heading)].strip())
        _items(cursor.area, line[body_at:], flat[body_at:], only_targets=False)
        return
    if is_intro:  # a section's introduction: only its targets become items
        area = _find_or_new_area(cursor.section, "总体要求")
        _items(area, line[skip:], flat[skip:], only_targets=True)
        if not area["tasks"]:
            cursor.section["key_areas"].remove(area)
        return
    # Work without a heading sentence: its first clause names the key area.
    first_clause = re.split(r"[,;。]", flat[skip:], maxsplit=1)[0]
    cursor.area = _new_area(cursor.section, line[skip : skip + len(first_clause)][:HEADING_MAX])
    _items(cursor.area, line[skip:], flat[skip:], only_targets=False)


def _heading_sentence(flat: str, skip: int) -> tuple[str | None, int]:
    stop = flat.find("。", skip)
    if stop < 0:
        return None, skip
    sentence = flat[skip:stop]
    if (
        len(sentence) > HEADING_MAX
        or re.search(r"[,;:\d]", sentence)
        or "是" in sentence
        or len(sentence) < 4
    ):
        return None, skip
    return sentence, stop + 1


def _new_area(section: dict, title: str) -> dict:
    area = {"number": len(section["key_areas"]) + 1, "title": title[:200], "tasks": []}
    section["key_areas"].append(area)
    return area


def _find_or_new_area(section: dict, title: str) -> dict:
    for area in section["key_areas"]:
        if area["title"] == title:
            return area
    return _new_area(section, title)


def _items(area: dict, line: str, flat: str, *, only_targets: bool) -> None:
    for begin, end in _item_spans(flat):
        source = line[begin:end].strip()
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


def _item_spans(flat: str) -> list[tuple[int, int]]:
    """Sentences, and within a long sentence the clauses that start a new deliverable."""
    spans, begin = [], 0
    for match in SENTENCE_END.finditer(flat):
        spans.extend(_split_sentence(flat, begin, match.end()))
        begin = match.end()
    if flat[begin:].strip():
        spans.extend(_split_sentence(flat, begin, len(flat)))
    return spans


def _split_sentence(flat: str, begin: int, end: int) -> list[tuple[int, int]]:
    cuts = [begin]
    for match in re.finditer(",", flat[begin:end]):
        at = begin + match.end()
        if (
            ACTION_START.match(flat[at:end])
            and at - cuts[-1] >= MIN_SPLIT_PART
            and end - at >= MIN_SPLIT_PART
        ):
            cuts.append(at)
    cuts.append(end)
    return list(zip(cuts, cuts[1:], strict=False))


def number_codes(data: dict) -> dict:
    """Give work items their codes: section.area.item, as in the shipped plan files."""
    for section in data["sections"]:
        for area in section["key_areas"]:
            for index, task in enumerate(area["tasks"], start=1):
                task["code"] = f"{section['number']}.{area['number']}.{index:02d}"
    return data
