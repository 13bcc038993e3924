"""A real HTTP server on 127.0.0.1 serving a folder, for the tests that fetch links."""

from __future__ import annotations

import contextlib
import http.server
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from tests.conftest import FIXTURES
from tests.ingest.pdfs import report_pdf


class Pages(http.server.SimpleHTTPRequestHandler):
    """The folder's files, plus a page that never answers and a redirect to a story."""

    def do_GET(self) -> None:  # http.server's name
        if self.path == "/slow":
            time.sleep(5)
            return
        if self.path == "/moved":
            self.send_response(302)
            self.send_header("Location", "/chengdu-exports.html")
            self.end_headers()
            return
        super().do_GET()

    def log_message(self, *args: object) -> None:
        pass


@contextlib.contextmanager
def serving(root: Path) -> Iterator[str]:
    """The fixture documents (and the bulletin PDF) copied into `root`, served at the URL
    yielded until the block ends."""
    for path in (FIXTURES / "documents").glob("*.*"):
        shutil.copy(path, root / path.name)
    report_pdf(root / "hangzhou.pdf")

    def handler(*args, **kwargs):
        return Pages(*args, directory=str(root), **kwargs)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
