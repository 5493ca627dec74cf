"""Reading definitions from source: the header scanner and the syntax tree give what running gives."""

from __future__ import annotations

import inspect
import sys
import textwrap
import types
from itertools import count

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from datamaestro.definitions import PREFIX_ATTRIBUTE
from datamaestro.registry import cleandoc, module_definitions
from datamaestro.search import Query
from datamaestro.sourcescan import scan_headers, static_entries, tree_entries

HEAD = """\
from datamaestro.data.ml import Supervised
from datamaestro.data.images import ImageClassification as IC
import datamaestro.data.ml as ml
import datamaestro.data.images
from datamaestro.definitions import dataset
from datamaestro.download.single import filedownloader
"""

_numbers = count()


def run_module(source: str, module_path: str = "org.case") -> list[tuple]:
    """The entries of a module as running it gives them."""
    name = f"scan_case_{next(_numbers)}"
    module = types.ModuleType(name)
    setattr(module, PREFIX_ATTRIBUTE, module_path)
    sys.modules[name] = module
    try:
        exec(compile(source, f"{name}.py", "exec"), module.__dict__)
    finally:
        del sys.modules[name]
    return [
        (d.id, d.name, d.description, tuple(d.tags), d.type_name, d.url) for d in module_definitions(module)
    ]


#: (module body after HEAD, whether the header scanner reads it without the syntax tree)
CASES = {
    "plain module constants in the indexed fields": ('''
HOMEPAGE = "https://z.invalid/"  # where it lives
TAGS = ["images", "constant"]
NAME = 'Named ' "by a constant"


@dataset(Supervised, id="consts", name=NAME, url=HOMEPAGE, tags=TAGS)
def consts():
    """Read from the headers and the constant lines."""
    return {}
''', True),
    "a constant assigned twice: the syntax tree decides": ('''
HOMEPAGE = "https://first.invalid/"
HOMEPAGE = "https://second.invalid/"


@dataset(Supervised, id="twice", url=HOMEPAGE)
def twice():
    """Which one?"""
    return {}
''', False),
    "metadata keywords (license, citation, homepage) as literals or constants": ('''
HOME = "https://x.invalid/"
CITATION = "@misc{x, title={X}}"


@dataset(Supervised, id="meta", license="CC0", citation=CITATION, homepage=HOME)
def meta():
    """Metadata the index does not need."""
    return {}
''', True),
    "module-level constants and their sums in the indexed fields": ('''
HOMEPAGE = "https://y.invalid/"
TAGS = ["images", "digits"]


@dataset(Supervised, id="constants", url=HOMEPAGE, tags=TAGS + ["extra"], homepage=HOMEPAGE)
def constants():
    """Read from the syntax tree, without running the module."""
    return {}
''', False),
    "implicit concatenation over lines and comments, in a name and a tag list": ('''
@dataset(
    Supervised,
    id="joined",
    name="Joined "  # the first part
    'name',
    tags=[
        "one" "two",  # concatenated: one tag
        # a comment line
        "three"
    ],
)
def joined():
    """Joined."""
    return {}
''', True),
    "a tuple of joined tags": ('''
@dataset(Supervised, id="nocomma", tags=("a" "b", "c" "d"))
def nocomma():
    """A tuple of two joined tags."""
    return {}
''', True),
    "plain": ('''
@filedownloader("a.idx", "http://example.invalid/a")
@dataset(Supervised, id="plain", name="Plain", url="http://x.invalid/", tags=["a", "b"])
def plain(a):
    """First line.

    More text, indented.
    """
    return {}
''', True),
    "keywords in any order, quotes of both kinds, trailing commas": ('''
@dataset(
    IC,
    tags=('t1', "t2",),
    url='http://x.invalid/',  # a comment
    name='Name with "quotes"',
    id='order',
)
def order():
    \'\'\'Single-quoted docstring.\'\'\'
    return {}
''', True),
    "no base, default id, no docstring": ('''
@dataset()
def NoDoc():
    return {}
''', True),
    "description wins over docstring; escapes; concatenation": ('''
@dataset(Supervised, description="Line one\\n\\tTabbed " "and joined", name=r"raw\\name")
def described():
    """Ignored docstring."""
    return {}
''', True),
    "empty id is the module path; absolute id; None values": ('''
@dataset(ml.Supervised, id="", url=None, name=None)
def module_itself():
    "Short docstring."
    return {}


@dataset(datamaestro.data.images.ImageClassification, id="org.elsewhere.absolute")
def absolute(): # comment after the colon
    """Docstring with\ttabs
\t  and odd indentation
        and trailing blank lines

    """
    return {}
''', True),
    "non-ASCII text, annotations and defaults in the signature": ('''
@dataset(Supervised, name="Ça marche — ünïcode")
def unicode_(x: int = 3,
             y: "list[str]" = None) -> dict:
    """Données: 東京."""
    return {}
''', True),
    "docstring example of a decorator inside the module docstring": ('''
@dataset(Supervised)
def real():
    """A real one."""
    return {}


EXAMPLE = """
@dataset(Supervised)
def fake():
    "Not a definition."
    return {}
"""
''', False),
    "comment before the docstring": ('''
@dataset(Supervised)
def commented():
    # a comment first
    """Still the docstring."""
    return {}
''', False),
    "docstring on the def line": ('''
@dataset(Supervised)
def inline(): "Inline docstring."
''', False),
    "a computed argument": ('''
NAME = "computed".upper()


@dataset(Supervised, name=NAME)
def computed():
    """Computed name."""
    return {}
''', False),
    "a string that is not the docstring": ('''
@dataset(Supervised)
def notdoc():
    "abc".upper()
    return {}
''', False),
    "dataset under another name": ('''
from datamaestro.definitions import dataset as ds


@ds(Supervised)
def aliased():
    """Aliased decorator."""
    return {}
''', False),
    "definitions made in a loop": ('''
for n in (1, 2):
    globals()[f"d{n}"] = dataset(Supervised, id=f"loop{n}")(lambda: {})
''', False),
    "a decorator below @dataset": ('''
def keep(f):
    return f


@dataset(Supervised)
@keep
def below():
    """Decorated below."""
    return {}
''', False),
    "a base defined in the module": ('''
class Local(Supervised):
    pass


@dataset(Local)
def local():
    """Local base class."""
    return {}
''', False),
    "an import between definitions rebinds the base": ('''
@dataset(IC)
def first():
    """First."""
    return {}


from datamaestro.data.ml import Supervised as IC


@dataset(IC)
def second():
    """Second."""
    return {}
''', False),
}


@pytest.mark.parametrize("case", CASES)
def test_static_entries_equal_running_the_module(case):
    body, plain = CASES[case]
    source = HEAD + textwrap.dedent(body)
    ran = run_module(source)
    static = static_entries(source, "org.case")
    assert (scan_headers(source, "org.case") is not None) == plain
    if static is not None:  # None: the registry runs the module
        assert static == ran


@pytest.mark.parametrize("case", [c for c, (_, plain) in CASES.items() if plain])
def test_header_scan_equals_syntax_tree(case):
    source = HEAD + textwrap.dedent(CASES[case][0])
    assert [tuple(r) for r in static_entries(source, "org.case")] == tree_entries(source, "org.case")


def test_syntax_errors_are_raised_with_their_line():
    source = HEAD + "\n@dataset(Supervised)\ndef broken(:\n    return {}\n"
    with pytest.raises(SyntaxError) as e:
        static_entries(source, "org.case", "/x/broken.py")
    assert (e.value.filename, e.value.lineno) == ("/x/broken.py", 9)


def test_crlf_sources_read_like_lf():
    source = HEAD + textwrap.dedent(CASES["plain"][0])
    assert static_entries(source, "m") == static_entries(source.replace("\n", "\r\n").replace("\r\n", "\n"), "m")


texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)


@settings(max_examples=150, deadline=None)
@given(
    given_id=st.one_of(st.none(), st.sampled_from(["", "x", "a.b", "with-dash"])),
    name=st.one_of(st.none(), texts),
    url=st.one_of(st.none(), texts),
    description=st.one_of(st.none(), texts),
    tags=st.lists(texts, max_size=3),
    doc=st.one_of(st.none(), texts),
    single_quoted=st.booleans(),
)
def test_any_literal_arguments_scan_as_they_run(given_id, name, url, description, tags, doc, single_quoted):
    """Random literal arguments, written as repr() writes them: escapes, both quote kinds."""
    arguments = ["Supervised"]
    for key, value in (("id", given_id), ("name", name), ("url", url), ("description", description)):
        if value is not None:
            arguments.append(f"{key}={value!r}")
    arguments.append(f"tags={tags!r}")
    quote = "'''" if single_quoted else '"""'
    docstring = f"    {quote}{doc}{quote}\n" if doc is not None and quote[0] not in doc and "\\" not in doc else ""
    source = HEAD + f"\n\n@dataset({', '.join(arguments)})\ndef thing():\n{docstring}    return {{}}\n"
    source = source.replace("\r\n", "\n").replace("\r", "\n")  # as the registry reads files
    try:
        ran = run_module(source)
    except SyntaxError:  # a docstring that does not make valid Python (a lone surrogate...)
        return
    assert static_entries(source, "org.case") == ran


@settings(max_examples=500)
@given(st.text(st.sampled_from(list(" \t\nab\u00a0\x0b\x0c\r\u2003")), max_size=40) | st.text(max_size=40))
def test_cleandoc_is_inspects(doc):
    assert cleandoc(doc) == inspect.cleandoc(doc)


@settings(max_examples=500)
@given(
    doc=st.text(st.sampled_from(list(" \t\nabAB.\u00a0")), max_size=40),
    needle=st.text(st.sampled_from(list(" \t\nab.")), min_size=1, max_size=5),
)
def test_words_match_raw_docstrings_as_cleaned_ones(doc, needle):
    """What lets search look in raw docstrings and clean only the entries it shows."""
    query = Query([needle])
    if query.words_only:
        raw = doc.expandtabs().lower()
        assert (needle.lower() in raw) == (needle.lower() in cleandoc(doc).lower())


def test_long_runs_of_adjacent_strings_do_not_backtrack():
    """Joined strings have one reading in the header patterns: a header that fails after 60
    of them fails at once (with two readings per join it would take 2**60 steps)."""
    import time

    strings = " ".join(['"a"'] * 60)
    for arguments in (f"tags=[{strings}, {strings} junk]", f"name={strings} junk", f"tags=({strings} # c\n x)"):
        source = HEAD + f'\n@dataset(Supervised, {arguments})\ndef x():\n    """X."""\n    return {{}}\n'
        started = time.perf_counter()
        assert scan_headers(source, "org.case") is None
        assert time.perf_counter() - started < 1.0


def test_a_banner_comment_in_a_header_does_not_backtrack():
    """A comment line of many '#' has one reading (a comment runs to its line's end): a header
    that then fails to match fails at once (with one reading per '#' split, 2**40 steps)."""
    import time

    source = HEAD + '\n@dataset(\n    Supervised,\n    ' + "#" * 40 + '\n    id="x",\n    version=2,\n)\ndef x():\n    """X."""\n    return {}\n'
    started = time.perf_counter()
    assert scan_headers(source, "org.case") is None  # an unknown keyword: the module must run
    assert time.perf_counter() - started < 1.0
