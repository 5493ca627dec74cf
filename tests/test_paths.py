"""Property-based tests of the one path rule (datamaestro.paths).

``inside`` is checked against a model of path resolution written here (the
kernel's rules: links followed, ``..`` applied to the resolved folder; a
missing name is kept as it is, like ``os.path.realpath`` does), over random relative paths in a small tree that
holds links pointing inside, outside, to absolute paths and through chains.
"""

from __future__ import annotations

import os
import posixpath
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from datamaestro.errors import UnsafePathError
from datamaestro.paths import ID_RE, MAX_ID, MAX_NAME, inside, is_valid_id, is_valid_name, printable, strictly_inside

# --- the tree -------------------------------------------------------------------

#: relative to <base>: folders, files and links (target as written in the link)
FOLDERS = ["outside", "root", "root/a", "root/a/b"]
FILES = ["root/f", "outside/secret"]
LINKS = {
    "root/in": "a",  # inside
    "root/a/up": "..",  # back to root: inside
    "root/a/b/top": "../../..",  # to <base>: outside
    "root/out": "../outside",  # outside
    "root/chain0": ".",  # the a0 -> ., a1 -> a0/.. chain
    "root/chain1": "chain0/..",
    "root/a/deep": "b/../../in/b",  # inside, through another link
    "root/loop": "loop",  # a loop: realpath gives up and keeps the name
    "root/dangling": "nowhere/x",
}
ABSOLUTE_LINK = "root/abs"  # -> <base>/outside, made absolute at creation
NAMES = ["a", "b", "f", "..", ".", "in", "up", "top", "out", "chain0", "chain1", "deep", "abs", "dangling", "x"]


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = Path(os.path.realpath(tmp_path_factory.mktemp("paths")))
    for name in FOLDERS:
        (root / name).mkdir()
    for name in FILES:
        (root / name).write_text(name)
    for name, target in LINKS.items():
        os.symlink(target, root / name)
    os.symlink(root / "outside", root / ABSOLUTE_LINK)
    return root


def model_resolve(base: Path, path: str) -> str:
    """Where ``path`` (absolute, under ``base``) leads, by the rules of ``os.path.realpath``."""
    links = {str(base / name): target for name, target in LINKS.items()}
    links[str(base / ABSOLUTE_LINK)] = str(base / "outside")

    def walk(current: str, rest: list[str], hops: int) -> str:
        while rest:
            name = rest.pop(0)
            if name in ("", "."):
                continue
            if name == "..":
                current = posixpath.dirname(current)
                continue
            nxt = posixpath.join(current, name)
            if nxt in links:
                if hops > 40:
                    return posixpath.join(nxt, *rest)  # a loop: kept as it is
                target = links[nxt]
                start = "/" if target.startswith("/") else current
                current = walk(start, target.split("/"), hops + 1)
                if current == nxt:  # the loop came back to itself
                    return posixpath.normpath(posixpath.join(nxt, *rest))
            else:  # a folder, a file, or a missing name (kept: a later '..' removes it)
                current = nxt
        return current

    return walk("/", path.split("/"), 0)


@settings(max_examples=400, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(NAMES), min_size=0, max_size=8))
def test_inside_agrees_with_the_model(base: Path, names: list[str]) -> None:
    assume("loop" not in names)
    root = base / "root"
    path = root.joinpath(*names)
    expected = model_resolve(base, str(path))
    is_inside = expected == str(root) or expected.startswith(str(root) + "/")
    if is_inside:
        assert inside(root, path) == Path(expected)
    else:
        with pytest.raises(UnsafePathError):
            inside(root, path)


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(["a", "b", "x", "new", "f"]), min_size=1, max_size=6))
def test_paths_without_links_or_dotdot_are_inside(base: Path, names: list[str]) -> None:
    root = base / "root"
    assert inside(root, root.joinpath(*names)) == root.joinpath(*names)
    assert strictly_inside(root, root.joinpath(*names)) == root.joinpath(*names)


@pytest.mark.parametrize(
    "relative",
    ["a/b/top", "out", "abs", "chain1", "chain1/outside/secret", "a/../..", "in/b/top/outside", "a/b/top/root/../outside"],
)
def test_known_escapes(base: Path, relative: str) -> None:
    with pytest.raises(
        UnsafePathError,
        match=r"^refused: .* (resolves to .*, outside .*; nothing was written or deleted there"
        r"|is a symbolic link to .*, outside .*; it was not followed: remove it and run again)$",
    ):
        inside(base / "root", base / "root" / relative)


@pytest.mark.parametrize("relative", ["", ".", "a/..", "a/up", "in/up", "a/b/../up"])
def test_strictly_inside_refuses_the_root_itself(base: Path, relative: str) -> None:
    root = base / "root"
    assert inside(root, root / relative) == root
    with pytest.raises(UnsafePathError, match=r"is the folder .* itself$"):
        strictly_inside(root, root / relative)


def test_root_given_through_a_link(base: Path) -> None:
    assert inside(base / "root" / "a" / "up", base / "root" / "f") == base / "root" / "f"


# --- ids and names ----------------------------------------------------------------

COMPONENT = st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9_-]{0,15}\Z")
VALID_ID = st.lists(COMPONENT, min_size=1, max_size=6).map(".".join)


@given(VALID_ID)
def test_grammar_ids_are_valid(text: str) -> None:
    assume(len(text) <= MAX_ID)
    assert is_valid_id(text)


#: text that is often almost an id or a name: mostly their characters, sometimes a separator or worse
NEAR_VALID = st.lists(st.sampled_from(list("ab0_-.") * 6 + list("/\\\n\0 \x1b:é~\u202e")), max_size=30).map("".join)


@given(NEAR_VALID | st.text(max_size=30))
def test_valid_ids_are_single_safe_path_components(text: str) -> None:
    if not is_valid_id(text):
        return
    assert "/" not in text and "\\" not in text and "\n" not in text and "\0" not in text
    assert ".." not in text.split(".") and "" not in text.split(".")
    assert ".." not in text and not text.startswith(".") and not text.endswith(".")
    assert ID_RE.fullmatch(text)
    root = Path("/data/datasets")
    assert (root / text).parent == root and (root / text).name == text


@given(NEAR_VALID | st.text(max_size=30))
def test_valid_names_are_single_file_names(text: str) -> None:
    if not is_valid_name(text):
        return
    assert len(text) <= MAX_NAME
    assert not any(c in text for c in "/\\\0\n")
    assert text not in (".", "..") and not text.startswith(".")
    root = Path("/data/datasets/x")
    assert (root / text).parent == root and (root / text).name == text
    assert posixpath.normpath(posixpath.join("/r", text)) == "/r/" + text


@pytest.mark.parametrize("text", ["", ".", "..", "a..b", ".a", "a.", "a/b", "a\nb", "../x", "/abs", "a b", "-a", "a" * 201])
def test_invalid_ids(text: str) -> None:
    assert not is_valid_id(text)


@pytest.mark.parametrize("text", ["", ".", "..", ".hidden", "a/b", "a\\b", "a\nb", "a\0b", "x" * 201, "-"])
def test_invalid_names(text: str) -> None:
    assert not is_valid_name(text) or text == "-"


# --- printable ------------------------------------------------------------------

BIDI_CONTROLS = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


#: any code point, with the troublesome ones often: escapes, C1 controls, bidi overrides, line
#: separators, and lone surrogates (names decoded with surrogateescape hold them)
TROUBLE = ["\x1b", "\x00", "\n", "\r", "\x7f", "\x9b", "\u202e", "\u2066", "\u2028", "\udc80", "\udcff", "\ud800"]
ANY_TEXT = st.lists(st.characters() | st.sampled_from(TROUBLE), max_size=400).map("".join)


@given(ANY_TEXT, st.integers(min_value=3, max_value=400))
def test_printable_is_terminal_safe(text: str, limit: int) -> None:
    shown = printable(text, limit)
    assert len(shown) <= limit
    shown.encode("utf-8")  # no lone surrogate: printing it cannot fail
    for c in shown:
        assert unicodedata.category(c) not in ("Cc", "Cs", "Zl", "Zp"), repr(c)
        assert c not in BIDI_CONTROLS


@given(st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=200))
def test_printable_keeps_plain_text(text: str) -> None:
    assert printable(text) == text
