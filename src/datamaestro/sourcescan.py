"""Reading dataset entries from a definition module's source, without running it.

``static_entries`` gives the id, name, description, tags, type and url of each
``@dataset(...)`` definition of a module, in two steps:

1. A scan of the decorator headers with regular expressions: the ``@dataset(...)``
   line(s) with literal arguments, the ``def`` line under it and the docstring.
   It reads nothing else of the module, which makes it about ten times faster
   than parsing the module (and a syntax error elsewhere in the module goes
   unseen until the module runs).
2. When a module does not have that plain shape (another decorator between
   ``@dataset`` and ``def``, a comment before the docstring, a mention of
   ``dataset(`` outside a decorator...), its syntax tree (``ast``).

Anything else (a ``dataset(...)`` call in a loop, a computed argument) makes
``static_entries`` return None: the registry then runs the module. Both steps
give exactly what running the module gives (the tests compare all three).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ast
    from typing import Any, Optional

    #: one field per entry: id, name, description, tags, type, url
    Row = tuple[str, str, str, tuple[str, ...], str, Optional[str]]
    #: a row as the scan leaves it: its description may still be the raw docstring (last field;
    #: None once done) and its tags a list literal of plain strings (``tags``): cleaning them is
    #: most of the cost of a scan, and only the entries shown need it
    RawRow = tuple[str, str, str, "tuple[str, ...] | str", str, Optional[str], Optional[str]]

# --- step 1: the decorator headers ---------------------------------------------

# String literals without prefix or with r/u; unrolled loops, which sre runs fast.
_SHORT = r'"[^"\\\n]*(?:\\.[^"\\\n]*)*"' + r"|'[^'\\\n]*(?:\\.[^'\\\n]*)*'"
_LONG = r'"""[^"\\]*(?:(?:\\.|"(?!""))[^"\\]*)*"""' + r"|'''[^'\\]*(?:(?:\\.|'(?!''))[^'\\]*)*'''"
_STRING = rf"[rRuU]?(?:{_LONG}|{_SHORT})"
# inside the parentheses: spaces, line ends, comments (each to its line's end: "###" is one
# comment, not up to three, which would make a failed match try them all)
_WS = r"\s*(?:\#[^\n]*(?![^\n])\s*)*"
# implicit concatenation; the spaces between are taken only before another string (one copy
# of _STRING: the patterns below hold it a dozen times, and compiling them is a cold search's cost)
_STRINGS = rf"(?:{_STRING}(?:{_WS}(?=[rRuU]?[\"']))?)+"
_TEXT = rf"(?:{_STRINGS}|None)"
_LIST = rf"[\[(]{_WS}(?:{_STRINGS}{_WS}(?:,{_WS}|(?=[\])])))*[\])]"  # each item ends at a comma or the end
_SEP = rf"{_WS}(?:,{_WS}|(?=\)))"
#: keywords the index does not need (license, citation, homepage): a literal or a module constant
_IGNORED = ("license", "citation", "homepage")
_ANY = rf"(?:{_STRINGS}|None|[A-Za-z_][\w.]*)"
#: a module constant used as a keyword's value (``url=HOMEPAGE``), resolved by ``_constants``
_NAME = r"[A-Za-z_]\w*"
_CONSTANT = re.compile(rf"^({_NAME})[ \t]*=[ \t]*((?:{_TEXT})|{_LIST})[ \t]*(?:\#[^\n]*)?$", re.M)


def _keyword(name: str, value: str) -> str:
    return rf"{name}\s*=\s*(?P<{name}>{value})"


# One definition: `@dataset(Base, id=..., ...)` at the start of a line, `def name(...):`
# on the next, then the first statement of the body, which is either the docstring (a
# string literal ending the statement) or something that cannot start a string. Each
# keyword's group keeps its value while the repeated group matches the next keywords.
_DEFINITION = re.compile(
    rf"""\n@(?:[A-Za-z_]\w*\.)*dataset\({_WS}
    (?:(?P<base>[A-Za-z_][\w.]*){_SEP})?
    (?:(?:{_keyword("id", _TEXT)}|{_keyword("name", f"{_TEXT}|{_NAME}")}|{_keyword("url", f"{_TEXT}|{_NAME}")}
        |{_keyword("description", f"{_TEXT}|{_NAME}")}|{_keyword("tags", f"{_LIST}|{_NAME}")}
        |(?:{"|".join(_IGNORED)})\s*=\s*{_ANY}){_SEP})*
    \)[ \t]*(?:\#[^\n]*)?\n
    def[ \t]+(?P<function>\w+)[ \t]*\([^()]*\)[ \t]*(?:->[^:\n]*)?:[ \t]*(?:\#[^\n]*)?\n
    (?:[ \t]*\n)*[ \t]+
    (?:(?P<doc>{_STRING})[ \t]*(?:\#[^\n]*)?(?:\n|\Z)|[^\s"'\#(\\rRuUbBfF]|[rRuUbBfF](?![rRuUbBfF]?["']))
    """,
    re.X,
)
_CALL = re.compile(r"dataset\s*(\(|as\b)")
_FROM_IMPORT = re.compile(
    r"\nfrom[ \t]+([\w.]+)[ \t]+import[ \t]+(?:\(([^)]*)\)|([^\n#;\\(]*)(?=[\n#;]|\Z))"
)
_IMPORT = re.compile(r"\nimport[ \t]+([^\n#;\\]*)(?=[\n#;]|\Z)")
_ALIAS = re.compile(r"\s*([\w.]+)(?:\s+as\s+(\w+))?\s*")
_SIMPLE_LIST = re.compile(r"""\[\s*(?:(?:"[^"\\\n]*"|'[^'\\\n]*')\s*,\s*)*(?:(?:"[^"\\\n]*"|'[^'\\\n]*')\s*)?\]""")


def scan_headers(source: str, module_path: str) -> Optional[list[RawRow]]:
    """Entries read from the ``@dataset`` headers alone; None when the module needs more."""
    text = "\n" + source
    calls = 0
    for call in _CALL.finditer(text):
        before = text[call.start() - 1]
        if not (before.isalnum() or before == "_"):
            if call.group(1) != "(":
                return None  # `dataset` under another name
            calls += 1
    if not calls:
        return []
    rows: list[RawRow] = []
    types: dict[str, Optional[str]] = {}
    imports: Optional[dict[str, str]] = None
    constants: Optional[dict[str, str]] = None
    quotes = end = 0
    try:
        for match in _DEFINITION.finditer(text):
            start = match.start()
            # A header inside a triple-quoted string (an example in a docstring) is not one.
            quotes += text.count('"""', end, start) + text.count("\'\'\'", end, start)
            if quotes % 2:
                return None
            if imports is None:
                if _imports_after(text, start):
                    return None  # imports between definitions: the syntax tree tells which applies
                imports = _imports(text[:start])
            end = match.end()
            base, given, name, url, description, tags, function, doc = match.groups()
            if (  # a module constant's name (values are literals or names; "None" is a literal)
                (name and name.isidentifier() and name != "None")
                or (url and url.isidentifier() and url != "None")
                or (description and description.isidentifier() and description != "None")
                or (tags and tags.isidentifier())
            ):
                constants = _constants(text) if constants is None else constants
                try:
                    name, url, description, tags = (_constant(v, constants) for v in (name, url, description, tags))
                except KeyError:
                    return None  # not a plain constant of this module: the syntax tree tells
            if base:
                type_name = types.get(base)
                if type_name is None:
                    type_name = types[base] = _resolve(base, imports)
                    if type_name is None:
                        return None
            else:
                type_name = ""
            dataset_id = _dataset_id(module_path, function, _literal(given) if given else None)
            description = _literal(description) if description else ""
            rows.append(
                (
                    dataset_id,
                    (_literal(name) if name else None) or function,
                    description or "",
                    (tags if _SIMPLE_LIST.fullmatch(tags) else _tags(tags)) if tags else (),
                    type_name,
                    _literal(url) if url else None,
                    None if description or not doc else _literal(doc) or "",
                )
            )
    except (ValueError, SyntaxError, TypeError):
        return None  # not plain literals: running the module tells what they give
    return rows if len(rows) == calls else None


def _constants(text: str) -> dict[str, str]:
    """The module's ``NAME = <literal>`` lines: name -> literal text (a name assigned twice is left out)."""
    found: dict[str, str] = {}
    twice: set[str] = set()
    for match in _CONSTANT.finditer(text):
        if match.group(1) in found:
            twice.add(match.group(1))
        found[match.group(1)] = match.group(2)
    return {k: v for k, v in found.items() if k not in twice}


def _constant(value: Optional[str], constants: dict[str, str]) -> Optional[str]:
    """``value`` as literal text: a module constant's (KeyError when unknown), else itself."""
    if value and re.fullmatch(_NAME, value) and value != "None":
        return constants[value]
    return value


def _literal(text: str) -> Optional[str]:
    """The value of a matched literal: a string (maybe concatenated), or None."""
    if "\\" not in text:
        quote = text[:3]
        if quote == '"""' or quote == "\'\'\'":
            inner = text[3:-3]
            if quote not in inner:
                return inner
        elif text[0] == '"' or text[0] == "\'":
            inner = text[1:-1]
            if text[0] not in inner:
                return inner
        elif text == "None":
            return None
    import ast

    value = ast.literal_eval(f"(\n{text}\n)")
    if not isinstance(value, str):
        raise TypeError("not a string")
    return value


def _tags(text: str) -> tuple[str, ...]:
    if _SIMPLE_LIST.fullmatch(text):
        from datamaestro.registry import list_tags

        return list_tags(text)
    import ast

    value = ast.literal_eval(text)
    if isinstance(value, str) or not all(isinstance(t, str) for t in value):
        raise TypeError("not a list of strings")
    return tuple(value)


def finish(row: RawRow) -> Row:
    """The entry of a row: its description is the cleaned docstring unless given."""
    from datamaestro.registry import list_tags

    dataset_id, name, description, row_tags, type_name, url, doc = row
    if isinstance(row_tags, str):
        row_tags = list_tags(row_tags)
    return (dataset_id, name, description or _docstring(doc), row_tags, type_name, url)


def _docstring(doc: Optional[str]) -> str:
    """What ``inspect.getdoc`` gives for a function with this docstring."""
    from datamaestro.registry import cleandoc

    return "" if doc is None else cleandoc(doc)


def _imports_after(text: str, start: int) -> bool:
    """Whether a top-level import statement follows ``start``."""
    found = text.find("import", start)
    while found >= 0:
        line = text[text.rfind("\n", 0, found) + 1 : found + 7]
        if line.startswith(("import", "from")) and line[-1] in " \t\\(":
            return True
        found = text.find("import", found + 6)
    return False


def _imports(text: str) -> dict[str, str]:
    """Local name -> dotted target of the module's top-level imports."""
    imports: dict[str, str] = {}
    for module, grouped, plain in _FROM_IMPORT.findall(text):
        for item in (grouped or plain).split(","):
            alias = _ALIAS.fullmatch(item)
            if alias and "." not in alias.group(1):
                imports[alias.group(2) or alias.group(1)] = f"{module}.{alias.group(1)}"
    for names in _IMPORT.findall(text):
        for item in names.split(","):
            alias = _ALIAS.fullmatch(item)
            if alias:
                target = alias.group(1)
                imports[alias.group(2) or target.split(".")[0]] = (
                    target if alias.group(2) else target.split(".")[0]
                )
    return imports


def _resolve(dotted: str, imports: dict[str, str]) -> Optional[str]:
    """The type name of the data class named ``dotted`` in the module; None if not imported."""
    head, _, rest = dotted.partition(".")
    target = imports.get(head)
    if target is None or target.startswith("."):
        return None
    return _type_name(f"{target}.{rest}" if rest else target)


def _type_name(imported: str) -> str:
    """The registered type name of an imported data class (re-exports resolved)."""
    aliases = {"datamaestro_image.data": "datamaestro.data.images"}
    module, _, name = imported.rpartition(".")
    return f"{aliases.get(module, module)}.{name}" if module else name


def _row(module_path: str, function: str, type_name: str, kwargs: dict[str, Any], doc: Optional[str]) -> Row:
    """One entry, as ``DatasetDefinition`` computes it when the module runs."""
    given, name, url = kwargs.get("id"), kwargs.get("name"), kwargs.get("url")
    description, tags = kwargs.get("description"), kwargs.get("tags", ())
    if isinstance(tags, str) or not all(isinstance(t, str) for t in tags):
        raise TypeError("tags are not strings")
    for value in (given, name, url, description):
        if value is not None and not isinstance(value, str):
            raise TypeError("not a string")  # running the module tells what happens then
    dataset_id = _dataset_id(module_path, function, given)
    return (dataset_id, name or function, description or _docstring(doc), tuple(tags), type_name, url)


def _dataset_id(module_path: str, function: str, given: Optional[str]) -> str:
    """The id of a definition, as ``definitions`` makes it: see there."""
    if given is None:
        return f"{module_path}.{function.lower()}"
    if given == "":
        return module_path
    return given if "." in given else f"{module_path}.{given}"


# --- step 2: the syntax tree ---------------------------------------------------


def static_entries(source: str, module_path: str, filename: str = "<unknown>") -> Optional[list[Row]]:
    """Entries of the module's ``@dataset`` definitions; None if the module needs running.

    Raises SyntaxError when the headers do not suffice and the module does not parse.
    """
    rows = static_rows(source, module_path, filename)
    return None if rows is None else [finish(row) for row in rows]


def static_rows(source: str, module_path: str, filename: str = "<unknown>") -> Optional[list[RawRow]]:
    """``static_entries`` with the docstrings left to ``finish``."""
    rows = scan_headers(source, module_path)
    if rows is not None:
        return rows
    entries = tree_entries(source, module_path, filename)
    return None if entries is None else [(*row, None) for row in entries]


def tree_entries(source: str, module_path: str, filename: str = "<unknown>") -> Optional[list[Row]]:
    """Entries read from the module's syntax tree; None if the module needs running."""
    import ast

    tree = ast.parse(source, filename)
    calls = 0
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _called_name(node.func) == "dataset":
            calls += 1
        elif isinstance(node, ast.alias) and node.name == "dataset" and node.asname:
            return None  # `dataset` under another name
    imports: dict[str, str] = {}  # as bound when each definition runs
    constants: dict[str, Any] = {}  # module-level NAME = <literal>, likewise
    rows = []
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                constants[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                constants.pop(node.targets[0].id, None)
        elif isinstance(node, ast.ImportFrom):
            for alias in node.names:
                imports[alias.asname or alias.name] = "." * node.level + f"{node.module or ''}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                head = alias.name.split(".")[0]
                imports[alias.asname or head] = alias.name if alias.asname else head
        elif isinstance(node, ast.FunctionDef):
            for decorator in node.decorator_list:
                if isinstance(decorator, ast.Call) and _called_name(decorator.func) == "dataset":
                    if decorator is not node.decorator_list[-1]:
                        return None  # another decorator gets the function first
                    row = _tree_row(node, decorator, module_path, imports, constants)
                    if row is None:
                        return None
                    rows.append(row)
    return rows if len(rows) == calls else None


def _called_name(func: ast.expr) -> str:
    import ast

    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _dotted(node: ast.expr) -> Optional[str]:
    """``a.b.C`` for a name or attribute chain; None for anything else."""
    import ast

    if isinstance(node, ast.Attribute):
        value = _dotted(node.value)
        return None if value is None else f"{value}.{node.attr}"
    return node.id if isinstance(node, ast.Name) else None


def _tree_row(
    node: ast.FunctionDef, call: ast.Call, module_path: str, imports: dict[str, str], constants: dict[str, Any]
) -> Optional[Row]:
    import ast

    known = {"id", "name", "url", "description", "tags"}
    if len(call.args) > 1 or any(k.arg not in known and k.arg not in _IGNORED for k in call.keywords):
        return None

    def value(expr: ast.expr) -> Any:  # a literal, a module constant, or a sum of them
        if isinstance(expr, ast.Name) and expr.id in constants:
            return constants[expr.id]
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
            return value(expr.left) + value(expr.right)
        return ast.literal_eval(expr)

    try:
        kwargs = {k.arg: value(k.value) for k in call.keywords if k.arg in known}
    except (ValueError, TypeError):
        return None
    type_name: Optional[str] = ""
    if call.args:
        dotted = _dotted(call.args[0])
        type_name = None if dotted is None else _resolve(dotted, imports)
        if type_name is None:
            return None
    try:
        return _row(module_path, node.name, type_name or "", kwargs, ast.get_docstring(node, clean=False))
    except TypeError:
        return None
