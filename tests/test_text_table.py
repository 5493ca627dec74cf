"""The text and table definitions (IMDB reviews; UCI Iris, Wine, Adult) and their types, end to end.

Fixtures are small files in the published layouts (the aclImdb tar.gz of
review folders; UCI's header-less comma-separated ``.data`` files, with
adult.test's first line and trailing dots), served on a loopback server
under the definitions' real URLs through the ``mirrors`` setting. As in
test_datasets_images.py: a definition with published checksums is run once
as published (the copy is refused), then as a copy whose checksum and size
constants, each found exactly once, are replaced by the fixture's, so that
the fixture is downloaded and verified.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from kindfixtures import tar_gz, verified_copy

from datamaestro.api import prepare_dataset
from datamaestro.data.table import Table, TableClassification
from datamaestro.data.text import LabelledTexts, TextClassification
from datamaestro.errors import DownloadError, FormatError, UsageError

UCI = "https://archive.ics.uci.edu/ml/machine-learning-databases/"

REVIEWS = {
    "train/pos/10_9.txt": "A masterpiece.<br /><br />Sublime — 10/10, très bien.",
    "train/pos/2_7.txt": "Good fun.",
    "train/neg/0_3.txt": "Dull.",
    "train/neg/1_1.txt": "Awful 😞",
    "train/unsup/0_0.txt": "unlabelled: left out",
    "test/pos/0_10.txt": "Loved it",
    "test/neg/0_2.txt": "",
}


def imdb_archive() -> bytes:
    files = {f"aclImdb/{name}": text.encode("utf-8") for name, text in REVIEWS.items()}
    files["aclImdb/imdb.vocab"] = b"the\nand\n"
    files["aclImdb/README"] = b"Large Movie Review Dataset v1.0\n"
    return tar_gz(files)


def patched_imdb(env, archive: bytes) -> str:
    digest = "c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe"
    return verified_copy(env.use_registry(), "edu.stanford.ai", [(digest, "84125825", archive)])


@pytest.fixture
def imdb(env, server):
    archive = imdb_archive()
    server.files["/imdb/aclImdb_v1.tar.gz"] = archive
    env.mirror("https://ai.stanford.edu/~amaas/data/sentiment/", server.url("/imdb/"))
    module = patched_imdb(env, archive)
    return f"{module}.imdb"


def test_imdb_published_definition_refuses_the_copy(env, server):
    archive = imdb_archive()
    server.files["/imdb/aclImdb_v1.tar.gz"] = archive
    env.mirror("https://ai.stanford.edu/~amaas/data/sentiment/", server.url("/imdb/"))
    with pytest.raises(DownloadError, match=f"got {len(archive)} bytes, expected 84125825"):
        prepare_dataset("edu.stanford.ai.imdb")


def test_imdb_texts_labels_and_batches(imdb):
    ds = prepare_dataset(imdb)
    assert isinstance(ds, TextClassification) and isinstance(ds.train, LabelledTexts)
    assert ds.categories == ["neg", "pos"] and ds.test.categories == ["neg", "pos"]
    texts, labels = ds.train.arrays()
    # neg first, then pos, each by review id (2 before 10)
    assert texts == ["Dull.", "Awful 😞", "Good fun.", "A masterpiece.<br /><br />Sublime — 10/10, très bien."]
    assert labels.tolist() == [0, 0, 1, 1] and labels.dtype == np.int64
    assert len(ds.train) == 4 and ds.train.text(1) == "Awful 😞"
    assert ds.test.arrays()[0] == ["", "Loved it"]
    _, one_hot = ds.test.arrays(one_hot=True)
    assert one_hot.tolist() == [[1.0, 0.0], [0.0, 1.0]] and one_hot.dtype == np.float32
    assert ds.train.text_labels(labels) == ["neg", "neg", "pos", "pos"]
    batches = ds.train.batches(3, seed=7)
    assert len(batches) == 2
    got = list(batches)
    order = np.random.default_rng([7, 0]).permutation(4)
    assert [t for batch, _ in got for t in batch] == [texts[i] for i in order]
    assert [int(v) for _, y in got for v in y] == [int(labels[i]) for i in order]
    second = [t for batch, _ in ds.train.batches(3, seed=7) for t in batch]
    assert second == [texts[i] for i in np.random.default_rng([7, 1]).permutation(4)]
    assert [len(b) for b, _ in ds.train.batches(3, shuffle=False, drop_last=True)] == [3]


def test_imdb_search_by_type_and_prepare_json(imdb, cli):
    result = cli("search", "type:text")
    assert result.returncode == 0, result.stderr
    assert [line.split()[0] for line in result.stdout.splitlines()] == [
        "com.gluebenchmark.sst-2", "edu.nyu.cims.multinli-1.0", "edu.stanford.ai.imdb", "edu.stanford.nlp.snli-1.0",
        "it.unipi.di.ag-news", imdb,
    ]
    result = cli("prepare", imdb)
    assert result.returncode == 0, result.stderr
    from datamaestro.api import from_json

    ds = from_json(result.stdout)
    assert ds.test.text(1) == "Loved it"
    info = json.loads(cli("info", "--json", imdb).stdout)
    assert info["splits"] == {
        "train": {"count": 4, "labels": {"neg": 2, "pos": 2}, "unlabelled": 0},
        "test": {"count": 2, "labels": {"neg": 1, "pos": 1}, "unlabelled": 0},
    }


def test_imdb_archive_without_review_folders_is_refused(env, server):
    archive = tar_gz({"aclImdb/train/pos/0_9.txt": b"only one folder"})
    server.files["/imdb/aclImdb_v1.tar.gz"] = archive
    env.mirror("https://ai.stanford.edu/~amaas/data/sentiment/", server.url("/imdb/"))
    module = patched_imdb(env, archive)
    with pytest.raises(FormatError, match=r"aclImdb/train/neg: missing: the archive is not the IMDB reviews'"):
        prepare_dataset(f"{module}.imdb")


IRIS_SHA256 = "6f608b71a7317216319b4d27b4d9bc84e6abd734eda7872b71a458569e2656c0"
IRIS = (
    "5.1,3.5,1.4,0.2,Iris-setosa\n"
    "7.0,3.2,4.7,1.4,Iris-versicolor\n"
    "6.3,3.3,6.0,2.5,Iris-virginica\n"
    "4.9,3.0,1.4,0.2,Iris-setosa\n"
    "\n"
)


def test_iris_table(env, server, cli):
    data = IRIS.encode()
    server.files["/uci/iris/iris.data"] = data
    env.mirror(UCI, server.url("/uci/"))
    with pytest.raises(DownloadError, match=f"got {len(data)} bytes, expected 4551"):
        prepare_dataset("edu.uci.ics.iris")
    module = verified_copy(env.use_registry(), "edu.uci.ics", [(IRIS_SHA256, "size=4551", data)])
    table = prepare_dataset(f"{module}.iris")
    assert isinstance(table, Table) and table.target == "class"
    assert table.columns == ["sepal_length", "sepal_width", "petal_length", "petal_width", "class"]
    rows = table.data()
    assert rows.dtype["sepal_length"] == np.float64 and rows.dtype["class"] == np.int64
    assert len(table) == 4
    assert table.column("petal_length").tolist() == [1.4, 4.7, 6.0, 1.4]
    x, y = table.arrays()
    assert x.shape == (4, 4) and x.dtype == np.float32
    assert np.array_equal(x[1], np.array([7.0, 3.2, 4.7, 1.4], dtype=np.float32))
    assert y.tolist() == [0, 1, 2, 0]
    assert table.text_labels(y[:3]) == ["Iris-setosa", "Iris-versicolor", "Iris-virginica"]
    x2, y2 = table.arrays(columns=["petal_width"], one_hot=True)
    assert x2.shape == (4, 1) and y2.shape == (4, 3) and y2[2].tolist() == [0.0, 0.0, 1.0]
    with pytest.raises(UsageError, match="no column 'petal'; the columns are: sepal_length, sepal_width"):
        table.column("petal")
    info = json.loads(cli("info", "--json", f"{module}.iris").stdout)
    assert info["splits"] == {"all": {
        "count": 4,
        "columns": {**{name: "float64" for name in table.columns[:4]}, "class": "int64"},
        "labels": {"Iris-setosa": 2, "Iris-versicolor": 1, "Iris-virginica": 1},
    }}
    result = cli("search", "tag:tabular")
    uci = [
        "abalone", "adult", "breast-cancer-wisconsin-diagnostic", "car-evaluation", "iris", "wine", "wine-quality-red",
        "wine-quality-white",
    ]
    assert [line.split()[0] for line in result.stdout.splitlines()] == [
        *(f"edu.uci.ics.{name}" for name in uci), "io.github.allisonhorst.palmerpenguins", *(f"{module}.{name}" for name in uci),
    ]


def test_iris_bad_rows_are_refused(env, server):
    data = b"5.1,3.5,1.4,0.2,Iris-setosa\n5.0,abc,1.4,0.2,Iris-setosa\n"
    server.files["/uci/iris/iris.data"] = data
    env.mirror(UCI, server.url("/uci/"))
    module = verified_copy(env.use_registry(), "edu.uci.ics", [(IRIS_SHA256, "size=4551", data)])
    with pytest.raises(FormatError, match="iris.data line 2: 'abc' in column 'sepal_width' is not a number"):
        prepare_dataset(f"{module}.iris")


WINE = (
    "1,14.23,1.71,2.43,15.6,127,2.8,3.06,.28,2.29,5.64,1.04,3.92,1065\n"
    "2,12.37,.94,1.36,10.6,88,1.98,.57,.28,.42,1.95,1.05,1.82,520\n"
    "3,12.86,1.35,2.32,18,122,1.51,1.25,.21,.94,4.1,.76,1.29,630\n"
)


WINE_SHA256 = "6be6b1203f3d51df0b553a70e57b8a723cd405683958204f96d23d7cd6aea659"


def test_wine(env, server, cli):
    data = WINE.encode()
    server.files["/uci/wine/wine.data"] = data
    env.mirror(UCI, server.url("/uci/"))
    with pytest.raises(DownloadError, match=f"got {len(data)} bytes, expected 10782"):
        prepare_dataset("edu.uci.ics.wine")
    module = verified_copy(env.use_registry(), "edu.uci.ics", [(WINE_SHA256, "size=10782", data)])
    result = cli("prepare", f"{module}.wine")
    assert result.returncode == 0, result.stderr
    assert "warning" not in result.stderr
    table = prepare_dataset(f"{module}.wine")
    assert table.columns[:3] == ["class", "alcohol", "malic_acid"] and table.columns[-1] == "proline"
    assert len(table.columns) == 14
    x, y = table.arrays()
    assert x.shape == (3, 13) and y.tolist() == [0, 1, 2]
    assert x[1, 1] == np.float32(0.94) and x[0, -1] == 1065
    assert table.text_labels(2) == "3"


ADULT_TRAIN = (
    "39, State-gov, 77516, Bachelors, 13, Never-married, Adm-clerical, Not-in-family, White, Male, 2174, 0, 40, United-States, <=50K\n"
    "52, Self-emp-inc, 287927, HS-grad, 9, Married-civ-spouse, Exec-managerial, Wife, White, Female, 15024, 0, 40, ?, >50K\n"
    "\n"
)
ADULT_TEST = (
    "|1x3 Cross validator\n"
    "25, Private, 226802, 11th, 7, Never-married, Machine-op-inspct, Own-child, Black, Male, 0, 0, 40, United-States, <=50K.\n"
    "38, ?, 89814, HS-grad, 9, Married-civ-spouse, Farming-fishing, Husband, White, Male, 0, 0, 50, United-States, >50K.\n"
)


def test_adult_train_and_test(env, server):
    train, test = ADULT_TRAIN.encode(), ADULT_TEST.encode()
    server.files["/uci/adult/adult.data"] = train
    server.files["/uci/adult/adult.test"] = test
    env.mirror(UCI, server.url("/uci/"))
    module = verified_copy(
        env.use_registry(),
        "edu.uci.ics",
        [
            ("5b00264637dbfec36bdeaab5676b0b309ff9eb788d63554ca0a249491c86603d", "size=3974305", train),
            ("a2a9044bc167a35b2361efbabec64e89d69ce82d9790d2980119aac5fd7e9c05", "size=2003153", test),
        ],
    )
    ds = prepare_dataset(f"{module}.adult")
    assert isinstance(ds, TableClassification) and ds.categories == ["<=50K", ">50K"]
    assert ds.train.categories == ds.categories and ds.test.target == "income"
    rows = ds.test.data()
    assert rows.dtype["age"] == np.int64 and rows.dtype["workclass"].kind == "U"
    assert rows["workclass"].tolist() == ["Private", "?"]
    assert rows["income"].tolist() == [0, 1]
    assert ds.train.column("native_country").tolist() == ["United-States", "?"]
    assert ds.train.column("capital_gain").tolist() == [2174, 15024]
    with pytest.raises(UsageError, match="columns workclass, education, marital_status, occupation, relationship, race, sex, native_country are not numeric"):
        ds.train.arrays()
    x, y = ds.train.arrays(columns=["age", "hours_per_week"])
    assert x.tolist() == [[39.0, 40.0], [52.0, 40.0]] and y.tolist() == [0, 1]


def test_table_to_pandas(tmp_path):
    pd = pytest.importorskip("pandas")
    from datamaestro.formats.table import Column, save_table, to_structured

    rows = [(1, ["1.5", "a", "yes"]), (2, ["?", "b", "no"])]
    table = to_structured(rows, [Column("x"), Column("name", "str"), Column("y", "label")], "t.csv", ["no", "yes"])
    path = save_table(tmp_path, "t", table)
    frame = Table(path=path, target="y", categories=["no", "yes"]).to_pandas()
    assert list(frame.columns) == ["x", "name", "y"]
    assert frame["y"].tolist() == ["yes", "no"] and isinstance(frame["y"].dtype, pd.CategoricalDtype)
    assert frame["x"].isna().tolist() == [False, True]


def test_table_to_pandas_without_pandas(tmp_path, monkeypatch):
    import sys

    from datamaestro.formats.table import Column, save_table, to_structured

    monkeypatch.setitem(sys.modules, "pandas", None)  # as if it were not installed
    path = save_table(tmp_path, "t", to_structured([(1, ["1"])], [Column("x")], "t.csv"))
    with pytest.raises(UsageError, match="to_pandas needs pandas: pip install pandas"):
        Table(path=path).to_pandas()
    assert Table(path=path).arrays()[1] is None


def test_table_errors(tmp_path):
    from datamaestro.formats.table import Column, to_structured

    with pytest.raises(FormatError, match="t.csv line 3: 2 fields, expected 3"):
        to_structured([(3, ["1", "2"])], [Column("a"), Column("b"), Column("c")], "t.csv")
    with pytest.raises(FormatError, match="t.csv line 1: unknown class 'maybe' in column 'y'"):
        to_structured([(1, ["maybe"])], [Column("y", "label")], "t.csv", ["no", "yes"])
    with pytest.raises(FormatError, match="t.csv line 1: '\\?' in column 'n' is not a number"):
        to_structured([(1, ["?"])], [Column("n", "int")], "t.csv")
    np.save(tmp_path / "plain.npy", np.zeros(3))
    with pytest.raises(FormatError, match="plain.npy: not a table \\(the array has no named columns\\)"):
        Table(path=tmp_path / "plain.npy").data()


def test_texts_written_and_read(tmp_path):
    from datamaestro.data.npy import NPY
    from datamaestro.loaders.text import text_files, write_texts

    assert write_texts(tmp_path, "empty", []) == 0
    blob, offsets, labels = text_files(tmp_path, "empty")
    empty = LabelledTexts(texts=blob, offsets=NPY(path=offsets), labels=NPY(path=labels))
    assert len(empty) == 0 and empty.arrays()[0] == [] and list(empty.batches(4)) == []
    write_texts(tmp_path, "s", [("é", 1), ("", 0), ("abc", 1)])
    blob, offsets, labels = text_files(tmp_path, "s")
    split = LabelledTexts(texts=blob, offsets=NPY(path=offsets), labels=NPY(path=labels))
    assert split.texts_at([2, 0]) == ["abc", "é"] and split.texts_at(slice(1, 3)) == ["", "abc"]
    assert split.texts_at(2) == ["abc"] and split.text(0) == "é"
    with pytest.raises(IndexError):
        split.text(3)
    assert np.load(offsets).tolist() == [0, 2, 2, 5]
    with pytest.raises(UsageError, match="this split has no class names"):
        split.text_labels(0)
