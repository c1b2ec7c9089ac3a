"""Errors as RFC 9457 problem details, for every failure the API can produce.

Services raise ``KiteHubError`` subclasses, which know nothing of HTTP beyond a status code;
this module turns them, Litestar's own HTTP errors and anything unexpected into
``application/problem+json`` answers. Unexpected errors are logged with their traceback and
answered with a generic 500 that names the request id, never the exception text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Any

import asyncpg
import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.types import ExceptionHandlersMap
from sqlalchemy.exc import DataError, DBAPIError
from sqlalchemy.orm.exc import StaleDataError

from kitehub.db_unavailable import DATABASE_RETRY_AFTER_SECONDS, is_database_unavailable, needs_a_look
from kitehub.logs import get_logger

PROBLEM_JSON = "application/problem+json"
PROBLEM_TYPE_PREFIX = "urn:kitehub:problem:"

logger = get_logger(__name__)


class KiteHubError(Exception):
    """A failure a client can understand and act on."""

    status_code: int = 400
    slug: str = "bad-request"
    title: str = "Bad request"

    def __init__(
        self,
        detail: str,
        *,
        extra: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = dict(extra or {})
        self.headers = dict(headers or {})


class NotFoundError(KiteHubError):
    status_code, slug, title = 404, "not-found", "Not found"


class ConflictError(KiteHubError):
    status_code, slug, title = 409, "conflict", "Conflict"


class PermissionDeniedError(KiteHubError):
    status_code, slug, title = 403, "forbidden", "Forbidden"


class PaymentRequiredError(KiteHubError):
    status_code, slug, title = 402, "payment-required", "Payment required"


class InvalidInputError(KiteHubError):
    status_code, slug, title = 422, "validation-error", "Request validation failed"


class ServiceUnavailableError(KiteHubError):
    status_code, slug, title = 503, "service-unavailable", "Service unavailable"

    def __init__(
        self,
        detail: str,
        *,
        retry_after_seconds: int = 5,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(detail, extra=extra, headers={"Retry-After": str(retry_after_seconds)})


def request_id_of(request: Request[Any, Any, Any]) -> str | None:
    value = request.scope.get("state", {}).get("request_id")
    return value if isinstance(value, str) else None


def problem_response(
    request: Request[Any, Any, Any],
    *,
    status: int,
    slug: str | None,
    title: str,
    detail: str | None = None,
    extra: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response[dict[str, Any]]:
    body: dict[str, Any] = {
        "type": f"{PROBLEM_TYPE_PREFIX}{slug}" if slug else "about:blank",
        "title": title,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    body["instance"] = request.url.path
    if (request_id := request_id_of(request)) is not None:
        body["request_id"] = request_id
    # further members say more about the problem; they never replace its own (a client reads
    # ``status`` as the HTTP status, never as the state of the resource)
    body.update({key: value for key, value in (extra or {}).items() if key not in body})
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=dict(headers or {}))


def _kitehub_error(request: Request[Any, Any, Any], exc: KiteHubError) -> Response[dict[str, Any]]:
    return problem_response(
        request,
        status=exc.status_code,
        slug=exc.slug,
        title=exc.title,
        detail=exc.detail,
        extra=exc.extra,
        headers=exc.headers,
    )


def _field_errors(extra: Any) -> list[dict[str, Any]]:
    """Litestar reports validation errors as [{message, key, source}]: name them as fields."""
    errors: list[dict[str, Any]] = []
    for item in extra if isinstance(extra, list) else []:
        if isinstance(item, Mapping):
            errors.append(
                {
                    "field": item.get("key") or "body",
                    "message": str(item.get("message", "invalid value")).removeprefix("Value error, "),
                    "source": str(item.get("source", "body")),
                }
            )
    return errors


def _validation_error(request: Request[Any, Any, Any], exc: ValidationException) -> Response[dict[str, Any]]:
    errors = _field_errors(exc.extra)
    detail = "; ".join(f"{error['field']}: {error['message']}" for error in errors) or exc.detail
    return problem_response(
        request,
        status=422,
        slug="validation-error",
        title="Request validation failed",
        detail=detail,
        extra={"errors": errors},
    )


def _http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[dict[str, Any]]:
    status = exc.status_code
    title = HTTPStatus(status).phrase
    if status >= 500:  # keep the status and headers (Retry-After), never the internal detail
        logger.error("server error", path=request.url.path, status=status, exc_info=exc)
        return problem_response(request, status=status, slug=None, title=title, headers=exc.headers)
    detail = exc.detail if exc.detail and exc.detail != title else None
    return problem_response(request, status=status, slug=None, title=title, detail=detail, headers=exc.headers)


def _body_too_large(request: Request[Any, Any, Any], exc: RequestEntityTooLarge) -> Response[dict[str, Any]]:
    """Refused from the declared Content-Length, or as soon as more bytes arrived than allowed."""
    limit = request.route_handler.resolve_request_max_body_size()
    return problem_response(
        request,
        status=413,
        slug="body-too-large",
        title="Request body too large",
        detail=f"this endpoint accepts a body of at most {limit} bytes",
        extra={"max_body_bytes": limit},
    )


def _unexpected_error(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    if is_database_unavailable(exc):
        return _database_unavailable(request, exc)
    logger.error("unhandled error", path=request.url.path, method=request.method, exc_info=exc)
    return problem_response(
        request,
        status=500,
        slug="internal-error",
        title="Internal server error",
        detail="Something went wrong on our side; quote the request id when you report it.",
    )


def _database_unavailable(request: Request[Any, Any, Any], exc: BaseException) -> Response[dict[str, Any]]:
    if needs_a_look(exc):
        logger.error("database unavailable", path=request.url.path, exc_info=exc)
    else:
        logger.warning("database unavailable", path=request.url.path, error=type(exc).__name__)
    return problem_response(
        request,
        status=503,
        slug="service-unavailable",
        title="Service unavailable",
        detail="the database cannot be reached right now; try again shortly",
        headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
    )


def _database_refused_input(request: Request[Any, Any, Any], exc: DBAPIError) -> Response[dict[str, Any]]:
    """Input the database cannot store (a NUL in a filter, a number out of range) that slipped
    past validation is the client's to fix: 422, logged so the gap in validation gets closed."""
    if not _is_data_error(exc):
        return _unexpected_error(request, exc)
    logger.warning("database refused input", path=request.url.path, error=type(exc.orig).__name__)
    return problem_response(
        request,
        status=422,
        slug="validation-error",
        title="Request validation failed",
        detail="a value in the request cannot be stored or searched for",
        extra={"errors": []},
    )


def _is_data_error(exc: DBAPIError) -> bool:
    cause = exc.orig.__cause__ if exc.orig is not None else None
    return isinstance(exc, DataError) or isinstance(cause, asyncpg.DataError | asyncpg.CharacterNotInRepertoireError)


def _changed_concurrently(request: Request[Any, Any, Any], exc: StaleDataError) -> Response[dict[str, Any]]:
    return problem_response(
        request,
        status=409,
        slug="changed-concurrently",
        title="Changed concurrently",
        detail="someone changed this resource at the same moment; read it again and retry",
    )


def _grouped(request: Request[Any, Any, Any], exc: ExceptionGroup[Exception]) -> Response[dict[str, Any]]:
    """Litestar cleans up dependencies in a task group: a failure there (a commit refused by the
    database, say) arrives wrapped. Answer for the first failure as if it came alone."""
    first: BaseException = exc
    while isinstance(first, BaseExceptionGroup) and first.exceptions:
        first = first.exceptions[0]
    for kind, handler in _HANDLERS:
        if isinstance(first, kind):
            return handler(request, first)
    if is_database_unavailable(first):
        return _database_unavailable(request, first)
    return _unexpected_error(request, exc)


def problem_exception_handlers() -> ExceptionHandlersMap:
    return {
        ExceptionGroup: _grouped,
        StaleDataError: _changed_concurrently,
        DBAPIError: _database_refused_input,
        KiteHubError: _kitehub_error,
        ValidationException: _validation_error,
        RequestEntityTooLarge: _body_too_large,
        HTTPException: _http_error,
        Exception: _unexpected_error,
    }


_HANDLERS: tuple[tuple[type[BaseException], Callable[[Request[Any, Any, Any], Any], Response[dict[str, Any]]]], ...] = (
    (StaleDataError, _changed_concurrently),
    (DBAPIError, _database_refused_input),
    (KiteHubError, _kitehub_error),
    (ValidationException, _validation_error),
    (RequestEntityTooLarge, _body_too_large),
    (HTTPException, _http_error),
)


async def problem_for_html_errors(response: Response[Any]) -> Response[Any]:
    """``after_request`` hook: the few error pages Litestar renders as HTML (unknown paths under
    the docs UI) become problem details like every other error. Async on purpose: Litestar runs
    a sync hook in a worker thread, a hop on every request for a check of two attributes."""
    status = response.status_code or 200
    media_type = getattr(response.media_type, "value", response.media_type)  # MediaType enum or str
    if status >= 400 and str(media_type).startswith("text/html"):
        body: dict[str, Any] = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status}
        request_id = structlog.contextvars.get_contextvars().get("request_id")
        if request_id is not None:
            body["request_id"] = request_id
        return Response(body, status_code=status, media_type=PROBLEM_JSON)
    return response


class NotAuthenticatedError(KiteHubError):
    status_code, slug, title = 401, "not-authenticated", "Authentication required"

    def __init__(self, detail: str = "a valid bearer token is required") -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"})


class TooManyRequestsError(KiteHubError):
    status_code, slug, title = 429, "too-many-requests", "Too many requests"

    def __init__(self, detail: str, *, retry_after_seconds: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(max(1, retry_after_seconds))})
