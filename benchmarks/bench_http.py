"""What the HTTP door costs: ``longqa serve``'s ask against the same ask in process, and search
under 8 concurrent clients, in one run.

    python benchmarks/bench_http.py [--runs 30] [--seconds 10] [--clients 8] [--model fake:cite]
                                    [--out benchmarks/results/http.json]

``examples/`` is ingested once (through ``longqa.Collection``) as the collection ``examples``
under .longqa/bench/http/ (a no-op when unchanged); ``longqa serve`` runs on it in a process of its
own on 127.0.0.1, as a user starts it. Then:

* ask: one retrieval answer (``--strategy baseline``: the top passages in one call; citations not
  judged), asked ``--runs`` times in process (``Collection.ask``) and as many times over HTTP, as
  one JSON and as server-sent events (time to the final ``answer`` event), the three interleaved
  so that the machine's other load falls on all alike. The model is the built-in scripted one
  (``fake:cite``) by default, so the figures are the door's own cost, not a model's: with a real
  model (``--model llamacpp:default``) the same milliseconds vanish into seconds of reading.
  Reported: the medians, their ratio and the milliseconds HTTP adds; and, since wall time on a
  busy machine also measures who got the CPU, the CPU time each way took per ask (this process's
  and the server's together, read from /proc), and its ratio.
* search: ``--clients`` threads, each with its own keep-alive connection, POSTing searches (a
  rotating set of queries, k=5) for ``--seconds``; requests per second, latency percentiles and
  CPU time per request (clients and server), beside one client alone and the same searches in
  process.

The machine's load average is recorded at the start and the end: the figures hold for that load.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import longqa  # noqa: E402

QUESTION = "How much free disk space do I need to compile and install Gutenprint?"
QUERIES = [
    "free disk space to compile Gutenprint",
    "protein database search statistics",
    "JSONDecoder raw_decode",
    "printer driver installation",
    "shuffled sequences significance",
    "wrap an error with a message",
    "escputil ink levels",
    "FASTA version 36 programs",
]


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(root: Path, port: int, model: str) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "app.cli", "serve", "--collections", str(root), "--port", str(port)]
    process = subprocess.Popen([*command, "--model", model], cwd=ROOT, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/collections", timeout=2).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.3)
    process.kill()
    raise SystemExit("longqa serve did not start within 120 s")


def _median_ms(values: list[float]) -> float:
    return round(1000 * statistics.median(values), 2)


def _streamed(client: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    """The final ``answer`` event of a streamed ask."""
    with client.stream("POST", "/collections/examples/ask", json={**body, "stream": True}) as response:
        event, answer = "", None
        for line in response.iter_lines():
            if line.startswith("event:"):
                event = line.partition(":")[2].strip()
            elif line.startswith("data:") and event == "answer":
                answer = json.loads(line.partition(":")[2])
    assert answer is not None, "no answer event"
    return answer


def _cpu_seconds(pid: int) -> float:
    """The CPU seconds (user + system) process ``pid`` has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure_ask(
    collection: longqa.Collection, client: httpx.Client, runs: int, server: int
) -> dict[str, Any]:
    body = {"question": QUESTION, "strategy": "baseline", "verify": False}
    timings: dict[str, list[float]] = {"in_process": [], "http": [], "http_stream": []}
    cpu = dict.fromkeys(timings, 0.0)  # this process's CPU seconds and the server's, in all
    texts = set()
    for n in range(runs + 3):  # the first three warm every path up, and are not counted
        for way in timings:
            started, cpu_started = time.perf_counter(), time.process_time() + _cpu_seconds(server)
            if way == "in_process":
                text = collection.ask(QUESTION, strategy="baseline", verify=False).text
            elif way == "http":
                response = client.post("/collections/examples/ask", json=body)
                response.raise_for_status()
                text = response.json()["text"]
            else:
                text = _streamed(client, body)["text"]
            if n >= 3:
                timings[way].append(time.perf_counter() - started)
                cpu[way] += time.process_time() + _cpu_seconds(server) - cpu_started
            texts.add(text)
    assert len(texts) == 1, f"the three ways gave different answers: {texts}"
    medians = {way: _median_ms(values) for way, values in timings.items()}
    cpu_ms = {way: round(1000 * total / runs, 1) for way, total in cpu.items()}
    return {
        "runs": runs,
        "strategy": "baseline",
        "median_ms": medians,
        "cpu_ms_per_ask": cpu_ms,  # client and server together: the door's cost, whatever the load
        "cpu_ratio_http": round(cpu_ms["http"] / cpu_ms["in_process"], 2),
        "cpu_ratio_http_stream": round(cpu_ms["http_stream"] / cpu_ms["in_process"], 2),
        "ratio_http": round(medians["http"] / medians["in_process"], 2),
        "ratio_http_stream": round(medians["http_stream"] / medians["in_process"], 2),
        "added_ms_http": round(medians["http"] - medians["in_process"], 2),
        "added_ms_http_stream": round(medians["http_stream"] - medians["in_process"], 2),
        "answer": texts.pop(),
    }


def _hammer(url: str, seconds: float, clients: int, server: int) -> dict[str, Any]:
    latencies: list[list[float]] = [[] for _ in range(clients)]
    failures = [0] * clients
    start = threading.Barrier(clients + 1)
    stop_at: list[float] = []

    def client(number: int) -> None:
        with httpx.Client(base_url=url, timeout=60) as http:
            http.post("/collections/examples/search", json={"query": QUERIES[0]})  # connect first
            start.wait()
            n = number
            while time.perf_counter() < stop_at[0]:
                began = time.perf_counter()
                response = http.post(
                    "/collections/examples/search", json={"query": QUERIES[n % len(QUERIES)]}
                )
                if response.status_code == 200 and response.json()["hits"]:
                    latencies[number].append(time.perf_counter() - began)
                else:
                    failures[number] += 1
                n += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    stop_at.append(time.perf_counter() + seconds + 0.05)
    began, cpu_began = time.perf_counter(), time.process_time() + _cpu_seconds(server)
    start.wait()
    for thread in threads:
        thread.join()
    took = time.perf_counter() - began
    cpu = time.process_time() + _cpu_seconds(server) - cpu_began
    every = sorted(x for per in latencies for x in per)
    return {
        "clients": clients,
        "seconds": round(took, 2),
        "requests": len(every),
        "failed": sum(failures),
        "requests_per_second": round(len(every) / took, 1),
        "cpu_ms_per_request": round(1000 * cpu / max(len(every), 1), 1),  # clients and server
        "latency_ms": {
            "median": _median_ms(every),
            "p95": round(1000 * every[int(0.95 * (len(every) - 1))], 2),
        },
    }


def measure_search(
    collection: longqa.Collection, url: str, seconds: float, clients: int, server: int
) -> dict[str, Any]:
    began, cpu_began, done = time.perf_counter(), time.process_time(), 0
    while time.perf_counter() - began < min(seconds, 5.0):
        collection.search(QUERIES[done % len(QUERIES)])
        done += 1
    in_process = done / (time.perf_counter() - began)
    return {
        "concurrent": _hammer(url, seconds, clients, server),
        "one_client": _hammer(url, min(seconds, 5.0), 1, server),
        "in_process": {
            "searches_per_second": round(in_process, 1),
            "cpu_ms_per_search": round(1000 * (time.process_time() - cpu_began) / done, 1),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--model", default="fake:cite")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "http.json")
    args = parser.parse_args()

    root = ROOT / ".longqa" / "bench" / "http" / "collections"
    settings = longqa.load_settings(model=args.model, collections=root)
    (root / "examples" / "files").mkdir(parents=True, exist_ok=True)  # one of the UI's collections
    collection = longqa.Collection.open(root / "examples", settings)
    collection.add(ROOT / "examples")
    load_before = os.getloadavg()
    port = _port()
    server = _serve(root, port, args.model)
    url = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=url, timeout=120) as client:
            ask = measure_ask(collection, client, args.runs, server.pid)
        search = measure_search(collection, url, args.seconds, args.clients, server.pid)
    finally:
        server.terminate()
        server.wait(30)
    result = {
        "command": "python benchmarks/bench_http.py " + " ".join(sys.argv[1:]),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "load_average": {
            "before": [round(x, 2) for x in load_before],
            "after": [round(x, 2) for x in os.getloadavg()],
        },
        "model": args.model,
        "chunks": sum(d.chunks for d in collection.documents()),
        "ask": ask,
        "search": search,
    }
    text = json.dumps(result, indent=1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
