"""Run by a python with Datumaro (env DATUMARO_PYTHON): import a detection layout and print it as JSON.

``python datumaro_dump.py import PATH FORMAT`` prints what Datumaro reads;
``python datumaro_dump.py export PATH FORMAT OUT [OUT_FORMAT]`` has Datumaro
write its own import of PATH in OUT_FORMAT (default FORMAT) to OUT (with images). The JSON is the normalised form
that ``detection_compare.summary`` gives for datamaestro's reading.
"""

import json
import sys


def summary(dataset):
    from datumaro.components.annotation import AnnotationType

    names = [c.name for c in dataset.categories().get(AnnotationType.label, [])]
    items = {}
    for item in dataset:
        boxes, polygons, masks, labels = [], [], [], []
        for ann in item.annotations:
            kind = ann.type.name
            name = names[ann.label] if getattr(ann, "label", None) is not None else ""
            attrs = ann.attributes
            flags = [bool(attrs.get(k, False)) for k in ("difficult", "truncated", "occluded", "is_crowd")]
            if kind == "bbox":
                boxes.append([name, *[round(v, 3) for v in (ann.x, ann.y, ann.x + ann.w, ann.y + ann.h)], *flags])
            elif kind == "polygon":
                polygons.append([name, [round(v, 3) for v in ann.points]])
            elif kind == "mask":
                masks.append([name, int((ann.image != 0).sum())])
            elif kind == "label":
                labels.append(name)
        size = media_size(item.media)
        items[f"{item.subset}/{item.id}"] = {
            "size": size, "labels": sorted(labels), "boxes": sorted(boxes), "polygons": sorted(polygons),
            "masks": sorted(masks),
        }
    return items


def media_size(media):
    """The image size Datumaro knows or reads from the image file (None without either)."""
    try:
        return list(media.size) if media is not None and media.size else None
    except Exception:  # no file: Datumaro cannot tell
        return None


def main():
    import datumaro as dm

    command, path, fmt = sys.argv[1:4]
    dataset = dm.Dataset.import_from(path, fmt)
    if command == "export":
        dataset.export(sys.argv[4], sys.argv[5] if len(sys.argv) > 5 else fmt, save_media=True)
    else:
        print(json.dumps(summary(dataset)))


if __name__ == "__main__":
    main()
