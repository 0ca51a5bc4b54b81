"""Loads the OpenAPI documents in spec/ and answers questions about them.

The documents are data (see spec/README.md for their conventions); this module
is the one place that reads them. It turns each operation into an
:class:`Operation` (wire locations, success code, resolved schemas) and
validates requests with JSON Schema under ECMA-262 regex semantics, which is
what the spec's ``pattern`` keywords mean.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import jsonschema
import yaml

IDENTITY = "chime-sdk-identity"
ACCOUNTS = "chime-accounts"
APIS = (IDENTITY, ACCOUNTS)

_PACKAGED = Path(__file__).parents[1] / "_spec"  # inside an installed wheel
_CHECKOUT = Path(__file__).parents[2] / "spec"  # in a source checkout

# Status of every error the two APIs model (docs/contract.md, "error shape"), plus the
# gateway's authentication errors, which no model lists.
ERROR_STATUS: Mapping[str, int] = {
    "BadRequestException": 400,
    "ResourceLimitExceededException": 400,
    "UnauthorizedClientException": 401,
    "ForbiddenException": 403,
    "NotFoundException": 404,
    "ConflictException": 409,
    "UnprocessableEntityException": 422,
    "ThrottledClientException": 429,
    "ServiceFailureException": 500,
    "ServiceUnavailableException": 503,
    "MissingAuthenticationTokenException": 403,
    "InvalidSignatureException": 403,
    "UnrecognizedClientException": 403,
}

JSON_CONTENT_TYPES = ("application/json", "application/x-amz-json-1.1")


def spec_path(api: str) -> Path:
    """The path of the OpenAPI document of ``api`` (packaged copy first)."""
    if api not in APIS:
        raise ValueError(f"unknown API {api!r}; expected one of {APIS}")
    name = f"{api}.openapi.yaml"
    for folder in (_PACKAGED, _CHECKOUT):
        if (folder / name).is_file():
            return folder / name
    raise FileNotFoundError(f"{name} is neither in {_PACKAGED} nor in {_CHECKOUT}")


@functools.cache
def load_document(api: str) -> dict[str, Any]:
    """The parsed OpenAPI document of ``api``, ``$ref``s left in place."""
    with spec_path(api).open(encoding="utf-8") as stream:
        # libyaml's parser when PyYAML has it: the same safe constructor, a
        # seventh of the time at every start-up
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        document: dict[str, Any] = yaml.load(stream, Loader=loader)
    return document


def resolve(document: Mapping[str, Any], node: Any) -> Any:
    """``node`` with every local ``$ref`` replaced by a copy of its target."""
    if isinstance(node, list):
        return [resolve(document, item) for item in node]
    if not isinstance(node, Mapping):
        return node
    if "$ref" in node:
        return resolve(document, _follow(document, node["$ref"]))
    return {key: resolve(document, value) for key, value in node.items()}


def _follow(document: Mapping[str, Any], ref: str) -> Any:
    if not ref.startswith("#/"):
        raise ValueError(f"only local $refs are supported, got {ref!r}")
    target: Any = document
    for part in ref[2:].split("/"):
        target = target[part.replace("~1", "/").replace("~0", "~")]
    return target


# --------------------------------------------------------------------------
# Operations


@dataclass(frozen=True)
class Parameter:
    """One input member bound to the URI: a path label or a query parameter."""

    wire_name: str
    member: str
    location: str  # "path" or "query"
    required: bool
    schema: Mapping[str, Any]


@dataclass(frozen=True)
class Operation:
    """One operation of an API, as the spec documents it."""

    api: str
    name: str
    method: str
    path: str
    query_literals: Mapping[str, str]
    success_status: int
    family: str
    parameters: tuple[Parameter, ...]
    body_schema: Mapping[str, Any] | None
    body_required: bool
    response_schema: Mapping[str, Any] | None
    errors: tuple[str, ...]
    documented_statuses: tuple[int, ...]
    spec_path_key: str = field(repr=False)

    @property
    def path_parameters(self) -> tuple[Parameter, ...]:
        return tuple(p for p in self.parameters if p.location == "path")

    @property
    def query_parameters(self) -> tuple[Parameter, ...]:
        return tuple(p for p in self.parameters if p.location == "query")

    @property
    def body_members(self) -> tuple[str, ...]:
        return tuple((self.body_schema or {}).get("properties", {}))

    @functools.cached_property
    def input_schema(self) -> dict[str, Any]:
        """One object schema over every input member (path, query and body),
        keyed by member name, with the members' requiredness."""
        properties = {p.member: dict(p.schema) for p in self.parameters}
        required = [p.member for p in self.parameters if p.required]
        body = self.body_schema or {}
        properties.update(body.get("properties", {}))
        required.extend(body.get("required", []))
        return {"type": "object", "properties": properties, "required": required}

    @functools.cached_property
    def input_validator(self) -> Any:
        """A validator of :attr:`input_schema` with the spec's pattern semantics."""
        return SchemaValidator(self.input_schema)

    @functools.cached_property
    def member_validators(self) -> dict[str, Any] | None:
        """A validator per member of :attr:`input_schema` (see :func:`is_valid_input`);
        None if the input schema is not the plain object schema that makes them exact."""
        schema = self.input_schema
        if set(schema) != {"type", "properties", "required"} or schema["type"] != "object":
            return None
        if "$ref" in json.dumps(schema):  # a reference would resolve against another root
            return None
        return {
            name: StringMember.of(sub) or SchemaValidator(sub)
            for name, sub in schema["properties"].items()
        }

    def location_of(self, member: str) -> tuple[str, str]:
        """Where ``member`` travels: ``("path"|"query", wire name)`` or ``("body", member)``."""
        for parameter in self.parameters:
            if parameter.member == member:
                return parameter.location, parameter.wire_name
        if member in self.body_members:
            return "body", member
        raise KeyError(f"{self.name} has no input member {member!r}")


HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


@functools.cache
def operations(api: str | None = None) -> tuple[Operation, ...]:
    """Every operation of ``api`` (or of both APIs), in document order."""
    if api is None:
        return tuple(op for name in APIS for op in operations(name))
    document = load_document(api)
    return tuple(
        _operation(api, document, key, method, raw)
        for key, item in (document.get("paths") or {}).items()
        for method, raw in item.items()
        if method in HTTP_METHODS
    )


@functools.cache
def operation(name: str) -> Operation:
    """The operation whose operationId is ``name`` (an AWS operation name)."""
    for op in operations():
        if op.name == name:
            return op
    raise KeyError(f"no operation {name!r} in {APIS}")


def _operation(api: str, document: Mapping[str, Any], key: str, method: str, raw: Any) -> Operation:
    path, literals = _split_path_key(key)
    responses = raw.get("responses", {})
    statuses = sorted(int(code) for code in responses if str(code).isdigit())
    success = [code for code in statuses if 200 <= code < 300]
    if len(success) != 1:
        raise ValueError(f"{raw.get('operationId')}: expected one 2xx response, got {success}")
    body_schema, body_required = _body(document, raw)
    return Operation(
        api=api,
        name=raw["operationId"],
        method=method.upper(),
        path=path,
        query_literals=literals,
        success_status=success[0],
        family=(raw.get("tags") or [""])[0],
        parameters=tuple(_parameter(document, p) for p in raw.get("parameters", [])),
        body_schema=body_schema,
        body_required=body_required,
        response_schema=_response_schema(document, responses.get(str(success[0]))),
        errors=tuple(raw.get("x-aws-errors", ())),
        documented_statuses=tuple(statuses),
        spec_path_key=key,
    )


def _split_path_key(key: str) -> tuple[str, dict[str, str]]:
    parts = urlsplit(key)
    return parts.path, dict(parse_qsl(parts.query))


def _parameter(document: Mapping[str, Any], raw: Any) -> Parameter:
    raw = resolve(document, raw)
    return Parameter(
        wire_name=raw["name"],
        member=raw.get("x-aws-member", raw["name"]),
        location=raw["in"],
        required=bool(raw.get("required", raw["in"] == "path")),
        schema=raw.get("schema", {}),
    )


def _body(document: Mapping[str, Any], raw: Any) -> tuple[dict[str, Any] | None, bool]:
    body = raw.get("requestBody")
    if not body:
        return None, False
    body = resolve(document, body)
    schema = body.get("content", {}).get("application/json", {}).get("schema")
    return schema, bool(body.get("required", False))


def _response_schema(document: Mapping[str, Any], response: Any) -> dict[str, Any] | None:
    if not response:
        return None
    response = resolve(document, response)
    schema: dict[str, Any] | None = (
        response.get("content", {}).get("application/json", {}).get("schema")
    )
    return schema


# --------------------------------------------------------------------------
# Patterns with ECMA-262 semantics

# ECMA's \s (WhiteSpace and LineTerminator); Python's \s differs at the edges.
_ECMA_SPACE = (
    "\\t\\n\\v\\f\\r \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff"
)
# ECMA's . excludes every line terminator; Python's only excludes \n.
_ECMA_DOT = "[^\\n\\r\\u2028\\u2029]"
_ECMA_CLASS_ESCAPES = {
    "d": "0-9",
    "w": "A-Za-z0-9_",
    "s": _ECMA_SPACE,
}


@functools.cache
def ecma_regex(pattern: str) -> re.Pattern[str]:
    """``pattern`` compiled for Python's ``re`` with the meaning ECMA-262 gives it:
    ``\\d``, ``\\w``, ``\\s`` and ``.`` are the ECMA sets and ``$`` never matches
    before a trailing newline (all differ in Python)."""
    return re.compile(ecma_source(pattern))


def ecma_source(pattern: str, *, end: str = r"\Z") -> str:
    """``pattern`` rewritten so that a regex engine with Perl-style classes reads
    it as ECMA-262 does: explicit ECMA sets for ``\\d``, ``\\w``, ``\\s`` and
    ``.``; an unescaped ``$`` becomes ``end`` (Python needs ``\\Z``; engines
    whose ``$`` already ends the text, such as Rust's, pass ``"$"``)."""
    out: list[str] = []
    in_class = False
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            out.append(_translate_escape(pattern[i + 1], in_class))
            i += 2
            continue
        if char == "[" and not in_class:
            in_class = True
        elif char == "]" and in_class:
            in_class = False
        elif char == "$" and not in_class:
            char = end
        elif char == "." and not in_class:
            char = _ECMA_DOT
        out.append(char)
        i += 1
    return "".join(out)


def _translate_escape(letter: str, in_class: bool) -> str:
    lower = letter.lower()
    if lower not in _ECMA_CLASS_ESCAPES:
        return "\\" + letter
    chars = _ECMA_CLASS_ESCAPES[lower]
    if letter.islower():
        return chars if in_class else f"[{chars}]"
    if in_class:
        raise ValueError(r"negated class escapes (\D \W \S) inside [...] are not supported")
    return f"[^{chars}]"


def pattern_matches(pattern: str, value: str) -> bool:
    """Whether ``value`` satisfies the JSON Schema ``pattern`` keyword (a search)."""
    return ecma_regex(pattern).search(value) is not None


def _pattern_keyword(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[Any]:
    if validator.is_type(instance, "string") and not pattern_matches(pattern, instance):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


SchemaValidator = jsonschema.validators.extend(
    jsonschema.Draft202012Validator, {"pattern": _pattern_keyword}
)


# keywords that never change whether an instance is valid
_ANNOTATIONS = frozenset({"description", "examples", "title"})
_STRING_KEYWORDS = frozenset({"type", "minLength", "maxLength", "pattern", "enum"})


@dataclass(frozen=True)
class StringMember:
    """``is_valid`` of a plain string schema (type, length bounds, pattern, enum
    of strings), compiled: what jsonschema's validator of it answers, without
    its walk over the keywords. Most members of both APIs are such strings
    (tests/contract/test_spec_valid_fast_path.py holds it to jsonschema)."""

    min_length: int
    max_length: int | None
    pattern: re.Pattern[str] | None
    allowed: frozenset[str] | None

    @classmethod
    def of(cls, schema: Mapping[str, Any]) -> StringMember | None:
        """The compiled check of ``schema``, or None if it is not a plain string schema."""
        keys = set(schema) - _ANNOTATIONS
        enum = schema.get("enum")
        if schema.get("type") != "string" or not keys <= _STRING_KEYWORDS:
            return None
        if enum is not None and not all(isinstance(value, str) for value in enum):
            return None
        pattern = schema.get("pattern")
        return cls(
            min_length=int(schema.get("minLength", 0)),
            max_length=schema.get("maxLength"),
            pattern=ecma_regex(pattern) if pattern is not None else None,
            allowed=frozenset(enum) if enum is not None else None,
        )

    def is_valid(self, value: Any) -> bool:
        if not isinstance(value, str) or len(value) < self.min_length:
            return False
        if self.max_length is not None and len(value) > self.max_length:
            return False
        if self.pattern is not None and self.pattern.search(value) is None:
            return False
        return self.allowed is None or value in self.allowed


def validator(schema: Mapping[str, Any]) -> Any:
    """A JSON Schema validator for ``schema`` with the spec's pattern semantics."""
    return SchemaValidator(schema)


# --------------------------------------------------------------------------
# Requests: from the wire to members, and validation


@dataclass(frozen=True)
class Violation:
    """One broken constraint: which member, which keyword, and a sentence saying so."""

    member: str
    keyword: str
    message: str


_KEYWORD_SENTENCES = {
    "maxLength": "Member must have length less than or equal to {0}",
    "minLength": "Member must have length greater than or equal to {0}",
    "maxItems": "Member must have length less than or equal to {0}",
    "minItems": "Member must have length greater than or equal to {0}",
    "maximum": "Member must have value less than or equal to {0}",
    "minimum": "Member must have value greater than or equal to {0}",
    "pattern": "Member must satisfy regular expression pattern: {0}",
    "enum": "Member must satisfy enum value set: [{0}]",
    "type": "Member must be of type {0}",
}


def is_valid_input(op: Operation, members: Mapping[str, Any]) -> bool:
    """``op.input_validator.is_valid(members)``, in a fraction of its time: for an object
    schema of properties and required names only, the instance is valid exactly when
    every required member is present and each member present is valid against its own
    schema (jsonschema still judges each; only the walk of the object is skipped)."""
    validators = op.member_validators
    if validators is None:
        return bool(op.input_validator.is_valid(dict(members)))
    return all(name in members for name in op.input_schema["required"]) and all(
        validators[name].is_valid(value) for name, value in members.items() if name in validators
    )


def violations_of(op: Operation, members: Mapping[str, Any]) -> list[Violation]:
    """Every constraint of ``op``'s input that ``members`` breaks."""
    if is_valid_input(op, members):  # the common case: no error to describe
        return []
    found: list[Violation] = []
    for error in op.input_validator.iter_errors(dict(members)):
        found.extend(_violations_from_error(error))
    return sorted(found, key=lambda v: (v.member, v.keyword))


def _violations_from_error(error: Any) -> Iterable[Violation]:
    where = ".".join(str(part) for part in error.absolute_path)
    if error.validator == "required":
        present = error.instance if isinstance(error.instance, Mapping) else {}
        for name in error.validator_value:
            if name not in present:
                member = f"{where}.{name}" if where else name
                yield Violation(
                    member,
                    "required",
                    f"Value at '{member}' failed to satisfy constraint: Member must not be null",
                )
        return
    value = error.validator_value
    if error.validator == "enum":
        value = ", ".join(str(v) for v in value)
    elif error.validator == "type":
        value = value if isinstance(value, str) else " or ".join(value)
    sentence = _KEYWORD_SENTENCES.get(error.validator, "Member must satisfy {0} {1}").format(
        value, error.validator
    )
    member = where or "(request)"
    yield Violation(
        member, error.validator, f"Value at '{member}' failed to satisfy constraint: {sentence}"
    )


def format_violations(violations: list[Violation]) -> str:
    """The Message of a 400 answer: AWS's "N validation error(s) detected: …" sentence."""
    count = len(violations)
    noun = "error" if count == 1 else "errors"
    return f"{count} validation {noun} detected: " + "; ".join(v.message for v in violations)


MAX_JSON_DEPTH = 64


def parse_request(
    op: Operation,
    path_params: Mapping[str, str],
    query: Mapping[str, list[str]],
    body: bytes,
    content_type: str | None,
) -> tuple[dict[str, Any], list[Violation]]:
    """Turn a request as it came off the wire into ``{member: value}`` and the
    list of constraints it breaks (empty when the request is valid).

    Path values arrive decoded; query values are converted to the type their
    schema names; the JSON body must be an object. Unknown query parameters
    and body members are ignored, as the service does.
    """
    members: dict[str, Any] = {}
    problems: list[Violation] = []
    if op.body_schema is not None:
        body_members, body_problems = _parse_body(body, content_type)
        problems.extend(body_problems)
        members.update({k: v for k, v in body_members.items() if k in op.body_members})
    for parameter in op.parameters:
        if parameter.location == "path":
            # an empty label is how a missing path member looks on the wire
            if path_params.get(parameter.wire_name):
                members[parameter.member] = path_params[parameter.wire_name]
        elif parameter.location == "query" and parameter.wire_name in query:
            value, problem = _query_value(parameter, query[parameter.wire_name])
            if problem:
                problems.append(problem)
            else:
                members[parameter.member] = value
    if problems:  # the request could not be read: its values are not worth judging
        return members, problems
    return members, violations_of(op, members)


def _parse_body(body: bytes, content_type: str | None) -> tuple[dict[str, Any], list[Violation]]:
    # Only an absent body is "no members": a body of whitespace (form feeds
    # included, which bytes.strip() would also drop) is not a JSON text (RFC 8259).
    if not body:
        return {}, []
    media_type = (content_type or "application/json").split(";")[0].strip().lower()
    if media_type not in JSON_CONTENT_TYPES:
        return {}, [
            _wire_violation(
                "Content-Type",
                "contentType",
                f"Content-Type must be application/json, got {media_type!r}",
            )
        ]
    try:
        document = json.loads(body.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        return {}, [
            _wire_violation(
                "(body)", "json", f"the request body is not valid UTF-8 JSON: {_short(error)}"
            )
        ]
    if not isinstance(document, dict):
        return {}, [_wire_violation("(body)", "type", "the request body must be a JSON object")]
    if nesting_depth(document) > MAX_JSON_DEPTH:
        return {}, [
            _wire_violation(
                "(body)", "depth", f"the request body nests deeper than {MAX_JSON_DEPTH} levels"
            )
        ]
    return document, []


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _short(error: Exception) -> str:
    return str(error).splitlines()[0][:200] if str(error) else type(error).__name__


def nesting_depth(value: Any) -> int:
    """How deep ``value`` nests (iterative: a hostile document cannot exhaust the stack)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        children = (
            node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        )
        stack.extend((child, level + 1) for child in children if isinstance(child, dict | list))
    return deepest


def _wire_violation(member: str, keyword: str, sentence: str) -> Violation:
    return Violation(member, keyword, sentence)


def _query_value(parameter: Parameter, values: list[str]) -> tuple[Any, Violation | None]:
    name = parameter.wire_name
    if len(values) != 1:
        return None, _wire_violation(
            name, "repeated", f"query parameter '{name}' must be given once"
        )
    text = values[0]
    kind = parameter.schema.get("type")
    if kind == "integer":
        if re.fullmatch(r"-?[0-9]{1,18}", text) is None:
            sentence = (
                f"Value at '{name}' failed to satisfy constraint: Member must be of type integer"
            )
            return None, Violation(parameter.member, "type", sentence)
        return int(text), None
    return text, None


def parse_json_body(body: bytes, content_type: str | None = None) -> tuple[dict[str, Any], str]:
    """A JSON object body read with the API's own rules (UTF-8, no NaN, at most
    MAX_JSON_DEPTH levels): ``(document, "")`` or ``({}, why it is refused)``.
    For bodies outside the spec's operations, e.g. the emulator's admin endpoints."""
    document, problems = _parse_body(body, content_type)
    return document, "; ".join(problem.message for problem in problems)
