#!/usr/bin/env python3
"""Sanity checks for plan_2020.json (Zhuhai High-tech Zone 2020 work plan).

Usage: python3 check_plan_2020.py [plan.json]   (stdlib only; exits non-zero on failure)
The default is plan_2020.json beside this file; the tests also check the register rebuilt from
the seed report's draft and the recorded edits (plan_2020_edits.json).
"""

import json
import os
import re
import sys
from decimal import Decimal, InvalidOperation

HERE = os.path.dirname(os.path.abspath(__file__))
JSON_PATH = os.path.join(HERE, "plan_2020.json")
TXT_PATH = os.path.join(HERE, "zhuhai_gaoxin_2020_report.txt")

COMPARATORS = {"growth", "gte", "gt", "lte", "lt", "eq", "approx", "between"}
PLAN_FIRST, PLAN_LAST = 26, 50  # 1-based line range of the 2020 plan part
ECON_LINE, INNOV_LINE = 28, 29
SECTION_MARKS = ["(一)", "(二)", "(三)", "(四)", "(五)"]
SEPARATORS = set(",。;和")  # clause separators (and the connective 和 between split clauses)

failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
    return cond


def main():
    with open(TXT_PATH, encoding="utf-8") as f:
        lines = f.read().split("\n")

    def line(n):
        return lines[n - 1]

    check(line(PLAN_FIRST).startswith("二、2020年工作计划"), "line 26 is not the plan heading")

    with open(sys.argv[1] if len(sys.argv) > 1 else JSON_PATH, encoding="utf-8") as f:
        data = json.load(f)

    plan = data["plan"]
    check(plan["year"] == 2020, "plan.year")
    check(plan["report_date"] == "2020-01-21", "plan.report_date")

    codes = []
    all_indicators = []  # (code, indicator)

    def check_indicators(code, item):
        for ind in item["indicators"]:
            all_indicators.append((code, ind))
            check(
                set(ind) == {"name", "value", "value_max", "unit", "comparator", "text"},
                f"{code}: indicator keys {sorted(ind)}",
            )
            check(bool(ind["name"]) and bool(ind["unit"]), f"{code}: empty name/unit")
            check(ind["comparator"] in COMPARATORS, f"{code}: bad comparator {ind['comparator']}")
            try:
                Decimal(ind["value"])
            except (InvalidOperation, TypeError):
                check(False, f"{code}: value not decimal {ind['value']!r}")
            if ind["comparator"] == "between":
                try:
                    check(
                        Decimal(ind["value_max"]) > Decimal(ind["value"]),
                        f"{code}: value_max <= value",
                    )
                except (InvalidOperation, TypeError):
                    check(False, f"{code}: between without decimal value_max")
            else:
                check(ind["value_max"] is None, f"{code}: value_max only allowed with between")
            check(
                ind["text"] in item["source_text"],
                f"{code}: indicator text not in source_text: {ind['text']}",
            )

    # ---- headline targets ----
    heads = data["headline_targets"]
    for i, h in enumerate(heads, 1):
        code = h["code"]
        codes.append(code)
        check(code == f"H{i:02d}", f"headline code out of sequence: {code}")
        check(h["group"] in ("economic", "innovation"), f"{code}: bad group")
        src_line = line(ECON_LINE if h["group"] == "economic" else INNOV_LINE)
        check(h["source_text"] in src_line, f"{code}: source_text not in line: {h['source_text']}")
        check(0 < len(h["title"]) <= 60, f"{code}: title length")
        check_indicators(code, h)
    qual = [h for h in heads if h["source_text"].startswith("社会消费品零售总额")]
    check(
        len(qual) == 1 and qual[0]["indicators"] == [],
        "qualitative headline target missing/has indicators",
    )

    # ---- sections / key areas / tasks ----
    secs = data["sections"]
    check(len(secs) == 5, f"expected 5 sections, got {len(secs)}")
    section_lines = [
        n
        for n in range(PLAN_FIRST, PLAN_LAST + 1)
        if any(line(n).startswith(m) for m in SECTION_MARKS)
    ]
    check(len(section_lines) == 5, f"found {len(section_lines)} section lines in txt")
    n_ka = n_tasks = 0
    per_section = []
    for si, sec in enumerate(secs, 1):
        check(sec["number"] == si, f"section number {sec['number']}")
        sl = section_lines[si - 1]
        check(line(sl) == SECTION_MARKS[si - 1] + sec["title"], f"section {si} title mismatch")
        check(len(sec["key_areas"]) == 3, f"section {si}: expected 3 key areas")
        sec_tasks = 0
        for ki, ka in enumerate(sec["key_areas"], 1):
            n_ka += 1
            ln = sl + ki
            check(PLAN_FIRST <= ln <= PLAN_LAST, f"{si}.{ki}: line {ln} outside plan part")
            para = line(ln)
            check(ka["number"] == ki, f"{si}.{ki}: key area number")
            check(para.startswith(ka["title"] + "。"), f"{si}.{ki}: key area title mismatch")
            covered = [False] * len(para)
            for c in range(len(ka["title"]) + 1):
                covered[c] = True
            for ti, t in enumerate(ka["tasks"], 1):
                n_tasks += 1
                sec_tasks += 1
                code = t["code"]
                codes.append(code)
                check(code == f"{si}.{ki}.{ti:02d}", f"task code out of sequence: {code}")
                check(re.fullmatch(r"\d\.\d\.\d{2}", code) is not None, f"bad code {code}")
                check(0 < len(t["title"]) <= 60, f"{code}: title length {len(t['title'])}")
                src = t["source_text"]
                pos = para.find(src)
                if check(pos >= 0, f"{code}: source_text not in line {ln}: {src}"):
                    check(src != ka["title"] + "。", f"{code}: heading sentence used as task")
                    for c in range(pos, pos + len(src)):
                        covered[c] = True
                check_indicators(code, t)
            # every character of the paragraph must be covered by some task (except separators)
            pairs = zip(para, covered, strict=False)
            gaps = "".join(ch for ch, cv in pairs if not cv and ch not in SEPARATORS)
            check(gaps == "", f"{si}.{ki}: paragraph text not covered by tasks: {gaps[:40]}")
        per_section.append(sec_tasks)
    check(n_ka == 15, f"expected 15 key areas, got {n_ka}")
    check(100 <= n_tasks <= 160, f"expected 100-160 tasks, got {n_tasks}")
    check(len(codes) == len(set(codes)), "duplicate codes")

    # ---- required example indicators ----
    required = [
        ("地区生产总值", "7", "%", "growth"),
        ("每万人发明专利拥有量", "170", "件/万人", "gte"),
        ("高新技术企业总数", "550", "家", "gt"),
        ("5G基站", "400", "个", "gt"),
        ("学位", "810", "个", "eq"),
        ("政务服务事项网上可办率", "85", "%", "eq"),
        ("专利申请量", "5500", "项", "gte"),
        ("共有产权房", "493", "套", "eq"),
        ("人才公寓", "1200", "套", "eq"),
    ]
    have = {
        (i["name"], Decimal(i["value"]), i["unit"], i["comparator"])
        for _, i in all_indicators
        if _is_decimal(i["value"])
    }
    for name, value, unit, comp in required:
        check(
            (name, Decimal(value), unit, comp) in have,
            f"required indicator missing: {name} {comp} {value}{unit}",
        )

    print(f"headline targets: {len(heads)}")
    print(f"sections: {len(secs)}, key areas: {n_ka}")
    print(f"tasks: {n_tasks} (per section: {per_section})")
    print(
        f"indicators: {len(all_indicators)} "
        f"(headline {sum(len(h['indicators']) for h in heads)}, "
        f"tasks {len(all_indicators) - sum(len(h['indicators']) for h in heads)})"
    )
    if failures:
        print(f"\nFAILED ({len(failures)}):")
        for msg in failures:
            print("  -", msg)
        sys.exit(1)
    print("OK")


def _is_decimal(v):
    try:
        Decimal(v)
        return True
    except (InvalidOperation, TypeError):
        return False


if __name__ == "__main__":
    main()
