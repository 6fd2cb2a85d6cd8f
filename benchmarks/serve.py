"""Serving benchmark: ``credscore serve`` under load, written into docs/speed.md.

Usage::

    python benchmarks/serve.py [--model DIR] [--workers 2] [--seconds 20] [--soak 100000]

Starts the installed ``credscore serve`` on a free loopback port (127.0.0.1 only, no keys), then
sends Perspective ``comments:analyze`` requests for one comment of about 300 characters, as
Coral Talk sends them, from 1, 16 and 64 concurrent clients: each level runs 2 s of warm-up,
then until ``--seconds`` have passed or ``--max-requests`` were answered, whichever comes first.
Latency is the time from writing a request to reading its whole reply, on keep-alive
connections. Then a soak at 16 clients until ``--soak`` requests or ``--soak-seconds``, sampling
the resident memory (RSS) of each worker process every 5 s.

The clients are a minimal HTTP/1.1 client on asyncio streams in this process rather than httpx:
they share the machine's two cores with the server, so the lighter the client, the less it
steals from what is measured (one keep-alive request costs it tens of microseconds). The load
average before and after each level is reported, since other work on the machine disturbs
the numbers.

The section between ``<!-- serve:start -->`` and ``<!-- serve:end -->`` of docs/speed.md is
replaced (or appended); the rest of the file is left as it is.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "docs" / "speed.md"
START, END = "<!-- serve:start -->", "<!-- serve:end -->"
# Written for this benchmark: a reader's comment of 300 characters, three sentences.
COMMENT = (
    "I read the council's flood report twice, line by line, and the numbers simply do not add up. "
    "Officials said 40 homes were evacuated, yet neighbours saw buses leaving all night! "
    "Wake up, people: someone decided to flood the riverside on purpose, and the press "
    "will never tell you who did it or why."
)
LEVELS = (1, 16, 64)
TARGET_P99_MS, TARGET_RATE = 50.0, 500.0


@dataclass
class Level:
    """One load level's measurements."""

    clients: int
    requests: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    load_before: float = 0.0
    load_after: float = 0.0

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        return float(np.percentile(self.latencies, q)) * 1000 if self.latencies else float("nan")


def request_bytes() -> bytes:
    body = json.dumps(
        {
            "comment": {"text": COMMENT},
            "requestedAttributes": {"DISINFORMATION": {}, "DISINFORMATION_HOLD": {}},
            "languages": ["en"],
            "doNotStore": True,
        }
    ).encode()
    head = (
        "POST /v1alpha1/comments:analyze HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


_LENGTH = re.compile(rb"content-length:\s*(\d+)", re.I)


async def client(
    port: int, payload: bytes, until: float, budget: list[int], level: Level | None
) -> None:
    """One keep-alive connection sending requests back to back until time or budget run out."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.perf_counter() < until and budget[0] > 0:
            budget[0] -= 1
            started = time.perf_counter()
            writer.write(payload)
            head = await reader.readuntil(b"\r\n\r\n")
            body = await reader.readexactly(int(_LENGTH.search(head).group(1)))  # type: ignore[union-attr]
            took = time.perf_counter() - started
            if level is not None:
                level.requests += 1
                level.latencies.append(took)
                if head[9:12] != b"200" or b"attributeScores" not in body:
                    level.errors += 1
    finally:
        writer.close()


async def run_level(port: int, clients: int, seconds: float, max_requests: int) -> Level:
    payload = request_bytes()
    warm = time.perf_counter() + 2.0
    await asyncio.gather(*(client(port, payload, warm, [10**9], None) for _ in range(clients)))
    level = Level(clients, load_before=os.getloadavg()[0])
    started = time.perf_counter()
    budget = [max_requests]
    await asyncio.gather(
        *(client(port, payload, started + seconds, budget, level) for _ in range(clients))
    )
    level.seconds = time.perf_counter() - started
    level.load_after = os.getloadavg()[0]
    return level


def workers_of(pid: int) -> list[int]:
    """The worker processes of a ``credscore serve --workers N`` (its spawned children)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid and b"spawn_main" in cmdline:
            found.append(int(entry.name))
    return sorted(found)


def listening(pid: int, port: int) -> bool:
    """Whether process ``pid`` holds a socket listening on ``port`` (so its model is loaded:
    uvicorn listens only once the app is built)."""
    try:
        inodes = {
            os.readlink(fd)[8:-1]
            for fd in Path(f"/proc/{pid}/fd").iterdir()
            if os.readlink(fd).startswith("socket:[")
        }
    except OSError:
        return False
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if (
                int(fields[1].rsplit(":", 1)[1], 16) == port
                and fields[3] == "0A"
                and fields[9] in inodes
            ):
                return True
    return False


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def soak(
    port: int, pids: list[int], count: int, seconds: float
) -> tuple[Level, list[tuple[float, list[float]]]]:
    """16 clients until ``count`` requests or ``seconds``, sampling the workers' RSS every 5 s."""
    payload = request_bytes()
    level = Level(16, load_before=os.getloadavg()[0])
    samples = [(0.0, [rss_mb(p) for p in pids])]
    started = time.perf_counter()
    budget = [count]
    load = asyncio.gather(
        *(client(port, payload, started + seconds, budget, level) for _ in range(16))
    )
    while not load.done():
        await asyncio.sleep(5)
        samples.append((time.perf_counter() - started, [rss_mb(p) for p in pids]))
    await load
    level.seconds = time.perf_counter() - started
    level.load_after = os.getloadavg()[0]
    samples.append((level.seconds, [rss_mb(p) for p in pids]))
    return level, samples


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(model: Path, workers: int, port: int) -> subprocess.Popen:
    command = Path(sys.executable).parent / "credscore"
    env = {**os.environ, "XDG_CONFIG_HOME": tempfile.mkdtemp(prefix="credscore-serve-bench-")}
    for name in ("CREDSCORE_API_KEYS", "CREDSCORE_API_KEYS_FILE", "CREDSCORE_FEEDBACK"):
        env.pop(name, None)
    process = subprocess.Popen(
        [
            str(command),
            "serve",
            "--model",
            str(model),
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(
                f"serve.py: the server stopped: {process.stderr.read().decode() if process.stderr else ''}"
            )
        pids = workers_of(process.pid)
        if len(pids) == workers and all(listening(pid, port) for pid in pids):
            return process
        time.sleep(0.2)
    process.kill()
    sys.exit("serve.py: the server did not come up in 120 s")


def versions() -> str:
    names = ("starlette", "uvicorn", "uvloop", "httptools", "numpy")
    out = [f"Python {platform.python_version()}"]
    for name in names:
        try:
            out.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            out.append(f"{name} (not installed)")
    return ", ".join(out)


def render(
    levels: list[Level], soaked: Level, samples: list, args: argparse.Namespace, took: float
) -> str:
    sixteen = next(level for level in levels if level.clients == 16)
    best = max(level.rate for level in levels)
    first, last = samples[0][1], samples[-1][1]
    peak = [max(s[1][i] for s in samples) for i in range(len(first))]
    lines = [
        START,
        "## Serving: `credscore serve`",
        "",
        "Generated by `benchmarks/serve.py`; do not edit by hand. Regenerate with "
        f"`python benchmarks/serve.py --workers {args.workers} --seconds {args.seconds:g} --soak {args.soak}`.",
        "",
        f"Run {datetime.now(timezone.utc).isoformat(timespec='seconds')}, {took / 60:.1f} min in all, on "
        f"{os.cpu_count()} CPUs shared with the load generator (and any other work: see the load "
        f"averages). Versions: {versions()}. Server: `credscore serve --workers {args.workers}` on "
        "127.0.0.1; requests: Perspective `comments:analyze` for one comment of "
        f"{len(COMMENT)} characters (3 sentences), attributes DISINFORMATION and DISINFORMATION_HOLD, "
        "as Coral Talk sends them, on keep-alive connections; each level after 2 s of warm-up.",
        "",
        "| concurrent clients | requests | comments/s | p50 ms | p99 ms | errors | load average before / after |",
        "|---:|---:|---:|---:|---:|---:|---|",
    ]
    for level in levels:
        lines.append(
            f"| {level.clients} | {level.requests:,} | {level.rate:,.0f} | {level.percentile(50):.1f} | "
            f"{level.percentile(99):.1f} | {level.errors} | {level.load_before:.2f} / {level.load_after:.2f} |"
        )
    lines += [
        "",
        f"- Targets on this 2-core machine: p99 under {TARGET_P99_MS:g} ms at 16 concurrent clients: "
        f"{sixteen.percentile(99):.1f} ms, {'met' if sixteen.percentile(99) < TARGET_P99_MS else 'not met'}; "
        f"at least {TARGET_RATE:g} comments/s: {best:,.0f} at best, "
        f"{'met' if best >= TARGET_RATE else 'not met'}.",
        f"- Memory over {soaked.requests:,} requests at 16 clients ({soaked.seconds:.0f} s, "
        f"{soaked.rate:,.0f} comments/s, {soaked.errors} errors, load average "
        f"{soaked.load_before:.2f} / {soaked.load_after:.2f}), resident memory (RSS) of each worker, "
        f"sampled every 5 s ({len(samples)} samples): "
        + "; ".join(
            f"worker {n}: {a:.0f} MB at the start, {b:.0f} MB at the end, {p:.0f} MB at most"
            for n, (a, b, p) in enumerate(zip(first, last, peak), 1)
        )
        + ".",
    ]
    busiest = max(x for level in (*levels, soaked) for x in (level.load_before, level.load_after))
    if busiest > (os.cpu_count() or 1) + 0.5:
        lines.append(
            f"- The machine was busy with other work during the run (load average up to "
            f"{busiest:.1f} on {os.cpu_count()} CPUs): the server had only part of the CPU, so "
            "these rates and latencies are worse than an idle machine would give."
        )
    lines += ["", END]
    return "\n".join(lines)


def write_section(path: Path, section: str) -> None:
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    pattern = re.compile(re.escape(START) + r".*?" + re.escape(END), re.S)
    found = pattern.search(text)
    text = pattern.sub(lambda _: section, text) if found else f"{text.rstrip()}\n\n{section}\n"
    tmp = path.with_name(f".{path.name}.serve")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, help="model folder [default: the default model]")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=20.0, help="per level, after warm-up")
    parser.add_argument("--max-requests", type=int, default=50_000, help="per level")
    parser.add_argument("--soak", type=int, default=100_000, help="requests of the memory run")
    parser.add_argument("--soak-seconds", type=float, default=180.0)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    model = args.model
    if model is None:
        from training.default import ensure_default_model

        model = ensure_default_model(lambda message: print(message, file=sys.stderr))
    started = time.perf_counter()
    port = free_port()
    process = start_server(model, args.workers, port)
    try:
        pids = workers_of(process.pid)
        levels = []
        for clients in LEVELS:
            level = asyncio.run(run_level(port, clients, args.seconds, args.max_requests))
            levels.append(level)
            print(
                f"{clients:>3} clients: {level.rate:,.0f}/s, p50 {level.percentile(50):.1f} ms, "
                f"p99 {level.percentile(99):.1f} ms, {level.errors} errors, load {level.load_before:.2f}",
                file=sys.stderr,
            )
        soaked, samples = asyncio.run(soak(port, pids, args.soak, args.soak_seconds))
        print(
            f"soak: {soaked.requests:,} requests, RSS {samples[0][1]} -> {samples[-1][1]} MB",
            file=sys.stderr,
        )
    finally:
        process.terminate()
        process.wait(timeout=30)
    write_section(args.out, render(levels, soaked, samples, args, time.perf_counter() - started))
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
