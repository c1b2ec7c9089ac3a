"""Which problem answers each operation of the OpenAPI document lists, derived from the route.

Litestar documents a handler's success answer and, on its own, a 400 in its private error shape;
every other failure the app produces (``kitehub.errors``) would be missing from the contract.
``ProblemResponses`` (a plugin: it sees each route as it is registered, so routes added later are
covered too) reads what a route has and lists what that makes possible, all pointing at one
``ProblemDetails`` schema in ``application/problem+json``:

- every operation: 503 (a database, the platform's or a school's, unreachable or not ready);
- any parameter or body: 400 (malformed request) and 422 (a value fails validation);
- a body: 413 (larger than the app accepts, or than a quota allows);
- a path parameter, or a body that names a resource by id: 404 (no such resource, or not yours);
- a bearer token (``current_account`` / ``tenant_identity``): 401; an admin-only or tenant route: 403;
- a tenant route (``tenant``): 404 (unknown instance), 403 (suspended, role, tier), 503 (not
  ready); a tenant write also 402 (subscription ended);
- a write (POST, PUT, PATCH, DELETE): 409 (the state forbids it, a limit, a concurrent change);
- a middleware with a ``problem_codes`` attribute: those codes (``auth_limited``: 429).

What cannot be read off the route is declared on the handler (or its controller) with
``opt=problems(...)``: extra codes (429 for rate limits, 401 for webhook credentials) and codes the
rules above would add wrongly (a log-in never answers 409).
"""

from __future__ import annotations

import dataclasses
import inspect
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, get_args

from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.plugins import ReceiveRoutePlugin
from litestar.routes import BaseRoute, HTTPRoute
from pydantic import BaseModel

from kitehub.errors import PROBLEM_JSON

EXTRA_KEY = "problems"
WITHOUT_KEY = "problems_without"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# what Litestar hands a handler by name: not something the client sends
RESERVED_KWARGS = frozenset({"request", "state", "scope", "headers", "cookies", "query", "body", "socket"})
AUTHENTICATED_BY = frozenset({"current_account", "tenant_identity"})
FORBIDDING = frozenset({"current_admin", "tenant_identity", "tenant"})
MAX_DEPTH = 4  # how deep a body is searched for ids

DESCRIPTIONS: Mapping[int, str] = {
    400: "The request is malformed (a body that is not JSON, not UTF-8 or nested too deep).",
    401: "Credentials are missing or wrong (a bearer token, a webhook key or signature).",
    402: "The school's subscription has ended: reading works, changes need a payment.",
    403: "The caller may not do this (role, admin-only, suspended instance, feature not in the tier).",
    404: "No such resource, or not the caller's (or no such instance).",
    409: "The current state forbids it: a conflict, a limit reached or a concurrent change.",
    411: "The body must be sent with a Content-Length (an upload is counted against the quota first).",
    413: "The body is larger than allowed, or a storage quota is full.",
    422: "A parameter or a field of the body is invalid; `errors` names each one.",
    429: "Too many requests; retry after the `Retry-After` seconds.",
    503: "A database is unreachable or not ready; retry after the `Retry-After` seconds.",
}


@dataclass
class FieldProblem:
    field: str
    message: str
    source: str


@dataclass
class ProblemDetails:
    """RFC 9457 problem details, as every error of the API is answered (``kitehub.errors``).
    A problem may carry further members that say more about it (``role``, ``instance_status``...)."""

    type: str
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    request_id: str | None = None
    errors: list[FieldProblem] | None = None


def problems(*codes: int, without: Iterable[int] = ()) -> dict[str, Any]:
    """``opt`` for a handler or controller: the problem codes its route adds, and those it never answers."""
    unknown = {*codes, *without} - set(DESCRIPTIONS)
    if unknown:
        raise ValueError(f"no description for status codes {sorted(unknown)}")
    return {EXTRA_KEY: frozenset(codes), WITHOUT_KEY: frozenset(without)}


def dependency_names(handler: HTTPRouteHandler) -> set[str]:
    """Every dependency the handler uses, directly or through other dependencies."""
    provided = handler.resolve_dependencies()
    seen: set[str] = set()
    waiting = [name for name in handler.parsed_fn_signature.parameters if name in provided]
    while waiting:
        name = waiting.pop()
        if name not in seen:
            seen.add(name)
            waiting += [p for p in inspect.signature(provided[name].dependency).parameters if p in provided]
    return seen


def _names_a_resource(handler: HTTPRouteHandler) -> bool:
    """Whether the body carries an id (a UUID field, at any depth): the resource it names may not exist."""
    body = handler.parsed_fn_signature.parameters.get("data")
    return body is not None and _holds_uuid(body.annotation, depth=0)


def _holds_uuid(annotation: Any, *, depth: int) -> bool:
    if annotation is uuid.UUID:
        return True
    if depth > MAX_DEPTH:
        return False
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        inner: Iterable[Any] = (field.annotation for field in annotation.model_fields.values())
    elif dataclasses.is_dataclass(annotation):
        inner = (field.type for field in dataclasses.fields(annotation))
    else:
        inner = get_args(annotation)
    return any(_holds_uuid(item, depth=depth + 1) for item in inner)


def problem_codes(handler: HTTPRouteHandler, path_parameters: Iterable[str]) -> set[int]:
    """The problem codes ``handler`` can answer with (see the module docstring for the rules)."""
    dependencies = dependency_names(handler)
    client_sent = set(handler.parsed_fn_signature.parameters) - set(handler.resolve_dependencies()) - RESERVED_KWARGS
    codes = {503}
    if client_sent:
        codes |= {400, 422}
    if "data" in client_sent:
        codes.add(413)
    if set(path_parameters) or "tenant" in dependencies or _names_a_resource(handler):
        codes.add(404)
    if dependencies & AUTHENTICATED_BY:
        codes.add(401)
    if "tenant" in dependencies:
        codes.add(422)  # the Host and the X-KiteHub-Instance header name different instances
    if dependencies & FORBIDDING:
        codes.add(403)
    writes = bool(handler.http_methods & WRITE_METHODS)
    if writes:
        codes.add(409)
    if writes and "tenant" in dependencies:
        codes.add(402)
    for middleware in handler.resolve_middleware():  # e.g. a rate limit's 429
        codes |= getattr(middleware, "problem_codes", frozenset())
    declared: frozenset[int] = handler.opt.get(EXTRA_KEY, frozenset())
    never: frozenset[int] = handler.opt.get(WITHOUT_KEY, frozenset())
    return (codes | declared) - never


def problem_spec(status: int) -> ResponseSpec:
    return ResponseSpec(
        data_container=ProblemDetails, media_type=PROBLEM_JSON, description=DESCRIPTIONS[status],
        generate_examples=False,
    )  # fmt: skip


class ProblemResponses(ReceiveRoutePlugin):
    """Adds the problem answers to each route handler as Litestar registers it; what a handler
    declares itself with ``responses=`` wins."""

    def receive_route(self, route: BaseRoute) -> None:
        if not isinstance(route, HTTPRoute):
            return
        for handler in route.route_handlers:
            derived = {status: problem_spec(status) for status in sorted(problem_codes(handler, route.path_parameters))}
            handler.responses = {**derived, **(handler.responses or {})}
