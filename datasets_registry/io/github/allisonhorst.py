"""Allison Horst's palmerpenguins: the Palmer Station penguin measurements (github.com/allisonhorst/palmerpenguins).

``penguins.csv`` (the package's ``inst/extdata``) is comma-separated with a
header row ``species,island,bill_length_mm,bill_depth_mm,flipper_length_mm,
body_mass_g,sex,year``; a missing value is the literal ``NA``. It is
converted once, at prepare time, into a typed table.

Checksum: the sha256 and size were computed from the repository's git
snapshot at commit 8957207b (2024-09-19; the file last changed in 2020), the
commit the URL is pinned to; the package publishes none, and TensorFlow
Datasets' copies of these penguins are other files (other columns). 344 rows:
152 Adelie, 68 Chinstrap, 124 Gentoo.
"""

from pathlib import Path

from datamaestro.data.table import Table
from datamaestro.definitions import dataset
from datamaestro.download.derived import derived
from datamaestro.download.packing import Limits
from datamaestro.download.single import filedownloader
from datamaestro.formats.table import Column, save_table, table_from

COMMIT = "8957207b78d6ccd1b4654a9dd9c9041b657478ab"
HOMEPAGE = "https://allisonhorst.github.io/palmerpenguins/"
SPECIES = ["Adelie", "Chinstrap", "Gentoo"]
HEADER = ["species", "island", "bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g", "sex", "year"]
COLUMNS = [
    Column("species", "label"), Column("island", "str"), Column("bill_length_mm"), Column("bill_depth_mm"),
    Column("flipper_length_mm"), Column("body_mass_g"), Column("sex", "str"), Column("year", "int"),
]

PENGUINS_FILE = filedownloader(
    "penguins.csv",
    f"https://raw.githubusercontent.com/allisonhorst/palmerpenguins/{COMMIT}/inst/extdata/penguins.csv",
    checksum="sha256:f204db2c753b0937caac3cb35258562c14f073e4bbc76be24b4c51ce22767a93", size=15241,
)


def _penguins(penguins: Path, out: Path, limits: Limits) -> None:
    """Convert penguins.csv (after checking its header) into a typed table."""
    save_table(out, "penguins", table_from(penguins, COLUMNS, SPECIES, ",", HEADER, limits.max_bytes))


@PENGUINS_FILE
@derived("table", _penguins, PENGUINS_FILE)
@dataset(
    Table, id="palmerpenguins", name="Palmer Penguins", aliases=["penguins", "palmerpenguins", "palmer_penguins"], url="https://github.com/allisonhorst/palmerpenguins",
    homepage=HOMEPAGE, tags=["tabular", "classification", "animals"], license="CC0-1.0", citation="""@Manual{horst2020palmerpenguins,
  title = {palmerpenguins: Palmer Archipelago (Antarctica) penguin data},
  author = {Allison Marie Horst and Alison Presmanes Hill and Kristen B Gorman},
  year = {2020},
  note = {R package version 0.1.0},
  doi = {10.5281/zenodo.3960218},
  url = {https://allisonhorst.github.io/palmerpenguins/}
}""",
)
def palmerpenguins(penguins, table):
    """Palmer Penguins: 344 penguins of 3 species from 3 islands of the Palmer Archipelago, Antarctica.

    Columns species (label 0-2: Adelie, Chinstrap, Gentoo), island (string),
    bill_length_mm, bill_depth_mm, flipper_length_mm, body_mass_g (float64,
    NaN where the published value is NA), sex (string: male, female or NA)
    and year (int64, 2007 to 2009). A friendly alternative to Iris.
    """
    return {"path": table / "penguins.npy", "target": "species", "categories": SPECIES}
