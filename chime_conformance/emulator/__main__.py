"""``chime-emulator`` / ``python -m chime_conformance.emulator``."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import time
from collections.abc import Sequence
from types import FrameType

from chime_conformance.emulator.app import EmulatorConfig
from chime_conformance.emulator.server import start_emulator
from chime_conformance.emulator.state import StateFileError


def parse_arguments(argv: Sequence[str] | None) -> EmulatorConfig:
    defaults = EmulatorConfig()
    parser = argparse.ArgumentParser(
        prog="chime-emulator",
        description="Reference emulator of the Amazon Chime SDK Identity and Amazon Chime "
        "accounts APIs (SigV4-verified, one endpoint for both).",
    )
    parser.add_argument(
        "--host", default=defaults.host, help="address to bind (default %(default)s)"
    )
    parser.add_argument(
        "--port",
        type=int,
        default=8080,
        help="port to bind; 0 picks a free one (default %(default)s)",
    )
    parser.add_argument("--region", default=defaults.region, help="the one region served")
    parser.add_argument(
        "--account-id", default=defaults.account_id, help="the AWS account of all resources"
    )
    parser.add_argument("--access-key", default=defaults.access_key, help="accepted access key id")
    parser.add_argument("--secret-key", default=defaults.secret_key, help="its secret access key")
    parser.add_argument(
        "--state-file",
        default=None,
        help="JSON snapshot loaded at start and written (atomically) at shutdown",
    )
    arguments = parser.parse_args(argv)
    return EmulatorConfig(
        host=arguments.host,
        port=arguments.port,
        region=arguments.region,
        account_id=arguments.account_id,
        access_key=arguments.access_key,
        secret_key=arguments.secret_key,
        state_file=arguments.state_file,
    )


def main(argv: Sequence[str] | None = None) -> int:
    config = parse_arguments(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    try:
        emulator = start_emulator(config)
    except StateFileError as error:
        print(f"chime-emulator: error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(
            f"chime-emulator: error: cannot listen on {config.host}:{config.port}: {error}",
            file=sys.stderr,
        )
        return 2
    # The handler only appends to a list: taking a lock (Event.set) inside a
    # signal handler deadlocks when a second signal lands while the main thread
    # holds that same lock.
    stop_signals: list[int] = []

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop_signals.append(signum)

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    # the first stdout line says where it listens: harnesses started with --port 0 read it
    print(
        f"chime-emulator listening on {emulator.url} (account {config.account_id}, "
        f"region {config.region})",
        flush=True,
    )
    while not stop_signals:
        time.sleep(0.1)
    try:
        emulator.stop()
    except OSError as error:
        print(
            f"chime-emulator: error: could not save {config.state_file}: {error}", file=sys.stderr
        )
        return 1
    print("chime-emulator stopped", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
