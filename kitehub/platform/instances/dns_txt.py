"""TXT records as a real DNS resolver answers them (dnspython's asyncio resolver).

The nameservers are the system's unless ``KITEHUB_DNS_NAMESERVERS`` names others (tests run a
small DNS server on loopback). Nothing is cached: an owner who has just published the record
must not be told it is missing because of an earlier answer.
"""

from __future__ import annotations

import dns.asyncresolver
import dns.exception
import dns.nameserver
import dns.resolver

from kitehub.errors import ServiceUnavailableError

DNS_RETRY_AFTER_SECONDS = 30


async def txt_values(name: str, nameservers: list[tuple[str, int]], timeout_seconds: float) -> list[str]:
    """Every TXT string published at ``name`` (none when the name or the record does not exist).

    A resolver that cannot answer (timeout, every server failing) is a 503: the record may well
    be there, so the owner is told to try again rather than that it is missing.
    """
    try:
        resolver = dns.asyncresolver.Resolver(configure=not nameservers)
    except dns.resolver.NoResolverConfiguration as exc:
        raise _unavailable("this server has no DNS resolver configured") from exc
    if nameservers:
        resolver.nameservers = [dns.nameserver.Do53Nameserver(host, port) for host, port in nameservers]
    resolver.lifetime = timeout_seconds
    try:
        answer = await resolver.resolve(name, "TXT", search=False)
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return []
    except (dns.exception.Timeout, dns.resolver.NoNameservers) as exc:
        raise _unavailable(f"DNS did not answer for {name}; try again shortly") from exc
    except dns.exception.DNSException as exc:  # a name DNS refuses (too long), a broken answer
        raise _unavailable(f"DNS could not look up {name} ({type(exc).__name__})") from exc
    return [b"".join(rdata.strings).decode("utf-8", "replace") for rdata in answer]


def _unavailable(detail: str) -> ServiceUnavailableError:
    return ServiceUnavailableError(detail, retry_after_seconds=DNS_RETRY_AFTER_SECONDS)
