"""Paced latency probe: GET a path at a fixed rate over one keep-alive connection and print percentiles.

Unlike a closed-loop load generator it adds almost no load of its own, so what it measures is how long the
server keeps an ordinary request waiting while something else (a login storm) runs.
"""
import http.client
import os
import sys
import time

host, port, path, seconds, rate = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4]), float(sys.argv[5])
token = os.environ.get("BENCH_TOKEN")
headers = {"Authorization": f"Bearer {token}"} if token and path != "/healthz" else {}
connection = http.client.HTTPConnection(host, port, timeout=10)
latencies, failures = [], 0
deadline = time.monotonic() + seconds
next_at = time.monotonic()
while time.monotonic() < deadline:
    start = time.perf_counter()
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    response.read()
    latencies.append((time.perf_counter() - start) * 1000)
    if response.status != 200:
        failures += 1
    next_at += 1 / rate
    time.sleep(max(0.0, next_at - time.monotonic()))
latencies.sort()


def percentile(p):
    return latencies[min(len(latencies) - 1, int(len(latencies) * p))]


print(f"PROBE {path} n={len(latencies)} failures={failures} p50={percentile(0.50):.2f}ms p99={percentile(0.99):.2f}ms max={latencies[-1]:.2f}ms")
