"""The shipped plan data files (tasks_app/data/*.json)."""

import json
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parents[1] / "data"
DEFAULT_PLAN_FILE = DATA_DIR / "plan_2020.json"


def read_plan_file(path: Path = DEFAULT_PLAN_FILE) -> dict:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)
