"""Reading dataset entries from a definition module's source, without running it.

Plain ``@dataset(...)`` decorators with literal arguments give the id, name,
description, tags, type and url. Anything else (a ``dataset(...)`` call in a
loop, a computed argument) makes ``static_entries`` return None, and the
registry runs the module instead.
"""

from __future__ import annotations

import ast
import re
from typing import Any, Optional


def static_entries(source: str, module_path: str) -> Optional[list[dict[str, Any]]]:
    """Entries read from plain ``@dataset(...)`` decorators; None if the module needs running."""
    tree = ast.parse(source)
    # Any other use of `dataset(` (a call in a loop, say) makes the counts differ:
    # then the module is run instead. A mention in a comment only costs that.
    calls = len(re.findall(r"\bdataset\s*\(", source))
    imports: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                imports[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    entries = []
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef):
            continue
        for decorator in node.decorator_list:
            if isinstance(decorator, ast.Call) and _called_name(decorator.func) == "dataset":
                entry = _static_entry(node, decorator, module_path, imports)
                if entry is None:
                    return None
                entries.append(entry)
    return entries if len(entries) == calls else None


def _dotted(node: ast.expr) -> str:
    """``a.b.C`` for a name or attribute chain (cheaper than ``ast.unparse``)."""
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return node.id if isinstance(node, ast.Name) else ast.unparse(node)


def _called_name(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _static_entry(
    node: ast.FunctionDef, call: ast.Call, module_path: str, imports: dict[str, str]
) -> Optional[dict[str, Any]]:
    try:
        kwargs = {k.arg: ast.literal_eval(k.value) for k in call.keywords if k.arg}
    except ValueError:
        return None
    if len(call.args) > 1 or None in kwargs:
        return None
    type_name = ""
    if call.args:
        base = _dotted(call.args[0])
        type_name = _type_name(imports.get(base, base))
    given = kwargs.get("id")
    if given is None:
        dataset_id = f"{module_path}.{node.name.lower()}"
    elif given == "":
        dataset_id = module_path
    else:
        dataset_id = given if "." in given else f"{module_path}.{given}"
    return {
        "id": dataset_id,
        "name": kwargs.get("name") or node.name,
        "description": kwargs.get("description") or ast.get_docstring(node) or "",
        "tags": list(kwargs.get("tags", [])),
        "type": type_name,
        "url": kwargs.get("url"),
    }


def _type_name(imported: str) -> str:
    """The registered type name of an imported data class (aliases resolved)."""
    aliases = {"datamaestro_image.data": "datamaestro.data.images"}
    module, _, name = imported.rpartition(".")
    return f"{aliases.get(module, module)}.{name}" if module else name
