"""MkDocs hook: the JSON API's OpenAPI document, written from the FastAPI app itself at every
build and published beside the pages as openapi.json (the HTTP API page links it)."""

from __future__ import annotations

import json

from mkdocs.structure.files import File


def on_files(files, config):
    from ui.api import build_api

    api = build_api(None, workers=1)  # the routes and models only: nothing is answered
    try:
        document = json.dumps(api.openapi(), indent=1, sort_keys=True) + "\n"
    finally:
        for pool in api.state.pools:
            pool.shutdown(wait=False)
    files.append(File.generated(config, "openapi.json", content=document))
    return files
