"""Request-body conventions shared by every area."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.exceptions import ClientException
from pydantic import BaseModel, ConfigDict, field_validator


class StrictBody(BaseModel):
    """Unknown fields refused (no mass assignment); NUL characters refused (PostgreSQL stores none)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul_characters(cls, value: Any) -> Any:
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("must not contain NUL characters")
        return value


class KiteHubRequest(Request[Any, Any, Any]):
    """Every request's JSON body is decoded here (Litestar's body extractors call ``json()``).

    msgspec refuses malformed JSON with an error Litestar answers as 400, but a body that is not
    UTF-8 raises ``UnicodeDecodeError`` and one nested thousands deep raises ``RecursionError``:
    both are the client's fault and were answered 500. Both become 400 problem details here, on
    every route (platform and tenant) at once.
    """

    async def json(self) -> Any:
        try:
            return await super().json()
        except UnicodeDecodeError as exc:
            raise ClientException("the request body is not valid UTF-8") from exc
        except RecursionError as exc:
            raise ClientException("the request body's JSON is nested too deeply") from exc
