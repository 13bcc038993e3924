"""A link fetched by trafilatura: http(s) only, a timeout, a size cap, no private hops."""

from __future__ import annotations

import ipaddress
import logging
import socket
import threading
from configparser import ConfigParser
from dataclasses import dataclass
from urllib.parse import urlsplit

from trafilatura.downloads import fetch_response
from trafilatura.settings import use_config
from trafilatura.utils import Response

from .limits import MAX_DOCUMENT_BYTES

TIMEOUT_S = 10  # the whole fetch, redirects included
MAX_REDIRECTS = 5
MAX_URL_CHARS = 2_000


@dataclass(frozen=True)
class Fetched:
    """A link's response: where it ended up after redirects, its bytes and content type."""

    url: str
    data: bytes
    content_type: str


def fetch(url: str, *, private: bool = False, timeout: float = TIMEOUT_S) -> Fetched:
    """The page at `url`; ValueError in one line saying why it could not be fetched.

    `private=False` (a server fetching for its users) refuses loopback, private and
    link-local addresses: the link's own host here, and every hop after a redirect in
    trafilatura, which vets each connection's peer address once it is made (so a name that
    resolves elsewhere the second time cannot slip by; behind an `http_proxy` it leaves that
    to the proxy). `rag add` on a user's own machine passes `private=True`.
    """
    url = url.strip()
    parts = urlsplit(url)
    if len(url) > MAX_URL_CHARS:
        raise ValueError(f"is a link of {len(url):,} characters, over {MAX_URL_CHARS:,}")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("is not an http(s) link; give one that starts with https://")
    if not private:
        _refuse_private(parts.hostname)
    # trafilatura retries a read that timed out, waiting longer each time (a minute in all):
    # the fetch runs aside and is given up on at the deadline, left to end on its own.
    attempt = _Attempt(url, _config(private, timeout))
    attempt.start()
    attempt.join(timeout)
    if attempt.is_alive():
        raise ValueError(f"did not answer within {timeout:g} s; try again later, or save the page")
    response = attempt.response
    if response is None or response.data is None:
        raise ValueError(_why(attempt.messages))
    if response.status != 200:
        raise ValueError(f"answered HTTP {response.status}, not a page")
    headers = response.headers or {}
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    return Fetched(response.url or url, bytes(response.data), content_type)


def _refuse_private(host: str) -> None:
    """ValueError when `host` is, or resolves to, an address that is not public."""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise ValueError(f"names a host that does not resolve ({host}: {exc})") from None
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        address = getattr(address, "ipv4_mapped", None) or address
        if not address.is_global:
            raise ValueError(_PRIVATE.format(host=host, address=address))


_PRIVATE = (
    "leads to a private or local address ({host} is {address}); the server fetches public "
    "pages only (start it with `rag serve --fetch-private` to allow it)"
)


def _config(private: bool, timeout: float) -> ConfigParser:
    config = use_config()
    config.set("DEFAULT", "DOWNLOAD_TIMEOUT", str(max(1, round(timeout))))
    config.set("DEFAULT", "MAX_FILE_SIZE", str(MAX_DOCUMENT_BYTES))
    config.set("DEFAULT", "MAX_REDIRECTS", str(MAX_REDIRECTS))
    config.set("DEFAULT", "SSRF_PROTECTION", "off" if private else "on")
    # An unverified certificate is no source to cite.
    config.set("DEFAULT", "INSECURE_SSL_FALLBACK", "off")
    return config


class _Attempt(threading.Thread):
    """One fetch in a thread of its own, with what trafilatura logged on it: it returns None
    for a failed fetch and logs why."""

    def __init__(self, url: str, config: ConfigParser) -> None:
        super().__init__(name=f"fetch {url[:80]}", daemon=True)
        self.url, self.config = url, config
        self.response: Response | None = None
        self.messages: list[str] = []

    def run(self) -> None:
        handler = _ThreadLog(self.messages)
        logger = logging.getLogger("trafilatura.downloads")
        logger.addHandler(handler)
        try:
            self.response = fetch_response(self.url, decode=False, config=self.config)
        finally:
            logger.removeHandler(handler)


class _ThreadLog(logging.Handler):
    """The messages logged on the thread that made it."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__(logging.DEBUG)
        self.thread = threading.get_ident()
        self.messages = messages

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread:
            self.messages.append(record.getMessage())


def _why(messages: list[str]) -> str:
    """One line from trafilatura's log of a failed fetch."""
    said = " ".join(messages)
    if "non-public address" in said:
        return (
            "leads to a private or local address (on connecting, or after a redirect); the "
            "server fetches public pages only (start it with `rag serve --fetch-private` to "
            "allow it)"
        )
    if "MAX_FILE_SIZE" in said:
        megabytes = MAX_DOCUMENT_BYTES // (1024 * 1024)
        return f"is a page of over {megabytes} MB; save the article itself"
    if "timed out" in said.lower():
        return "did not answer in time; try again later, or save the page"
    if "redirect" in said.lower():
        return f"redirects more than {MAX_REDIRECTS} times"
    if "SSL" in said or "certificate" in said.lower():
        return "has no valid certificate (https); a page to cite needs one"
    if "Name or service not known" in said or "resolve" in said.lower():
        return "names a host that does not resolve"
    if "refused" in said.lower():
        return "refused the connection (is the server up?)"
    return "could not be fetched" + (f" ({messages[-1]})" if messages else "")
