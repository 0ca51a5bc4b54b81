"""One emulator (one state) served on several ports, recording every request
with the port it came in on: shards and example replays share it."""

from __future__ import annotations

import threading
from typing import Any

from werkzeug.serving import make_server

from chime_conformance.emulator.app import EmulatorApp, EmulatorConfig
from chime_conformance.emulator.faults import fault_extensions


class RecordingEmulator:
    """One emulator (one state) served on one port per shard; every request
    is recorded with the port it came in on, so a delete can be traced to
    the shard that sent it."""

    def __init__(self, ports: int, config: EmulatorConfig | None = None) -> None:
        config = config or EmulatorConfig(host="127.0.0.1", port=0)
        self.app = EmulatorApp(config, extensions=fault_extensions(config))
        self.log: list[tuple[int, str, str, int, bytes]] = []
        self.lock = threading.Lock()
        self.servers = [
            make_server("127.0.0.1", 0, self.recording(index), threaded=True)
            for index in range(1, ports + 1)
        ]
        self.threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in self.servers]

    def recording(self, shard: int) -> Any:
        def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
            status: list[int] = []

            def start(line: str, headers: Any, exc_info: Any = None) -> Any:
                status.append(int(line.split()[0]))
                return start_response(line, headers, exc_info)

            body = b"".join(self.app(environ, start))
            path = environ.get("RAW_URI") or environ.get("PATH_INFO", "")
            with self.lock:
                self.log.append((shard, environ["REQUEST_METHOD"], path, status[0], body))
            return [body]

        return app

    def url(self, shard: int) -> str:
        return f"http://127.0.0.1:{self.servers[shard - 1].server_port}"

    def __enter__(self) -> RecordingEmulator:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        for server in self.servers:
            server.shutdown()
            server.server_close()
