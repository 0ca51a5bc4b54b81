"""``chime-emulator`` / ``python -m chime_conformance.emulator``."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import time
from collections.abc import Sequence
from types import FrameType

from chime_conformance.emulator.app import ADMIN_TOKEN_ENV, ADMIN_TOKEN_HEADER, EmulatorConfig
from chime_conformance.emulator.faults import ALLOW_FAULTS_ENV, FAULTS, FaultError, fault_table
from chime_conformance.emulator.server import exposure_warning, start_emulator
from chime_conformance.emulator.state import StateFileError
from chime_conformance.emulator.unimplemented import STYLES as UNIMPLEMENTED_STYLES
from chime_conformance.emulator.unimplemented import operations_named

EXIT_CODES = """exit codes:
  0  stopped by SIGINT or SIGTERM
  1  the --export snapshot could not be written at shutdown
  2  refused at start: bad arguments, a state file or snapshot that cannot be read,
     written or trusted, an address that cannot be bound (port in use), faults
     without consent"""


def parse_arguments(argv: Sequence[str] | None) -> EmulatorConfig:
    defaults = EmulatorConfig()
    parser = argparse.ArgumentParser(
        prog="chime-emulator",
        description="Reference emulator of the Amazon Chime SDK Identity and Amazon Chime "
        "accounts APIs (SigV4-verified, one endpoint for both).",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
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
        "--temporary-credentials",
        nargs=3,
        metavar=("ACCESS_KEY", "SECRET_KEY", "SESSION_TOKEN"),
        default=None,
        help="also accept these temporary credentials; their X-Amz-Security-Token must match",
    )
    parser.add_argument(
        "--state-file",
        default=None,
        metavar="PATH",
        help="durable SQLite store (created if absent): every 2xx is committed to it first",
    )
    parser.add_argument(
        "--import",
        dest="import_file",
        default=None,
        metavar="SNAPSHOT",
        help="load this JSON snapshot at start (into the store, if --state-file)",
    )
    parser.add_argument(
        "--export",
        dest="export_file",
        default=None,
        metavar="SNAPSHOT",
        help="write a JSON snapshot of the state here (atomically) at shutdown",
    )
    parser.add_argument(
        "--admin-token",
        default=os.environ.get(ADMIN_TOKEN_ENV) or None,
        metavar="TOKEN",
        help=f"require this token in the {ADMIN_TOKEN_HEADER} header of every /_emulator/ "
        f"call (default: ${ADMIN_TOKEN_ENV}; none: the admin endpoints are open)",
    )
    faults = parser.add_argument_group(
        "fault injection",
        "Break one contract fact on purpose, to prove a conformance suite catches it. "
        "Off by default; refused unless --allow-faults (or "
        f"{ALLOW_FAULTS_ENV}=1) is also given.",
    )
    faults.add_argument(
        "--fault",
        dest="faults",
        action="append",
        default=[],
        metavar="NAME",
        help="inject this fault (repeatable); --list-faults names them",
    )
    faults.add_argument(
        "--allow-faults",
        action="store_true",
        help="consent to --fault: this emulator will break the contract",
    )
    faults.add_argument(
        "--list-faults", action="store_true", help="print the known faults and exit"
    )
    partial = parser.add_argument_group(
        "partial implementation",
        "Answer some operations as a server that does not implement them does "
        "(to see the suite's verdicts on a partial implementation).",
    )
    partial.add_argument(
        "--unimplemented-operations",
        default="",
        metavar="NAME,…",
        help="operations or resource families to answer as not implemented",
    )
    partial.add_argument(
        "--unimplemented-style",
        choices=UNIMPLEMENTED_STYLES,
        default=UNIMPLEMENTED_STYLES[0],
        help="501: LocalStack's 501 InternalFailure 'not yet implemented' (default); "
        "404: a plain HTML 404 Not Found",
    )
    arguments = parser.parse_args(argv)
    try:
        unimplemented = operations_named(arguments.unimplemented_operations.split(","))
    except ValueError as error:
        parser.error(f"--unimplemented-operations: {error}")
    if arguments.list_faults:
        print(fault_table())
        parser.exit(0)
    unknown = [name for name in arguments.faults if name not in FAULTS]
    if unknown:
        parser.error(f"unknown fault {unknown[0]!r}; known faults: {', '.join(sorted(FAULTS))}")
    allow_faults = arguments.allow_faults or os.environ.get(ALLOW_FAULTS_ENV) == "1"
    if arguments.faults and not allow_faults:
        parser.error(
            f"--fault {arguments.faults[0]} breaks the contract on purpose; "
            f"add --allow-faults (or set {ALLOW_FAULTS_ENV}=1) to mean it"
        )
    return EmulatorConfig(
        host=arguments.host,
        port=arguments.port,
        region=arguments.region,
        account_id=arguments.account_id,
        access_key=arguments.access_key,
        secret_key=arguments.secret_key,
        temporary_credentials=(
            tuple(arguments.temporary_credentials) if arguments.temporary_credentials else None
        ),
        state_file=arguments.state_file,
        import_file=arguments.import_file,
        export_file=arguments.export_file,
        faults=tuple(arguments.faults),
        allow_faults=allow_faults,
        admin_token=arguments.admin_token,
        unimplemented=unimplemented,
        unimplemented_style=arguments.unimplemented_style,
    )


def main(argv: Sequence[str] | None = None) -> int:
    config = parse_arguments(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    warning = exposure_warning(config)
    if warning:
        print(f"chime-emulator: warning: {warning}", file=sys.stderr, flush=True)
    try:
        emulator = start_emulator(config)
    except (StateFileError, FaultError) as error:
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
    faults = f", FAULTS {','.join(config.faults)}" if config.faults else ""
    if config.unimplemented:
        faults += f", NOT IMPLEMENTED {','.join(config.unimplemented)}"
    print(
        f"chime-emulator listening on {emulator.url} (account {config.account_id}, "
        f"region {config.region}{faults})",
        flush=True,
    )
    while not stop_signals:
        time.sleep(0.1)
    try:
        emulator.stop()
    except OSError as error:
        print(
            f"chime-emulator: error: could not write {config.export_file}: {error}",
            file=sys.stderr,
        )
        return 1
    print("chime-emulator stopped", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
