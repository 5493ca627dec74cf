"""License, citation and homepage: what ``info`` shows, ``info --bibtex``, and the catalog pages built from them."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from makefiles import write_module

from datamaestro.registry import Registry

ROOT = Path(__file__).resolve().parents[1]
MNIST_CITATION_START = "@article{lecun1998gradient,"
DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")


def test_info_text_shows_license_homepage_citation_and_verification(cli):
    result = cli("info", "com.lecun.mnist")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "url: http://yann.lecun.com/exdb/mnist/" in lines
    assert "    checksum: md5:f68b3c2dcbeaaa9fbdd348bbdeb94873" in lines
    assert not any(line.startswith("unverified") for line in lines)
    start = lines.index("homepage: http://yann.lecun.com/exdb/mnist/")
    assert lines[start + 1 : start + 4] == ["license: CC-BY-SA-3.0", "", "The MNIST database of handwritten digits."]
    start = lines.index("citation:")
    assert lines[start + 1] == "  " + MNIST_CITATION_START and lines[-1] == "  }"
    other = cli("info", "gov.nist.emnist.letters").stdout.splitlines()
    assert "homepage: https://www.nist.gov/itl/products-and-services/emnist-dataset" in other


def test_info_names_the_files_no_checksum_verifies(cli):
    lines = cli("info", "com.github.fastai.imagewoof-160").stdout.splitlines()
    assert lines[lines.index("  imagewoof2-160") + 5] == "    checksum: none published, not verified"
    assert "unverified (no published checksum): imagewoof2-160" in lines
    assert "    derived_from: imagewoof2-160" in lines
    info = json.loads(cli("info", "--json", "com.github.fastai.imagewoof-160").stdout)
    assert [f["verification"] for f in info["files"]] == ["none published, not verified", "computed from imagewoof2-160"]


def test_info_says_a_retired_dataset_is_retired(cli):
    result = cli("info", "com.pjreddie.mnist-csv")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "download: nothing to download (retired: see the description)" in lines
    assert "prepared: no" in " ".join(lines)
    assert any(line.startswith("Retired: pjreddie.com no longer serves mnist_train.csv") for line in lines)
    result = cli("prepare", "com.pjreddie.mnist-csv")
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "datamaestro: error: com.pjreddie.mnist-csv is retired: pjreddie.com no longer serves mnist_train.csv "
        "and mnist_test.csv (gone since 2025); the same 70,000 digits are com.lecun.mnist: datamaestro prepare "
        "com.lecun.mnist (datamaestro export com.lecun.mnist -f mnist_csv writes them as CSV)"
    ]


@pytest.mark.parametrize(
    "dataset_id,text",
    [
        ("com.lecun.mnist", "11.6 MB (4 files)"),
        ("edu.uci.ics.wine", "10.8 kB (1 file)"),
        ("tw.edu.ntu.csie.usps", "size unknown (2 files: no size is recorded)"),
        ("com.github.zalandoresearch.fashion-mnist", "size unknown (4 files: no size is recorded)"),
        ("org.image_net.ilsvrc2012", "at least 154.6 GB (3 files, downloaded by hand after signing in; size unknown "
         "for ILSVRC2012_devkit_t12.tar.gz)"),
    ],
)
def test_info_gives_the_download_size(cli, dataset_id: str, text: str):
    assert f"download: {text}" in cli("info", dataset_id).stdout.splitlines()
    facts = json.loads(cli("info", "--json", dataset_id).stdout)["download"]
    assert facts["text"] == text
    if dataset_id == "com.lecun.mnist":
        assert facts == {"files": 4, "bytes": 9912422 + 28881 + 1648877 + 4542, "unknown": [], "sign_in": False, "text": text}


def test_download_size_text_with_some_sizes_unknown():
    from datamaestro.cli.commands.info import decimal_size, download_text

    facts = {"files": 3, "bytes": 1_234_567, "unknown": ["b.bin"]}
    assert download_text(facts) == "at least 1.2 MB (3 files; size unknown for b.bin)"
    assert download_text({"files": 0, "bytes": None, "unknown": []}) == "nothing to download"
    assert [decimal_size(n) for n in (999, 1000, 2_640_397_119, 5 * 10**12)] == ["999 bytes", "1.0 kB", "2.6 GB", "5.0 TB"]


def test_info_json_has_the_metadata(cli):
    info = json.loads(cli("info", "--json", "com.github.zalandoresearch.fashion-mnist").stdout)
    assert info["license"] == "MIT"
    assert info["homepage"] == "https://github.com/zalandoresearch/fashion-mnist"
    assert info["citation"].startswith("@online{xiao2017fashionmnist,") and info["citation"].endswith("}")
    assert info["files"][0]["verification"] == (
        "published checksum md5:8d4fb7e6c68d591d4c3dfef9ec88bf0d / "
        "data sha256:c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"
    )


def test_bibtex_prints_the_citation_alone(cli):
    result = cli("info", "com.lecun.mnist", "--bibtex")
    assert result.returncode == 0 and result.stderr == ""
    definition = Registry().definition("com.lecun.mnist")
    assert result.stdout == definition.citation + "\n"
    assert result.stdout.startswith(MNIST_CITATION_START)


def write_user_definition(env, body: str) -> None:
    write_module(env.use_registry(), "org.example", body)


def test_bibtex_of_a_dataset_without_citation_is_a_usage_error(env, cli):
    write_user_definition(
        env,
        '''
        from datamaestro.data.images import ImageClassification
        from datamaestro.definitions import dataset
        from datamaestro.download.single import filedownloader

        @filedownloader("data.bin", "https://example.org/data.bin")  # no checksum is published
        @dataset(ImageClassification, id="plain", homepage="https://example.org/")
        def plain(data):
            """A dataset that declares no citation."""
            return {}
        ''',
    )
    result = cli("info", "org.example.plain", "--bibtex")
    assert result.returncode == 2
    assert result.stderr == (
        "datamaestro: error: org.example.plain declares no citation; see its homepage (https://example.org/)\n"
    )
    assert cli("info", "no.such.id", "--bibtex").returncode == 2


def test_metadata_is_stored_on_the_definition():
    from datamaestro.definitions import dataset

    def function():
        """Doc."""

    definition = dataset(None, license="MIT", citation="\n@misc{k, title={T}}\n", homepage="https://example.org/")(function)
    assert (definition.license, definition.citation, definition.homepage) == ("MIT", "@misc{k, title={T}}", "https://example.org/")
    bare = dataset(None)(function)
    assert (bare.license, bare.citation, bare.homepage) == (None, None, None)


# --- the catalog hook ---------------------------------------------------------


@pytest.fixture(scope="module")
def catalog():
    spec = importlib.util.spec_from_file_location("catalog_hook", ROOT / "docs" / "hooks" / "catalog.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_catalog_tag_index(catalog):
    text = catalog.tag_index([("a.one", "One", ["images", "digits"], "1.0 kB (1 file)"), ("b.two", "Two", ["images"], "x")])
    assert "| Dataset | Id | Download |" in text
    assert "| [One](a.one.md) | `a.one` | 1.0 kB (1 file) |" in text
    assert "[digits](#tag-digits) · [images](#tag-images)" in text
    images = text.split("### Tag: images\n\n")[1]
    assert images.splitlines()[:2] == ["- [One](a.one.md) (`a.one`)", "- [Two](b.two.md) (`b.two`)"]


def test_catalog_page_of_a_built_in(catalog):
    definition = Registry().definition("gov.nist.emnist.letters")
    page = catalog.dataset_page(definition, None, None)
    assert page.startswith("# EMNIST Letters\n\n`gov.nist.emnist.letters`\n")
    assert 'ds = prepare_dataset("gov.nist.emnist.letters")' in page
    assert "datamaestro prepare gov.nist.emnist.letters" in page
    assert "| License | unknown: no license is stated on the EMNIST page" in page
    assert (
        "| `gzip.zip` | <https://biometrics.nist.gov/cs_links/EMNIST/gzip.zip> | published checksum "
        "sha256:fb9bb67e33772a9cc0b895e4ecf36d2cf35be8b709693c3564cea2a019fcda8e |"
    ) in page
    assert "| `arrays` | converted from `gzip.zip` | computed from gzip.zip |" in page
    assert "```bibtex\n@inproceedings{cohen2017emnist," in page
    assert "## Splits" not in page and "![" not in page  # no real files here: nothing shown
    assert "| Download | 561.8 MB (1 file) |" in page


def test_catalog_page_shows_declared_sizes(env, catalog):
    write_user_definition(
        env,
        '''
        from datamaestro.data.images import ImageClassification
        from datamaestro.definitions import dataset
        from datamaestro.download.single import filedownloader

        @filedownloader("a.bin", "https://example.org/a.bin", size=3 * 1024 * 1024,
                        checksum="sha256:" + "0" * 64)
        @filedownloader("b.bin", "https://example.org/b.bin", size=1024 * 1024,
                        checksum="sha256:" + "1" * 64)
        @dataset(ImageClassification, id="sized", license="MIT", citation="@misc{k, title={T}}")
        def sized(a, b):
            """Two files of declared size."""
            return {}
        ''',
    )
    page = catalog.dataset_page(Registry().definition("org.example.sized"), None, None)
    assert "| Download | 4.2 MB (2 files) |" in page
    assert "| License | MIT |" in page


@pytest.mark.skipif(not DEBIAN_FASHION.is_dir(), reason="Debian's dataset-fashion-mnist is not installed")
def test_catalog_real_samples_from_debian_fashion_mnist(env, catalog):
    pytest.importorskip("PIL")
    definition = Registry().definition("com.github.zalandoresearch.fashion-mnist")
    facts, png = catalog.real_data_facts(definition)
    assert facts["train"]["count"] == 60000 and facts["test"]["count"] == 10000
    assert facts["train"]["image_shape"] == [28, 28] and facts["train"]["labels"]["Trouser"] == 6000
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    page = catalog.dataset_page(definition, facts, "x.png")
    assert "| train | 60,000 | 28 x 28 | uint8 |" in page
    assert "![16 training images of Fashion-MNIST with their labels](images/x.png)" in page


def test_catalog_has_no_samples_without_real_files(catalog):
    definition = Registry().definition("jp.ac.rois.codh.kmnist")
    assert catalog.real_data_facts(definition) == (None, None)
