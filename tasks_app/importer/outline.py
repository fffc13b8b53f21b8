"""The outline of an official document: its numbered headings as a tree.

Official documents number their levels in a fixed order (GB/T 9704: 一、 -> (一) -> 1. -> (1)),
full- or half-width; reports also enumerate with 第一, / 一是 / 首先, and put part headings
("2021年工作安排") alone on a line without a number. A heading may stand alone on its line or open
a paragraph and end at its first 。. parse_outline reads the whole text into that tree and knows
nothing of work reports; text.py classifies the nodes.
"""

import re
from dataclasses import dataclass, field

from tasks_app.importer.indicators import fold

CN_DIGITS = "〇零一二三四五六七八九十"
CN = f"[{CN_DIGITS}]{{1,3}}"
# (style, pattern at the start of a folded line); the GB/T 9704 styles have a fixed rank.
MARKERS = [
    ("dun", re.compile(rf"^(?P<n>{CN})\s*[、,.]")),
    ("paren", re.compile(rf"^[((](?P<n>{CN})[))]\s*[、.]?")),
    ("arabic", re.compile(r"^(?P<n>\d{1,2})\s*(?:[、]|\.(?!\d))")),
    ("paren_arabic", re.compile(r"^[((](?P<n>\d{1,2})[))]\s*[、.]?")),
    ("circled", re.compile(r"^(?P<n>[①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳])")),
    ("di", re.compile(rf"^第(?P<n>{CN})\s*[,、::]")),
    ("shi", re.compile(rf"^(?P<n>{CN})是\s*[,、::]?(?=\S)")),
    ("first", re.compile(r"^(?P<n>首先|其次|再次|最后)\s*[,,]")),
]
RANK = {"part": 0, "dun": 1, "paren": 2, "arabic": 3, "paren_arabic": 4, "circled": 5}
ORDINAL_WORDS = {"首先": 1, "其次": 2, "再次": 3, "最后": 4}
# Inline enumerations inside one paragraph: "……。一是推进……。二是……".
INLINE = re.compile(rf"(?<=[。;:])\s*(?:(?P<shi>{CN})是|第(?P<di>{CN})\s*[,、])")
HEADING_MAX = 60
TERMINAL = "。!?;:"


@dataclass
class Node:
    style: str  # "root", "part" (an unnumbered part heading) or a marker style
    number: int
    heading: str  # original text, marker removed, up to the first 。 when it opens a paragraph
    line: int  # index of the heading's line in the text, -1 for the root
    rank: float = 0
    paragraphs: list[tuple[int, str]] = field(default_factory=list)  # (line, original text)
    children: list["Node"] = field(default_factory=list)
    parent: "Node | None" = field(default=None, repr=False)

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()

    def last_line(self) -> int:
        lines = [self.line] + [line for line, _ in self.paragraphs]
        if self.children:
            lines.append(self.children[-1].last_line())
        return max(lines)

    def text(self) -> str:
        """Heading, paragraphs and descendants, one paragraph a line."""
        parts = [self.heading] if self.heading else []
        parts += [text for _, text in self.paragraphs]
        parts += [child.text() for child in self.children]
        return "\n".join(part for part in parts if part)


def cn_number(text: str) -> int:
    """一 -> 1, 十二 -> 12, 二十 -> 20 (the numbers of headings only)."""
    if text.isdigit():
        return int(text)
    if text in ORDINAL_WORDS:
        return ORDINAL_WORDS[text]
    digits = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"〇": 0}
    if "十" in text:
        tens, _, ones = text.partition("十")
        return digits.get(tens, 1) * 10 + digits.get(ones, 0) if len(text) <= 3 else 0
    if len(text) == 1:
        return digits.get(text, 0)
    if text[0] in "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳":
        return ord(text[0]) - ord("①") + 1
    return 0


def marker(flat: str) -> tuple[str, int, int] | None:
    """(style, number, end of the marker) of a folded line that opens with a heading number."""
    for style, pattern in MARKERS:
        match = pattern.match(flat)
        if match:
            number = cn_number(match["n"])
            if number:
                return style, number, match.end()
    return None


def split_heading(rest: str) -> tuple[str, str]:
    """(heading, body) of the text after a marker: the whole of a short line without 。, else
    the first sentence when it is short enough to be a heading."""
    stripped = rest.strip()
    if len(stripped) <= HEADING_MAX and not any(mark in stripped[:-1] for mark in "。"):
        return stripped.rstrip("。"), ""
    stop = stripped.find("。")
    if 0 < stop <= HEADING_MAX * 2:
        return stripped[:stop], stripped[stop + 1 :].strip()
    return "", stripped


def parse_outline(lines: list[str], is_part_heading) -> Node:
    """The tree of lines; is_part_heading(folded line) says which unnumbered lines head a part."""
    root = Node(style="root", number=0, heading="", line=-1, rank=-1)
    stack = [root]
    for index, line in enumerate(lines):
        flat = fold(line).strip()
        if not flat:
            continue
        found = marker(flat)
        if found is None and is_part_heading(flat):
            found = ("part", 0, 0)
        if found is None:
            stack[-1].paragraphs.append((index, line.strip()))
            continue
        style, number, end = found
        original = line.strip()
        heading, body = split_heading(original[end:]) if style != "part" else (original, "")
        parent = _parent(stack, style)
        rank = RANK.get(style, parent.rank + 0.5)
        node = Node(style, number, heading, index, rank=rank, parent=parent)
        if body:
            node.paragraphs.append((index, body))
        parent.children.append(node)
        stack.append(node)
    return root


def _parent(stack: list[Node], style: str) -> Node:
    """Pop the stack to the node the new heading belongs under (and leave that node on top)."""
    for depth in range(len(stack) - 1, 0, -1):
        if stack[depth].style == style:  # a sibling: its parent is the parent
            del stack[depth:]
            return stack[-1]
    if style in RANK:
        while len(stack) > 1 and stack[-1].rank >= RANK[style]:
            stack.pop()
    return stack[-1]


def inline_items(paragraph: str) -> list[str]:
    """A paragraph enumerating "一是……。二是……" -> its enumerated pieces (the text before
    the first one kept as the first piece); [paragraph] when it enumerates fewer than two."""
    flat = fold(paragraph)
    starts = [match.start() for match in INLINE.finditer(flat)]
    while starts and flat[starts[0]].isspace():
        starts[0] += 1
    if len(starts) < 2:
        return [paragraph]
    cuts = [0, *starts, len(paragraph)]
    pieces = [paragraph[a:b].strip() for a, b in zip(cuts, cuts[1:], strict=False)]
    return [piece for piece in pieces if piece]
