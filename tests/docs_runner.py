"""Runs the examples of README.md and docs/ for tests/test_docs_examples.py, in a process of its
own, as a user of a clone would run them, but hermetically: the bundled corpus and index/ that
`rag` and `rag.Assistant.from_corpus()` default to are a temporary copy (RAG_DOCS_CORPUS,
RAG_DOCS_INDEX), set before any other module of `rag` reads them.

    python docs_runner.py cli ARGS...      `rag ARGS...`; `rag serve` starts, answers, stops
    python docs_runner.py parse ARGS...    `rag ARGS...` checked by the parser, not run
    python docs_runner.py python           the blocks of one page (JSON on stdin), one namespace
    python docs_runner.py python-parse     the same, compiled and their imports resolved only
    python docs_runner.py make TARGET...   each target is one the Makefile defines
    python docs_runner.py pip ARGS...      each extra named (`rag-news[x]`, `.[x]`) is declared
    python docs_runner.py python-m MOD ... the module exists (a command shown, not run)
"""

from __future__ import annotations

import ast
import contextlib
import io
import json
import os
import re
import socket
import subprocess
import sys
import time
import traceback
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SERVE_TIMEOUT_S = 120


def _patch_defaults() -> None:
    import rag.settings as settings

    settings.DEFAULT_CORPUS = Path(os.environ["RAG_DOCS_CORPUS"])
    settings.DEFAULT_INDEX = Path(os.environ["RAG_DOCS_INDEX"])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cli(argv: list[str]) -> int:
    if argv and argv[0] == "serve":
        return serve_check(argv)
    _patch_defaults()
    from rag.cli import main

    return main(argv)


def serve_check(argv: list[str]) -> int:
    """`rag serve ARGS`: started on a free port, checked to answer /api/health, then stopped."""
    argv, port = list(argv), str(_free_port())
    if "--port" in argv:
        documented = argv[argv.index("--port") + 1]
        argv[argv.index("--port") + 1] = port
    else:
        documented = "7860"  # the first port it tries; the examples' machine may have it taken
        argv += ["--port", port]
    server = subprocess.Popen(
        [sys.executable, __file__, "cli-serve", *argv[1:]],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + SERVE_TIMEOUT_S
        for line in server.stdout:
            match = re.search(r"running at (http://\S+/) ", line)
            if match:
                break
            if time.monotonic() > deadline:
                raise TimeoutError("rag serve printed no URL")
        else:
            print(server.stderr.read(), file=sys.stderr)
            return server.wait()
        url = match.group(1)
        with urllib.request.urlopen(url + "api/health", timeout=30) as response:
            health = json.load(response)
        assert health["status"] == "ok", health
        print(
            line.replace(f":{port}/", f":{documented}/"), end=""
        )  # as it prints on the port shown
        return 0
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()


def parse(argv: list[str]) -> int:
    from rag.cli import build_parser

    build_parser().parse_args(argv)  # exits 2 with argparse's message on an unknown flag
    return 0


def make(targets: list[str]) -> int:
    makefile = (ROOT / "Makefile").read_text()
    defined = set(re.findall(r"^([A-Za-z][\w-]*):", makefile, re.M))
    missing = [t for t in targets if not t.startswith("-") and "=" not in t and t not in defined]
    if missing:
        print(f"make: the Makefile defines no target {missing}", file=sys.stderr)
        return 2
    return 0


def pip(argv: list[str]) -> int:
    import tomllib  # Python 3.11+, as the test suite's environment is

    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = set(declared.get("optional-dependencies", {}))
    for arg in argv:
        match = re.fullmatch(r"(?:rag-news|\.|dist/\S+\.whl)\[([\w,-]+)\]", arg.strip("'\""))
        if match:
            unknown = set(match.group(1).split(",")) - extras
            if unknown:
                print(f"pip: pyproject.toml declares no extra {sorted(unknown)}", file=sys.stderr)
                return 2
    return 0


def python_m(argv: list[str]) -> int:
    import importlib.util

    if argv[:1] != ["-m"] or importlib.util.find_spec(argv[1]) is None:
        print(f"python: no module in {argv}", file=sys.stderr)
        return 2
    return 0


def python_blocks(*, run: bool) -> int:
    """Run (or only compile and resolve the imports of) a page's blocks in one namespace, as
    they come: one JSON object a line on stdin ({"code", "where"}), one a line on stdout
    ({"output", "error"}) when it is done."""
    if run:
        _patch_defaults()
    namespace: dict[str, object] = {"__name__": "__main__"}
    reply = sys.stdout
    for request in sys.stdin:
        block = json.loads(request)
        out = io.StringIO()
        error = None
        try:
            code = compile(block["code"], block["where"], "exec")
            if run:
                with contextlib.redirect_stdout(out):
                    exec(code, namespace)
            else:
                _resolve_imports(block["code"])
        except BaseException:  # noqa: BLE001: reported against the block
            error = traceback.format_exc()
        reply.write(json.dumps({"output": out.getvalue(), "error": error}) + "\n")
        reply.flush()
    return 0


def _resolve_imports(code: str) -> None:
    import importlib

    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                importlib.import_module(alias.name)
        elif isinstance(node, ast.ImportFrom):
            module = importlib.import_module(node.module)
            for alias in node.names:
                if not hasattr(module, alias.name):
                    importlib.import_module(f"{node.module}.{alias.name}")


def main(argv: list[str]) -> int:
    mode, rest = argv[0], argv[1:]
    if mode == "cli":
        return cli(rest)
    if mode == "cli-serve":
        _patch_defaults()
        from rag.cli import main as rag_main

        return rag_main(["serve", *rest])
    if mode == "parse":
        return parse(rest)
    if mode == "python":
        return python_blocks(run=True)
    if mode == "python-parse":
        return python_blocks(run=False)
    if mode == "make":
        return make(rest)
    if mode == "pip":
        return pip(rest)
    if mode == "python-m":
        return python_m(rest)
    raise SystemExit(f"docs_runner: unknown mode {mode}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
