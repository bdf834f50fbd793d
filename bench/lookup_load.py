"""Cached lookups under load, on loopback only.

Starts ``watchpost serve --no-workers`` on a fresh SQLite data dir (or WATCHPOST_DATABASE_URL),
stores K complete answers (contributors, npm packages, pages) straight into its database, then
sends N ``GET /{origin}/{identifier}`` requests at concurrency C over keep-alive connections,
cycling through the stored answers and the parameter mixes agents use (plain, details=true,
tolerance=lenient, format=simple). Prints requests per second, p50/p90/p99 latency, and the
status counts (every answer must be 200).

Target (issue 4): >= 2,000 requests/s with p99 < 20 ms at concurrency 50 on a 2-core machine.
The load generator shares those 2 cores with the server, so the figure is a lower bound.

Usage: python bench/lookup_load.py [-n 20000] [-c 50] [-k 500]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.db import make_engine  # noqa: E402
from app.lookup.identifiers import parse_identifier  # noqa: E402
from app.lookup.store import save_report  # noqa: E402
from app.migrate import upgrade  # noqa: E402
from bench.lean_http import Connection, connect  # noqa: E402
from scanners.artifacts import ArtifactFindings, ArtifactThreat, report_for_artifact, threat  # noqa: E402
from scanners.models import Severity  # noqa: E402

QUERIES = ["", "?details=true", "?tolerance=lenient", "?format=simple"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def seed(database_url: str, count: int) -> list[str]:
    engine = make_engine(database_url)
    upgrade(engine)
    paths = []
    now = datetime.now(UTC)
    for index in range(count):
        origin, text = [("contributor", f"user-{index}"), ("npm", f"package-{index}"), ("page", f"site-{index}.example.org/docs")][index % 3]
        identifier = parse_identifier(origin, text)
        threats = [threat(ArtifactThreat.TYPOSQUAT, Severity.MEDIUM, "looks like a popular name", "pkg/typosquat-edit")] if index % 7 == 0 else []
        report = report_for_artifact(origin=origin, name=identifier.name, version=None, findings=ArtifactFindings(threats=threats), scanned_at=now)
        save_report(engine, identifier, report)
        paths.append(f"/{origin}/{text}")
    engine.dispose()
    return paths


async def load(host: str, port: int, paths: list[str], total: int, concurrency: int) -> tuple[list[float], dict[int, int], float]:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    counter = iter(range(total))
    requests = [
        f"GET {path}{query} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: application/json\r\n\r\n".encode()
        for path in paths for query in QUERIES
    ]
    connections = [await connect(host, port) for _ in range(concurrency)]
    for index, request in enumerate(requests):  # warm-up: every answer and rendering cached before measuring
        await connections[index % concurrency].get(request)

    async def worker(connection: Connection) -> None:
        for index in counter:
            started = time.perf_counter()
            status = await connection.get(requests[(index * 7919) % len(requests)])
            latencies.append(time.perf_counter() - started)
            statuses[status] = statuses.get(status, 0) + 1

    started = time.perf_counter()
    await asyncio.gather(*(worker(connection) for connection in connections))
    elapsed = time.perf_counter() - started
    for connection in connections:
        assert connection.transport is not None
        connection.transport.close()
    return latencies, statuses, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=20000, help="requests")
    parser.add_argument("-c", type=int, default=50, help="concurrency")
    parser.add_argument("-k", type=int, default=500, help="distinct stored answers")
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="watchpost-lookup-bench-"))
    database_url = os.environ.get("WATCHPOST_DATABASE_URL") or f"sqlite:///{data_dir / 'watchpost.db'}"
    paths = seed(database_url, args.k)
    port = free_port()
    env = {**os.environ, "WATCHPOST_DATA_DIR": str(data_dir), "WATCHPOST_DATABASE_URL": database_url,
           "WATCHPOST_RATE_LIMIT": "100000000/minute", "WATCHPOST_PORT": str(port)}
    command = os.environ.get("LOOKUP_BENCH_SERVER", "").split() or [sys.executable, "-m", "app.cli", "serve", "--no-workers"]
    server = subprocess.Popen(command, env=env, cwd=REPO, stdout=None if os.environ.get("LOOKUP_BENCH_SERVER") else subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1).read()
                break
            except OSError:
                time.sleep(0.1)
        latencies, statuses, elapsed = asyncio.run(load("127.0.0.1", port, paths, args.n, args.c))
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(30)
    latencies.sort()
    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

    print(f"cached lookups: {args.n} requests at concurrency {args.c} over {args.k} stored answers: "
          f"{args.n / elapsed:.0f} requests/s, p50 {pct(0.5):.1f} ms, p90 {pct(0.9):.1f} ms, p99 {pct(0.99):.1f} ms, "
          f"mean {statistics.mean(latencies) * 1000:.1f} ms, statuses {dict(sorted(statuses.items()))}")


if __name__ == "__main__":
    main()
