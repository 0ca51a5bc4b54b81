"""Requests per second of the emulator against a bare Werkzeug route, served the same way.

Both servers run in a child process with Werkzeug's threaded server (the
emulator's own request handler for both); the parent sends the same pre-signed
DescribeAppInstance request (or a GET of the hello-world route) from several
threads for a few seconds each, and prints both rates and their ratio. The
ratio is what the emulator costs (SigV4 verification, routing, validation,
the lock, JSON) over HTTP handling alone. A figure to read, not a test.

    python bench/emulator_throughput.py [--seconds 3] [--threads 4]
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import threading
import time
from typing import Any
from urllib.parse import quote, urlsplit

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from werkzeug.serving import make_server
from werkzeug.wrappers import Response

from chime_conformance.emulator.server import EmulatorRequestHandler, running_emulator


def hello_world(environ: dict[str, Any], start_response: Any) -> Any:
    return Response("hello world")(environ, start_response)


def serve(kind: str, urls: Any, stop: Any) -> None:
    if kind == "emulator":
        with running_emulator() as emulator:
            urls.put(emulator.url)
            stop.wait()
        return
    server = make_server("127.0.0.1", 0, hello_world, threaded=True,
                         request_handler=EmulatorRequestHandler)  # fmt: skip
    threading.Thread(target=server.serve_forever, daemon=True).start()
    urls.put(f"http://127.0.0.1:{server.port}")
    stop.wait()
    server.shutdown()


def describe_request(url: str) -> tuple[str, dict[str, str]]:
    """A signed DescribeAppInstance of a real instance: target and headers."""
    client = boto3.client("chime-sdk-identity", endpoint_url=url, region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")  # fmt: skip
    arn = client.create_app_instance(Name="bench")["AppInstanceArn"]
    target = f"/app-instances/{quote(arn, safe='')}"
    request = AWSRequest(method="GET", url=f"{url}{target}")
    SigV4Auth(Credentials("testing", "testing"), "chime", "us-east-1").add_auth(request)
    return target, {k: v for k, v in request.headers.items() if k.lower() != "host"}


def rate(url: str, target: str, headers: dict[str, str], seconds: float, threads: int) -> float:
    parts = urlsplit(url)
    deadline = time.perf_counter() + seconds
    counts = [0] * threads

    def hammer(slot: int) -> None:
        while time.perf_counter() < deadline:
            connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
            connection.request("GET", target, headers=headers)
            response = connection.getresponse()
            response.read()
            connection.close()
            assert response.status == 200, response.status
            counts[slot] += 1

    workers = [threading.Thread(target=hammer, args=(i,)) for i in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sum(counts) / (time.perf_counter() - started)


def measure(kind: str, seconds: float, threads: int) -> float:
    context = multiprocessing.get_context("spawn")
    urls, stop = context.Queue(), context.Event()
    child = context.Process(target=serve, args=(kind, urls, stop))
    child.start()
    try:
        url = urls.get(timeout=30)
        target, headers = describe_request(url) if kind == "emulator" else ("/", {})
        rate(url, target, headers, 0.3, threads)  # warm-up
        return rate(url, target, headers, seconds, threads)
    finally:
        stop.set()
        child.join(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--threads", type=int, default=4)
    arguments = parser.parse_args()
    emulator = measure("emulator", arguments.seconds, arguments.threads)
    hello = measure("hello", arguments.seconds, arguments.threads)
    print(f"emulator, signed DescribeAppInstance: {emulator:8.0f} requests/s")
    print(f"bare Werkzeug hello-world route:      {hello:8.0f} requests/s")
    print(f"ratio: {emulator / hello:.0%} (target >= 50%)")


if __name__ == "__main__":
    main()
