"""A small DNS server on loopback that publishes the TXT records a test sets (dnslib)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from dnslib import QTYPE, RCODE, RR, TXT
from dnslib.server import BaseResolver, DNSServer


class TxtRecords(BaseResolver):  # type: ignore[misc]
    """Answers TXT queries from ``records`` (name -> values); any other name is NXDOMAIN."""

    def __init__(self) -> None:
        self.records: dict[str, list[str]] = {}
        self.queries: list[str] = []
        self._lock = threading.Lock()

    def publish(self, name: str, *values: str) -> None:
        with self._lock:
            self.records[name.lower().rstrip(".")] = list(values)

    def resolve(self, request: Any, handler: Any) -> Any:
        reply = request.reply()
        name = str(request.q.qname).lower().rstrip(".")
        with self._lock:
            self.queries.append(name)
            values = self.records.get(name)
        if values is None:
            reply.header.rcode = RCODE.NXDOMAIN
        elif request.q.qtype == QTYPE.TXT:
            for value in values:
                reply.add_answer(RR(request.q.qname, QTYPE.TXT, rdata=TXT(value), ttl=60))
        return reply


class _Quiet:
    """dnslib's logger prints every query; the tests need none of it."""

    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: None


@contextmanager
def txt_server() -> Iterator[tuple[TxtRecords, str]]:
    """The records to publish into, and ``KITEHUB_DNS_NAMESERVERS`` naming the server."""
    records = TxtRecords()
    server = DNSServer(records, address="127.0.0.1", port=0, logger=_Quiet())
    server.start_thread()
    try:
        yield records, f"127.0.0.1:{server.server.server_address[1]}"
    finally:
        server.stop()
        server.server.server_close()
