"""How long a fresh, well-behaved client waits while a crowd of sockets hangs on
the emulator's front door. Figures to read, never a timed assertion (the tests
count served / not served: tests/emulator/test_emulator_front_door.py).

For each crowd (idle sockets that never send a byte; dribbling sockets that
send one header byte every 3 seconds and never finish), the emulator runs in a
child process (``chime-emulator``, default limits), the crowd connects and is
accepted, then fresh clients each open a connection, send ``GET
/_emulator/health`` and wait for the answer. Printed: fresh clients served and
not served (within 10 s), the median and slowest time to the answer, and for a
single dribbling socket how long until its headers are cut off (408).

    python bench/emulator_front_door.py [--crowd 1000] [--clients 20] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import select
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from contextlib import suppress
from pathlib import Path
from typing import Any

HEALTH = b"GET /_emulator/health HTTP/1.1\r\nHost: bench\r\n\r\n"


def emulator_command() -> list[str]:
    found = shutil.which("chime-emulator") or str(Path(sys.executable).with_name("chime-emulator"))
    return [found, "--host", "127.0.0.1", "--port", "0"]


def start_emulator() -> tuple[subprocess.Popen[str], tuple[str, int]]:
    process = subprocess.Popen(
        emulator_command(), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], 30)
    line = process.stdout.readline() if ready else ""
    if "listening on http://" not in line:
        process.kill()
        raise SystemExit(f"chime-emulator did not start: {line!r}")
    host, port = line.split("listening on http://", 1)[1].split()[0].rsplit(":", 1)
    return process, (host, int(port))


def fresh_client(address: tuple[str, int]) -> float | None:
    """Seconds from connecting to the whole answer; None if not served within 10 s."""
    started = time.perf_counter()
    try:
        with socket.create_connection(address, timeout=10) as connection:
            connection.sendall(HEALTH)
            answer = b""
            while b"\r\n\r\n" not in answer:
                chunk = connection.recv(65536)
                if not chunk:
                    return None
                answer += chunk
    except OSError:
        return None
    return time.perf_counter() - started if answer.startswith(b"HTTP/1.1 200 ") else None


def crowd_run(kind: str, crowd: int, clients: int) -> dict[str, Any]:
    process, address = start_emulator()
    stop = threading.Event()
    sockets: list[socket.socket] = []
    try:
        for _ in range(crowd):
            sockets.append(socket.create_connection(address, timeout=10))

        def dribble() -> None:
            for connection in sockets:
                with suppress(OSError):
                    connection.sendall(b"GET /_emulator/health HTTP/1.1\r\nX-Slow: ")
            while not stop.wait(3):
                for connection in sockets:
                    with suppress(OSError):
                        connection.send(b"a")

        if kind == "dribbling":
            threading.Thread(target=dribble, daemon=True).start()
        time.sleep(1)  # the crowd is accepted
        times = [fresh_client(address) for _ in range(clients)]
    finally:
        stop.set()
        for connection in sockets:
            connection.close()
        process.terminate()
        process.wait(timeout=30)
    served = [t for t in times if t is not None]
    return {
        "crowd": f"{crowd} {kind}",
        "served": len(served),
        "not_served": len(times) - len(served),
        "median_s": round(statistics.median(served), 4) if served else None,
        "slowest_s": round(max(served), 4) if served else None,
    }


def header_cut_off() -> float | None:
    """Seconds until one socket dribbling its headers (a byte every 0.5 s) is
    answered 408 and closed, with the default --header-timeout."""
    process, address = start_emulator()
    try:
        with socket.create_connection(address, timeout=60) as connection:
            connection.sendall(b"GET /_emulator/health HTTP/1.1\r\nX-Slow: ")
            connection.settimeout(0.5)
            started = time.perf_counter()
            while time.perf_counter() - started < 60:
                try:
                    answer = connection.recv(65536)
                    if answer.startswith(b"HTTP/1.1 408 ") or not answer:
                        return time.perf_counter() - started
                except TimeoutError:
                    connection.send(b"a")
            return None
    finally:
        process.terminate()
        process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--crowd", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--json", action="store_true")
    arguments = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < arguments.crowd + 256:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, arguments.crowd + 256), hard))
    figures: dict[str, Any] = {
        "crowds": [
            crowd_run(kind, arguments.crowd, arguments.clients) for kind in ("idle", "dribbling")
        ],
        "header_cut_off_s": header_cut_off(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    if arguments.json:
        print(json.dumps(figures))
        return
    for run in figures["crowds"]:
        print(
            f"{run['crowd']:>16} sockets open: fresh clients served {run['served']}, "
            f"not served {run['not_served']}; answer median {run['median_s']} s, "
            f"slowest {run['slowest_s']} s"
        )
    cut = figures["header_cut_off_s"]
    print(f"headers dribbled one byte / 0.5 s: cut off (408) after {cut and round(cut, 1)} s")
    print(f"load average {figures['load_average']}")


if __name__ == "__main__":
    main()
