"""Every fenced Python and shell block of README.md and docs/ is run, and the output it shows is
asserted: an example that stops matching fails the suite.

Conventions of the pages (docs/contributing.md says the same for writers):

- A Python block runs in one namespace with the page's other Python blocks, in page order, with
  the working folder holding a copy of the bundled corpus (`corpus/`, its index in `index/`).
  What it prints is written after it as `#> ` lines (`...` matches anything); a block that prints
  without showing it fails.
- A shell block (`bash`, `console`) runs each command in bash. In a `console` block a `$ ` line is
  a command and the lines up to the next are its output on stdout (`...` matches anything).
  `rag` is the command line with the defaults pointing at the copy; `rag serve` starts, answers
  /api/health and stops; `curl` and `gradio_client` talk to a server started on the copy (the
  documented http://127.0.0.1:7860 is its address); `make` and `pip` are checked, never run (the
  target or extra must exist).
- `<!-- example: parse -->` before a block: commands that take minutes to hours, or need a
  cluster or data outside the repository (training, benchmarks, SQuAD evaluations). Each `rag`
  command is parsed by the one argparse parser (an unknown command or flag fails), and a Python
  block is compiled and its imports resolved.
"""

from __future__ import annotations

import doctest
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from .conftest import CORPUS, ROOT

RUNNER = Path(__file__).with_name("docs_runner.py")
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SHELL = {"bash", "sh", "shell", "console"}
PYTHON = {"python", "py", "pycon"}
DOCUMENTED_URL = re.compile(r"http://127\.0\.0\.1:7860")
MARKER = re.compile(r"<!--\s*example:\s*(\w+)\s*-->")
# The programs a shell example may call; anything else fails, so that no example runs something
# the suite does not know about.
KNOWN_COMMANDS = {
    "rag",
    "curl",
    "make",
    "pip",
    "pipx",
    "python",
    "printf",
    "echo",
    "jq",
    "head",
    "true",
}
TOOLS = {"curl", "jq"}  # real programs the examples call, which a machine may lack
CHECK = doctest.OutputChecker()
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
COMMAND_TIMEOUT_S = 300


@dataclass
class Block:
    page: Path
    line: int  # of the opening fence, 1-based
    lang: str
    code: str
    mode: str = "run"  # or "parse"

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


@dataclass
class Command:
    text: str
    want: str | None  # the output a console block shows, or None when it shows none
    line: int


@dataclass
class Outcome:
    failures: list[str] = field(default_factory=list)


def fences(page: Path) -> list[Block]:
    """Every fenced block of a page; fences must start at the margin, so none is missed."""
    blocks, lines = [], page.read_text().splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.lstrip().startswith("```"):
            assert line.startswith("```"), (
                f"{page}:{i + 1}: an indented fence; keep fences at the margin"
            )
            lang = line[3:].strip().split(" ")[0].split("{")[0].lower()
            before = next((lines[j] for j in range(i - 1, -1, -1) if lines[j].strip()), "")
            marker = MARKER.search(before)
            end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
            code = "\n".join(lines[i + 1 : end]) + "\n"
            blocks.append(Block(page, i + 1, lang, code, marker.group(1) if marker else "run"))
            i = end + 1
        else:
            i += 1
    return blocks


def examples(page: Path) -> list[Block]:
    return [b for b in fences(page) if b.lang in SHELL | PYTHON]


def commands(block: Block) -> list[Command]:
    """The commands of a shell block, continuation lines joined; in a console block, each with
    the output shown under it."""
    lines = block.code.rstrip("\n").split("\n")
    console = block.lang == "console" or any(line.startswith("$ ") for line in lines)
    out: list[Command] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        start = block.line + 1 + i
        if console and not line.startswith("$ "):
            assert not line.strip(), f"{block.where}: output before any `$ ` command"
            i += 1
            continue
        text = line[2:] if console else line
        while text.endswith("\\") and i + 1 < len(lines):
            i += 1
            text = text[:-1] + " " + lines[i].strip()
        i += 1
        want = None
        if console:
            shown = []
            while i < len(lines) and not lines[i].startswith("$ "):
                shown.append(lines[i])
                i += 1
            want = "\n".join(shown).strip("\n") + "\n" if any(s.strip() for s in shown) else ""
        if text.strip() and not text.strip().startswith("#"):
            out.append(Command(text, want, start))
    return out


def programs(command: str) -> list[str]:
    """The programs a command line calls: the first word of each part of a pipeline or list,
    past any VAR=value assignments."""
    lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    found, at_start = [], True
    for token in lexer:
        if token in ("|", "||", "&&", ";", "&", "(", ")"):
            at_start = True
        elif at_start and not re.fullmatch(r"[A-Za-z_]\w*=.*", token):
            found.append(token)
            at_start = False
    return found


def shell_prelude(mode: str) -> str:
    rag = "parse" if mode == "parse" else "cli"
    return (
        f'rag() {{ "$DOCS_PY" "$DOCS_RUNNER" {rag} "$@"; }}\n'
        'make() { "$DOCS_PY" "$DOCS_RUNNER" make "$@"; }\n'
        'pip() { "$DOCS_PY" "$DOCS_RUNNER" pip "$@"; }\n'
        'pipx() { "$DOCS_PY" "$DOCS_RUNNER" pip "$@"; }\n'
        'python() { "$DOCS_PY" "$DOCS_RUNNER" python-m "$@"; }\n'
        "set -eo pipefail\n"
    )


def matches(want: str, got: str) -> bool:
    return CHECK.check_output(want, got, FLAGS)


def difference(want: str, got: str) -> str:
    example = doctest.Example("", want)
    return CHECK.output_difference(example, got, FLAGS)


class Workspace:
    """A folder with a copy of the bundled corpus, the environment the examples run in, and a
    server on that copy when a page needs one."""

    def __init__(self, root: Path, real_export: Path) -> None:
        self.root = root
        shutil.copytree(CORPUS, root / "corpus", ignore=shutil.ignore_patterns("uploads"))
        cache = root / "cache" / "rag-news"
        cache.mkdir(parents=True)
        # The first run's model export (seconds of torch) is shared read-only with the suite's.
        (cache / "embedder").symlink_to(real_export, target_is_directory=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
        self.env = env | {
            "HF_HUB_OFFLINE": "1",
            "GRADIO_ANALYTICS_ENABLED": "False",
            "XDG_CACHE_HOME": str(root / "cache"),
            "RAG_DOCS_CORPUS": str(root / "corpus"),
            "RAG_DOCS_INDEX": str(root / "index"),
            "DOCS_PY": sys.executable,
            "DOCS_RUNNER": str(RUNNER),
            "PYTHONPATH": str(ROOT),
        }
        self.server: subprocess.Popen[str] | None = None
        self.url = ""

    def runner(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(RUNNER), *args],
            input=stdin,
            capture_output=True,
            text=True,
            cwd=self.root,
            env=self.env,
            timeout=COMMAND_TIMEOUT_S,
        )

    def serve(self) -> str:
        """The URL of a `rag serve` on the copy, started on first use."""
        if self.server is None:
            with socket.socket() as sock:
                sock.bind(("127.0.0.1", 0))
                port = sock.getsockname()[1]
            self.server = subprocess.Popen(
                [sys.executable, str(RUNNER), "cli-serve", "--port", str(port), "--read-only"],
                cwd=self.root,
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                text=True,
            )
            self.url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 120
            while True:
                try:
                    with urllib.request.urlopen(self.url + "/api/health", timeout=5):
                        break
                except OSError:
                    if self.server.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError("the examples' server did not start") from None
                    time.sleep(0.5)
        return self.url

    def localize(self, text: str) -> str:
        return DOCUMENTED_URL.sub(self.serve(), text) if DOCUMENTED_URL.search(text) else text

    def close(self) -> None:
        if self.server is not None:
            self.server.terminate()
            self.server.wait(timeout=30)

    def run_shell(self, block: Block, outcome: Outcome) -> None:
        for command in commands(block):
            called = programs(command.text)
            unknown = [p for p in called if p not in KNOWN_COMMANDS]
            if unknown:
                outcome.failures.append(f"{block.where}: calls {unknown}; not a known command")
                continue
            missing = [p for p in called if p in TOOLS and shutil.which(p) is None]
            if missing:
                outcome.failures.append(
                    f"{block.where}: needs {missing} on the PATH "
                    f"(apt-get install {' '.join(missing)}; .ci/run installs them)"
                )
                continue
            text = self.localize(command.text)
            done = subprocess.run(
                ["bash", "-c", shell_prelude(block.mode) + text],
                capture_output=True,
                text=True,
                cwd=self.root,
                env=self.env,
                timeout=COMMAND_TIMEOUT_S,
            )
            where = f"{block.page.relative_to(ROOT)}:{command.line}"
            if done.returncode != 0:
                outcome.failures.append(
                    f"{where}: `{command.text}` exited {done.returncode}:\n{done.stderr[-3000:]}"
                )
            elif command.want is not None and not matches(command.want, done.stdout):
                outcome.failures.append(
                    f"{where}: `{command.text}` printed otherwise than shown:\n"
                    + difference(command.want, done.stdout)
                )

    def python(self, mode: str) -> subprocess.Popen[str]:
        """A process that runs a page's Python blocks one by one, in one namespace."""
        return subprocess.Popen(
            [sys.executable, str(RUNNER), "python" if mode == "run" else "python-parse"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=self.root,
            env=self.env,
        )

    def run_python(self, process: subprocess.Popen[str], block: Block, outcome: Outcome) -> bool:
        """Run one block in the page's process; False when it failed (the page stops)."""
        process.stdin.write(json.dumps({"code": self.localize(block.code), "where": block.where}))
        process.stdin.write("\n")
        process.stdin.flush()
        reply = process.stdout.readline()
        if not reply:
            outcome.failures.append(f"{block.where}: the runner died:\n{process.stderr.read()}")
            return False
        result = json.loads(reply)
        if result["error"]:
            outcome.failures.append(f"{block.where}: raised\n{result['error']}")
            return False
        want = expected(block)
        if block.mode == "run" and not matches(want, result["output"]):
            outcome.failures.append(
                f"{block.where}: printed otherwise than its `#>` lines show:\n"
                + difference(want, result["output"])
            )
        return True


def expected(block: Block) -> str:
    """What a Python block shows it prints: its `#> ` lines, in order."""
    shown = [
        line.split("#>", 1)[1][1:] if "#> " in line else ""
        for line in block.code.splitlines()
        if line.lstrip().startswith("#>")
    ]
    return "\n".join(shown) + "\n" if shown else ""


def run_page(workspace: Workspace, page: Path) -> Outcome:
    """Every example of a page, in page order; the Python blocks share a namespace."""
    outcome = Outcome()
    processes: dict[str, subprocess.Popen[str]] = {}
    try:
        for block in examples(page):
            if block.lang in SHELL:
                workspace.run_shell(block, outcome)
                continue
            if block.mode not in processes:
                processes[block.mode] = workspace.python(block.mode)
            if not workspace.run_python(processes[block.mode], block, outcome):
                break
    finally:
        for process in processes.values():
            process.stdin.close()
            try:
                process.wait(timeout=COMMAND_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
    return outcome


@pytest.fixture(scope="module")
def workspace(embedder, tmp_path_factory):
    from rag.index.store import cache_root

    # The README runs first and builds the index (its `rag index` shows the build); every
    # other page answers from it, or builds it when run alone.
    space = Workspace(tmp_path_factory.mktemp("docs"), cache_root() / "embedder")
    yield space
    space.close()


def test_every_fenced_block_is_collected_and_counted(capsys) -> None:
    counts = {page.relative_to(ROOT).as_posix(): examples(page) for page in PAGES}
    total = sum(len(found) for found in counts.values())
    python = sum(b.lang in PYTHON for found in counts.values() for b in found)
    parsed = sum(b.mode == "parse" for found in counts.values() for b in found)
    with capsys.disabled():
        print(
            f"\ndocs examples: {total} blocks ({python} Python, {total - python} shell) in "
            f"{len(PAGES)} pages; {total - parsed} run, {parsed} parsed only"
        )
    assert total >= 20
    for page in PAGES:
        for block in fences(page):
            assert block.lang, f"{block.where}: a fence without a language"
            assert block.mode in ("run", "parse"), f"{block.where}: unknown marker {block.mode}"
    readme = examples(ROOT / "README.md")
    assert {b.lang for b in readme} >= {"python", "bash"}, "the README's examples are collected"


@pytest.mark.parametrize("page", PAGES, ids=[p.relative_to(ROOT).as_posix() for p in PAGES])
def test_page_examples_run_and_print_what_they_show(workspace, page: Path) -> None:
    outcome = run_page(workspace, page)
    assert not outcome.failures, "\n\n".join(outcome.failures)


def test_a_changed_printed_value_fails(workspace) -> None:
    """The check is not vacuous: the README's `rag ask` passes as written, and fails once the
    short answer it shows is changed."""
    block = next(b for b in examples(ROOT / "README.md") if "$ rag ask" in b.code)
    shown = next(c for c in commands(block) if c.text.startswith("rag ask"))
    assert "Answer: 56 percent" in shown.want
    for want, fails in (
        (shown.want, False),
        (shown.want.replace("56 percent", "57 percent"), True),
    ):
        code = f"$ {shown.text}\n{want}"
        outcome = Outcome()
        workspace.run_shell(Block(block.page, block.line, "console", code), outcome)
        assert bool(outcome.failures) == fails, outcome.failures
        if fails:
            assert "printed otherwise than shown" in outcome.failures[0]
            assert "57 percent" in outcome.failures[0]
