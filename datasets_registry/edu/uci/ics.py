"""Classic tables of the UCI Machine Learning Repository (archive.ics.uci.edu).

Each published ``.data`` file is comma-separated text without a header; it is
converted once, at prepare time, into a numpy structured array (``.npy``) with
named, typed columns, the class column as integer labels.

Checksums: Iris and Adult sha256 digests and sizes are those of TensorFlow
Datasets (tensorflow_datasets/url_checksums/iris.txt and adult.txt). UCI,
torchvision and TensorFlow Datasets publish none for ``wine.data``: its
sha256 and size (10,782 bytes) are those the Julia UCIData registry pins for
the same URL (``checksum(::Wine)``), also pinned by independent Rust and
Python loaders. Wine Quality and Abalone: TensorFlow Datasets' sha256 and size
(``structured/wine_quality/checksums.tsv``, ``url_checksums/abalone.txt``);
Car Evaluation: TensorFlow Datasets' (``url_checksums/car_evaluation.txt``);
Breast Cancer Wisconsin (Diagnostic): no library records ``wdbc.data``, its
sha256 and size are those pinned independently by several loaders (the Julia
UCIData registry among them).

Wine Quality's files are ``;``-separated with a quoted header row; the others
have no header. Published row counts: Wine Quality red 1,599 and white 4,898,
WDBC 569, Abalone 4,177, Car Evaluation 1,728.
"""

from pathlib import Path
from typing import Optional

from datamaestro.data.table import Table, TableClassification
from datamaestro.definitions import dataset
from datamaestro.download.derived import derived
from datamaestro.download.packing import Limits
from datamaestro.download.single import filedownloader
from datamaestro.errors import FormatError
from datamaestro.formats.table import Column, read_rows, save_table, table_from, tables_from, to_structured

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
    Table, name="Iris", url="https://archive.ics.uci.edu/dataset/53/iris", tags=["tabular", "classification", "uci"], aliases=["iris"],
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
    Table, name="Wine", url="https://archive.ics.uci.edu/dataset/109/wine", tags=["tabular", "classification", "uci"], aliases=["wine"],
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
    TableClassification, name="Adult", url="https://archive.ics.uci.edu/dataset/2/adult", aliases=["adult"],
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


# --- Wine Quality, Breast Cancer Wisconsin (Diagnostic), Abalone, Car Evaluation -------------

WINE_QUALITY_HEADER = [
    "fixed acidity", "volatile acidity", "citric acid", "residual sugar", "chlorides", "free sulfur dioxide",
    "total sulfur dioxide", "density", "pH", "sulphates", "alcohol", "quality",
]
WINE_QUALITY_COLUMNS = [Column(name.replace(" ", "_")) for name in WINE_QUALITY_HEADER[:-1]] + [Column("quality", "int")]
WDBC_CLASSES = ["B", "M"]
WDBC_MEASURES = (
    "radius", "texture", "perimeter", "area", "smoothness", "compactness", "concavity", "concave_points", "symmetry",
    "fractal_dimension",
)
WDBC_COLUMNS = [Column("id", "int"), Column("diagnosis", "label")] + [
    Column(f"{measure}_{statistic}") for statistic in ("mean", "se", "worst") for measure in WDBC_MEASURES
]
ABALONE_COLUMNS = [Column("sex", "str")] + [
    Column(name)
    for name in ("length", "diameter", "height", "whole_weight", "shucked_weight", "viscera_weight", "shell_weight")
] + [Column("rings", "int")]
CAR_CLASSES = ["unacc", "acc", "good", "vgood"]
CAR_COLUMNS = [
    Column(name, "str") for name in ("buying", "maint", "doors", "persons", "lug_boot", "safety")
] + [Column("class", "label")]


def _uci_citation(key: str, authors: str, title: str, year: int, doi: str) -> str:
    """The citation the UCI repository gives for one of its datasets."""
    return f"""@misc{{{key},
  author = {{{authors}}},
  title = {{{{{title}}}}},
  year = {{{year}}},
  howpublished = {{UCI Machine Learning Repository}},
  note = {{{{DOI}}: https://doi.org/{doi}}}
}}"""


def _single_table(
    dataset_id: str, name: str, file, columns: list[Column], target: str, classes: Optional[list[str]],
    delimiter: str, header: Optional[list[str]], page: str, citation: str, tags: list[str], doc: str, aliases: list[str],
):
    """A dataset of one published table, converted once into ``table/<id>.npy``."""
    stem = dataset_id.replace("-", "_")

    def build(path: Path, out: Path, limits: Limits) -> None:
        save_table(out, stem, table_from(path, columns, classes, delimiter, header, limits.max_bytes))

    def table_dataset(**paths: Path) -> dict:
        return {"path": paths["table"] / f"{stem}.npy", "target": target, "categories": classes}

    build.__doc__ = f"Convert {file.name} into a typed table."
    table_dataset.__name__ = table_dataset.__qualname__ = stem
    declare = dataset(
        Table, id=dataset_id, name=name, url=page, homepage=page, tags=["tabular", "uci", *tags], license=LICENSE,
        citation=citation, description=doc, aliases=aliases,
    )
    return file(derived("table", build, file)(declare(table_dataset)))


def _wine_quality_file(colour: str, sha256: str, size: int):
    return filedownloader(
        f"winequality-{colour}.csv", f"{BASE}wine-quality/winequality-{colour}.csv", checksum=f"sha256:{sha256}",
        size=size, varname="wine_quality",
    )


WINE_QUALITY_PAGE = "https://archive.ics.uci.edu/dataset/186/wine+quality"
WINE_QUALITY_CITATION = """@article{cortez2009modeling,
  title = {Modeling wine preferences by data mining from physicochemical properties},
  author = {Cortez, Paulo and Cerdeira, Ant{\\'o}nio and Almeida, Fernando and Matos, Telmo and Reis, Jos{\\'e}},
  journal = {Decision Support Systems},
  volume = {47},
  number = {4},
  pages = {547--553},
  year = {2009},
  doi = {10.1016/j.dss.2009.05.016}
}

""" + _uci_citation(
    "misc_wine_quality_186", "Cortez, Paulo and Cerdeira, A. and Almeida, F. and Matos, T. and Reis, J.", "Wine Quality",
    2009, "10.24432/C56S3T",
)
WINE_QUALITY_DOC = """Wine Quality ({colour}): {rows} Portuguese "Vinho Verde" {colour} wines, 11 physicochemical measurements and a quality score.

Columns fixed_acidity, volatile_acidity, citric_acid, residual_sugar,
chlorides, free_sulfur_dioxide, total_sulfur_dioxide, density, pH,
sulphates, alcohol (float64) and quality (int64, the target: a median of
expert grades from 0 to 10), read from the published ``;``-separated file.
For regression or ordinal classification; there is no predefined split."""
#: id, colour, sha256, size, rows
WINE_QUALITY = [
    ("wine-quality-red", "red", "4a402cf041b025d4566d954c3b9ba8635a3a8a01e039005d97d6a710278cf05e", 84199, "1,599"),
    ("wine-quality-white", "white", "76c3f809815c17c07212622f776311faeb31e87610d52c26d87d6e361b169836", 264426, "4,898"),
]
for _id, _colour, _sha256, _size, _rows in WINE_QUALITY:
    globals()[_id.replace("-", "_")] = _single_table(
        _id, f"Wine Quality ({_colour})", _wine_quality_file(_colour, _sha256, _size), WINE_QUALITY_COLUMNS, "quality",
        None, ";", WINE_QUALITY_HEADER, WINE_QUALITY_PAGE, WINE_QUALITY_CITATION, ["regression", "wine"],
        WINE_QUALITY_DOC.format(colour=_colour, rows=_rows), ["wine_quality", _id.replace("-", "_")],
    )

breast_cancer_wisconsin_diagnostic = _single_table(
    "breast-cancer-wisconsin-diagnostic", "Breast Cancer Wisconsin (Diagnostic)",
    filedownloader(
        "wdbc.data", BASE + "breast-cancer-wisconsin/wdbc.data",
        checksum="sha256:d606af411f3e5be8a317a5a8b652b425aaf0ff38ca683d5327ffff94c3695f4a", size=124103,
    ),
    WDBC_COLUMNS, "diagnosis", WDBC_CLASSES, ",", None,
    "https://archive.ics.uci.edu/dataset/17/breast+cancer+wisconsin+diagnostic",
    _uci_citation(
        "misc_breast_cancer_wisconsin_diagnostic_17", "Wolberg, William and Mangasarian, Olvi and Street, Nick and Street, W.",
        "Breast Cancer Wisconsin (Diagnostic)", 1995, "10.24432/C5DW2B",
    ),
    ["classification", "medical"],
    """Breast Cancer Wisconsin (Diagnostic): 569 breast masses, 30 features of their cell nuclei, benign or malignant.

Columns id (int64), diagnosis (label 0: B, benign; 1: M, malignant), then
30 float64 features computed from a digitised image of a fine needle
aspirate: the mean, standard error and worst value of radius, texture,
perimeter, area, smoothness, compactness, concavity, concave_points,
symmetry and fractal_dimension (radius_mean ... fractal_dimension_worst).
Not the original 699-row Breast Cancer Wisconsin file.""",
    ["wdbc", "breast_cancer_wisconsin_diagnostic"],
)

abalone = _single_table(
    "abalone", "Abalone",
    filedownloader(
        "abalone.data", BASE + "abalone/abalone.data",
        checksum="sha256:de37cdcdcaaa50c309d514f248f7c2302a5f1f88c168905eba23fe2fbc78449f", size=191873,
    ),
    ABALONE_COLUMNS, "rings", None, ",", None, "https://archive.ics.uci.edu/dataset/1/abalone",
    _uci_citation(
        "misc_abalone_1", "Nash, Warwick and Sellers, Tracy and Talbot, Simon and Cawthorn, Andrew and Ford, Wes",
        "Abalone", 1995, "10.24432/C55C7W",
    ),
    ["regression"],
    """Abalone: 4,177 abalones, their sex and 7 physical measurements, to predict their age (rings).

Columns sex (string: M, F or I, infant), length, diameter, height (mm),
whole_weight, shucked_weight, viscera_weight, shell_weight (grams; all
float64) and rings (int64, the target: age in years is rings + 1.5).""",
    ["abalone"],
)

car_evaluation = _single_table(
    "car-evaluation", "Car Evaluation",
    filedownloader(
        "car.data", BASE + "car/car.data",
        checksum="sha256:b703a9ac69f11e64ce8c223c0a40de4d2e9d769f7fb20be5f8f2e8a619893d83", size=51867,
    ),
    CAR_COLUMNS, "class", CAR_CLASSES, ",", None, "https://archive.ics.uci.edu/dataset/19/car+evaluation",
    _uci_citation("misc_car_evaluation_19", "Bohanec, Marko", "Car Evaluation", 1997, "10.24432/C5JP48"),
    ["classification"],
    """Car Evaluation: 1,728 cars rated from 6 categorical attributes, every combination once.

Columns buying, maint (vhigh, high, med, low), doors (2, 3, 4, 5more),
persons (2, 4, more), lug_boot (small, med, big), safety (low, med, high),
all strings, and class (label 0-3: unacc, acc, good, vgood).""",
    ["car_evaluation"],
)
