"""An experimaestro task for tests/test_experimaestro.py: it sums the arrays of a dataset split.

It lives in its own module so that the task's process (started by
experimaestro's launcher) imports it without the test's fixtures.
"""

import json
from pathlib import Path

from experimaestro import Meta, Param, PathGenerator, Task, field

from datamaestro.experimaestro import DatasetConfig


class SumSplit(Task):
    """Count the items of a split and sum its labels and pixels, into ``result.json``."""

    data: Param[DatasetConfig]
    result: Meta[Path] = field(default_factory=PathGenerator("result.json"))

    def execute(self) -> None:
        split = self.data.load()
        images, labels = split.images.data(), split.labels.data()
        summary = {"count": int(len(labels)), "labels": int(labels.sum()), "pixels": int(images.sum(dtype="uint64"))}
        self.result.write_text(json.dumps(summary))
