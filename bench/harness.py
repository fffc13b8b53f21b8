"""What every benchmark shares: the result row, the server environment and its database."""

import os
import socket
import time
import urllib.request
from dataclasses import dataclass
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


def throughput_row(name, system, baseline, unit, minimum: float | None, notes="") -> Row:
    ratio = system / baseline if baseline else 0.0
    goal = f"ratio >= {minimum}" if minimum is not None else "recorded (no goal)"
    meets = ratio >= minimum if minimum is not None else True
    return Row(
        name, round(system, 2), round(baseline, 2), unit, round(ratio, 3), goal, meets, notes
    )


def time_row(name, system, baseline, unit, maximum: float | None, notes="") -> Row:
    ratio = system / baseline if baseline else float("inf")
    goal = f"ratio <= {maximum}" if maximum is not None else "recorded (no goal)"
    meets = ratio <= maximum if maximum is not None else True
    return Row(
        name, round(system, 4), round(baseline, 4), unit, round(ratio, 3), goal, meets, notes
    )


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
