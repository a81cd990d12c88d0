"""Check HTTP requests and responses against Sequence's Platform API OpenAPI 3.1 description.

The description is a vendored copy of the project's reference file
(``sequence-platform-v1.openapi.json``, beside this module), so the checks run offline. OpenAPI
3.1 schemas are JSON Schema 2020-12: ``jsonschema`` validates them with the document registered
under one URI so that every ``#/components/...`` reference resolves. ``date``, ``date-time`` and
``uuid`` formats are enforced (RFC 3339 date-times must carry an offset).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
import json
from pathlib import Path
import re
from typing import Any
import uuid

from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC_PATH = Path(__file__).with_name("sequence-platform-v1.openapi.json")
SPEC: dict[str, Any] = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
SPEC_URI = "urn:sequence:platform-v1"
BASE_PATH = "/platform/v1"
REGISTRY: Registry[Any] = Registry().with_resource(
    SPEC_URI, Resource.from_contents(SPEC, default_specification=DRAFT202012)
)
METHODS = ("get", "post", "put", "patch", "delete")
_DATETIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})"
)

FORMATS = FormatChecker(formats=())


@FORMATS.checks("date-time", raises=ValueError)
def _is_datetime(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _DATETIME.fullmatch(value):
        return False
    datetime.fromisoformat(value)
    return True


@FORMATS.checks("date", raises=ValueError)
def _is_date(value: object) -> bool:
    if not isinstance(value, str):
        return True
    return re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value) is not None and bool(
        date.fromisoformat(value)
    )


@FORMATS.checks("uuid", raises=ValueError)
def _is_uuid(value: object) -> bool:
    return not isinstance(value, str) or str(uuid.UUID(value)) == value.lower()


def pointer(*parts: str) -> str:
    """A JSON pointer into the spec (``~`` and ``/`` escaped)."""
    return "/" + "/".join(part.replace("~", "~0").replace("/", "~1") for part in parts)


def resolve(node: dict[str, Any]) -> dict[str, Any]:
    """Follow a local ``$ref`` (``#/components/...``) to its target."""
    while "$ref" in node:
        target: Any = SPEC
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def schema_errors(schema: dict[str, Any], instance: object) -> list[str]:
    """Validation errors of ``instance`` against a schema of the spec (its refs resolved)."""
    validator = Draft202012Validator(_rebase(schema), registry=REGISTRY, format_checker=FORMATS)
    return [
        f"{list(error.absolute_path)}: {error.message}" for error in validator.iter_errors(instance)
    ]


def _rebase(node: Any) -> Any:
    """Point ``#/...`` references of an inline schema at the registered spec."""
    if isinstance(node, dict):
        return {
            key: f"{SPEC_URI}{value}" if key == "$ref" and value.startswith("#") else _rebase(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_rebase(item) for item in node]
    return node


@dataclass(frozen=True, slots=True)
class Operation:
    """One operation of the spec and where it lives."""

    method: str
    template: str
    spec: dict[str, Any]

    @property
    def parameters(self) -> list[dict[str, Any]]:
        """Path-level and operation-level parameters, references resolved."""
        path_level = SPEC["paths"][self.template].get("parameters", [])
        return [resolve(item) for item in [*path_level, *self.spec.get("parameters", [])]]


def _template_regex(template: str) -> re.Pattern[str]:
    return re.compile(re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template)))


def find_operation(method: str, path: str) -> tuple[Operation, dict[str, str]]:
    """The operation for a concrete request path (with or without ``/platform/v1``)."""
    relative = path.removeprefix(BASE_PATH)
    candidates = []
    for template, item in SPEC["paths"].items():
        match = _template_regex(template).fullmatch(relative)
        if match and method.lower() in item:
            literal = len(re.sub(r"\{\w+\}", "", template))
            candidates.append((literal, template, match.groupdict()))
    if not candidates:
        msg = f"no operation {method} {relative} in the spec"
        raise LookupError(msg)
    _, template, params = max(candidates)
    return Operation(method.lower(), template, SPEC["paths"][template][method.lower()]), params


def _coerce(raw: str, schema: dict[str, Any]) -> object:
    schema = resolve(schema)
    kind = schema.get("type")
    if kind == "integer":
        return int(raw) if re.fullmatch(r"-?[0-9]+", raw) else raw
    if kind == "boolean":
        return {"true": True, "false": False}.get(raw, raw)
    return raw


def _query_errors(
    declared: dict[tuple[str, str], Any], query: Mapping[str, list[str]]
) -> list[str]:
    problems: list[str] = []
    for name, values in query.items():
        parameter = declared.get(("query", name))
        if parameter is None:
            problems.append(f"query parameter {name!r} is not declared")
            continue
        schema = resolve(parameter["schema"])
        if schema.get("type") == "array":
            value: object = [_coerce(item, schema["items"]) for item in values]
        elif len(values) > 1:
            problems.append(f"query parameter {name!r} repeated")
            continue
        else:
            value = _coerce(values[0], schema)
        problems += [f"query {name}: {e}" for e in schema_errors(schema, value)]
    problems += [
        f"required query parameter {name!r} missing"
        for (where, name), parameter in declared.items()
        if parameter.get("required") and where == "query" and name not in query
    ]
    return problems


def _header_errors(
    operation: Operation, declared: dict[tuple[str, str], Any], headers: Mapping[str, str]
) -> list[str]:
    lowered = {key.lower(): value for key, value in headers.items()}
    problems = [
        f"header {name}: {e}"
        for (where, name), parameter in declared.items()
        if where == "header" and name.lower() in lowered
        for e in schema_errors(parameter["schema"], lowered[name.lower()])
    ]
    authorization = lowered.get("authorization", "")
    if operation.spec.get("security") and not re.fullmatch(r"Bearer [\x21-\x7e]+", authorization):
        problems.append("Authorization is not 'Bearer <key>'")
    return problems


def _body_errors(operation: Operation, body: bytes) -> list[str]:
    request_body = operation.spec.get("requestBody")
    if request_body is None:
        return [f"{operation.method} {operation.template} takes no body"] if body else []
    try:
        decoded = json.loads(body)
    except ValueError:
        return ["the body is not JSON"]
    schema = request_body["content"]["application/json"]["schema"]
    return [f"body: {e}" for e in schema_errors(schema, decoded)]


def request_errors(
    method: str,
    path: str,
    query: Mapping[str, list[str]],
    headers: Mapping[str, str],
    body: bytes,
) -> list[str]:
    """Everything about a request that the operation does not allow."""
    try:
        operation, path_values = find_operation(method, path)
    except LookupError as err:
        return [str(err)]
    declared = {(item["in"], item["name"]): item for item in operation.parameters}
    return [
        *(
            f"path {name}: {e}"
            for name, value in path_values.items()
            for e in schema_errors(declared["path", name]["schema"], value)
        ),
        *_query_errors(declared, query),
        *_header_errors(operation, declared, headers),
        *_body_errors(operation, body),
    ]


def response_errors(
    method: str, path: str, status: int, headers: Mapping[str, str], body: bytes
) -> list[str]:
    """Everything about a response that the operation's documented response does not allow."""
    try:
        operation, _ = find_operation(method, path)
    except LookupError as err:
        return [str(err)]
    documented = operation.spec["responses"].get(str(status))
    if documented is None:
        return [f"{method} {operation.template} documents no {status} response"]
    response = resolve(documented)
    problems: list[str] = []
    lowered = {key.lower(): value for key, value in headers.items()}
    for name, header in response.get("headers", {}).items():
        value = lowered.get(name.lower())
        if value is None:
            problems.append(f"header {name} missing")
            continue
        problems += [
            f"header {name}: {e}"
            for e in schema_errors(header["schema"], _coerce(value, header["schema"]))
        ]
    media = response.get("content", {}).get("application/json")
    if media is None:
        return problems
    if not lowered.get("content-type", "").startswith("application/json"):
        problems.append("the response is not application/json")
    try:
        decoded = json.loads(body)
    except ValueError:
        return [*problems, "the body is not JSON"]
    return problems + [f"body {e}" for e in schema_errors(media["schema"], decoded)]
