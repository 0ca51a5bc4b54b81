"""Compares a spec/ document with botocore's service model, fact by fact.

A *fact* is one checkable statement about one operation: *where* it lives
(``http``, ``path.appInstanceArn``, ``body.Tags[].Key``,
``response.Account.Name``, ``responses.404``, ``errors.NotFoundException``) and
*what* it says (``method``, ``maxLength``, ``required``…). Both sides are
reduced to facts the same way, so a disagreement is one readable line, and every
constraint the spec states is a fact botocore must state too (and the other way
round). The computation is pure: documents and models in, differences out.

Deliberate disagreements live in ``tests/support/spec_deviations.yaml``; an entry
either demands another value than botocore's (``spec:``) or accepts any.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from botocore.loaders import Loader

from chime_conformance.contract.spec import ACCOUNTS, IDENTITY

BOTOCORE_SERVICES = {IDENTITY: "chime-sdk-identity", ACCOUNTS: "chime"}
# The legacy chime model has ~200 operations; the accounts spec covers five.
OPERATION_SCOPE: dict[str, frozenset[str] | None] = {
    IDENTITY: None,
    ACCOUNTS: frozenset(
        {"CreateAccount", "GetAccount", "ListAccounts", "UpdateAccount", "DeleteAccount"}
    ),
}
INFO = "(info)"  # the pseudo-operation that holds the document's info.x-aws facts
DEVIATIONS_PATH = Path(__file__).with_name("spec_deviations.yaml")


class _Absent:
    """The value of a fact one side does not state."""

    def __repr__(self) -> str:
        return "absent"


ABSENT: Any = _Absent()

# A difference at one of these facts means the place itself is missing on one
# side; the facts below that place would only repeat it, so they are not listed.
EXISTENCE_FACTS = ("exists", "documented", "modeled")

# botocore's min/max mean length, range or size depending on the shape's type.
BOUND_KEYWORDS = {
    "string": ("minLength", "maxLength"),
    "blob": ("minLength", "maxLength"),
    "integer": ("minimum", "maximum"),
    "long": ("minimum", "maximum"),
    "float": ("minimum", "maximum"),
    "double": ("minimum", "maximum"),
    "list": ("minItems", "maxItems"),
    "map": ("minProperties", "maxProperties"),
}
JSON_TYPES = {
    "string": "string",
    "blob": "string",
    "integer": "integer",
    "long": "integer",
    "float": "number",
    "double": "number",
    "boolean": "boolean",
    "structure": "object",
    "map": "object",
    "list": "array",
}
# The wire form of a botocore timestampFormat: JSON type, format, x-aws-timestamp.
TIMESTAMP_FORMS = {
    "unixTimestamp": ("number", ABSENT, "epoch-seconds"),
    "iso8601": ("string", "date-time", "iso8601"),
}
# rest-json puts timestamps in bodies as epoch seconds unless the shape says otherwise.
DEFAULT_BODY_TIMESTAMP = "unixTimestamp"
LOCATION_PREFIXES = {"uri": "path", "querystring": "query", "header": "header"}
# Every schema keyword the spec may state. botocore states only some of them, so
# any of the others in the spec (a uniqueItems, an additionalProperties: false)
# shows up as a difference instead of passing unnoticed.
SCHEMA_KEYWORDS = (
    "type",
    "format",
    "x-aws-timestamp",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minProperties",
    "maxProperties",
    "pattern",
    "enum",
    "const",
)
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
# rest-json errors: botocore's parser takes the exception name from this header.
ERROR_TYPE_HEADER = "x-amzn-errortype"


# ---------------------------------------------------------------- fact sheets


@dataclass
class FactSheet:
    """The facts of one operation on one side, and the botocore shape at each place."""

    values: dict[tuple[str, str], Any] = field(default_factory=dict)
    shapes: dict[str, str] = field(default_factory=dict)

    def add(self, where: str, fact: str, value: Any) -> None:
        self.values[(where, fact)] = value


@dataclass(frozen=True)
class OperationContext:
    """What a deviation entry may ask about the operation a fact belongs to."""

    api: str
    operation: str
    required_input_members: frozenset[str]


# ------------------------------------------------------------- botocore side


@functools.cache
def botocore_model(api: str) -> dict[str, Any]:
    """botocore's service-2 model of ``api`` (the installed botocore's copy)."""
    return Loader().load_service_model(BOTOCORE_SERVICES[api], "service-2")


def botocore_operation_names(api: str, model: Mapping[str, Any]) -> list[str]:
    scope = OPERATION_SCOPE[api]
    return sorted(name for name in model["operations"] if scope is None or name in scope)


def botocore_info_facts(api: str, model: Mapping[str, Any]) -> FactSheet:
    metadata = model["metadata"]
    sheet = FactSheet()
    sheet.add("info.x-aws", "serviceId", metadata["serviceId"])
    sheet.add("info.x-aws", "apiVersion", metadata["apiVersion"])
    # botocore signs with the endpoint prefix when the model names no signing name.
    sheet.add("info.x-aws", "signingName", metadata.get("signingName", metadata["endpointPrefix"]))
    sheet.add("info.x-aws", "protocol", metadata["protocol"])
    sheet.add("info.x-aws", "botocoreService", BOTOCORE_SERVICES[api])
    return sheet


def botocore_operation_facts(model: Mapping[str, Any], name: str) -> FactSheet:
    operation = model["operations"][name]
    shapes = model["shapes"]
    sheet = FactSheet()
    sheet.add("operation", "exists", True)
    sheet.add("http", "method", operation["http"]["method"])
    sheet.add("http", "path", operation["http"]["requestUri"])
    sheet.add("http", "success", operation["http"].get("responseCode", 200))
    if "input" in operation:
        _add_botocore_input(sheet, shapes, operation["input"]["shape"])
    if "output" in operation and shapes[operation["output"]["shape"]].get("members"):
        _add_botocore_shape(sheet, shapes, "response", operation["output"]["shape"])
    for error in operation.get("errors", []):
        _add_botocore_error(sheet, shapes, error["shape"])
    return sheet


def botocore_required_inputs(model: Mapping[str, Any], name: str) -> frozenset[str]:
    operation = model["operations"].get(name, {})
    if "input" not in operation:
        return frozenset()
    return frozenset(model["shapes"][operation["input"]["shape"]].get("required", []))


def _add_botocore_input(sheet: FactSheet, shapes: Mapping[str, Any], shape_name: str) -> None:
    shape = shapes[shape_name]
    required = set(shape.get("required", []))
    body_members = {}
    for member_name, member in shape.get("members", {}).items():
        location = member.get("location")
        if location in LOCATION_PREFIXES:
            where = f"{LOCATION_PREFIXES[location]}.{member['locationName']}"
            if location == "header":  # header names are case-insensitive; the spec side lowers them
                where = where.lower()
            sheet.add(where, "member", member_name)
            _add_botocore_member(sheet, shapes, where, member, member_name in required)
        else:
            body_members[member_name] = member
    if body_members:
        sheet.add("body", "required", bool(required & body_members.keys()))
        sheet.add("body", "type", "object")
    for member_name, member in body_members.items():
        _add_botocore_member(sheet, shapes, f"body.{member_name}", member, member_name in required)


def _add_botocore_member(
    sheet: FactSheet,
    shapes: Mapping[str, Any],
    where: str,
    member: Mapping[str, Any],
    required: bool,
) -> None:
    sheet.add(where, "exists", True)
    sheet.add(where, "required", required)
    _add_botocore_shape(sheet, shapes, where, member["shape"], member.get("timestampFormat"))


def _add_botocore_shape(
    sheet: FactSheet,
    shapes: Mapping[str, Any],
    where: str,
    shape_name: str,
    timestamp_format: str | None = None,
    seen: tuple[str, ...] = (),
) -> None:
    if shape_name in seen:  # a recursive shape: its facts were stated one level up
        return
    shape = shapes[shape_name]
    sheet.shapes[where] = shape_name
    kind = shape["type"]
    if kind == "timestamp":
        _add_timestamp(sheet, where, timestamp_format or shape.get("timestampFormat"))
    else:
        sheet.add(where, "type", JSON_TYPES[kind])
    _add_botocore_constraints(sheet, where, shape)
    seen = (*seen, shape_name)
    if kind == "structure":
        required = set(shape.get("required", []))
        for member_name, member in shape.get("members", {}).items():
            member_where = f"{where}.{member_name}"
            sheet.add(member_where, "exists", True)
            sheet.add(member_where, "required", member_name in required)
            _add_botocore_shape(
                sheet, shapes, member_where, member["shape"], member.get("timestampFormat"), seen
            )
    elif kind == "list":
        _add_botocore_shape(sheet, shapes, f"{where}[]", shape["member"]["shape"], None, seen)


def _add_timestamp(sheet: FactSheet, where: str, timestamp_format: str | None) -> None:
    json_type, string_format, wire_form = TIMESTAMP_FORMS[
        timestamp_format or DEFAULT_BODY_TIMESTAMP
    ]
    sheet.add(where, "type", json_type)
    if string_format is not ABSENT:
        sheet.add(where, "format", string_format)
    sheet.add(where, "x-aws-timestamp", wire_form)


def _add_botocore_constraints(sheet: FactSheet, where: str, shape: Mapping[str, Any]) -> None:
    lower, upper = BOUND_KEYWORDS.get(shape["type"], (None, None))
    if "min" in shape and lower:
        sheet.add(where, lower, shape["min"])
    if "max" in shape and upper:
        sheet.add(where, upper, shape["max"])
    if "pattern" in shape:
        sheet.add(where, "pattern", shape["pattern"])
    if "enum" in shape:
        sheet.add(where, "enum", sorted(shape["enum"]))


def _add_botocore_error(sheet: FactSheet, shapes: Mapping[str, Any], error_name: str) -> None:
    status = shapes[error_name]["error"]["httpStatusCode"]
    sheet.add(f"errors.{error_name}", "modeled", True)
    sheet.add(f"responses.{status}", "documented", True)
    header = f"responses.{status}.header.{ERROR_TYPE_HEADER}"
    sheet.add(header, "exists", True)
    sheet.add(header, "required", True)
    sheet.add(header, "type", "string")
    # Errors sharing a status (BadRequest, ResourceLimitExceeded) share one
    # response; their shapes have the same members, so the facts coincide.
    _add_botocore_shape(sheet, shapes, f"responses.{status}.body", error_name)


# ----------------------------------------------------------------- spec side


def resolve(document: Mapping[str, Any], node: Any) -> Any:
    """``node`` with its local ``$ref`` chain followed; sibling keywords win."""
    while isinstance(node, Mapping) and "$ref" in node:
        target = _follow_pointer(document, node["$ref"])
        node = {**target, **{key: value for key, value in node.items() if key != "$ref"}}
    return node


def _follow_pointer(document: Mapping[str, Any], ref: str) -> Any:
    if not ref.startswith("#/"):
        raise ValueError(f"only local $refs are supported, got {ref!r}")
    node: Any = document
    for token in ref[2:].split("/"):
        node = node[token.replace("~1", "/").replace("~0", "~")]
    return node


def flatten_schema(document: Mapping[str, Any], schema: Any) -> dict[str, Any]:
    """``schema`` resolved, with ``allOf`` parts folded in (constraints add up)."""
    schema = dict(resolve(document, schema))
    for part in schema.pop("allOf", []):
        part = flatten_schema(document, part)
        required = [*schema.get("required", []), *part.get("required", [])]
        properties = {**part.get("properties", {}), **schema.get("properties", {})}
        schema = {**part, **schema}
        if required:
            schema["required"] = required
        if properties:
            schema["properties"] = properties
    return schema


def spec_operations(document: Mapping[str, Any]) -> dict[str, tuple[str, str, dict[str, Any]]]:
    """operationId → (path key, method, path item) of every operation in ``document``."""
    found = {}
    for path_key, path_item in (document.get("paths") or {}).items():
        for method in HTTP_METHODS:
            if method in path_item:
                found[path_item[method]["operationId"]] = (path_key, method, path_item)
    return found


def spec_info_facts(document: Mapping[str, Any]) -> FactSheet:
    sheet = FactSheet()
    for key, value in ((document.get("info") or {}).get("x-aws") or {}).items():
        sheet.add("info.x-aws", key, value)
    return sheet


def spec_operation_facts(document: Mapping[str, Any], name: str) -> FactSheet:
    sheet = FactSheet()
    found = spec_operations(document).get(name)
    if found is None:
        return sheet
    path_key, method, path_item = found
    operation = path_item[method]
    sheet.add("operation", "exists", True)
    sheet.add("http", "method", method.upper())
    sheet.add("http", "path", path_key)
    for parameter in _merged_parameters(document, path_item, operation):
        _add_spec_parameter(sheet, document, parameter)
    if "requestBody" in operation:
        _add_spec_body(sheet, document, resolve(document, operation["requestBody"]))
    _add_spec_responses(sheet, document, operation.get("responses") or {})
    for error_name in operation.get("x-aws-errors") or []:
        sheet.add(f"errors.{error_name}", "modeled", True)
    return sheet


def _merged_parameters(
    document: Mapping[str, Any], path_item: Mapping[str, Any], operation: Mapping[str, Any]
) -> Iterable[dict[str, Any]]:
    # Operation parameters override path-item ones with the same name and location.
    merged = {}
    for raw in [*path_item.get("parameters", []), *operation.get("parameters", [])]:
        parameter = resolve(document, raw)
        merged[(parameter["in"], parameter["name"])] = parameter
    return merged.values()


def _add_spec_parameter(
    sheet: FactSheet, document: Mapping[str, Any], parameter: Mapping[str, Any]
) -> None:
    where = f"{parameter['in']}.{parameter['name']}"
    if parameter["in"] == "header":
        where = where.lower()
    sheet.add(where, "member", parameter.get("x-aws-member", ABSENT))
    sheet.add(where, "exists", True)
    sheet.add(where, "required", bool(parameter.get("required", False)))
    _add_spec_schema(sheet, document, where, parameter.get("schema", {}))


def _add_spec_body(sheet: FactSheet, document: Mapping[str, Any], body: Mapping[str, Any]) -> None:
    sheet.add("body", "required", bool(body.get("required", False)))
    schema = (body.get("content") or {}).get("application/json", {}).get("schema")
    if schema is not None:
        _add_spec_schema(sheet, document, "body", schema)


def _add_spec_responses(
    sheet: FactSheet, document: Mapping[str, Any], responses: Mapping[str, Any]
) -> None:
    successes = sorted(int(status) for status in responses if str(status).startswith("2"))
    sheet.add("http", "success", successes[0] if len(successes) == 1 else successes)
    for status, raw in responses.items():
        response = resolve(document, raw)
        schema = (response.get("content") or {}).get("application/json", {}).get("schema")
        if str(status).startswith("2"):
            if schema is not None:
                _add_spec_schema(sheet, document, "response", schema)
            continue
        sheet.add(f"responses.{status}", "documented", True)
        for header_name, header in (response.get("headers") or {}).items():
            _add_spec_header(
                sheet, document, f"responses.{status}.header.{header_name.lower()}", header
            )
        if schema is not None:
            _add_spec_schema(sheet, document, f"responses.{status}.body", schema)


def _add_spec_header(sheet: FactSheet, document: Mapping[str, Any], where: str, raw: Any) -> None:
    header = resolve(document, raw)
    sheet.add(where, "exists", True)
    sheet.add(where, "required", bool(header.get("required", False)))
    _add_spec_schema(sheet, document, where, header.get("schema", {}))


def _add_spec_schema(sheet: FactSheet, document: Mapping[str, Any], where: str, raw: Any) -> None:
    schema = flatten_schema(document, raw)
    for keyword in SCHEMA_KEYWORDS:
        if keyword in schema:
            value = schema[keyword]
            sheet.add(where, keyword, sorted(value) if keyword == "enum" else value)
    if schema.get("additionalProperties") is False:  # spec/README.md: never closed
        sheet.add(where, "additionalProperties", False)
    required = set(schema.get("required", []))
    properties = schema.get("properties") or {}
    for name in required - properties.keys():  # required but never described
        sheet.add(f"{where}.{name}", "required", True)
    for name, subschema in properties.items():
        sheet.add(f"{where}.{name}", "exists", True)
        sheet.add(f"{where}.{name}", "required", name in required)
        _add_spec_schema(sheet, document, f"{where}.{name}", subschema)
    if "items" in schema:
        _add_spec_schema(sheet, document, f"{where}[]", schema["items"])


# ---------------------------------------------------------------- comparison


def anchored_forms(botocore_pattern: str) -> set[str]:
    """The spec patterns that say what an (unanchored) botocore pattern says.

    spec/README.md: botocore's ``P`` becomes ``^P$`` or ``^(?:P)$``, except the
    match-anything ``.*``, which stays as it is; an already anchored pattern is
    copied as it is.
    """
    if botocore_pattern == ".*" or (
        botocore_pattern.startswith("^") and botocore_pattern.endswith("$")
    ):
        return {botocore_pattern}
    return {f"^{botocore_pattern}$", f"^(?:{botocore_pattern})$"}


def facts_agree(fact: str, spec_value: Any, botocore_value: Any) -> bool:
    if fact == "pattern" and isinstance(botocore_value, str):
        return spec_value in anchored_forms(botocore_value)
    if spec_value is ABSENT or botocore_value is ABSENT:
        return spec_value is botocore_value
    # bool is an int in Python: keep True from agreeing with 1.
    return type(spec_value) is type(botocore_value) and spec_value == botocore_value


def render(value: Any) -> str:
    if isinstance(value, str) or value is ABSENT:
        return str(value)
    return json.dumps(value, ensure_ascii=False)


@dataclass(frozen=True)
class Difference:
    """One fact on which the spec and botocore (or a reviewed deviation) disagree."""

    api: str
    operation: str
    where: str
    fact: str
    spec: Any
    botocore: Any
    shape: str | None = None
    deviation: Any = ABSENT  # the value a deviation entry demands instead of botocore's

    def line(self) -> str:
        text = (
            f"{self.operation}  {self.where}  {self.fact}  "
            f"spec={render(self.spec)}  botocore={render(self.botocore)}"
        )
        if self.deviation is not ABSENT:
            text += f"  deviation={render(self.deviation)}"
        return text


# ---------------------------------------------------------------- deviations


@functools.cache
def _glob(pattern: str) -> re.Pattern[str]:
    # Only * is special: places contain [] (body.Tags[].Key), which fnmatch reads as a class.
    return re.compile(
        "".join(".*" if part == "*" else re.escape(part) for part in re.split(r"(\*)", pattern))
    )


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@dataclass(frozen=True)
class Deviation:
    """One reviewed entry of spec_deviations.yaml: where the spec knowingly differs."""

    index: int
    raw: Mapping[str, Any]

    KEYS = frozenset(
        {"api", "operation", "where", "fact", "shape", "input_member", "botocore", "spec", "reason"}
    )

    @property
    def demands(self) -> bool:
        """Whether the entry fixes the spec's value (``spec:``) rather than accepting any."""
        return "spec" in self.raw

    @property
    def demanded_value(self) -> Any:
        return ABSENT if self.raw["spec"] is None else self.raw["spec"]

    def describe(self) -> str:
        selectors = {key: value for key, value in self.raw.items() if key != "reason"}
        return (
            f"spec_deviations.yaml entry #{self.index}: {json.dumps(selectors, ensure_ascii=False)}"
        )

    def concerns_api(self, api: str) -> bool:
        return self._matches("api", api)

    def applies(self, context: OperationContext, where: str, fact: str, shape: str | None) -> bool:
        return (
            self._matches("fact", fact)
            and self._matches_shape(shape)
            and self._matches("api", context.api)
            and self._matches("operation", context.operation)
            and self._matches("where", where)
            and self._matches_input_member(context.required_input_members)
        )

    def accepts_botocore(self, botocore_value: Any) -> bool:
        if "botocore" not in self.raw:
            return True
        expected = ABSENT if self.raw["botocore"] is None else self.raw["botocore"]
        return facts_agree("", botocore_value, expected)

    def _matches(self, key: str, value: str) -> bool:
        patterns = _as_list(self.raw.get(key, "*"))
        return any(_glob(str(pattern)).fullmatch(value) for pattern in patterns)

    def _matches_shape(self, shape: str | None) -> bool:
        return "shape" not in self.raw or shape in _as_list(self.raw["shape"])

    def _matches_input_member(self, members: frozenset[str]) -> bool:
        # "the operation addresses a resource": a required input member named like one
        if "input_member" not in self.raw:
            return True
        patterns = [_glob(pattern) for pattern in _as_list(self.raw["input_member"])]
        return any(pattern.fullmatch(member) for pattern in patterns for member in members)


def load_deviations(path: Path = DEVIATIONS_PATH) -> tuple[Deviation, ...]:
    with path.open(encoding="utf-8") as stream:
        entries = (yaml.safe_load(stream) or {}).get("deviations") or []
    deviations = tuple(Deviation(index, entry) for index, entry in enumerate(entries, start=1))
    for deviation in deviations:
        problems = deviation_entry_problems(deviation)
        if problems:
            raise ValueError(f"{deviation.describe()}: {'; '.join(problems)}")
    return deviations


def deviation_entry_problems(deviation: Deviation) -> list[str]:
    raw = deviation.raw
    problems = [f"unknown key {key!r}" for key in sorted(raw.keys() - Deviation.KEYS)]
    problems += [f"missing {key!r}" for key in ("api", "operation", "fact") if key not in raw]
    if not str(raw.get("reason") or "").strip():
        problems.append("a deviation needs a reason")
    return problems


# --------------------------------------------------------------------- check


@dataclass
class DriftCheck:
    """The comparison of one API's spec document with its botocore model."""

    api: str
    document: Mapping[str, Any]
    model: Mapping[str, Any]
    deviations: tuple[Deviation, ...] = ()
    used: set[int] = field(default_factory=set)  # indexes of deviations that excused something
    botocore_sheets: dict[str, FactSheet] = field(default_factory=dict)
    applicable: dict[tuple[str, str, str, str | None], tuple[Deviation, ...]] = field(
        default_factory=dict
    )

    def operation_names(self) -> list[str]:
        names = set(botocore_operation_names(self.api, self.model)) | set(
            spec_operations(self.document)
        )
        return [INFO, *sorted(names)]

    def differences(self, operation: str) -> list[Difference]:
        spec_sheet, botocore_sheet = self._sheets(operation)
        context = OperationContext(
            self.api, operation, botocore_required_inputs(self.model, operation)
        )
        keys = sorted(spec_sheet.values.keys() | botocore_sheet.values.keys())
        missing_places = _places_missing_on_one_side(spec_sheet, botocore_sheet, keys)
        if "operation" in missing_places:  # every other fact would only repeat it
            keys = [("operation", "exists")]
        found = []
        for where, fact in keys:
            if _repeats_a_missing_place(where, fact, missing_places):
                continue
            difference = self._judge(context, where, fact, spec_sheet, botocore_sheet)
            if difference is not None:
                found.append(difference)
        return found

    def all_differences(self) -> list[Difference]:
        return [d for name in self.operation_names() for d in self.differences(name)]

    def stale_deviations(self) -> list[Deviation]:
        """Entries for this API that excused nothing in a full run."""
        self.used.clear()
        self.all_differences()
        return [
            deviation
            for deviation in self.deviations
            if deviation.concerns_api(self.api) and deviation.index not in self.used
        ]

    def _sheets(self, operation: str) -> tuple[FactSheet, FactSheet]:
        if operation == INFO:
            return spec_info_facts(self.document), botocore_info_facts(self.api, self.model)
        return spec_operation_facts(self.document, operation), self._botocore_sheet(operation)

    def _botocore_sheet(self, operation: str) -> FactSheet:
        # botocore's facts do not depend on the document: mutated copies share them.
        if operation not in self.botocore_sheets:
            in_scope = operation in botocore_operation_names(self.api, self.model)
            self.botocore_sheets[operation] = (
                botocore_operation_facts(self.model, operation) if in_scope else FactSheet()
            )
        return self.botocore_sheets[operation]

    def with_document(self, document: Mapping[str, Any]) -> DriftCheck:
        """The same check of another document (a mutated copy), sharing botocore's facts."""
        return DriftCheck(
            self.api,
            document,
            self.model,
            self.deviations,
            botocore_sheets=self.botocore_sheets,
            applicable=self.applicable,
        )

    def _judge(
        self,
        context: OperationContext,
        where: str,
        fact: str,
        spec_sheet: FactSheet,
        botocore_sheet: FactSheet,
    ) -> Difference | None:
        spec_value = spec_sheet.values.get((where, fact), ABSENT)
        botocore_value = botocore_sheet.values.get((where, fact), ABSENT)
        shape = botocore_sheet.shapes.get(where)
        agree = facts_agree(fact, spec_value, botocore_value)
        deviation = self._deviation_for(context, where, fact, shape, botocore_value)
        if deviation is None:
            return (
                None
                if agree
                else Difference(
                    context.api, context.operation, where, fact, spec_value, botocore_value, shape
                )
            )
        demanded = deviation.demanded_value if deviation.demands else spec_value
        if facts_agree("", spec_value, demanded):
            if not agree:  # the entry excused a real disagreement: it is still needed
                self.used.add(deviation.index)
            return None
        return Difference(
            context.api, context.operation, where, fact, spec_value, botocore_value, shape, demanded
        )

    def _deviation_for(
        self,
        context: OperationContext,
        where: str,
        fact: str,
        shape: str | None,
        botocore_value: Any,
    ) -> Deviation | None:
        key = (context.operation, where, fact, shape)
        if key not in self.applicable:  # the same places recur in every mutated copy
            self.applicable[key] = tuple(
                deviation
                for deviation in self.deviations
                if deviation.applies(context, where, fact, shape)
            )
        for deviation in self.applicable[key]:
            if deviation.accepts_botocore(botocore_value):
                return deviation
        return None


def _places_missing_on_one_side(
    spec_sheet: FactSheet, botocore_sheet: FactSheet, keys: Iterable[tuple[str, str]]
) -> set[str]:
    return {
        where
        for where, fact in keys
        if fact in EXISTENCE_FACTS
        and ((where, fact) in spec_sheet.values) != ((where, fact) in botocore_sheet.values)
    }


def _repeats_a_missing_place(where: str, fact: str, places: set[str]) -> bool:
    """Whether the fact is about a place one side lacks, other than its existence."""
    if any(where.startswith((f"{place}.", f"{place}[")) for place in places):
        return True
    return where in places and fact not in EXISTENCE_FACTS


def drift_check(api: str, document: Mapping[str, Any] | None = None) -> DriftCheck:
    """The check of ``api``'s spec (or of ``document`` in its place) against botocore."""
    from chime_conformance.contract.spec import load_document

    return DriftCheck(
        api,
        load_document(api) if document is None else document,
        botocore_model(api),
        load_deviations(),
    )
