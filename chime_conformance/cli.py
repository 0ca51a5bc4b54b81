"""``chime-conformance``: run the installed suite against an endpoint.

``chime-conformance run --target-url URL [pytest options]`` runs the suite
that ships inside the package (``chime_conformance/suite``; in a checkout,
``conformance/``) from any directory, with every option of the plugin
(``--target-url``, ``--accounts-url``, ``--reference-url``, ``--strict``,
``--allow-live``, ``--operations``, ``--baseline``, ``--report-dir``,
``--hypothesis-profile``, ``-n``…) and of pytest. Reports go to ``reports/``
in the current directory unless ``--report-dir`` says otherwise. The exit
status is the run's (README: "Exit status").
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

PROGRAM = "chime-conformance"
ALREADY_IMPORTED = "Module already imported so cannot be rewritten; chime_conformance"
USAGE = f"""usage: {PROGRAM} run [--target-url URL] [pytest and suite options…]

Run the Amazon Chime API conformance suite against URL (default: the embedded
reference emulator) and write compliance.html, results.json and junit.xml to
./reports (or --report-dir). `{PROGRAM} run --help` lists every option.
"""


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(USAGE)
        return 0 if args else 4
    if args[0] != "run":
        print(f"{PROGRAM}: unknown command {args[0]!r}\n\n{USAGE}", file=sys.stderr)
        return 4
    return run(args[1:])


def run(options: Sequence[str]) -> int:
    """pytest on the suite's directory; nothing is written there (no cache)."""
    import pytest

    from chime_conformance.pytest_plugin.options import SUITE_DIR

    arguments = [str(SUITE_DIR), "-p", "no:cacheprovider", "--rootdir", str(SUITE_DIR)]
    # this command imported the package before pytest could mark it for rewriting
    arguments += ["-W", f"ignore:{ALREADY_IMPORTED}:pytest.PytestAssertRewriteWarning"]
    return int(pytest.main([*arguments, *options]))


if __name__ == "__main__":
    sys.exit(main())
