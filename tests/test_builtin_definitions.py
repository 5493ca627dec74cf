"""Every built-in definition is well formed: ids, resource names, checksums, URLs, license, citation, homepage.

The definitions are collected from the built-in repository itself (every
module of ``datasets_registry``), so definitions added later are checked
without touching this file.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlparse

import pytest

import datasets_registry
from datamaestro.definitions import DatasetDefinition
from datamaestro.download.archive import ArchiveDownloader
from datamaestro.download.derived import Derived
from datamaestro.download.remote import RemoteResource
from datamaestro.download.single import FileDownloader
from datamaestro.paths import is_valid_id, is_valid_name
from datamaestro.repositories import Repository, load_module, module_definitions

BUILTIN = Repository("builtin", Path(datasets_registry.__path__[0]))

#: hosts that serve plain http only (every other URL must be https)
HTTP_ONLY = {
    "yann.lecun.com": "the MNIST host has no https (torchvision uses http too)",
    "fashion-mnist.s3-website.eu-central-1.amazonaws.com": "S3 website endpoints serve no https",
    "images.cocodataset.org": "its https certificate is S3's, for another name (the https copy is s3.amazonaws.com/images.cocodataset.org)",
}

CHECKSUM = re.compile(r"(md5:[0-9a-f]{32}|sha1:[0-9a-f]{40}|sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})")
#: how a definition module says that a file has no published checksum
NO_CHECKSUM_NOTE = re.compile(r"no (published )?checksum|publish(es)? none|none (is )?published", re.IGNORECASE)


def builtin_definitions() -> list[tuple[DatasetDefinition, Path]]:
    found = []
    for item in BUILTIN.modules():
        for definition in module_definitions(load_module(BUILTIN, item.module, Path(item.file))):
            found.append((definition, Path(item.file)))
    return found


DEFINITIONS = builtin_definitions()
BY_ID = pytest.mark.parametrize(
    "definition,file", DEFINITIONS, ids=[definition.id for definition, _ in DEFINITIONS]
)


def bibtex_entries(text: str) -> list[tuple[str, str]]:
    """(type, key) of each BibTeX entry of ``text``; raises ValueError if it is not BibTeX."""
    entries = []
    position = 0
    text = text.strip()
    while position < len(text):
        head = re.compile(r"\s*@([A-Za-z]+)\s*\{\s*([^,\s{}]+)\s*,").match(text, position)
        if head is None:
            raise ValueError(f"expected '@type{{key,' at offset {position}: {text[position:position + 40]!r}")
        depth, i = 1, head.end()
        while depth and i < len(text):
            if text[i] == "\\":
                i += 2
                continue
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        if depth:
            raise ValueError(f"entry '{head.group(2)}' has unbalanced braces")
        body = text[head.end() : i - 1]
        if not re.search(r"\b(title|author)\s*=", body):
            raise ValueError(f"entry '{head.group(2)}' has no title or author field")
        entries.append((head.group(1).lower(), head.group(2)))
        position = i
        while position < len(text) and text[position].isspace():
            position += 1
    if not entries:
        raise ValueError("no entry")
    return entries


def urls(resource: RemoteResource) -> list[str]:
    return [resource.url, *resource.mirrors]


def test_the_registry_holds_the_built_ins():
    ids = [d.id for d, _ in DEFINITIONS]
    assert len(ids) == len(set(ids)), "duplicate ids"
    assert {"com.lecun.mnist", "gov.nist.emnist.letters", "edu.stanford.stl-10"} <= set(ids)


@BY_ID
def test_id_and_resource_names(definition: DatasetDefinition, file: Path):
    assert is_valid_id(definition.id), definition.id
    assert definition.resources or "retired" in definition.tags, "a dataset needs at least one resource"
    for resource in definition.resources:
        assert is_valid_name(resource.name), resource.name
        assert resource.varname.isidentifier(), resource.varname
    derived_sources = [s for r in definition.resources if isinstance(r, Derived) for s in r.sources]
    assert all(s in definition.resources for s in derived_sources), "a derived resource uses an undeclared source"


@BY_ID
def test_checksums_are_well_formed_or_their_absence_explained(definition: DatasetDefinition, file: Path):
    source = file.read_text(encoding="utf-8")
    for resource in definition.resources:
        if not isinstance(resource, RemoteResource):
            continue
        described = resource.describe()
        if described["checksum"] is None:
            assert NO_CHECKSUM_NOTE.search(source), f"{resource.name}: no checksum and no note saying none is published"
        else:
            assert CHECKSUM.fullmatch(described["checksum"]), described["checksum"]
        if isinstance(resource, FileDownloader) and described["data_checksum"]:
            assert CHECKSUM.fullmatch(described["data_checksum"])


@BY_ID
def test_urls_use_https_where_the_host_offers_it(definition: DatasetDefinition, file: Path):
    remote = [r for r in definition.resources if isinstance(r, (FileDownloader, ArchiveDownloader))]
    for resource in remote:
        for url in urls(resource):
            parsed = urlparse(url)
            assert parsed.scheme in ("https", "http") and parsed.hostname, url
            if parsed.scheme == "http" and parsed.hostname not in HTTP_ONLY:
                # an http mirror of an https address is a fallback, not the way in
                https = url.replace("http://", "https://", 1)
                assert https in urls(resource), f"{url}: use https (or list its host in HTTP_ONLY with a reason)"
        assert urlparse(resource.url).scheme == "https" or urlparse(resource.url).hostname in HTTP_ONLY, resource.url


@BY_ID
def test_license_citation_and_homepage(definition: DatasetDefinition, file: Path):
    assert isinstance(definition.license, str) and definition.license.strip(), "no license"
    assert isinstance(definition.citation, str), "no citation"
    assert bibtex_entries(definition.citation)
    homepage = urlparse(definition.homepage or "")
    assert homepage.scheme in ("http", "https") and homepage.hostname, f"no homepage: {definition.homepage!r}"
    assert definition.description.strip()


@pytest.mark.parametrize(
    "text,problem",
    [
        ("@article{key, title = {A}", "unbalanced"),
        ("@article{key title = {A}}", "expected '@type{key,'"),
        ("title = {A}", "expected '@type{key,'"),
        ("@misc{key, year = {2020}}", "no title or author"),
        ("", "no entry"),
    ],
)
def test_bibtex_check_rejects_what_is_not_bibtex(text: str, problem: str):
    with pytest.raises(ValueError, match=re.escape(problem)):
        bibtex_entries(text)


def test_bibtex_check_reads_several_entries_and_escapes():
    text = "@article{a, author = {L{\\'e}on}, title = {x \\} y}}\n\n@misc{b-2,\n title={T}}"
    assert bibtex_entries(text) == [("article", "a"), ("misc", "b-2")]


#: (dataset id, file) -> why no download size is declared (every other file declares its size)
UNSIZED = {
    **{
        ("com.github.zalandoresearch.fashion-mnist", name): "recompressed copies (Debian's) are accepted by the "
        "data checksum and have other sizes: a size would refuse them"
        for name in ("train_images.idx", "train_labels.idx", "test_images.idx", "test_labels.idx")
    },
    **{
        ("tw.edu.ntu.csie.usps", name): "no library, mirror or the LIBSVM page records the size of the file"
        for name in ("usps.bz2", "usps.t.bz2")
    },
    **{
        ("de.rub.ini.gtsrb", name): "torchvision records md5 and sha256 of the three zips, no source their sizes"
        for name in ("training", "test", "test_labels")
    },
    ("uk.ac.ox.robots.fgvc-aircraft", "fgvc-aircraft-2013b"): "no checksum and no exact size published; the "
    "image counts are checked at prepare time",
    ("edu.upenn.cis.penn-fudan-ped", "PennFudanPed"): "no checksum and no exact size in any source; the published "
    "counts (170 images, 345 pedestrians) are checked at prepare time",
    ("com.github.karolpiczak.esc-50", "repository"): "GitHub's archive of a commit is generated on demand: no "
    "size or checksum is stable; the published counts are checked at prepare time",
}


def test_every_download_declares_its_size_or_why_not():
    missing = {
        (definition.id, resource.name)
        for definition, _ in DEFINITIONS
        for resource in definition.resources
        if isinstance(resource, RemoteResource) and not resource.describe()["size"]
    }
    undeclared = sorted(missing - set(UNSIZED))
    assert not undeclared, f"declare size= (download bytes) or say in UNSIZED why not: {undeclared}"
    assert sorted(set(UNSIZED) - missing) == [], "these now declare a size: remove them from UNSIZED"
    sized = [r.describe()["size"] for d, _ in DEFINITIONS for r in d.resources if isinstance(r, RemoteResource)]
    assert all(isinstance(s, int) and s > 0 for s in sized if s is not None)
