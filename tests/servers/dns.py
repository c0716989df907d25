"""A small authoritative DNS server on loopback (UDP), for the R14 provider checks.

It answers MX, CNAME and A queries from a dict built with dnspython's
`dns.message` API, on its own thread: names it does not know are NXDOMAIN, a
known name without records of the asked type is an empty answer (NOERROR).
`LOGGBOK_DNS_SERVER=127.0.0.1:PORT` points the daemon at it.

    zone = {"kund.example": {"MX": ["10 kund-example.mail.protection.outlook.com."]}}
    with DnsServer(zone) as dns:
        env = {"LOGGBOK_DNS_SERVER": dns.address}
"""

from __future__ import annotations

import socket
import threading
from types import TracebackType

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

Zone = dict[str, dict[str, list[str]]]
"""name -> record type ("MX", "CNAME", "A") -> record texts ("10 mx.example.", ...)."""


class DnsServer:
    def __init__(self, zone: Zone, *, silent: bool = False) -> None:
        self.zone = {dns.name.from_text(k).canonicalize(): v for k, v in zone.items()}
        self.silent = silent
        """Receive queries and never answer (a resolver that times out)."""
        self.queries: list[tuple[str, str]] = []
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="dns-server", daemon=True)

    @property
    def port(self) -> int:
        return int(self._sock.getsockname()[1])

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def __enter__(self) -> DnsServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join(5)
        self._sock.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                wire, peer = self._sock.recvfrom(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                query = dns.message.from_wire(wire)
            except Exception:
                continue
            question = query.question[0]
            self.queries.append((question.name.to_text(), dns.rdatatype.to_text(question.rdtype)))
            if self.silent:
                continue
            self._sock.sendto(self._answer(query).to_wire(), peer)

    def _answer(self, query: dns.message.Message) -> dns.message.Message:
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        question = query.question[0]
        records = self.zone.get(question.name.canonicalize())
        if records is None:
            response.set_rcode(dns.rcode.NXDOMAIN)
            return response
        kind = dns.rdatatype.to_text(question.rdtype)
        texts = records.get(kind, [])
        if texts:
            response.answer.append(
                dns.rrset.from_text_list(question.name, 300, dns.rdataclass.IN, kind, texts)
            )
        return response
