"""Classic tables of the UCI Machine Learning Repository (archive.ics.uci.edu).

Each published ``.data`` file is comma-separated text without a header; it is
converted once, at prepare time, into a numpy structured array (``.npy``) with
named, typed columns, the class column as integer labels.

Checksums: Iris and Adult sha256 digests and sizes are those of TensorFlow
Datasets (tensorflow_datasets/url_checksums/iris.txt and adult.txt). UCI,
torchvision and TensorFlow Datasets publish none for ``wine.data``: its
sha256 and size (10,782 bytes) are those the Julia UCIData registry pins for
the same URL (``checksum(::Wine)``), also pinned by independent Rust and
Python loaders.
"""

from pathlib import Path

from datamaestro.data.table import Table, TableClassification
from datamaestro.definitions import dataset
from datamaestro.download.derived import derived
from datamaestro.download.packing import Limits
from datamaestro.download.single import filedownloader
from datamaestro.errors import FormatError
from datamaestro.formats.table import Column, read_rows, save_table, tables_from, to_structured

BASE = "https://archive.ics.uci.edu/ml/machine-learning-databases/"
LICENSE = "CC-BY-4.0"

IRIS_FILE = filedownloader(
    "iris.data", BASE + "iris/iris.data",
    checksum="sha256:6f608b71a7317216319b4d27b4d9bc84e6abd734eda7872b71a458569e2656c0", size=4551,
)
WINE_FILE = filedownloader(
    "wine.data", BASE + "wine/wine.data",
    checksum="sha256:6be6b1203f3d51df0b553a70e57b8a723cd405683958204f96d23d7cd6aea659", size=10782,
)
ADULT_TRAIN = filedownloader(
    "adult.data", BASE + "adult/adult.data",
    checksum="sha256:5b00264637dbfec36bdeaab5676b0b309ff9eb788d63554ca0a249491c86603d", size=3974305,
    varname="adult_train",
)
ADULT_TEST = filedownloader(
    "adult.test", BASE + "adult/adult.test",
    checksum="sha256:a2a9044bc167a35b2361efbabec64e89d69ce82d9790d2980119aac5fd7e9c05", size=2003153,
    varname="adult_test",
)

IRIS_CLASSES = ["Iris-setosa", "Iris-versicolor", "Iris-virginica"]
IRIS_COLUMNS = [
    Column("sepal_length"), Column("sepal_width"), Column("petal_length"), Column("petal_width"),
    Column("class", "label"),
]
WINE_CLASSES = ["1", "2", "3"]
WINE_COLUMNS = [Column("class", "label")] + [
    Column(name)
    for name in (
        "alcohol", "malic_acid", "ash", "alcalinity_of_ash", "magnesium", "total_phenols", "flavanoids",
        "nonflavanoid_phenols", "proanthocyanins", "color_intensity", "hue", "od280_od315_of_diluted_wines",
        "proline",
    )
]
ADULT_CLASSES = ["<=50K", ">50K"]
ADULT_COLUMNS = [
    Column("age", "int"), Column("workclass", "str"), Column("fnlwgt", "int"), Column("education", "str"),
    Column("education_num", "int"), Column("marital_status", "str"), Column("occupation", "str"),
    Column("relationship", "str"), Column("race", "str"), Column("sex", "str"), Column("capital_gain", "int"),
    Column("capital_loss", "int"), Column("hours_per_week", "int"), Column("native_country", "str"),
    Column("income", "label"),
]


def _iris(iris: Path, out: Path, limits: Limits) -> None:
    tables_from([("iris", iris, 0)], out, IRIS_COLUMNS, IRIS_CLASSES, max_bytes=limits.max_bytes)


def _wine(wine: Path, out: Path, limits: Limits) -> None:
    tables_from([("wine", wine, 0)], out, WINE_COLUMNS, WINE_CLASSES, max_bytes=limits.max_bytes)


def _adult(train: Path, test: Path, out: Path, limits: Limits) -> None:
    """adult.test starts with a '|1x3 Cross validator' line and ends its classes with '.'."""
    for name, path, skip in (("train", train, 0), ("test", test, 1)):
        rows = read_rows(path, ",", skip)
        for number, fields in rows:
            if not fields:
                raise FormatError(f"{path.name} line {number}: empty row")
            fields[-1] = fields[-1].removesuffix(".")
        save_table(out, name, to_structured(rows, ADULT_COLUMNS, path.name, ADULT_CLASSES, limits.max_bytes))


@IRIS_FILE
@derived("table", _iris, IRIS_FILE)
@dataset(
    Table, name="Iris", url="https://archive.ics.uci.edu/dataset/53/iris", tags=["tabular", "classification", "uci"],
    license=LICENSE, citation="""@misc{misc_iris_53,
  author = {Fisher, R. A.},
  title = {{Iris}},
  year = {1936},
  howpublished = {UCI Machine Learning Repository},
  note = {{DOI}: https://doi.org/10.24432/C56C76}
}""", homepage="https://archive.ics.uci.edu/dataset/53/iris",
)
def iris(iris, table):
    """Fisher's Iris: 150 flowers of 3 species, 4 measurements each (cm).

    Columns sepal_length, sepal_width, petal_length, petal_width (float64)
    and class (label 0-2: Iris-setosa, Iris-versicolor, Iris-virginica).
    """
    return {"path": table / "iris.npy", "target": "class", "categories": IRIS_CLASSES}


@WINE_FILE
@derived("table", _wine, WINE_FILE)
@dataset(
    Table, name="Wine", url="https://archive.ics.uci.edu/dataset/109/wine", tags=["tabular", "classification", "uci"],
    license=LICENSE, citation="""@misc{misc_wine_109,
  author = {Aeberhard, Stefan and Forina, M.},
  title = {{Wine}},
  year = {1991},
  howpublished = {UCI Machine Learning Repository},
  note = {{DOI}: https://doi.org/10.24432/C5PC7J}
}""", homepage="https://archive.ics.uci.edu/dataset/109/wine",
)
def wine(wine, table):
    """Wine: chemical analysis of 178 Italian wines from 3 cultivars.

    Column class (label 0-2 for the published cultivars "1", "2", "3") then
    13 float64 measurements: alcohol, malic_acid, ash, ..., proline.
    """
    return {"path": table / "wine.npy", "target": "class", "categories": WINE_CLASSES}


@ADULT_TRAIN
@ADULT_TEST
@derived("tables", _adult, ADULT_TRAIN, ADULT_TEST)
@dataset(
    TableClassification, name="Adult", url="https://archive.ics.uci.edu/dataset/2/adult",
    tags=["tabular", "classification", "uci", "census"], license=LICENSE, citation="""@misc{misc_adult_2,
  author = {Becker, Barry and Kohavi, Ronny},
  title = {{Adult}},
  year = {1996},
  howpublished = {UCI Machine Learning Repository},
  note = {{DOI}: https://doi.org/10.24432/C5XW20}
}""", homepage="https://archive.ics.uci.edu/dataset/2/adult",
)
def adult(adult_train, adult_test, tables):
    """Adult (census income): does a person earn more than $50K a year?

    32,561 training and 16,281 test rows of 14 attributes (6 int64 columns
    such as age and hours_per_week, 8 string columns such as workclass and
    occupation, "?" where unknown) and income (label 0: <=50K, 1: >50K).
    """
    return {
        "train": Table(path=tables / "train.npy", target="income"),
        "test": Table(path=tables / "test.npy", target="income"),
        "categories": ADULT_CLASSES,
    }
