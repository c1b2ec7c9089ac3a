"""A multipart upload read as it arrives: the first file part's bytes go straight on, chunk by
chunk, so an upload never sits in memory (nor in a temporary spool file) as a whole.

The caller has taken the quota from the declared size (the request's ``Content-Length``) before
anything is read; a body that turns out longer than declared is refused at the first byte too
many, so the quota taken always covers what is written.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass

from multipart import MultipartError, MultipartSegment, PushMultipartParser  # type: ignore[import-untyped]

from kitehub.errors import KiteHubError
from kitehub.tenant.validation import invalid

_MAX_PARTS = 16  # a file and a few fields at most; anything beyond is not a media upload


class BodyLongerThanDeclaredError(KiteHubError):
    status_code, slug, title = 400, "body-longer-than-declared", "The body is longer than its Content-Length"


class LengthRequiredError(KiteHubError):
    status_code, slug, title = 411, "length-required", "Content-Length required"


@dataclass(frozen=True, slots=True)
class FilePart:
    filename: str | None
    content_type: str | None
    data: AsyncIterator[bytes]


async def _counted(body: AsyncIterator[bytes], declared: int) -> AsyncIterator[bytes]:
    received = 0
    async for chunk in body:
        received += len(chunk)
        if received > declared:
            raise BodyLongerThanDeclaredError(f"more than the declared {declared} bytes arrived")
        yield chunk


async def _events(body: AsyncIterator[bytes], boundary: bytes, declared: int) -> AsyncGenerator[object, None]:
    try:
        parser = PushMultipartParser(boundary, max_segment_count=_MAX_PARTS)
        async for chunk in _counted(body, declared):
            if not chunk:  # an ASGI body may end with an empty chunk
                continue
            for event in parser.parse(chunk):
                yield event
            if parser.closed:
                return
        for event in parser.parse(b""):  # the end of the input: an unfinished body is an error here
            yield event
    except MultipartError as exc:
        raise invalid("file", f"the multipart body is malformed ({exc})") from None


async def first_file(body: AsyncIterator[bytes], boundary: bytes, declared: int) -> FilePart:
    """The part named ``file``; fields before it are skipped, parts after it are read (and
    counted) but not kept. 422 when the body holds no such part."""
    events = _events(body, boundary, declared)
    async for event in events:
        if isinstance(event, MultipartSegment) and event.name == "file":
            return FilePart(event.filename, event.content_type, _file_data(events))
    raise invalid("file", "the multipart body has no 'file' part")


async def _file_data(events: AsyncGenerator[object, None]) -> AsyncIterator[bytes]:
    async for event in events:
        if event is None:  # the end of the file part; read the rest so the body is checked whole
            async for _ in events:
                pass
            return
        if isinstance(event, bytes | bytearray | memoryview):
            yield bytes(event)
