#!/usr/bin/env python3
"""The server's CPU time per search, word by word: one keep-alive client on
127.0.0.1 sends N searches of each word (`group=none`, as `rapport bench
search` sends them) after 20 warm-up ones, and reads the server process's
CPU from /proc/PID/stat before and after (10 ms ticks: use N of a few
hundred). Waiting for a core does not count, so on a shared machine it
compares words (or binaries) better than wall-clock latency.

Usage: search_cpu_per_word.py SERVER_PID PORT API_KEY N "word,word,..."
(BENCHMARKS.md, "Japanese search latency (issue 20)").
"""
import http.client
import os
import sys
import time
import urllib.parse

pid, port, key, n = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
words = sys.argv[5].split(",")
tick = os.sysconf("SC_CLK_TCK")


def cpu_seconds():
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / tick


connection = http.client.HTTPConnection("127.0.0.1", port)


def search(q):
    query = urllib.parse.urlencode({"q": q, "group": "none"})
    connection.request("GET", "/v1/search?" + query, headers={"Authorization": "Bearer " + key})
    response = connection.getresponse()
    body = response.read()
    if response.status != 200:
        sys.exit(f"{q}: {response.status} {body[:200]!r}")


for word in words:
    for _ in range(20):
        search(word)
    before = cpu_seconds()
    latencies = []
    for _ in range(n):
        started = time.perf_counter()
        search(word)
        latencies.append(time.perf_counter() - started)
    used = cpu_seconds() - before
    latencies.sort()
    print(
        f"{word:<16} server CPU {1000 * used / n:6.3f} ms/query  "
        f"p50 {1000 * latencies[n // 2]:6.2f} ms  load {os.getloadavg()[0]:.1f}"
    )
