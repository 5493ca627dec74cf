"""MkDocs hook: the dataset catalog, generated from the built-in registry at build time.

One page per dataset (``catalog/<id>.md``: description, how to get it,
license, files and checksums, citation) and, in ``catalog/index.md``, an
index by tag in place of the marker. Where the real files of a dataset are
on the build machine (Debian's ``dataset-fashion-mnist`` package), the page
also shows its splits and a grid of real samples; nothing else is invented.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Any, Optional

MARKER = "<!-- catalog-index -->"
FOLDER = "catalog"
#: dataset id -> folder holding a copy of its published files, used when present
LOCAL_COPIES = {"com.github.zalandoresearch.fashion-mnist": Path("/usr/share/datasets/fashion-mnist")}
SAMPLES = 16

log = logging.getLogger("mkdocs.hooks.catalog")
_index: list[tuple[str, str, list[str], str]] = []


def builtin_definitions() -> list[Any]:
    """The built-in definitions, sorted by id (other repositories are not documented here)."""
    from datamaestro.registry import Registry
    from datamaestro.repositories import repositories

    registry = Registry([r for r in repositories() if r.name == "builtin"])
    return sorted((registry.definition(i) for i in registry.ids()), key=lambda d: d.id)


def on_files(files: Any, config: Any, **kwargs: Any) -> Any:
    from mkdocs.structure.files import File

    _index.clear()
    for definition in builtin_definitions():
        facts, sample = real_data_facts(definition)
        image = None
        if sample is not None:
            image = f"{definition.id}.png"
            files.append(File.generated(config, f"{FOLDER}/images/{image}", content=sample))
        files.append(File.generated(config, f"{FOLDER}/{definition.id}.md", content=dataset_page(definition, facts, image)))
        _index.append((definition.id, definition.name, list(definition.tags), download_size(definition)["text"]))
    return files


def on_page_markdown(markdown: str, page: Any, **kwargs: Any) -> str:
    if MARKER not in markdown:
        return markdown
    return markdown.replace(MARKER, tag_index(_index))


def tag_index(entries: list[tuple[str, str, list[str], str]]) -> str:
    """Markdown: every dataset with its download size, then the datasets of each tag."""
    lines = ["## All datasets", "", "| Dataset | Id | Download |", "|---|---|---|"]
    lines += [f"| [{name}]({i}.md) | `{i}` | {size} |" for i, name, _, size in entries]
    tags = sorted({t for _, _, tags, _ in entries for t in tags})
    lines += ["", "## By tag", ""]
    lines.append(" · ".join(f"[{t}](#tag-{t})" for t in tags))
    for tag in tags:
        lines += ["", f"### Tag: {tag}", ""]  # the anchor is #tag-<tag>
        lines += [f"- [{name}]({i}.md) (`{i}`)" for i, name, t, _ in entries if tag in t]
    return "\n".join(lines) + "\n"


def download_size(definition: Any) -> dict[str, Any]:
    """The download facts ``info`` gives (files, bytes, unknown sizes, text)."""
    from datamaestro.cli.commands.info import download_size as size_of

    return size_of(definition)


def dataset_page(definition: Any, facts: Optional[dict[str, Any]], image: Optional[str]) -> str:
    """The Markdown page of one dataset."""
    from datamaestro.cli.commands.info import verification

    d = definition
    lines = [f"# {d.name}", "", f"`{d.id}`", "", d.description.strip(), ""]
    lines += ["| | |", "|---|---|", f"| Type | `{d.type_name}` |"]
    if d.homepage:
        lines.append(f"| Homepage | <{d.homepage}> |")
    lines.append(f"| License | {d.license or 'not stated in the definition'} |")
    if d.tags:
        lines.append("| Tags | " + ", ".join(f"[{t}](index.md#tag-{t})" for t in d.tags) + " |")
    lines.append(f"| Download | {download_size(d)['text']} |")
    lines += [
        "",
        "## Get it",
        "",
        "```python",
        "from datamaestro.api import prepare_dataset",
        "",
        f'ds = prepare_dataset("{d.id}")',
        "```",
        "",
        "```sh",
        f"datamaestro prepare {d.id}",
        "```",
        "",
    ]
    if facts:
        lines += ["## Splits", "", "| Split | Examples | Shape | Type |", "|---|---|---|---|"]
        for name, stats in facts.items():
            shape = " x ".join(str(n) for n in stats["image_shape"])
            lines.append(f"| {name} | {stats['count']:,} | {shape} | {stats['image_dtype']} |")
        lines += ["", "Computed at build time from the real files.", ""]
    if image:
        lines += [f"![{SAMPLES} training images of {d.name} with their labels](images/{image})", ""]
    lines += ["## Files", "", "| File | From | Verified by |", "|---|---|---|"]
    for resource in d.resources:
        described = resource.describe()
        where = described.get("url")
        origin = f"<{where}>" if where else ""
        mirrors = described.get("mirrors") or []
        if mirrors:
            origin += "<br>mirrors: " + ", ".join(f"<{m}>" for m in mirrors)
        if "derived_from" in described:
            origin = "converted from " + ", ".join(f"`{s}`" for s in described["derived_from"])
        lines.append(f"| `{resource.name}` | {origin} | {verification(resource)} |")
    if d.citation:
        lines += ["", "## Citation", "", "```bibtex", d.citation, "```"]
    return "\n".join(lines) + "\n"


def real_data_facts(definition: Any) -> tuple[Optional[dict[str, Any]], Optional[bytes]]:
    """(split statistics, PNG of samples) from a local copy of the published files, if there is one."""
    source = LOCAL_COPIES.get(definition.id)
    if source is None or not source.is_dir():
        return None, None
    from datamaestro.config import load_settings
    from datamaestro.download.context import Request
    from datamaestro.errors import DatamaestroError
    from datamaestro.splits import arrays_of, categories_of, split_stats, splits_of

    with tempfile.TemporaryDirectory(prefix="datamaestro-catalog-") as tmp:
        settings = load_settings(tmp)
        try:
            data = definition.prepare(settings, Request(quiet=True, source_dir=source))
            splits = splits_of(data)
            facts = {name: split_stats(split, categories_of(data, split)) for name, split in splits.items()}
            images, labels = arrays_of(splits["train"])
            png = sample_grid(images[:SAMPLES], labels[:SAMPLES] if labels is not None else None, categories_of(data, splits["train"]))
        except (DatamaestroError, OSError, ImportError) as e:
            log.info("catalog: no samples for %s (%s)", definition.id, e)
            return None, None
    return facts, png


def sample_grid(images: Any, labels: Any, categories: Optional[list[str]]) -> bytes:
    """A PNG grid of ``images`` titled with their labels (needs Pillow)."""
    import io

    from datamaestro.viz.grid import show_images

    buffer = io.BytesIO()
    show_images(images, labels, ncols=8, categories=categories).save(buffer, format="PNG")
    return buffer.getvalue()
