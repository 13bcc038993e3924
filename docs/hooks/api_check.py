"""MkDocs hook: every public name of the objects the Python API reference documents (`::: path`
lines) has a docstring, and every field of a documented dataclass or enum is described in its
class's `Attributes:` section. A name left undocumented fails the build, in strict mode or not."""

from __future__ import annotations

import dataclasses
import enum
import importlib
import inspect
import re

from mkdocs.exceptions import PluginError

DIRECTIVE = re.compile(r"^:::\s*([\w.]+)", re.M)


def on_page_markdown(markdown: str, page, config, files) -> str:  # noqa: ARG001: MkDocs' API
    problems = [p for path in DIRECTIVE.findall(markdown) for p in undocumented(path)]
    if problems:
        raise PluginError(f"{page.file.src_uri}: undocumented public names: " + "; ".join(problems))
    return markdown


def resolve(path: str) -> object:
    module_name, _, rest = path.partition(".")
    obj: object = importlib.import_module(module_name)
    for part in rest.split(".") if rest else []:
        try:
            obj = getattr(obj, part)
        except AttributeError:  # a submodule not imported yet
            obj = importlib.import_module(f"{module_name}.{part}")
        if inspect.ismodule(obj):
            module_name = obj.__name__
    return obj


def undocumented(path: str) -> list[str]:
    obj = resolve(path)
    if inspect.ismodule(obj):
        names = getattr(obj, "__all__", None) or [n for n in vars(obj) if not n.startswith("_")]
        return [p for n in names if _own(obj, n) for p in undocumented(f"{path}.{n}")]
    if not inspect.getdoc(obj):
        return [path]
    if not inspect.isclass(obj):
        return []
    problems = []
    doc = obj.__doc__ or ""
    fields = [f.name for f in dataclasses.fields(obj)] if dataclasses.is_dataclass(obj) else []
    if issubclass(obj, enum.Enum):
        fields = [member.name for member in obj]
    for name in fields:
        if not re.search(rf"^\s+{re.escape(name)}( \(.*\))?:", doc, re.M):
            problems.append(f"{path}.{name} (not in the Attributes: section)")
    for name, member in vars(obj).items():
        if name.startswith("_") or name in fields or not _api(member):
            continue
        if not (member.__doc__ if isinstance(member, property) else inspect.getdoc(member)):
            problems.append(f"{path}.{name}")
    return problems


def _api(member: object) -> bool:
    return isinstance(member, property | staticmethod | classmethod) or inspect.isfunction(member)


def _own(module: object, name: str) -> bool:
    value = getattr(module, name, None)
    return getattr(value, "__module__", module.__name__) == module.__name__
