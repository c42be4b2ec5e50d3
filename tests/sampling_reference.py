#!/usr/bin/env python3
"""An independent reimplementation of khaosat's sample draw, from docs/sampling.md alone.

Standard library only. Reads a respondent list (CSV, UTF-8, unit and group as codes), a seed
and the sample sizes, and prints as JSON the frame hash and, per unit x group, the stratum
hash, the sample and the reserve (as respondent keys, in drawn order).

    python3 sampling_reference.py FRAME.csv --seed SEED (--size N | --sizes SIZES.csv)

SIZES.csv has the columns unit,group,size. A unit x group missing from it is an error.
"""

import argparse
import csv
import hashlib
import hmac
import json
import sys
import unicodedata

VERSION = "khaosat-frame-v1"
US = "\x1f"
ASCII_SPACE = " \t\n\r"

ALIASES = {
    "name": "name", "ho_ten": "name", "ho_va_ten": "name",
    "email": "email", "e_mail": "email", "thu_dien_tu": "email",
    "phone": "phone", "dien_thoai": "phone", "so_dien_thoai": "phone",
    "unit": "unit", "don_vi": "unit",
    "group": "group", "nhom": "group",
}


def header_key(text):
    """A header as a plain key: no accents, lower case, spaces as underscores."""
    folded = unicodedata.normalize("NFD", text.strip().lower().replace("đ", "d"))
    plain = "".join(c for c in folded if not unicodedata.combining(c))
    return "_".join(plain.replace("-", "_").split())


def phone(raw):
    """`+` (when written first) and the digits."""
    raw = raw.strip()
    if not raw:
        return ""
    return ("+" if raw.startswith("+") else "") + "".join(c for c in raw if c.isdigit())


def read_frame(path):
    """{(unit, group): [key, ...]} in list order, keys as the specification builds them."""
    with open(path, encoding="utf-8-sig", newline="") as f:
        sample = f.read(4096)
        f.seek(0)
        delimiter = ";" if sample.split("\n", 1)[0].count(";") > sample.split("\n", 1)[0].count(",") else ","
        rows = list(csv.reader(f, delimiter=delimiter))
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    header = [ALIASES.get(header_key(h)) for h in rows[0]]
    strata, seen = {}, {}
    for row in rows[1:]:
        cells = {name: row[i] if i < len(row) else "" for i, name in enumerate(header) if name}
        name = unicodedata.normalize("NFC", cells.get("name", "").strip())
        email = cells.get("email", "").strip().lower()
        identity = US.join([name, email, phone(cells.get("phone", ""))])
        stratum = (cells["unit"].strip(), cells["group"].strip())
        occurrence = seen.get((stratum, identity), 0) + 1
        seen[(stratum, identity)] = occurrence
        strata.setdefault(stratum, []).append(identity + US + str(occurrence))
    return strata


def stratum_hash(unit, group, keys):
    data = "".join(line + "\n" for line in [VERSION, unit, group])
    data = data.encode("utf-8") + b"".join(k.encode("utf-8") + b"\n" for k in sorted(keys, key=lambda k: k.encode("utf-8")))
    return hashlib.sha256(data).hexdigest()


def frame_hash(hashes):
    data = (VERSION + "\n").encode("utf-8")
    for (unit, group) in sorted(hashes, key=lambda s: (s[0].encode("utf-8"), s[1].encode("utf-8"))):
        data += (unit + US + group + US + hashes[(unit, group)] + "\n").encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def normalise_seed(text):
    seed = unicodedata.normalize("NFC", text.strip(ASCII_SPACE))
    if not seed:
        sys.exit("the seed is empty")
    return seed


def draw(keys, seed, size):
    """(sample, reserve): keys ordered by HMAC-SHA256(seed, key), ties by the key's bytes."""
    seed_bytes = seed.encode("utf-8")

    def rank(key):
        mac = hmac.new(seed_bytes, key.encode("utf-8"), hashlib.sha256).digest()
        return (mac, key.encode("utf-8"))

    order = sorted(keys, key=rank)
    size = min(size, len(order))
    return order[:size], order[size:]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("frame")
    parser.add_argument("--seed", required=True)
    sizes = parser.add_mutually_exclusive_group(required=True)
    sizes.add_argument("--size", type=int)
    sizes.add_argument("--sizes")
    args = parser.parse_args()

    strata = read_frame(args.frame)
    if args.sizes:
        with open(args.sizes, encoding="utf-8-sig", newline="") as f:
            table = {(r["unit"].strip(), r["group"].strip()): int(r["size"]) for r in csv.DictReader(f)}
    else:
        table = {stratum: args.size for stratum in strata}
    seed = normalise_seed(args.seed)
    hashes = {s: stratum_hash(s[0], s[1], keys) for s, keys in strata.items()}
    out = {"frame_hash": frame_hash(hashes), "seed": seed, "strata": []}
    for stratum in sorted(strata, key=lambda s: (s[0].encode("utf-8"), s[1].encode("utf-8"))):
        if stratum not in table:
            sys.exit("no sample size for unit %s, group %s" % stratum)
        sample, reserve = draw(strata[stratum], seed, table[stratum])
        out["strata"].append({
            "unit": stratum[0],
            "group": stratum[1],
            "hash": hashes[stratum],
            "sample": sample,
            "reserve": reserve,
        })
    json.dump(out, sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
