"""The server: a listening socket and uvicorn running the app in a thread until closed."""

from __future__ import annotations

import socket
import threading
import time

DEFAULT_HOST = "127.0.0.1"


def free_port(host: str = DEFAULT_HOST) -> int:
    """A port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def bind(host: str, port: int | None) -> socket.socket:
    """A listening socket on host:port; `None` takes the first free port from 7860."""
    for candidate in [port] if port is not None else range(7860, 7960):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, candidate))
        except OSError:
            sock.close()
            if port is not None:
                raise
            continue
        sock.listen(2048)
        return sock
    raise OSError(f"no free port from 7860 to 7959 on {host}")


class Server:
    """The JSON API and the chat page on one uvicorn server, running in a thread."""

    def __init__(self, app, sock: socket.socket) -> None:
        import uvicorn

        self._app = app
        host, port = sock.getsockname()[:2]
        self.url = f"http://{host}:{port}/"
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="rag-serve", daemon=True
        )
        self._sock = sock
        self._thread.start()
        deadline = time.monotonic() + 60
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise OSError(f"the server on {self.url} did not start")
            time.sleep(0.02)

    def wait(self) -> None:
        """Serve until interrupted (Ctrl+C)."""
        try:
            while self._thread.is_alive():
                self._thread.join(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            self.close()

    def close(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=15)
        self._sock.close()
        for pool in self._app.state.pools:
            pool.shutdown(wait=False, cancel_futures=True)
