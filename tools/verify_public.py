#!/usr/bin/env python3
"""Check a public progress snapshot downloaded from gaoxin's /public/ pages, offline (standard
library only).

    python3 verify_public.py SNAPSHOT.json SHA256 [--seq N]
        [--ledger LEDGER.csv --manifest MANIFEST.json] [--checkpoints checkpoints.json]

SNAPSHOT.json is the file the snapshot page offers ("下载规范JSON"); SHA256 and N are the hash
and ledger seq the page (or /public/snapshots.json) showed when it was published. Each
government keeps its own ledger chain: N is a seq of the chain of the plan's government
(`government_id` in /public/snapshots.json), and the ledger export must be that government's.

Checks: the file's SHA-256 is SHA256; the file is canonical JSON (keys sorted, compact, UTF-8)
in the snapshot format. Given an auditor's ledger CSV export and its manifest (审计 → 导出), the
export itself is checked as tools/verify_export.py does (every row's hash, the chain), and the
ledger must hold the publication event: action public_snapshot.publish on the snapshot's plan,
recording this SHA-256 (at seq N when --seq is given). Given the public checkpoint feed
(/public/checkpoints.json, saved at any time since), every checkpoint the export covers must
still carry the hash it had: a ledger rewritten after the checkpoint was saved fails here
(the feed's checkpoints of other governments are not the export's chain and are skipped).
Exit status 0 when everything holds, 1 at the first failure (printed), 2 on bad arguments.
"""

import argparse
import csv
import hashlib
import io
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import verify_export  # noqa: E402  (the ledger export's checks, standard library too)

FORMAT = "gaoxin-public-snapshot/1"
PUBLISH_ACTION = "public_snapshot.publish"
HEX64 = re.compile(r"^[0-9a-f]{64}$")


class Failure(Exception):
    pass


def check_snapshot(data: bytes, expected: str) -> dict:
    digest = hashlib.sha256(data).hexdigest()
    if digest != expected:
        raise Failure(f"snapshot SHA-256 is {digest}, the published hash is {expected}")
    snapshot = json.loads(data.decode("utf-8"))
    if verify_export.canonical(snapshot).encode("utf-8") != data:
        raise Failure("the snapshot is not in canonical form (sorted keys, compact JSON)")
    if not isinstance(snapshot, dict) or snapshot.get("format") != FORMAT:
        raise Failure(f"not a gaoxin public snapshot (format {FORMAT} expected)")
    return snapshot


def ledger_rows(text: str) -> list[tuple[dict, str]]:
    """(event, stored hash) of each row of a ledger CSV export."""
    reader = csv.DictReader(io.StringIO(text.lstrip(verify_export.BOM), newline=""))
    rows = [verify_export.keyed(row) for row in reader]  # headers "标签 [key]" or "key"
    return [(verify_export.event_of(row), verify_export.unneutralise(row["hash"])) for row in rows]


def check_published(rows, snapshot: dict, digest: str, seq: int | None) -> int:
    plan_id = str((snapshot.get("plan") or {}).get("id"))
    for event, _stored in rows:
        after = event["after"] if isinstance(event["after"], dict) else {}
        if event["action"] == PUBLISH_ACTION and after.get("sha256") == digest:
            if event["object_id"] != plan_id:
                raise Failure(
                    f"seq {event['seq']} records this hash for plan {event['object_id']}, "
                    f"the snapshot is of plan {plan_id}"
                )
            if seq is not None and event["seq"] != seq:
                raise Failure(f"the ledger records this hash at seq {event['seq']}, not {seq}")
            return event["seq"]
    where = f" at seq {seq}" if seq is not None else ""
    raise Failure(f"the ledger export has no publication of SHA-256 {digest}{where}")


def check_checkpoints(rows, feed, government_id: int | None = None) -> tuple[int, int]:
    """(checkpoints checked, checkpoints beyond the export). Each government has its own chain:
    the feed's checkpoints of other governments than the export's (its manifest's) are not
    this chain's, and are left alone."""
    points = feed.get("checkpoints") if isinstance(feed, dict) else feed
    if not isinstance(points, list):
        raise Failure("the checkpoint file holds no list of checkpoints")
    hashes = {event["seq"]: stored for event, stored in rows}
    checked = beyond = 0
    last = max(hashes, default=0)
    for point in points:
        if not isinstance(point, dict):
            raise Failure(f"malformed checkpoint: {point!r}")
        seq, kept = point.get("seq"), str(point.get("hash", ""))
        if not isinstance(seq, int) or not HEX64.match(kept):
            raise Failure(f"malformed checkpoint: {point!r}")
        of = point.get("government_id")
        if government_id is not None and of is not None and of != government_id:
            continue
        if seq in hashes:
            if hashes[seq] != kept:
                raise Failure(
                    f"seq {seq}: checkpoint kept hash {kept}, the ledger now has {hashes[seq]}"
                )
            checked += 1
        elif seq > last:
            beyond += 1
    return checked, beyond


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="Verify a gaoxin public progress snapshot.")
    parser.add_argument("snapshot")
    parser.add_argument("sha256")
    parser.add_argument("--seq", type=int)
    parser.add_argument("--ledger")
    parser.add_argument("--manifest")
    parser.add_argument("--checkpoints")
    try:
        args = parser.parse_args(argv[1:])
    except SystemExit:
        return 2
    expected = args.sha256.strip().lower()
    if not HEX64.match(expected) or bool(args.ledger) != bool(args.manifest):
        print("a 64-hex SHA-256 is needed; --ledger and --manifest go together", file=sys.stderr)
        return 2
    if args.checkpoints and not args.ledger:
        print("--checkpoints needs --ledger and --manifest", file=sys.stderr)
        return 2
    try:
        with open(args.snapshot, "rb") as handle:
            snapshot = check_snapshot(handle.read(), expected)
        message = f"OK: snapshot SHA-256 {expected}, {len(snapshot.get('tasks', []))} tasks"
        if args.ledger:
            with open(args.ledger, "rb") as handle:
                data = handle.read()
            with open(args.manifest, encoding="utf-8") as handle:
                manifest = json.load(handle)
            verify_export.check_file(data, manifest)
            verify_export.check_rows(data.decode("utf-8"), manifest)
            rows = ledger_rows(data.decode("utf-8"))
            seq = check_published(rows, snapshot, expected, args.seq)
            message += f"; published at ledger seq {seq}, chain intact"
            if args.checkpoints:
                with open(args.checkpoints, encoding="utf-8") as handle:
                    government = (manifest.get("government") or {}).get("id")
                    checked, beyond = check_checkpoints(rows, json.load(handle), government)
                message += f"; {checked} checkpoints hold"
                if beyond:
                    message += f" ({beyond} later than the export, not checked)"
    except (Failure, verify_export.Failure, UnicodeDecodeError, KeyError, ValueError) as failure:
        print(f"FAILED: {failure}")
        return 1
    print(message)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
