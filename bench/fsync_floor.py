#!/usr/bin/env python3
"""The disk's commit floor, which bounds W2 and W4 (each run is several sequential commits).

Prints one JSON line per probe on stdout:
  fdatasync      append 4 KiB to a file and fdatasync it, N times
  sqlite_commit  SQLite (the system library, as the engine uses it) in WAL mode with
                 synchronous=FULL, committing one small row per transaction, N times
Each reports p50_ms, p99_ms and per_s (commits per second, one at a time). The files go
to a fresh directory under --dir (default $TMPDIR), removed afterwards.

usage: bench/fsync_floor.py [--n 500] [--dir DIR]
"""
import argparse
import json
import os
import sqlite3
import sys
import tempfile
import time


def summarize(name, samples_s, extra):
    ms = sorted(s * 1000 for s in samples_s)
    rank = lambda p: ms[max(1, -(-len(ms) * p // 100)) - 1]  # nearest rank
    line = {"probe": name, "n": len(ms), "p50_ms": round(rank(50), 3),
            "p99_ms": round(rank(99), 3), "per_s": round(len(ms) / sum(samples_s), 1)}
    line.update(extra)
    print(json.dumps(line), flush=True)


def probe_fdatasync(directory, n):
    path = os.path.join(directory, "probe.bin")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    block = b"k" * 4096
    samples = []
    try:
        for _ in range(n):
            t = time.perf_counter()
            os.write(fd, block)
            os.fdatasync(fd)
            samples.append(time.perf_counter() - t)
    finally:
        os.close(fd)
    summarize("fdatasync", samples, {"bytes": 4096})


def probe_sqlite(directory, n):
    db = sqlite3.connect(os.path.join(directory, "probe.db"), isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, payload BLOB)")
    row = b"e" * 200
    samples = []
    for _ in range(n):
        t = time.perf_counter()
        db.execute("BEGIN")
        db.execute("INSERT INTO t (payload) VALUES (?)", (row,))
        db.execute("COMMIT")
        samples.append(time.perf_counter() - t)
    db.close()
    summarize("sqlite_commit", samples,
              {"journal_mode": "wal", "synchronous": "full", "sqlite": sqlite3.sqlite_version})


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--dir", default=None)
    args = parser.parse_args()
    if args.n < 1:
        sys.exit("--n must be positive")
    with tempfile.TemporaryDirectory(prefix="keel-fsync-", dir=args.dir) as directory:
        probe_fdatasync(directory, args.n)
        probe_sqlite(directory, args.n)


if __name__ == "__main__":
    main()
