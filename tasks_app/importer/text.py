"""A work report's text -> a draft plan in the format of tasks_app/data/plan_2020.json.

The genre: a review of last year, then the part that plans this year ("二、2020年工作计划",
"三、2024年政府工作任务", "2021年工作安排" alone on a line), often after a part that states the
year's targets ("今年……主要预期目标是: 地区生产总值增长7%; ..."), then attachments (附件,
民生实事, 名词解释). The text is first read into its outline (outline.py); this module classifies
the outline's parts, takes the plan's numbered children as sections (方面) whatever markers the
report uses, their children or heading paragraphs as key areas (重点领域) and the sentences below
them as work items. Targets are read anywhere in the year's part; last year's results, estimates
(预计) and five-year goals are not this year's targets.
"""

import logging
import re

from tasks_app.importer import indicators, outline
from tasks_app.importer.items import item_spans, items_into
from tasks_app.importer.outline import Node

logger = logging.getLogger(__name__)

ATTACHMENT = re.compile(
    r"^(?:附件|附[::]|附录|附表|\[?\d*\]?\.?有关名词|(?:有关)?名词解释|.{0,20}名词(?:、术语)?(?:注释|解释)|"
    r".{0,12}测算说明)"
)
PART_TIME = re.compile(
    r"20\d\d|今年|本年|明年|新的一年|过去|未来|今后|十[一二三四五]五|五年|本届|新一届|一年来"
)
PART_WORD = re.compile(
    r"回顾|工作|安排|任务|思路|目标|成就|成绩|情况|形势|计划|重点|举措|部署|民生实事|建议"
)
PLAN_WORDS = re.compile(
    r"工作安排|工作计划|主要工作|重点工作|工作任务|工作重点|工作思路|主要任务|任务|重点|安排|计划|"
    r"部署|建议|举措|工作$"
)
REVIEW_WORDS = re.compile(r"回顾|总结|成绩|成就|做了|完成情况|基本情况|取得|迈出|发展情况")
GUIDANCE = re.compile(r"总体要求|总体部署|总体思路|政策取向|目标要求|形势")
LONG_TERM = re.compile(r"五年|十[一二三四五]五|“十五”|十五时期|未来|今后|远景|二〇三五|2035")
CLOSING = re.compile(r"^\s*(?:各位代表|同志们|各位委员)")
NOT_WORK_REPORT = re.compile(r"法治政府建设|安全生产工作|信息公开工作年度报告")
WORK_REPORT = re.compile(r"各位代表|政府工作报告|向大会报告|工作计划|工作安排|主要工作")
TARGETS_LEAD = re.compile(r"目标(?:是|为)?\s*:")
# Sentences in the year's part that state the past or the long term, not this year's targets.
NOT_THIS_YEAR = re.compile(
    r"过去|(?<!比)(?:去年|上年)|五年|十[一二三四五]五|年均|累计|以来|已经|预计|回顾|2035|二〇三五|远景"
)
RESTATED = re.compile(r"目标|增速")
CN_YEAR = str.maketrans("〇零一二三四五六七八九", "00123456789")
HEADING_MAX = 30
SECTION_MIN = 3


def parse_report(
    text: str, *, year: int, title: str = "", government: str = "", report_date: str | None = None
) -> dict:
    """The draft plan of text; never raises (odd text gives a draft with warnings)."""
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
        "plan_part": {"heading": "", "first_line": 1, "last_line": 0},
        "warnings": [],
        "document": {"kind": "work_report", "message": ""},
    }
    try:
        _parse(data, str(text or ""), year)
    except Exception:  # the promise is a draft for any text; the log keeps what went wrong
        logger.exception("report parsing failed")
        data["sections"], data["headline_targets"] = [], []
        data["error"] = "parse_failed"
        data["warnings"].append("解析报告时出错,未能生成草稿内容,请检查文本或手工录入。")
    return number_codes(data)


def _parse(data: dict, text: str, year: int) -> None:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    folded = [indicators.fold(line) for line in lines]
    root = outline.parse_outline(lines, _is_part_heading)
    data["plan_part"]["last_line"] = len(lines)
    kind = _document_kind(folded)
    if kind:
        data["document"] = {"kind": kind[0], "message": kind[1]}
        data["warnings"].append(kind[1])
        return
    parts = root.children
    plan_at = _plan_node(parts, year)
    if plan_at is None:
        data["warnings"].append(
            "未找到“20XX年工作安排/主要工作/重点工作”等标题,已按全文解析,请核对。"
        )
        _read_without_plan_heading(data, root, year)
        return
    plan = parts[plan_at]
    following = _continuation(parts, plan_at, year)
    sections = [child for child in plan.children if child.style != "part"] + following
    closing = _closing_line(lines, sections)
    last = (following[-1] if following else plan).last_line()
    data["plan_part"] = {
        "heading": _heading_line(lines, plan),
        "first_line": plan.line + 2,
        "last_line": min(last + 1, closing if closing is not None else len(lines)),
    }
    _read_year_targets(data, parts, plan_at, plan, year)
    for node in sections:
        _section(data, node, closing)
    _livelihood_attachments(data, parts[plan_at + 1 + len(following) :], year)
    if len(data["sections"]) < SECTION_MIN:
        data["warnings"].append(
            f"计划部分只识别出 {len(data['sections'])} 个带编号的方面,请检查草稿。"
        )


def _is_part_heading(flat: str) -> bool:
    if len(flat) > 40 or flat.startswith(("——", "-", "—")) or flat[-1] in "。;:!?,":
        return False
    if ATTACHMENT.match(flat):
        return True
    return bool(PART_TIME.search(flat) and PART_WORD.search(flat))


def _document_kind(folded: list[str]) -> tuple[str, str] | None:
    opening = "\n".join(line for line in folded[:8] if line.strip())
    body = "\n".join(folded)
    if "。" not in body and not any(len(line.strip()) >= 60 for line in folded):
        return "empty", "未找到报告正文(没有成段的文字),请检查上传的文件。"
    if not WORK_REPORT.search(opening) and NOT_WORK_REPORT.search(body[:3000]):
        return (
            "other",
            "这不是政府工作报告(看来是专项工作报告,如法治政府建设报告),没有生成计划。",
        )
    return None


def _year_text(heading: str) -> str:
    """Heading with 二〇二〇年 written as 2020年, for matching the year."""
    return re.sub(
        r"[〇零一二三四五六七八九]{4}年",
        lambda m: m[0].translate(CN_YEAR),
        indicators.fold(heading),
    )


def _score(node: Node, year: int) -> int:
    heading = _year_text(node.heading)
    this_year = f"{year}年" in heading or re.search(r"今年|本年|新的一年|明年", heading)
    score = 4 if this_year else 0
    if PLAN_WORDS.search(heading):
        score += 2
    if REVIEW_WORDS.search(heading):
        score -= 6
    if not this_year and re.search(r"20\d\d年", heading):
        score -= 4
    if LONG_TERM.search(heading) or GUIDANCE.search(heading):
        score -= 1
    if len(node.children) >= SECTION_MIN:
        score += 1
    return score


def _is_review(node: Node, year: int) -> bool:
    """Last year's (or the last term's) review: 回顾/总结/成绩, or a heading naming another year."""
    heading = _year_text(node.heading)
    other_year = re.search(r"20\d\d年", heading) and f"{year}年" not in heading
    return bool(REVIEW_WORDS.search(heading) or other_year)


def _plan_node(parts: list[Node], year: int) -> int | None:
    best, best_score = None, 1
    for index, node in enumerate(parts):
        if ATTACHMENT.match(indicators.fold(node.heading)):
            break  # nothing after the attachments plans the year
        score = _score(node, year)
        if score > best_score:
            best, best_score = index, score
    return best


def _continuation(parts: list[Node], plan_at: int, year: int) -> list[Node]:
    """Top-level parts after the plan that carry on its work ("三、全面加强政府自身建设")."""
    following = []
    for node in parts[plan_at + 1 :]:
        heading = _year_text(node.heading)
        if (
            node.style == "part"
            or ATTACHMENT.match(heading)
            or REVIEW_WORDS.search(heading)
            or (re.search(r"20\d\d年", heading) and f"{year}年" not in heading)
        ):
            break
        following.append(node)
    return following


def _closing_line(lines: list[str], sections: list[Node]) -> int | None:
    """The line of "各位代表" after the last section starts: what follows it is no work item."""
    if not sections:
        return None
    for index in range(sections[-1].line + 1, len(lines)):
        if CLOSING.match(indicators.fold(lines[index])):
            return index
    return None


def _heading_line(lines: list[str], node: Node) -> str:
    line = lines[node.line].strip()
    return line if len(line) <= 60 else line[: line.find("。") + 1 or 60]


# --- Targets of the year outside the sections -------------------------------------------------


def _read_year_targets(data: dict, parts: list[Node], plan_at: int, plan: Node, year: int) -> None:
    """The year's part before the sections: the parts between the last review and the plan
    (unless they look only ahead five years) and the plan heading's own paragraphs."""
    start = plan_at
    while start > 0 and not _is_review(parts[start - 1], year):
        start -= 1
    paragraphs = []
    for node in parts[start:plan_at]:
        heading = _year_text(node.heading)
        if LONG_TERM.search(heading) and f"{year}年" not in heading and "今年" not in heading:
            continue
        paragraphs += [text for _, text in node.paragraphs]
        for child in node.children:
            paragraphs += child.text().split("\n")
    paragraphs += [text for _, text in plan.paragraphs]
    others = _headline_paragraphs(data, paragraphs, year)
    for text in others:  # after the stated main targets, the year's other figures
        _year_sentences(data, text, indicators.fold(text), year)
    for number, target in enumerate(data["headline_targets"], start=1):
        target["code"] = f"H{number:02d}"


def _headline_paragraphs(data: dict, paragraphs: list[str], year: int) -> list[str]:
    """Read the targets after "主要预期目标是:"; return the paragraphs without such a lead."""
    lead_open, others = False, []
    for text in paragraphs:
        flat = indicators.fold(text)
        if lead_open and flat.lstrip().startswith(("——", "-", "—")):
            _headline(data, re.sub(r"^[——\-\s]+|[。;;\s]+$", "", text), "economic")
            continue
        lead_open = False
        leads = list(TARGETS_LEAD.finditer(flat))
        if leads and _looks_ahead_years(flat[: leads[0].start()], year):
            continue  # "未来五年,政府要努力实现以下目标:" is not this year's
        if leads:
            lead_open = not flat[leads[-1].end() :].strip()
            _headline_targets(data, text, flat)
            stop = flat.find("。", leads[-1].end())
            if 0 < stop < len(flat) - 1:  # "……同步。单位国内生产总值能耗下降3.4%以上。"
                others.append(text[stop + 1 :])
            continue
        others.append(text)
    return others


def _looks_ahead_years(lead: str, year: int) -> bool:
    years = [int(found) for found in re.findall(r"(20\d\d)年", lead)]
    return bool(LONG_TERM.search(lead)) or any(found != year for found in years)


def _year_sentences(data: dict, text: str, flat: str, year: int) -> None:
    """Other sentences of the year's part that state a target of the year."""
    for begin, end in item_spans(flat):
        sentence = flat[begin:end]
        other_year = re.search(r"(?:到|至)?(20\d\d)年", sentence)
        if other_year and int(other_year[1]) != year:
            continue
        original = re.sub(r"[。;;\s]+$", "", text[begin:end].strip())
        stated = {_same(i) for head in data["headline_targets"] for i in head["indicators"]}
        found = [
            i
            for i in indicators.extract(original)
            if not NOT_THIS_YEAR.search(i["text"])
            and not (_same(i) in stated and RESTATED.search(i["text"]))
        ]
        if found:  # a figure already stated is the explanation of a target, not a new one
            _headline(data, original, "economic")
            data["headline_targets"][-1]["indicators"] = found


def _same(indicator: dict) -> tuple:
    return indicator["value"], indicator["value_max"], indicator["unit"], indicator["comparator"]


def _headline(data: dict, original: str, group: str) -> None:
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


def _headline_targets(data: dict, line: str, flat: str) -> None:
    for lead in TARGETS_LEAD.finditer(flat):
        begin = lead.end()
        stop = flat.find("。", begin)
        stop = len(flat) if stop < 0 else stop
        group = _group(flat[max(0, lead.start() - 30) : lead.start()])
        separator = ";" if ";" in flat[begin:stop] else ","
        for original in _target_pieces(line, flat, begin, stop, separator):
            _headline(data, original, group)


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


# --- Sections, key areas and items -------------------------------------------------------------


def _title(node: Node) -> str:
    if node.heading:
        return node.heading[:200]
    first = re.split(r"[,;。,;]", node.paragraphs[0][1] if node.paragraphs else "", maxsplit=1)
    return first[0][:HEADING_MAX]


def _section(data: dict, node: Node, closing: int | None) -> None:
    section = {"number": len(data["sections"]) + 1, "title": _title(node), "key_areas": []}
    paragraphs = [(line, text) for line, text in node.paragraphs if _before(line, closing)]
    children = [child for child in node.children if _before(child.line, closing)]
    if node.heading and len(node.heading) > HEADING_MAX * 2:  # "一是认真做好……规划编制工作,……。"
        items_into(_new_area(section, _title(node)[:HEADING_MAX]), node.heading, only_targets=False)
    for index, (_, text) in enumerate(paragraphs):
        is_intro = index == 0 and (children or len(paragraphs) > 1) and _is_intro(text, node)
        _paragraph(section, text, intro=is_intro)
    for child in children:
        _child_area(section, child, closing)
    if not node.heading and section["key_areas"]:  # the whole section was one paragraph
        section["title"] = section["key_areas"][0]["title"]
    data["sections"].append(section)


def _before(line: int, closing: int | None) -> bool:
    return closing is None or line < closing


def _is_intro(text: str, node: Node) -> bool:
    """The paragraph on a section's heading line, or a "我们要" paragraph, introduces it."""
    flat = indicators.fold(text)
    heading, _ = _heading_sentence(flat, 0)
    return node.paragraphs[0][0] == node.line or "我们要" in flat[:120] or heading is None


def _child_area(section: dict, child: Node, closing: int | None) -> None:
    area = _new_area(section, _title(child))
    texts = [text for line, text in child.paragraphs if _before(line, closing)]
    for grandchild in child.children:
        if _before(grandchild.line, closing):
            texts.append(grandchild.text())
    if child.heading and (not texts or _is_content(child.heading)):
        texts.insert(0, child.heading)  # "一是城镇登记失业率控制在3%以内,……。": work, not a title
    for text in "\n".join(texts).split("\n"):
        items_into(area, text, only_targets=False)
    if not area["tasks"]:
        section["key_areas"].remove(area)


def _is_content(heading: str) -> bool:
    return len(heading) > HEADING_MAX or bool(indicators.extract(heading))


def _paragraph(section: dict, text: str, *, intro: bool) -> None:
    pieces = outline.inline_items(text)
    if len(pieces) > 1:
        lead, *enumerated = pieces
        if outline.INLINE.match("。" + indicators.fold(lead)):
            enumerated.insert(0, lead)
        else:
            _paragraph(section, lead, intro=True)
        for piece in enumerated:
            _paragraph(
                section, re.sub(r"^\s*(?:\S{1,3}是|第\S{1,3}[,,、])", "", piece), intro=False
            )
        return
    flat = indicators.fold(text)
    heading, body_at = _heading_sentence(flat, 0)
    if intro:
        area = _find_or_new_area(section, "总体要求")
        items_into(area, text, only_targets=True)
        if not area["tasks"]:
            section["key_areas"].remove(area)
        return
    if heading is not None:
        area = _new_area(section, text[: len(heading)].strip())
        items_into(area, text[body_at:] or text[: len(heading)], only_targets=False)
        return
    first_clause = re.split(r"[,;。]", flat, maxsplit=1)[0]
    area = _new_area(section, text[: len(first_clause)][:HEADING_MAX])
    items_into(area, text, only_targets=False)
    if not area["tasks"]:
        section["key_areas"].remove(area)


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


# --- Attachments: this year's 民生实事 --------------------------------------------------------

TABLE_WORDS = re.compile(
    r"^(?:序号|项目名称|民生事项|办理单位|完成情况|牵头单位|协办单位|责任单位|备注)"
)
DEPARTMENT_LINE = re.compile(r"(?:局|办|中心|委|院|会|部|街道|集团|分局|牵头|协助办理|协办)$")


def _livelihood_attachments(data: dict, parts: list[Node], year: int) -> None:
    """'附件2 / 2016年省十件民生实事 / 一、…' or a flattened table of this year's 民生实事."""
    for node in parts:
        for heading_node in node.walk():
            heading = _year_text(heading_node.heading)
            if (
                len(heading) > 30
                or re.search(r"[::。]", heading)
                or "民生实事" not in heading
                or re.search(r"完成|落实情况|汇总", heading)
            ):
                continue
            if re.search(r"20\d\d年", heading) and f"{year}年" not in heading:
                continue
            _livelihood_section(data, heading_node)
            break


def _livelihood_section(data: dict, node: Node) -> None:
    section = {"number": len(data["sections"]) + 1, "title": node.heading[:200], "key_areas": []}
    rows = [text for _, text in node.paragraphs] + [child.text() for child in node.children]
    if not rows and node.parent is not None:  # "附件1" / "2016年省十件民生实事" / rows
        siblings = node.parent.children
        rows = [sibling.text() for sibling in siblings[siblings.index(node) + 1 :]]
    area = _new_area(section, "民生实事")
    for row in "\n".join(rows).split("\n"):
        flat = indicators.fold(row).strip()
        if len(flat) < 6 or TABLE_WORDS.match(flat) or flat.isdigit():
            continue
        if len(flat) <= 16 and DEPARTMENT_LINE.search(flat):
            continue
        items_into(area, row, only_targets=False)
    if area["tasks"]:
        data["sections"].append(section)


def _read_without_plan_heading(data: dict, root: Node, year: int) -> None:
    """No plan heading: the numbered top-level nodes with the most work are read as sections."""
    candidates = [node for node in root.walk() if len(node.children) >= SECTION_MIN]
    if not candidates:
        return
    best = max(candidates, key=lambda node: (len(node.children), -node.line))
    data["plan_part"]["heading"] = ""
    for node in best.children:
        _section(data, node, None)


def number_codes(data: dict) -> dict:
    """Give work items their codes: section.area.item, as in the shipped plan files."""
    for section in data["sections"]:
        for area in section["key_areas"]:
            for index, task in enumerate(area["tasks"], start=1):
                task["code"] = f"{section['number']}.{area['number']}.{index:02d}"
    return data
