"""One Python script that replays a state machine's steps against the target.

Replaying the requests verbatim would not reproduce anything: the service
issues ARNs, endpoint ids, account ids and NextTokens anew on every run, and a
reused ClientRequestToken would return the first run's resources. So the
script swaps the run's name prefix (in every token, id and account name) for a
fresh one, learns each identifier the target issues from its answers, and
substitutes it, raw and percent-encoded, into every later request before
signing it as botocore does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from chime_conformance.contract import resources
from chime_conformance.wire.client import (
    DEFAULT_CREDENTIALS,
    GENERATED_HEADERS,
    Exchange,
    is_loopback,
)

# Answer members whose values the service issues (paths into the JSON body):
# what each create's answer says of the new resource (the spec's links), and
# the page tokens.
ISSUED_MEMBERS: tuple[tuple[str, ...], ...] = (
    *dict.fromkeys(path for kind in resources.KINDS.values() for path in kind.issued_paths),
    ("NextToken",),
)

PRELUDE = '''\
import os
import secrets
import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

import botocore.session
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

{environment}credentials = {credentials}
REGION = {region!r}
PREFIX = {prefix!r}  # every id, token and account name of the run starts with it
# old value -> value in this replay; the target's own ids are learnt as it answers
replacements = {{PREFIX: ("r" + secrets.token_hex(len(PREFIX)))[: len(PREFIX)]}}
printing = threading.Lock()


def substituted(text):
    for old in sorted(replacements, key=len, reverse=True):
        new = replacements[old]
        text = text.replace(quote(old, safe=""), quote(new, safe="")).replace(old, new)
    return text


def send(step, method, url, body=None, headers=None, issued=(), together=None):
    """Send one request of the sequence; learn the ids its answer issues."""
    url = substituted(url)
    data = substituted(body.decode("utf-8")).encode("utf-8") if body else None
    request = AWSRequest(method=method, url=url, data=data, headers=headers or {{}})
    SigV4Auth(credentials, "chime", REGION).add_auth(request)
    response = requests.request(method, url, data=data, headers=dict(request.headers.items()),
                                timeout=30)
    group = f" (together {{together}})" if together else ""
    with printing:  # one request's three lines at a time, whichever thread sent it
        print(f"{{step}}: {{method}} {{url}} -> {{response.status_code}}{{group}}")
        print("    sent:", (data or b"").decode("utf-8"))
        print("    got: ", response.text[:4000])
    answer = response.json() if response.content.strip().startswith(b"{{") else {{}}
    for path, old in issued:
        new = answer
        for key in path:
            new = new.get(key) if isinstance(new, dict) else None
        if isinstance(new, str):
            replacements[old] = new
    return response


def send_together(*sends):
    """Run the ``send`` calls at once, from threads: in the run they overlapped."""
    barrier = threading.Barrier(len(sends))

    def released(send_one):
        barrier.wait(10)
        return send_one()

    with ThreadPoolExecutor(len(sends)) as pool:
        return list(pool.map(released, sends))

'''


def sequence_script(
    exchanges: Sequence[Exchange],
    *,
    prefix: str,
    steps: Sequence[str],
    broken: str,
    together: Callable[[Exchange], int | None] = lambda exchange: None,
) -> str:
    """A standalone script replaying ``exchanges`` (the machine's writes and
    the failing step's calls) with fresh names and the target's new ids."""
    url = exchanges[-1].request.url if exchanges else ""
    region = exchanges[-1].region if exchanges else "us-east-1"
    lines = [
        "# Replays a chime-conformance state machine run that broke the contract:",
        *(f"#   {line}" for line in broken.splitlines()[:6]),
        "# Steps (Hypothesis' minimal sequence):",
        *(f"#   {line}" for line in steps),
        "# The last request printed shows the broken answer.",
        PRELUDE.format(
            environment=_environment(url),
            credentials=_credentials(url),
            region=region,
            prefix=prefix,
        ),
    ]
    lines.extend(_send_lines(exchanges, together))
    return "\n".join(lines) + "\n"


def _send_lines(
    exchanges: Sequence[Exchange], together: Callable[[Exchange], int | None]
) -> Iterator[str]:
    """One ``send(...)`` a request; requests that overlapped in one ``send_together``."""
    index = 0
    while index < len(exchanges):
        group = together(exchanges[index])
        end = index + 1
        while group is not None and end < len(exchanges) and together(exchanges[end]) == group:
            end += 1
        if end - index == 1:
            yield _send_line(index + 1, exchanges[index])
        else:
            calls = (
                f"    lambda: {_send_line(number, exchanges[number - 1], together=group)},"
                for number in range(index + 1, end + 1)
            )
            yield "\n".join(["send_together(", *calls, ")"])
        index = end


def _environment(url: str) -> str:
    if not is_loopback(url):
        return ""
    return 'os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")  # a local target\n'


def _credentials(url: str) -> str:
    chain = "botocore.session.Session().get_credentials()"
    return f"{chain} or Credentials{DEFAULT_CREDENTIALS!r}" if is_loopback(url) else chain


def _send_line(index: int, exchange: Exchange, *, together: int | None = None) -> str:
    request = exchange.request
    headers = {
        name: value
        for name, value in request.headers.items()
        if name.lower() not in GENERATED_HEADERS
    }
    issued = tuple(_issued(exchange.json))
    arguments = [f"{f'{index} {exchange.operation}'!r}", repr(request.method), repr(request.url)]
    if request.body:
        arguments.append(f"body={request.body!r}")
    if headers:
        arguments.append(f"headers={headers!r}")
    if issued:
        arguments.append(f"issued={issued!r}")
    if together is not None:
        arguments.append(f"together={together}")
    return f"send({', '.join(arguments)})"


def _issued(body: Any) -> Iterator[tuple[tuple[str, ...], str]]:
    for path in ISSUED_MEMBERS:
        value = body
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if isinstance(value, str):
            yield path, value
