"""Requests per second of one ``realtime-config serve`` worker, against the loopback fake API.

Three processes, all on 127.0.0.1: the fake upstream of tests/fake_api.py, ``realtime-config
serve presets/assistant.toml`` (one uvicorn worker, the shipped GA preset) and this script,
which sends a fixed number of requests with a fixed concurrency (httpx, asyncio) and prints
the throughput and the latency percentiles of each round, then the median round.

It times ``GET /healthz`` (the app alone) and ``POST /sessions/assistant`` (a mint: the
request, the upstream call through the shared client, the answer). The fake upstream is a
thread-per-request Python server, so the mint figure is a floor for the app, not a ceiling.

Beside it, the floor of the approach: a bare Starlette app on the same uvicorn (h11, as
``serve`` runs it) that posts the same compiled body to the same upstream with one shared
httpx ``AsyncClient`` and answers the upstream's bytes (no preset, no checks, no log). The
rounds of the two alternate, and the ratio of their medians is printed.

    python benchmarks/serve_bench.py [--requests 2000] [--concurrency 20] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

PROJECT = Path(__file__).resolve().parent.parent
FAKE = """\
import sys
sys.path.insert(0, sys.argv[1])
from tests.fake_api import FakeAPI
with FakeAPI().running() as fake:
    print(fake.base_url, flush=True)
    sys.stdin.read()  # until the benchmark closes our stdin
"""


KEY = "sk-canary-DO-NOT-LEAK-1234567890"
BARE = """\
import sys
import httpx, uvicorn
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

base_url, port, key, agent = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
body = sys.argv[5].encode()
headers = {"Authorization": "Bearer " + key, "Content-Type": "application/json"}
headers["User-Agent"] = agent
client = httpx.AsyncClient(timeout=30)


async def mint(request):
    answer = await client.post(base_url + "/realtime/client_secrets", content=body, headers=headers)
    return Response(answer.content, answer.status_code, media_type="application/json")


async def healthz(request):
    return Response(b'{"status":"ok"}', media_type="application/json")


app = Starlette(
    routes=[Route("/sessions/assistant", mint, methods=["POST"]), Route("/healthz", healthz)]
)
uvicorn.run(app, host="127.0.0.1", port=port, http="h11", log_level="warning", access_log=False)
"""
AIOHTTP = (
    BARE.replace("import httpx, uvicorn", "import aiohttp, uvicorn")
    .replace("client = httpx.AsyncClient(timeout=30)\n", "client = None\n")
    .replace(
        '    answer = await client.post(base_url + "/realtime/client_secrets", '
        "content=body, headers=headers)\n"
        '    return Response(answer.content, answer.status_code, media_type="application/json")\n',
        "    global client\n"
        "    client = client or aiohttp.ClientSession()\n"
        "    async with client.post(\n"
        '        base_url + "/realtime/client_secrets", data=body, headers=headers\n'
        "    ) as answer:\n"
        "        content = await answer.read()\n"
        '    return Response(content, answer.status, media_type="application/json")\n',
    )
)
"""The same proxy on aiohttp's client (``--aiohttp``, when it is installed): is httpx the
ceiling?"""


@contextmanager
def fake_upstream() -> Iterator[str]:
    process = subprocess.Popen(
        [sys.executable, "-c", FAKE, str(PROJECT)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        yield process.stdout.readline().strip()
    finally:
        assert process.stdin is not None
        process.stdin.close()
        process.wait(timeout=30)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serve(base_url: str) -> Iterator[str]:
    """``realtime-config serve presets/assistant.toml``, one worker."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env.update(OPENAI_API_KEY=KEY, OPENAI_BASE_URL=base_url)
    command = [sys.executable, "-m", "realtime_config", "serve", "presets/assistant.toml"]
    with started([*command, "--port", str(port)], port, env) as url:
        yield url


@contextmanager
def bare_proxy(base_url: str, script: str = BARE) -> Iterator[str]:
    """The bare Starlette + httpx (or aiohttp) proxy of the same compiled body."""
    from realtime_config import __version__, compile_preset, dumps_payload, load_preset

    preset = load_preset(PROJECT / "presets" / "assistant.toml")
    body = dumps_payload(compile_preset(preset), compact=True)
    port = free_port()
    agent = f"realtime-config/{__version__}"  # what the fake upstream expects
    command = [sys.executable, "-c", script, base_url, str(port), KEY, agent, body]
    with started(command, port, dict(os.environ)) as url:
        yield url


@contextmanager
def started(command: list[str], port: int, env: dict[str, str]) -> Iterator[str]:
    """Run a server process until the block ends; yield its URL once it answers."""
    process = subprocess.Popen(
        command,
        cwd=PROJECT,
        env=env,
        stderr=subprocess.DEVNULL,  # one access-log line per request: not what is timed here
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("serve did not start") from None
                time.sleep(0.05)
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


async def load(method: str, url: str, requests: int, concurrency: int) -> tuple[float, list[float]]:
    """Send ``requests`` requests, ``concurrency`` at a time; wall time and each latency."""
    latencies: list[float] = []
    remaining = iter(range(requests))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async with httpx.AsyncClient(timeout=30, limits=limits) as client:

        async def worker() -> None:
            for _ in remaining:
                started = time.perf_counter()
                response = await client.request(method, url)
                latencies.append(time.perf_counter() - started)
                if response.status_code != 200:
                    raise SystemExit(f"{method} {url}: {response.status_code} {response.text}")

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - started, latencies


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--aiohttp", action="store_true", help="add the bare proxy on aiohttp's client"
    )
    options = parser.parse_args()
    print(
        f"Python {platform.python_version()} on {platform.system()}, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.2f}; {options.requests} requests per round, "
        f"{options.concurrency} at a time, {options.rounds} rounds"
    )
    with (
        fake_upstream() as base_url,
        serve(base_url) as ours,
        bare_proxy(base_url) as bare,
        contextlib.ExitStack() as more,
    ):
        servers = {"serve": ours, "bare proxy": bare}
        if options.aiohttp:
            servers["aiohttp"] = more.enter_context(bare_proxy(base_url, AIOHTTP))
        for method, path in (("GET", "/healthz"), ("POST", "/sessions/assistant")):
            medians = {}
            for url in servers.values():  # warm both
                asyncio.run(
                    load(method, url + path, min(200, options.requests), options.concurrency)
                )
            rates: dict[str, list[float]] = {name: [] for name in servers}
            for round_ in range(1, options.rounds + 1):
                for name, url in servers.items():
                    wall, latencies = asyncio.run(
                        load(method, url + path, options.requests, options.concurrency)
                    )
                    rates[name].append(options.requests / wall)
                    print(
                        f"{name:10} {method} {path} round {round_}: {rates[name][-1]:7.0f} "
                        f"requests/s, p50 {percentile(latencies, 0.5) * 1000:.1f} ms, "
                        f"p99 {percentile(latencies, 0.99) * 1000:.1f} ms"
                    )
            for name in servers:
                medians[name] = statistics.median(rates[name])
                print(f"{name:10} {method} {path}: median {medians[name]:.0f} requests/s")
            for name in servers:
                if name != "bare proxy":
                    print(
                        f"{method} {path}: {name} / bare proxy = "
                        f"{medians[name] / medians['bare proxy']:.2f}"
                    )
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
