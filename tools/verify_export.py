#!/usr/bin/env python3
"""Check an exported gaoxin audit ledger CSV against its manifest, offline (standard library only).

    python3 verify_export.py gaoxin-ledger-....csv gaoxin-ledger-....manifest.json

Checks: the file's SHA-256 and size are the manifest's; every row is of the manifest's
government; the row count and first/last seq match;
every row's hash is SHA-256 over the canonical JSON of its fields; each row's prev_hash is the
previous row's hash wherever the two rows are consecutive in the chain (all of them in an
unfiltered export); an unfiltered export reaches the manifest's chain head and ends with the
head's hash; a neutralising quote stands only before = + - @ tab CR or a quote.
Exit status 0 when everything holds, 1 at the first failure (printed), 2 on bad arguments.
"""

import csv
import hashlib
import io
import json
import sys

GENESIS = "0" * 64
HASHED_FIELDS = (
    "seq",
    "prev_hash",
    "created_at",
    "actor_id",
    "actor_username",
    "actor_role",
    "actor_department",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "before",
    "after",
    "ip",
    "user_agent",
    "request_id",
)
# hash_version 2 (every event since the ledger has one chain per government) also hashes the
# government: an event cannot be moved into another government's chain.
HASHED_FIELDS_V2 = (*HASHED_FIELDS, "government_id")
BOM = "\ufeff"


class Failure(Exception):
    pass


def canonical(value) -> str:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "'")


def unneutralise(cell: str) -> str:
    """The exporter put a "'" before cells starting with = + - @ tab CR or ' (the quote itself
    included, so the mark is unambiguous); take it off. A quote before anything else was not
    the exporter's: the cell was changed."""
    if not cell.startswith("'"):
        return cell
    if not cell[1:].startswith(DANGEROUS_PREFIXES):
        raise Failure(f"a cell starts with a quote the exporter never adds: {cell[:20]!r}")
    return cell[1:]


def keyed(row: dict) -> dict:
    """The row by column key: a header "标签 [key]" names its key in brackets (exports before
    the labelled headers name the key alone). Columns for people (labels, Beijing time, names)
    are not hashed and play no part in the check."""
    out = {}
    for header, value in row.items():
        header = header or ""
        key = (
            header[header.rindex("[") + 1 : -1]
            if header.endswith("]") and "[" in header
            else header
        )
        out[key] = value
    return out


def event_of(row: dict) -> dict:
    version = int(row.get("hash_version") or 1)
    event = {
        name: unneutralise(row[name])
        for name in HASHED_FIELDS_V2
        if version >= 2 or name in HASHED_FIELDS
    }
    event["seq"] = int(event["seq"])
    if version >= 2:
        event["government_id"] = int(event["government_id"])
    event["actor_id"] = int(event["actor_id"]) if event["actor_id"] else None
    event["before"] = json.loads(event["before"])
    event["after"] = json.loads(event["after"])
    return event


def check_file(data: bytes, manifest: dict) -> None:
    digest = hashlib.sha256(data).hexdigest()
    if digest != manifest.get("file_sha256"):
        raise Failure(f"file SHA-256 is {digest}, manifest says {manifest.get('file_sha256')}")
    if len(data) != manifest.get("file_bytes", len(data)):
        raise Failure(f"file has {len(data)} bytes, manifest says {manifest['file_bytes']}")
    if manifest.get("kind") != "ledger" or manifest.get("format") != "csv":
        raise Failure(
            "only ledger CSV exports carry the chain; this manifest is for "
            f"{manifest.get('kind')} {manifest.get('format')}"
        )


def check_rows(text: str, manifest: dict) -> int:
    if not text.startswith(BOM):
        raise Failure("the file does not start with a UTF-8 BOM")
    reader = csv.DictReader(io.StringIO(text[1:], newline=""))
    previous, count, first = None, 0, None
    for row in reader:
        row = keyed(row)
        event = event_of(row)
        government = (manifest.get("government") or {}).get("id")
        if government is not None and row.get("government_id", "") != str(government):
            raise Failure(
                f"seq {event['seq']}: of government {row.get('government_id')}, but the export "
                f"is of government {government}'s chain"
            )
        count += 1
        first = first if first is not None else event["seq"]
        computed = hashlib.sha256(canonical(event).encode("utf-8")).hexdigest()
        stored = unneutralise(row["hash"])
        if computed != stored:
            raise Failure(f"seq {event['seq']}: hash expected {computed}, found {stored}")
        if previous is not None and event["seq"] <= previous[0]:
            raise Failure(f"seq {event['seq']}: out of order after seq {previous[0]}")
        expected_prev = (
            GENESIS
            if event["seq"] == 1
            else (previous[1] if previous and previous[0] == event["seq"] - 1 else None)
        )
        if expected_prev is not None and event["prev_hash"] != expected_prev:
            raise Failure(
                f"seq {event['seq']}: prev_hash expected {expected_prev}, "
                f"found {event['prev_hash']}"
            )
        if not manifest.get("filters") and previous and previous[0] != event["seq"] - 1:
            raise Failure(f"seq {previous[0] + 1}: missing from an unfiltered export")
        previous = (event["seq"], stored)
    last = previous[0] if previous else None
    if count != manifest.get("row_count"):
        raise Failure(f"{count} rows, manifest says {manifest.get('row_count')}")
    if (first, last) != (manifest.get("first_seq"), manifest.get("last_seq")):
        raise Failure(
            f"seq {first}..{last}, manifest says "
            f"{manifest.get('first_seq')}..{manifest.get('last_seq')}"
        )
    head = manifest.get("chain_head") or {}
    if not manifest.get("filters") and head and last != head.get("seq"):
        raise Failure(
            f"an unfiltered export ends at seq {last}, but the chain head it was taken against "
            f"is seq {head.get('seq')}: rows are missing at the end"
        )
    if previous and last == head.get("seq") and previous[1] != head.get("hash"):
        raise Failure(
            f"seq {last}: chain head hash expected {head.get('hash')}, found {previous[1]}"
        )
    return count


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    with open(argv[1], "rb") as handle:
        data = handle.read()
    with open(argv[2], encoding="utf-8") as handle:
        manifest = json.load(handle)
    try:
        check_file(data, manifest)
        count = check_rows(data.decode("utf-8"), manifest)
    except (Failure, UnicodeDecodeError, KeyError, ValueError) as failure:
        print(f"FAILED: {failure}")
        return 1
    print(
        f"OK: {count} rows, seq {manifest['first_seq']}..{manifest['last_seq']}, "
        f"file SHA-256 {manifest['file_sha256']}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
