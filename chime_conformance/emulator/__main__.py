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
from chime_conformance.emulator.iam import Identity, IdentityError
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
        "--account-id",
        default=defaults.account_id,
        help="the AWS account of the primary access key (default %(default)s)",
    )
    parser.add_argument(
        "--access-key", default=defaults.access_key, help="the primary access key id"
    )
    parser.add_argument("--secret-key", default=defaults.secret_key, help="its secret access key")
    parser.add_argument(
        "--identity",
        dest="identities",
        action="append",
        default=[],
        type=_identity,
        metavar="KEY:SECRET:ACCOUNT_ID[:deny=chime:Action,…]",
        help="also accept this access key, acting in its own AWS account (repeatable); "
        "resources of one account are invisible to another, and the actions after deny= "
        "are refused with 403 ForbiddenException. With the primary access key, it "
        "replaces the primary identity (e.g. to deny it actions)",
    )
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
    door = parser.add_argument_group(
        "front door",
        "No client can lock others out: beyond --connection-limit, the connection that has "
        "waited longest for a complete request is closed to admit the new one.",
    )
    door.add_argument(
        "--connection-limit",
        type=int,
        default=defaults.connection_limit,
        metavar="N",
        help="open connections kept at most (default %(default)s; lowered to what ulimit -n "
        "allows)",
    )
    door.add_argument(
        "--header-timeout",
        type=float,
        default=defaults.header_timeout,
        metavar="SECONDS",
        help="a request's line and headers must arrive within this time of its first byte, "
        "or it is answered 408 and closed (default %(default)s)",
    )
    door.add_argument(
        "--request-timeout",
        type=float,
        default=defaults.request_timeout,
        metavar="SECONDS",
        help="the same for the whole request, its body included (default %(default)s)",
    )
    door.add_argument(
        "--idle-timeout",
        type=float,
        default=defaults.idle_timeout,
        metavar="SECONDS",
        help="a connection silent this long between requests is closed (default %(default)s)",
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
        print_to_a_pipe(fault_table())
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
    try:
        return EmulatorConfig(
            host=arguments.host,
            port=arguments.port,
            region=arguments.region,
            account_id=arguments.account_id,
            access_key=arguments.access_key,
            secret_key=arguments.secret_key,
            identities=tuple(arguments.identities),
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
            connection_limit=arguments.connection_limit,
            header_timeout=arguments.header_timeout,
            request_timeout=arguments.request_timeout,
            idle_timeout=arguments.idle_timeout,
        )
    except ValueError as error:  # IdentityError included
        parser.error(str(error))


def _identity(text: str) -> Identity:
    try:
        return Identity.parse(text)
    except IdentityError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def print_to_a_pipe(text: str) -> None:
    """Prints ``text``; a reader that stops early (``| head``) ends it quietly."""
    try:
        print(text, flush=True)
    except BrokenPipeError:
        # Python's advice: point stdout at devnull, so the flush at exit raises nothing
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


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
    accounts = ", ".join(
        f"{identity.access_key} in {identity.account_id}" for identity in config.all_identities
    )
    print(
        f"chime-emulator listening on {emulator.url} (account {config.account_id}, "
        f"region {config.region}{faults}; keys {accounts})",
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
