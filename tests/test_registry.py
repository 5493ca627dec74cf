"""Definitions, ids, the registry index, search and info."""

import json
import re
import subprocess
import sys

import pytest
from makefiles import write_module
from test_prepare import toy  # noqa: F401 - the fixture: a toy dataset on a loopback server

from datamaestro.errors import UnknownDatasetError
from datamaestro.registry import Registry

#: lines of ``search mnist``, whose id column is as wide as its longest id (com.github.facebookresearch.qmnist-test10k)
MNIST_LINE = "com.lecun.mnist                             The MNIST database of handwritten digits."
MNIST_CSV_LINE = (
    "com.pjreddie.mnist-csv                      "
    "MNIST in CSV: one row per image, the label then 784 pixel values."
)
FASHION_LINE = (
    "com.github.zalandoresearch.fashion-mnist    "
    "Fashion-MNIST: Zalando's article images, a drop-in replacement for MNIST."
)
#: Fashion-MNIST found alone
FASHION_ALONE = (
    "com.github.zalandoresearch.fashion-mnist  "
    "Fashion-MNIST: Zalando's article images, a drop-in replacement for MNIST."
)

IDS_MODULE = """
    from datamaestro.data.ml import Supervised
    from datamaestro.definitions import dataset

    @dataset(Supervised, tags=["toy"])
    def Default():
        "A default id."
        return {}

    @dataset(Supervised, id="renamed")
    def relative():
        "A relative id."
        return {}

    @dataset(Supervised, id="org.absolute.thing")
    def absolute():
        "An absolute id."
        return {}

    @dataset(Supervised, id="")
    def module_itself():
        "The module path as id."
        return {}
"""


def test_ids_follow_module_path_and_function_name(env):
    write_module(env.use_registry(), "org.example", IDS_MODULE)
    ids = sorted(e.id for e in Registry().entries() if e.repository != "builtin")
    assert ids == ["org.absolute.thing", "org.example", "org.example.default", "org.example.renamed"]
    for dataset_id in ids:  # the loaded definitions agree with the static index
        assert Registry().definition(dataset_id).id == dataset_id


def test_search_finds_builtin_mnists(cli):
    result = cli("search", "mnist")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    known = [FASHION_LINE, MNIST_LINE, MNIST_CSV_LINE]
    assert [line for line in lines if line in known] == known
    assert {line.split()[0] for line in lines} >= {
        "com.github.facebookresearch.qmnist", "gov.nist.emnist.mnist", "jp.ac.rois.codh.kmnist"
    }


def test_search_terms_all_match_case_insensitively(cli):
    mnist_alone = "com.lecun.mnist  The MNIST database of handwritten digits.\n"
    found = dict(re.split(r"\s{2,}", line, maxsplit=1) for line in cli("search", "MNIST", "Digits").stdout.splitlines())
    assert found["com.lecun.mnist"] == "The MNIST database of handwritten digits."
    assert found["com.pjreddie.mnist-csv"] == "MNIST in CSV: one row per image, the label then 784 pixel values."
    assert "com.github.zalandoresearch.fashion-mnist" not in found  # no "digits" in it
    assert cli("search", "tag:fashion").stdout.splitlines() == [FASHION_ALONE]
    assert cli("search", "tag:fash").returncode == 1  # tags match whole words
    assert cli("search", "id:lecun").stdout == mnist_alone


def test_search_without_match(cli):
    result = cli("search", "nothing-like-this")
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == "no dataset matches 'nothing-like-this'\n"


def test_search_unknown_field(cli):
    result = cli("search", "colour:red")
    assert result.returncode == 2
    assert result.stderr == (
        "datamaestro: error: unknown search field 'colour' "
        "(known: alias, aliases, desc, description, id, name, tag, tags, type, url)\n"
    )


def test_search_json(cli):
    result = cli("search", "--json", "tag:fashion")
    assert json.loads(result.stdout) == [
        {
            "id": "com.github.zalandoresearch.fashion-mnist",
            "name": "Fashion-MNIST",
            "description": (
                "Fashion-MNIST: Zalando's article images, a drop-in replacement for MNIST.\n\n"
                "70,000 grey-scale 28x28 images of 10 kinds of clothing (60,000 for\n"
                "training, 10,000 for test), in the same IDX format as MNIST."
            ),
            "tags": ["images", "classification", "fashion"],
            "type": "datamaestro.data.images.ImageClassification",
            "url": "https://github.com/zalandoresearch/fashion-mnist",
            "aliases": ["fashion_mnist", "fashionmnist"],
        }
    ]


def test_search_imports_a_module_once_in_another_process(env):
    import os
    import time

    marker = env.root / "imported"
    path = write_module(env.use_registry(), "org.sideeffect", f"""
        import os
        from datamaestro.data.ml import Supervised
        from datamaestro.definitions import dataset
        with open({str(marker)!r}, "a") as f:
            f.write(f"{{os.getpid()}}\\n")
        print("printed at import")

        @dataset(Supervised, tags=["quiet"])
        def thing():
            "Something with a side effect at import."
            return {{}}
    """)
    old = time.time() - 3600
    os.utime(path, (old, old))
    time.sleep(0.1)  # changed (ctime) long enough before it is indexed to be trusted after
    for _ in range(2):  # indexed, then from the cached index
        assert [(e.id, e.title) for e in Registry().search(["tag:quiet"])] == [
            ("org.sideeffect.thing", "Something with a side effect at import.")
        ]
    pids = marker.read_text().split()
    assert len(pids) == 1 and int(pids[0]) != os.getpid()
    assert not [name for name in sys.modules if name.endswith("org.sideeffect")]


@pytest.mark.parametrize(
    "term, ids",
    [
        ("id:emnist", [f"gov.nist.emnist.{s}" for s in ("balanced", "byclass", "bymerge", "digits", "letters", "mnist")]),
        ("id:imagenette", [f"com.github.fastai.imagenette{s}" for s in ("", "-160", "-320")]),
        ("id:imagewoof", [f"com.github.fastai.imagewoof{s}" for s in ("", "-160", "-320")]),
        ("tag:japanese", ["jp.ac.rois.codh.k49", "jp.ac.rois.codh.kmnist"]),
        ("id:cifar-10.1", ["com.github.modestyachts.cifar-10.1", "com.github.modestyachts.cifar-10.1-v4"]),
    ],
)
def test_families_written_as_tables_are_each_found(term, ids):
    assert [e.id for e in Registry().search([term])] == ids


def test_dynamic_definitions_are_indexed_by_running_the_module(env, cli):
    write_module(env.use_registry(), "org.generated", """
        from datamaestro.data.ml import Supervised
        from datamaestro.definitions import dataset

        for size in (10, 20):
            globals()[f"d{size}"] = dataset(Supervised, id=f"size{size}", tags=["gen"])(
                lambda: {}
            )
    """)
    result = cli("search", "tag:gen")
    assert [line.split()[0] for line in result.stdout.splitlines()] == [
        "org.generated.size10", "org.generated.size20"
    ]


def test_index_follows_edits(env, cli):
    folder = env.use_registry()
    source = """
        from datamaestro.data.ml import Supervised
        from datamaestro.definitions import dataset

        @dataset(Supervised)
        def {name}():
            "{doc}"
            return {{}}
    """
    write_module(folder, "org.edit", source.format(name="first", doc="First version."))
    assert cli("search", "id:org.edit").stdout == "org.edit.first  First version.\n"
    path = write_module(folder, "org.edit", source.format(name="second", doc="Second, longer version."))
    assert cli("search", "id:org.edit").stdout == "org.edit.second  Second, longer version.\n"
    assert (env.cache / "index.marshal").exists() and any(env.cache.glob("plugins-*.marshal"))
    path.unlink()
    assert cli("search", "id:org.edit").returncode == 1


def test_unknown_id_suggests_closest(cli):
    result = cli("info", "com.lecun.mnst")
    assert result.returncode == 2
    assert result.stderr == (
        "datamaestro: error: unknown dataset 'com.lecun.mnst'; closest ids: com.lecun.mnist\n"
    )
    assert cli("prepare", "zzz").stderr == (
        "datamaestro: error: unknown dataset 'zzz'; "
        "try 'datamaestro search' to list the known datasets\n"
    )


def test_unknown_id_in_python():
    with pytest.raises(UnknownDatasetError) as e:
        Registry().definition("com.lecun.fashion")
    assert e.value.suggestions == ["com.lecun.mnist", "com.github.zalandoresearch.fashion-mnist"]


def test_info_text_and_json(env, cli):
    result = cli("info", "com.lecun.mnist")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    where = env.data / "datasets" / "com.lecun.mnist"
    assert lines[:14] == [
        "com.lecun.mnist: MNIST",
        "type: datamaestro.data.images.ImageClassification",
        "url: http://yann.lecun.com/exdb/mnist/",
        "tags: images, classification, digits, handwriting",
        "aliases: mnist",
        "download: 11.6 MB (4 files)",
        f"prepared: no (would be stored in {where})",
        "files:",
        "  train_images.idx",
        "    url: https://ossci-datasets.s3.amazonaws.com/mnist/train-images-idx3-ubyte.gz",
        "    mirrors: http://yann.lecun.com/exdb/mnist/train-images-idx3-ubyte.gz",
        "    size: 9912422",
        "    checksum: md5:f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "  train_labels.idx",
    ]
    assert "The MNIST database of handwritten digits." in lines
    info = json.loads(cli("info", "--json", "com.lecun.mnist").stdout)
    assert info["prepared"] is False
    assert info["path"] == str(where)
    assert [f["checksum"] for f in info["files"]] == [
        "md5:f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "md5:d53e105ee54ea40749a09fcbcd1e9432",
        "md5:9fb629c4189551a2d022fa330f9573f3",
        "md5:ec29112dd5afa0611ce80d1b7f02629c",
    ]


def test_fashion_mnist_class_names():
    definition = Registry().definition("com.github.zalandoresearch.fashion-mnist")
    assert definition.function.__globals__["CATEGORIES"] == [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ]


def test_plugin_repository_through_entry_point(env, tmp_path):
    """An installed package declaring a `datamaestro.repositories` entry point."""
    site = tmp_path / "site"
    write_module(site, "myplugin.net.example", """
        from datamaestro.data.ml import Supervised
        from datamaestro.definitions import dataset

        @dataset(Supervised, tags=["plugin"])
        def corpus():
            "A dataset from a plugin package."
            return {}
    """)
    (site / "myplugin" / "__init__.py").write_text("")

    def search():
        return subprocess.run(
            [sys.executable, "-c", "from datamaestro.cli.main import main; raise SystemExit(main())",
             "search", "tag:plugin"],
            capture_output=True, text=True, env={**env_vars(), "PYTHONPATH": str(site)},
        )

    assert search().returncode == 1  # the package is there, but not installed
    dist = site / "myplugin-1.0.dist-info"  # installing it changes its sys.path folder
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: myplugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[datamaestro.repositories]\nmyplugin = myplugin\n")
    result = search()
    assert result.stdout == "net.example.corpus  A dataset from a plugin package.\n", result.stderr


def env_vars():
    import os

    return dict(os.environ)


# --- the index follows the files, and a broken module spoils nothing else ----------------

PLAIN = '''
from datamaestro.data.ml import Supervised
from datamaestro.definitions import dataset


@dataset(Supervised, tags=["many"])
def d{n}():
    """Dataset {n}{extra}."""
    return {{}}
'''

DYNAMIC = '''
from pathlib import Path
from datamaestro.data.ml import Supervised
from datamaestro.definitions import dataset

with open({marker!r}, "a") as f:
    f.write("ran\\n")
for n in (1, 2):
    globals()[f"d{{n}}"] = dataset(Supervised, id=f"gen{{n}}", tags=["many"])(lambda: {{}})
'''


def many_modules(env, count=80):
    """``count`` plain modules (more than one process scans) and one that must run; all old."""
    import os
    import time

    folder = env.use_registry()
    marker = env.root / "ran"
    for n in range(count):
        write_module(folder, f"org.many.m{n:03d}", PLAIN.format(n=n, extra=""))
    write_module(folder, "org.many.dynamic", DYNAMIC.format(marker=str(marker)))
    old = time.time() - 3600
    for path in folder.rglob("*.py"):
        os.utime(path, (old, old))
    time.sleep(0.1)  # changed (ctime) long enough before the first scan to be trusted after
    return folder, marker


def listed(cli):
    result = cli("search", "tag:many")
    assert result.returncode == 0 and result.stderr == "", result.stderr
    return [line.split()[0] for line in result.stdout.splitlines()]


def test_index_follows_edits_additions_and_deletions(env, cli):
    folder, marker = many_modules(env)
    first = listed(cli)
    assert len(first) == 82 and first[:2] == ["org.many.dynamic.gen1", "org.many.dynamic.gen2"]
    assert marker.read_text() == "ran\n"
    # An edit (same size, same modification time: the change time tells), an addition, a deletion.
    edited = folder / "org" / "many" / "m007.py"
    info = edited.stat()
    edited.write_text(edited.read_text().replace("Dataset 7.", "Changed 7."))
    import os

    os.utime(edited, ns=(info.st_atime_ns, info.st_mtime_ns))
    assert edited.stat().st_size == info.st_size
    assert cli("search", "id:m007").stdout == "org.many.m007.d7  Changed 7.\n"
    write_module(folder, "org.many.added", PLAIN.format(n="new", extra=", added"))
    assert cli("search", "added").stdout == "org.many.added.dnew  Dataset new, added.\n"
    (folder / "org" / "many" / "m050.py").unlink()
    now = listed(cli)
    assert "org.many.m050.d50" not in now and "org.many.added.dnew" in now and len(now) == 82
    # The unchanged module that must run ran once: its record was reused each time.
    assert marker.read_text() == "ran\n"


def test_two_workers_index_as_one(env, monkeypatch):
    from datamaestro import index

    many_modules(env)
    monkeypatch.setattr(index, "SHARED", 10**6)
    alone = Registry().entries()
    (env.cache / "index.marshal").unlink()
    monkeypatch.setattr(index, "SHARED", 2)
    both = Registry().entries()
    assert both == alone and len([e for e in alone if e.repository != "builtin"]) == 82


BROKEN = {
    "org.syntax": '''
from datamaestro.data.ml import Supervised
from datamaestro.definitions import dataset

@dataset(Supervised)
def thing(:
    return {}
''',
    "org.dynimport": '''
from datamaestro.data.ml import Supervised
from datamaestro.definitions import dataset
import nonexistent_package_xyz

for n in (1, 2):
    globals()[f"d{n}"] = dataset(Supervised, id=f"loop{n}")(lambda: {})
''',
    "org.raises": '''
from datamaestro.data.ml import Supervised
from datamaestro.definitions import dataset

for n in (1, 2):
    globals()[f"d{n}"] = dataset(Supervised, id=f"loop{n}")(lambda: {})
raise RuntimeError("boom")
''',
    "org.staticimport": '''
from datamaestro.data.ml import Supervised
from datamaestro.definitions import dataset
import nonexistent_package_xyz


@dataset(Supervised, tags=["imports"])
def thing():
    """Needs a missing package."""
    return {}
''',
}


def test_broken_modules_are_one_warning_each_and_spoil_nothing_else(env, cli):
    folder = env.use_registry()
    paths = {name: write_module(folder, name, source) for name, source in BROKEN.items()}
    missing = "ModuleNotFoundError: No module named 'nonexistent_package_xyz'"
    problems = {
        "org.dynimport": f"line 4: {missing}",
        "org.raises": "line 7: RuntimeError: boom",
        "org.staticimport": f"line 4: {missing}",
        "org.syntax": "line 6: SyntaxError: invalid syntax",
    }
    warnings = "".join(
        f"warning: definition module {paths[name]} {problem}; its datasets are skipped\n"
        for name, problem in problems.items()
    )
    for _ in range(2):  # indexed, then from the index (a failed module is imported again: the cause may be elsewhere)
        result = cli("search", "mnist")
        assert result.returncode == 0
        assert {FASHION_LINE, MNIST_LINE, MNIST_CSV_LINE} <= set(result.stdout.splitlines())
        assert result.stderr == warnings
    assert cli("-q", "search", "tag:imports").returncode == 1
    info = cli("-q", "info", "com.lecun.mnist")
    assert info.returncode == 0 and info.stderr == warnings
    # Loading a dataset of a broken module fails in one line naming the file and line.
    for dataset_id, module in (
        ("org.staticimport.thing", "org.staticimport"), ("org.syntax.thing", "org.syntax"), ("org.raises.loop1", "org.raises")
    ):
        result = cli("-q", "prepare", dataset_id)
        assert result.returncode == 1 and result.stdout == ""
        assert result.stderr == (
            f"{warnings}datamaestro: error: definition module {paths[module]} {problems[module]}; "
            f"'{dataset_id}' cannot be loaded\n"
        )


ENDS_ITS_PROCESS = {
    "org.exits": "import os\nos._exit(3)\n",
    "org.sysexit": "import sys\nsys.exit('bye')\n",
    "org.prints": PLAIN.format(n="p", extra="").replace("\n\n\n", "\nprint('{}'); print(1, flush=True)\n\n\n", 1),
}


def test_a_module_ending_its_process_is_one_warning(env, cli):
    folder = env.use_registry()
    paths = {name: write_module(folder, name, source) for name, source in ENDS_ITS_PROCESS.items()}
    result = cli("search", "tag:many")
    assert (result.returncode, result.stdout) == (0, "org.prints.dp  Dataset p.\n")
    assert result.stderr == (
        f"warning: definition module {paths['org.exits']} ended the process importing it (exit code 3); "
        "its datasets are skipped\n"
        f"warning: definition module {paths['org.sysexit']} ended the process importing it (exit code 1); "
        "its datasets are skipped\n"
    )


def test_malformed_ids_are_one_warning_and_duplicates_noted(env, cli):
    from datamaestro.paths import id_problem

    folder = env.use_registry()
    bad = write_module(folder, "org.bad", '''
        from datamaestro.data.ml import Supervised
        from datamaestro.definitions import dataset


        @dataset(Supervised, id="../up", tags=["ids"])
        def two():
            return {}
    ''')
    path = write_module(folder, "org.ids", '''
        from datamaestro.data.ml import Supervised
        from datamaestro.definitions import dataset


        @dataset(Supervised, id="com.lecun.mnist", tags=["ids"])
        def dup():
            """A second MNIST."""
            return {}


        @dataset(Supervised, tags=["ids"])
        def good():
            """Good one."""
            return {}
    ''')
    warning = (
        f"warning: definition module {bad} line 6: DefinitionError: two: {id_problem('../up')}; "
        "its datasets are skipped\n"
    )
    builtin = Registry().entry("com.lecun.mnist").file
    note = f"note: dataset id 'com.lecun.mnist' of {path} is also defined by {builtin}, which is used\n"
    result = cli("search", "tag:ids")
    assert (result.returncode, result.stdout) == (0, "org.ids.good  Good one.\n")
    assert result.stderr == warning + note
    # the first one
    assert cli("-q", "search", "id:com.lecun.mnist").stdout == "com.lecun.mnist  The MNIST database of handwritten digits.\n"
    assert cli("-q", "search", "tag:ids").stderr == warning  # -q: no notes
    assert cli("-q", "info", "../up").stderr.endswith(
        "datamaestro: error: unknown dataset '../up'; try 'datamaestro search' to list the known datasets\n"
    )


# --- the command line builds only what it runs -------------------------------------


@pytest.mark.parametrize(
    "argv, name",
    [
        (["search", "mnist"], "search"),
        (["-q", "search", "--json", "tag:x"], "search"),
        (["--data", "/tmp/x", "prepare", "com.lecun.mnist", "--force"], "prepare"),
        (["--data=/tmp/x", "--traceback", "info", "a.b"], "info"),
        (["--dat", "search", "search", "x"], "search"),
        (["--offline", "create-dataset", "org.x.y", "--print"], "create-dataset"),
        (["list", "-q"], "list"),
    ],
)
def test_the_named_command_alone_parses_as_the_full_parser(argv, name):
    from datamaestro.cli.main import build_parser, named_command

    module = named_command(argv)
    assert module is not None and module.NAME == name
    assert vars(build_parser(module).parse_args(argv)) == vars(build_parser().parse_args(argv))


@pytest.mark.parametrize("argv", [[], ["--help"], ["--version"], ["serch"], ["-x", "search"], ["--data"]])
def test_anything_else_gets_the_full_parser(argv):
    from datamaestro.cli.main import named_command

    assert named_command(argv) is None


IMPORTED = (
    "import sys\n"
    "from datamaestro.cli.main import main\n"
    "code = main(sys.argv[1:])\n"
    "heavy = ('requests', 'tqdm')\n"
    "print(code, ' '.join(m for m in heavy if m in sys.modules), file=sys.stderr)\n"
)


def imported(*args: str) -> str:
    import os

    result = subprocess.run(
        [sys.executable, "-c", IMPORTED, *args], capture_output=True, text=True, env=dict(os.environ)
    )
    return result.stderr.splitlines()[-1]


@pytest.mark.usefixtures("toy")
def test_search_and_prepare_of_a_prepared_dataset_import_little():
    imported("search", "mnist")  # the first run caches the plugin list
    assert imported("search", "mnist") == "0 "
    assert imported("-q", "prepare", "org.test.digits").startswith("0 ")  # downloads
    assert imported("-q", "prepare", "org.test.digits") == "0 "


LOAD_PATH = (
    "import sys, datamaestro\n"
    "data = datamaestro.prepare_dataset('org.test.digits')\n"
    "heavy = ('requests', 'tqdm', 'urllib3')\n"
    "print(type(data).__name__, data.train.images.path.name, [m for m in heavy if m in sys.modules])\n"
)


@pytest.mark.usefixtures("toy")
def test_loading_a_prepared_dataset_imports_only_what_it_needs():
    """prepare_dataset() of a prepared dataset reads the manifest and stats files: it does not
    import the HTTP machinery (requests and tqdm: about 100 ms)."""
    import os

    imported("-q", "prepare", "org.test.digits")  # downloads
    assert "DATAMAESTRO_CONFIG" not in os.environ  # the config file is found in XDG_CONFIG_HOME
    result = subprocess.run([sys.executable, "-c", LOAD_PATH], capture_output=True, text=True, env=dict(os.environ))
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == "ImageClassification train_images.idx []\n"


def test_a_damaged_index_is_rebuilt(env, cli):
    import marshal

    assert cli("search", "mnist").returncode == 0
    index = env.cache / "index.marshal"
    good = index.read_bytes()
    for damaged in (b"", good[: len(good) // 2], b"not marshal at all", marshal.dumps((4, [1], {"x": (1,)}))):
        index.write_bytes(damaged)
        result = cli("search", "mnist")
        assert (result.returncode, result.stderr) == (0, "")
        assert {FASHION_LINE, MNIST_LINE, MNIST_CSV_LINE} <= set(result.stdout.splitlines())


def test_a_module_failing_by_itself_is_imported_once_an_import_error_again(env, cli):
    """A module whose own code fails stays failed while its file is unchanged: it is not imported (nor a
    process started) on every command, but still warned of; a missing package may be installed later."""
    import os
    import time

    folder = env.use_registry()
    counter = env.root / "imported"
    source = f"with open({str(counter)!r}, 'a') as f:\n    f.write('{{}}')\n{{}}\n"
    paths = {
        "org.own": write_module(folder, "org.own", source.format("o", "raise ValueError('own')")),
        "org.missing": write_module(folder, "org.missing", source.format("m", "import nonexistent_package_xyz")),
    }
    old = time.time() - 3600
    for path in folder.rglob("*.py"):
        os.utime(path, (old, old))
    time.sleep(0.1)  # changed (ctime) long enough before the first scan to be trusted after
    warnings = (
        f"warning: definition module {paths['org.missing']} line 3: ModuleNotFoundError: "
        "No module named 'nonexistent_package_xyz'; its datasets are skipped\n"
        f"warning: definition module {paths['org.own']} line 3: ValueError: own; its datasets are skipped\n"
    )
    for _ in range(2):
        result = cli("search", "mnist")
        assert (result.returncode, result.stderr) == (0, warnings)
    assert sorted(counter.read_text()) == ["m", "m", "o"]


def test_a_module_looking_datasets_up_as_it_is_imported_is_one_warning(env):
    """A script beside the definitions that calls prepare_dataset() at its top level made each index
    worker start another, without end: it is now one broken module."""
    import os

    folder = env.use_registry()
    path = write_module(folder, "org.script", "import datamaestro\ndatamaestro.prepare_dataset('com.lecun.mnist')\n")
    result = subprocess.run(
        [sys.executable, "-m", "datamaestro", "search", "mnist"],
        capture_output=True, text=True, env=os.environ.copy(), timeout=120,  # a chain of workers fails the test
    )
    assert result.returncode == 0 and MNIST_LINE in result.stdout.splitlines()
    assert result.stderr == (
        f"warning: definition module {path} line 2: DefinitionError: a definition module may not look datasets "
        "up while it is imported (for the index); its datasets are skipped\n"
    )
