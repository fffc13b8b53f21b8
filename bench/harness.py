"""What every benchmark shares: the result row, the server environment and its database."""

import os
import socket
import statistics
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/gaoxin_bench"


@dataclass
class Row:
    """One line of the table: the system's figure against the baseline's, same run, same machine.

    ratio is always "how the system compares", written so that the goal reads naturally:
    throughput ratios are system/baseline (higher is better), time ratios system/baseline
    (lower is better); `goal` says which.
    """

    name: str
    system: float
    baseline: float
    unit: str
    ratio: float
    goal: str
    meets_goal: bool
    notes: str = ""
    # Every run's figures, in the order they were taken: [{"system": x, "baseline": y}, ...].
    # system and baseline above are the medians of these; the ranges are their min and max.
    runs: list = field(default_factory=list)
    system_range: list = field(default_factory=list)
    baseline_range: list = field(default_factory=list)
    scale: float | None = None  # the province's size, set by bench.run
    series: str = ""  # rows measured at several scales share a series (how cost grows)
    extra: dict = field(default_factory=dict)  # e.g. the baseline's EXPLAIN ANALYZE summary


def _with_runs(row: Row, runs, digits: int) -> Row:
    if runs:
        row.runs = [{k: round(v, digits + 2) for k, v in run.items()} for run in runs]
        for side in ("system", "baseline"):
            values = [run[side] for run in runs]
            setattr(row, f"{side}_range", [round(min(values), digits), round(max(values), digits)])
    return row


def throughput_row(name, system, baseline, unit, minimum: float | None, notes="", runs=None) -> Row:
    ratio = system / baseline if baseline else 0.0
    goal = f"ratio >= {minimum}" if minimum is not None else "recorded (no goal)"
    meets = ratio >= minimum if minimum is not None else True
    row = Row(name, round(system, 2), round(baseline, 2), unit, round(ratio, 3), goal, meets, notes)
    return _with_runs(row, runs, 2)


def time_row(name, system, baseline, unit, maximum: float | None, notes="", runs=None) -> Row:
    ratio = system / baseline if baseline else float("inf")
    goal = f"ratio <= {maximum}" if maximum is not None else "recorded (no goal)"
    meets = ratio <= maximum if maximum is not None else True
    row = Row(name, round(system, 4), round(baseline, 4), unit, round(ratio, 3), goal, meets, notes)
    return _with_runs(row, runs, 4)


def interleaved(functions: dict, runs: int, *, warmup: int = 1, scale: float = 1.0) -> dict:
    """Every function run in turns (A B A B ...), `warmup` untimed rounds first, then `runs`
    timed rounds, so that the load of a shared machine falls on each alike.

    A function answers its own elapsed seconds when it returns a float (e.g. it times only the
    part inside a transaction it rolls back); otherwise the call is timed here.
    Returns {"medians": {name: median * scale}, "runs": [{name: seconds * scale}, ...]}.
    """
    rounds = []
    for number in range(warmup + runs):
        figures = {}
        for name, function in functions.items():
            started = time.perf_counter()
            answer = function()
            elapsed = time.perf_counter() - started
            figures[name] = (answer if isinstance(answer, float) else elapsed) * scale
        if number >= warmup:
            rounds.append(figures)
    medians = {name: statistics.median(r[name] for r in rounds) for name in functions}
    return {"medians": medians, "runs": rounds}


def pair_runs(rounds: list[dict], system: str, baseline: str) -> list[dict]:
    """The rounds of interleaved() as [{"system": .., "baseline": ..}] for one row."""
    return [{"system": r[system], "baseline": r[baseline]} for r in rounds]


def server_env(database_url: str) -> dict:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        DEBUG="0",
        SECRET_KEY="bench-" + "x" * 60,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_SETTINGS_MODULE="bench.settings",
        PYTHONPATH=str(ROOT),
    )
    env.pop("CELERY_BROKER_URL", None)
    env.pop("REDIS_URL", None)
    return env


def fresh_database(database_url: str) -> None:
    import psycopg2

    name = database_url.rsplit("/", 1)[1]
    admin = database_url.rsplit("/", 1)[0] + "/postgres"
    conn = psycopg2.connect(admin)
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    conn.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer within {seconds}s")
