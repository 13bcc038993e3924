"""The package as a user gets it: `python -m build` makes an sdist and a wheel that carry the
models and the UI; installed in a fresh virtual environment outside the repository, `rag index`,
`rag ask` and `rag serve` work on a folder of articles written here, with an empty cache (the
first run exports the embedding model), and nothing is read from the repository."""

from __future__ import annotations

import email
import hashlib
import json
import os
import re
import socket
import subprocess
import sys
import tarfile
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

from .conftest import ROOT

pytestmark = pytest.mark.slow

CONSTRAINTS = ROOT / "constraints.txt"
SHIPPED = ["rag/scorer.json", "rag/models/reader.int8.onnx", "rag/models/reader.json"]
UI = ["ui/app.py", "ui/api.py", "ui/assets.py", "ui/render.py", "ui/auth.py", "ui/guard.py"]
ARTICLES = {
    "harbin-ice.txt": (
        "Harbin ice festival draws record crowds\n\n"
        "The Harbin Ice and Snow World welcomed 2.7 million visitors during the 2025 season, "
        "the city's tourism bureau said on Monday. Ticket revenue rose 18 percent from the "
        "season before.\n"
    ),
    "shenzhen-drones.md": (
        "---\ntitle: Shenzhen drone deliveries take off\npublisher: Pearl River Business Weekly\n"
        "date: 2025-03-04\n---\n\n"
        "Meituan's drones completed 450,000 deliveries in Shenzhen in 2024. The company plans "
        "to open 20 new routes this year.\n"
    ),
}
QUESTION = "How many visitors did the Harbin Ice and Snow World welcome?"
INSTALL_BUDGET_S = 900  # a warm pip cache takes a few minutes; CI's whole run has 90


def run(args, *, env=None, cwd=None, timeout=600) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, env=env, cwd=cwd, timeout=timeout
    )
    assert done.returncode == 0, f"{args}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    run([sys.executable, "-m", "build", "--outdir", out, ROOT], timeout=900)
    return out


@pytest.fixture(scope="module")
def venv(dist, tmp_path_factory):
    """A fresh virtual environment outside the repository with the wheel installed."""
    home = tmp_path_factory.mktemp("user")
    venv_bin = str(Path(sys.executable).parent)
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME") and not k.startswith("RAG_")
    }
    env |= {
        # the shell's PATH without this environment's bin: `rag` must be the fresh one
        "PATH": os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p != venv_bin),
        "XDG_CACHE_HOME": str(home / "cache"),  # empty: the first run exports the model here
        # pip keeps its own cache (downloads are not the package's files)
        "PIP_CACHE_DIR": os.environ.get("PIP_CACHE_DIR") or os.path.expanduser("~/.cache/pip"),
        "HF_HUB_OFFLINE": "1",
        "GRADIO_ANALYTICS_ENABLED": "False",
    }
    target = home / "venv"
    started = time.monotonic()
    run([sys.executable, "-m", "venv", target], env=env, cwd=home)
    python = target / "bin" / "python"
    wheel = next(dist.glob("*.whl"))
    # torch first, as `make` does: the CPU build that constraints.txt pins
    run([python, "-m", "pip", "install", "-q", "-c", CONSTRAINTS, "torch"], env=env, cwd=home,
        timeout=INSTALL_BUDGET_S)  # fmt: skip
    run([python, "-m", "pip", "install", "-q", "-c", CONSTRAINTS, wheel], env=env, cwd=home,
        timeout=INSTALL_BUDGET_S)  # fmt: skip
    installed_s = time.monotonic() - started
    print(f"\nwheel {wheel.name}: {wheel.stat().st_size / 1e6:.1f} MB; fresh venv installed in "
          f"{installed_s:.0f} s")  # fmt: skip
    return {"python": python, "rag": target / "bin" / "rag", "env": env, "home": home}


def test_the_sdist_and_the_wheel_carry_the_models_and_the_ui(dist) -> None:
    wheel = next(dist.glob("*.whl"))
    sdist = next(dist.glob("*.tar.gz"))
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        reader = json.loads(archive.read("rag/models/reader.json"))
        onnx = archive.read("rag/models/reader.int8.onnx")
        meta = email.message_from_bytes(
            archive.read(next(n for n in names if n.endswith(".dist-info/METADATA")))
        )
        entry = archive.read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert set(SHIPPED + UI) <= names
    assert not any(n.startswith(("tests/", "corpus/", "index/", "docs/")) for n in names)
    digest = re.search(r"[0-9a-f]{64}", json.dumps(reader)).group()
    assert hashlib.sha256(onnx).hexdigest() == digest, "the shipped reader matches its checksum"
    with tarfile.open(sdist) as archive:
        top = archive.getnames()[0].split("/")[0]
        members = {n.removeprefix(top + "/") for n in archive.getnames()}
    assert set(SHIPPED + UI + ["README.md", "LICENSE", "pyproject.toml"]) <= members

    assert meta["Name"] == "rag-news" and meta["Requires-Python"] == ">=3.10"
    assert meta["License-Expression"] and meta.get_all("License-File")
    assert len(meta.get_all("Classifier")) >= 5
    assert meta["Description-Content-Type"] == "text/markdown"
    assert "make run" in meta.get_payload(), "the description is the README"
    assert {"cluster", "docs", "dev"} <= set(meta.get_all("Provides-Extra"))
    assert any(r.startswith("onnx") for r in meta.get_all("Requires-Dist")), (
        "the first run needs it"
    )
    assert "rag = rag.cli:main" in entry


def test_the_installed_wheel_indexes_answers_and_serves_a_folder_of_articles(venv) -> None:
    home, env = venv["home"], venv["env"]
    articles = home / "articles"
    articles.mkdir()
    for name, text in ARTICLES.items():
        (articles / name).write_text(text)

    code = "import rag, ui, rag.settings as s; print(rag.__file__, ui.__file__, s.DEFAULT_CORPUS)"
    where = run([venv["python"], "-c", code], env=env, cwd=home)
    for path in where.stdout.split():
        assert not path.startswith(str(ROOT)), f"{path} is read from the repository"

    started = time.monotonic()
    built = run([venv["rag"], "index", "--corpus", articles], env=env, cwd=home)
    index_s = time.monotonic() - started
    assert "built index: 2 articles" in built.stdout, built.stdout
    assert "Traceback" not in built.stderr
    assert (home / "cache" / "rag-news" / "embedder").is_dir(), "the first run exported the model"
    # ...and said where it went.
    assert f"Exporting the embedding model to {home / 'cache' / 'rag-news' / 'embedder'}" in (
        built.stderr
    )

    started = time.monotonic()
    asked = run([venv["rag"], "ask", QUESTION, "--corpus", articles], env=env, cwd=home)
    ask_s = time.monotonic() - started
    assert "Answer: 2.7 million" in asked.stdout, asked.stdout
    assert "Harbin ice festival draws record crowds" in asked.stdout
    print(f"\nfirst `rag index` (model export included) {index_s:.1f} s; `rag ask` {ask_s:.1f} s")

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(
        [venv["rag"], "serve", "--corpus", articles, "--port", str(port)],
        env=env,
        cwd=home,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = server.stdout.readline()
        assert f"running at http://127.0.0.1:{port}/" in line, server.stderr.read()[-3000:]
        url = f"http://127.0.0.1:{port}"
        with urllib.request.urlopen(url + "/api/health", timeout=30) as response:
            assert json.load(response)["articles"] == 2
        request = urllib.request.Request(
            url + "/api/ask",
            data=json.dumps({"question": QUESTION, "top_k": 1}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            answer = json.load(response)
        assert answer["short_answer"]["text"] == "2.7 million"
        with urllib.request.urlopen(url + "/", timeout=30) as response:
            assert "News QA" in response.read().decode()  # the chat page and its assets
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_the_extras_resolve(venv, dist) -> None:
    wheel = next(dist.glob("*.whl"))
    for extra in ("cluster", "docs", "dev"):
        run([venv["python"], "-m", "pip", "install", "--dry-run", "-q", "-c", CONSTRAINTS,
             f"rag-news[{extra}] @ {wheel.as_uri()}"], env=venv["env"], cwd=venv["home"],
            timeout=INSTALL_BUDGET_S)  # fmt: skip
