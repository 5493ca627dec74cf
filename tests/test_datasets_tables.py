"""Palmer Penguins and the UCI tables Wine Quality, WDBC, Abalone and Car Evaluation, from fixtures in their published layouts.

Each fixture is a few rows written exactly as published (the penguins CSV
header and its ``NA``; Wine Quality's ``;``-separated file with a quoted
header; the header-less comma-separated ``.data`` files). They are served on
loopback under the definitions' real URLs, where the declared size refuses
them, then prepared from the same files with ``--from DIR --no-verify``, and
the typed tables are checked value by value.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from published import check_refused_download, prepare_local

from datamaestro.data.table import Table
from datamaestro.errors import FormatError

UCI = "https://archive.ics.uci.edu/ml/machine-learning-databases/"

PENGUINS_BASE = (
    "https://raw.githubusercontent.com/allisonhorst/palmerpenguins/8957207b78d6ccd1b4654a9dd9c9041b657478ab/inst/extdata/"
)
PENGUINS = (
    "species,island,bill_length_mm,bill_depth_mm,flipper_length_mm,body_mass_g,sex,year\n"
    "Adelie,Torgersen,39.1,18.7,181,3750,male,2007\n"
    "Adelie,Torgersen,NA,NA,NA,NA,NA,2007\n"
    "Gentoo,Biscoe,46.1,13.2,211,4500,female,2007\n"
    "Chinstrap,Dream,46.5,17.9,192,3500,female,2007\n"
)


def test_palmer_penguins(env, server, tmp_path: Path):
    files = {"penguins.csv": PENGUINS.encode()}
    dataset_id = "io.github.allisonhorst.palmerpenguins"
    check_refused_download(
        env, server, dataset_id, [PENGUINS_BASE], files,
        "sha256:f204db2c753b0937caac3cb35258562c14f073e4bbc76be24b4c51ce22767a93",
    )
    table = prepare_local(tmp_path / "published", dataset_id, files)
    assert isinstance(table, Table) and table.target == "species"
    assert table.categories == ["Adelie", "Chinstrap", "Gentoo"]
    assert table.columns == [
        "species", "island", "bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g", "sex", "year",
    ]
    rows = table.data()
    assert rows["species"].tolist() == [0, 0, 2, 1] and rows.dtype["species"] == np.int64
    assert rows["island"].tolist() == ["Torgersen", "Torgersen", "Biscoe", "Dream"]
    assert rows["sex"].tolist() == ["male", "NA", "female", "female"]
    assert rows["year"].tolist() == [2007] * 4 and rows.dtype["year"] == np.int64
    assert rows["bill_length_mm"][0] == 39.1 and np.isnan(rows["body_mass_g"][1])
    assert rows["flipper_length_mm"].dtype == np.float64 and rows["flipper_length_mm"][2] == 211.0
    x, y = table.arrays(columns=["bill_length_mm", "flipper_length_mm"])
    assert x.shape == (4, 2) and x.dtype == np.float32 and y.tolist() == [0, 0, 2, 1]
    assert table.text_labels(y) == ["Adelie", "Adelie", "Gentoo", "Chinstrap"]


def test_penguins_without_the_published_header_are_refused(tmp_path: Path):
    data = PENGUINS.replace("bill_length_mm", "culmen_length_mm").encode()  # as TensorFlow Datasets' copy names it
    with pytest.raises(FormatError, match=r"penguins.csv: the first row is 'species, island, culmen_length_mm.*not the header"):
        prepare_local(tmp_path / "published", "io.github.allisonhorst.palmerpenguins", {"penguins.csv": data})


WINE_QUALITY_HEADER = (
    '"fixed acidity";"volatile acidity";"citric acid";"residual sugar";"chlorides";"free sulfur dioxide";'
    '"total sulfur dioxide";"density";"pH";"sulphates";"alcohol";"quality"\n'
)
WINE_QUALITY = {
    "red": WINE_QUALITY_HEADER
    + "7.4;0.7;0;1.9;0.076;11;34;0.9978;3.51;0.56;9.4;5\n"
    + "11.2;0.28;0.56;1.9;0.075;17;60;0.998;3.16;0.58;9.8;6\n",
    "white": WINE_QUALITY_HEADER
    + "7;0.27;0.36;20.7;0.045;45;170;1.001;3;0.45;8.8;6\n"
    + "6.3;0.3;0.34;1.6;0.049;14;132;0.994;3.3;0.49;9.5;6\n"
    + "8.1;0.28;0.4;6.9;0.05;30;97;0.9951;3.26;0.44;10.1;7\n",
}


@pytest.mark.parametrize(
    "colour,published",
    [
        ("red", "sha256:4a402cf041b025d4566d954c3b9ba8635a3a8a01e039005d97d6a710278cf05e"),
        ("white", "sha256:76c3f809815c17c07212622f776311faeb31e87610d52c26d87d6e361b169836"),
    ],
)
def test_wine_quality(env, server, tmp_path: Path, colour: str, published: str):
    dataset_id = f"edu.uci.ics.wine-quality-{colour}"
    files = {f"winequality-{colour}.csv": WINE_QUALITY[colour].encode()}
    check_refused_download(env, server, dataset_id, [UCI + "wine-quality/"], files, published)
    table = prepare_local(tmp_path / "published", dataset_id, files)
    assert isinstance(table, Table) and table.target == "quality" and table.categories is None
    assert table.columns[:3] == ["fixed_acidity", "volatile_acidity", "citric_acid"]
    assert table.columns[-3:] == ["sulphates", "alcohol", "quality"] and len(table.columns) == 12
    rows = table.data()
    assert rows.dtype["quality"] == np.int64 and rows.dtype["pH"] == np.float64
    x, y = table.arrays()
    assert x.shape == (len(y), 11) and x.dtype == np.float32
    if colour == "red":
        assert y.tolist() == [5, 6] and rows["free_sulfur_dioxide"].tolist() == [11.0, 17.0]
        assert rows["density"][0] == 0.9978
    else:
        assert y.tolist() == [6, 6, 7] and rows["residual_sugar"].tolist() == [20.7, 1.6, 6.9]


def test_wine_quality_comma_separated_copy_is_refused(tmp_path: Path):
    data = WINE_QUALITY["red"].replace(";", ",").encode()
    with pytest.raises(FormatError, match=r"winequality-red.csv: the first row is .* not the header"):
        prepare_local(tmp_path / "published", "edu.uci.ics.wine-quality-red", {"winequality-red.csv": data})


def wdbc_row(row_id: int, diagnosis: str, base: float) -> str:
    return ",".join([str(row_id), diagnosis] + [f"{base + k / 100:g}" for k in range(30)])


def test_breast_cancer_wisconsin_diagnostic(env, server, tmp_path: Path):
    text = "\n".join([wdbc_row(842302, "M", 17.99), wdbc_row(8510426, "B", 13.54), wdbc_row(926954, "B", 16.6)]) + "\n"
    files = {"wdbc.data": text.encode()}
    dataset_id = "edu.uci.ics.breast-cancer-wisconsin-diagnostic"
    check_refused_download(
        env, server, dataset_id, [UCI + "breast-cancer-wisconsin/"], files,
        "sha256:d606af411f3e5be8a317a5a8b652b425aaf0ff38ca683d5327ffff94c3695f4a",
    )
    table = prepare_local(tmp_path / "published", dataset_id, files)
    assert table.target == "diagnosis" and table.categories == ["B", "M"]
    assert len(table.columns) == 32
    assert table.columns[:4] == ["id", "diagnosis", "radius_mean", "texture_mean"]
    assert table.columns[11:13] == ["fractal_dimension_mean", "radius_se"] and table.columns[-1] == "fractal_dimension_worst"
    assert table.column("id").tolist() == [842302, 8510426, 926954]
    x, y = table.arrays(columns=table.columns[2:])
    assert y.tolist() == [1, 0, 0] and x.shape == (3, 30)
    assert x[0, 0] == np.float32(17.99) and x[2, 29] == np.float32(16.89)
    assert table.text_labels(y) == ["M", "B", "B"]


def test_wdbc_unknown_diagnosis_is_refused(tmp_path: Path):
    files = {"wdbc.data": (wdbc_row(1, "X", 1.0) + "\n").encode()}
    with pytest.raises(FormatError, match=r"wdbc.data line 1: unknown class 'X' in column 'diagnosis'"):
        prepare_local(tmp_path / "published", "edu.uci.ics.breast-cancer-wisconsin-diagnostic", files)


ABALONE = (
    "M,0.455,0.365,0.095,0.514,0.2245,0.101,0.15,15\n"
    "F,0.53,0.42,0.135,0.677,0.2565,0.1415,0.21,9\n"
    "I,0.33,0.255,0.08,0.205,0.0895,0.0395,0.055,7\n"
)


def test_abalone(env, server, tmp_path: Path):
    files = {"abalone.data": ABALONE.encode()}
    check_refused_download(
        env, server, "edu.uci.ics.abalone", [UCI + "abalone/"], files,
        "sha256:de37cdcdcaaa50c309d514f248f7c2302a5f1f88c168905eba23fe2fbc78449f",
    )
    table = prepare_local(tmp_path / "published", "edu.uci.ics.abalone", files)
    assert table.target == "rings" and table.categories is None
    assert table.columns == [
        "sex", "length", "diameter", "height", "whole_weight", "shucked_weight", "viscera_weight", "shell_weight", "rings",
    ]
    rows = table.data()
    assert rows["sex"].tolist() == ["M", "F", "I"] and rows.dtype["sex"].kind == "U"
    assert rows["rings"].tolist() == [15, 9, 7] and rows.dtype["rings"] == np.int64
    x, y = table.arrays(columns=["length", "shell_weight"])
    assert x.tolist() == [[np.float32(0.455), np.float32(0.15)], [np.float32(0.53), np.float32(0.21)],
                          [np.float32(0.33), np.float32(0.055)]]
    assert y.tolist() == [15, 9, 7]


CAR = "vhigh,vhigh,2,2,small,low,unacc\nlow,low,5more,more,big,high,vgood\nmed,low,4,4,med,med,acc\nlow,med,3,4,big,high,good\n"


def test_car_evaluation(env, server, tmp_path: Path):
    files = {"car.data": CAR.encode()}
    check_refused_download(
        env, server, "edu.uci.ics.car-evaluation", [UCI + "car/"], files,
        "sha256:b703a9ac69f11e64ce8c223c0a40de4d2e9d769f7fb20be5f8f2e8a619893d83",
    )
    table = prepare_local(tmp_path / "published", "edu.uci.ics.car-evaluation", files)
    assert table.target == "class" and table.categories == ["unacc", "acc", "good", "vgood"]
    assert table.columns == ["buying", "maint", "doors", "persons", "lug_boot", "safety", "class"]
    assert table.column("class").tolist() == [0, 3, 1, 2]
    assert table.column("doors").tolist() == ["2", "5more", "4", "3"]
    assert table.text_labels(table.column("class")) == ["unacc", "vgood", "acc", "good"]


def test_car_evaluation_short_row_is_refused(tmp_path: Path):
    files = {"car.data": b"vhigh,vhigh,2,2,small,unacc\n"}
    with pytest.raises(FormatError, match=r"car.data line 1: 6 fields, expected 7"):
        prepare_local(tmp_path / "published", "edu.uci.ics.car-evaluation", files)
