"""Image folders (one sub-folder a class), read as a stream: no copy on disk, none as float.

:func:`load_image_folder` lists the files, reads the headers of a sample of them (never every
image) to choose one size and one colour mode, splits the files (seeded, stratified) and
fingerprints the folder (each file's path, size and modification time), so a search's
directory records the folder by path and :func:`check_fingerprint` can say in a sentence when
it changed or is gone. Nothing is decoded yet.

Training reads the files through :func:`image_stream`, a ``keras.utils.PyDataset`` that
decodes a batch's files with PIL in worker threads, as uint8 (N, H, W, C) (the model's first
layer rescales), and caches the decoded images in one uint8 array where it fits in memory
(``CACHE_SHARE`` of the memory available), so later epochs and trials read no file. Rules (the
user's guide, docs/guide/data.md, promises them):

- **Sizes**: every image is read at the size most of the sampled ones have; an image of
  another size is resized to it (bilinear), and the search says so once.
- **Colour**: grayscale (1 channel) when every sampled image is grayscale, else RGB.
- **A corrupt or unreadable image** is skipped, named in a warning (the first few by name);
  the other images train as usual.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._util import short_list, slug
from ..errors import DataError
from .dataset import SPEC_VERSION, Dataset, existing_path, kind_name
from .labels import split_indices

log = logging.getLogger("automl_nb")

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif")
GRAY_MODES = {"1", "L", "LA", "I", "I;16", "F"}
#: How many images' headers decide the size and the colour mode (plus each class's first).
SAMPLE = 64
#: The share of the memory available that the decoded-image cache may take.
CACHE_SHARE = 0.5
#: How many skipped images a warning names (the rest are counted).
NAMED = 3


@dataclass(eq=False)
class ImageFiles:
    """Image files with their class codes, read as uint8 images of one size.

    Attributes: ``paths`` (absolute, as str), ``codes`` (int64 class indices), ``size``
    ((height, width)), ``channels`` (1 or 3). The decoded images are cached here once read,
    for every later epoch and trial in this process.
    """

    paths: list[str]
    codes: np.ndarray
    size: tuple[int, int]
    channels: int
    _cache: np.ndarray | None = field(default=None, repr=False)
    _cached: np.ndarray | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __len__(self) -> int:
        return len(self.paths)

    @property
    def shape(self) -> tuple[int, int, int]:
        return (self.size[0], self.size[1], self.channels)

    @property
    def nbytes(self) -> int:
        """The size of all the images decoded, as uint8."""
        return len(self.paths) * math.prod(self.shape)

    def subset(self, index: np.ndarray) -> ImageFiles:
        return ImageFiles([self.paths[i] for i in index], self.codes[index], self.size, self.channels)

    def __add__(self, other: ImageFiles) -> ImageFiles:
        return ImageFiles(self.paths + other.paths, np.concatenate([self.codes, other.codes]),
                          self.size, self.channels)

    def image(self, i: int) -> np.ndarray | None:
        """Image ``i`` as uint8 (H, W, C), from the cache or the file; None if it cannot be read."""
        cache = self._cache_array()
        if cache is not None and self._cached[i]:
            return cache[i]
        pixels = read_image(self.paths[i], self.size, self.channels)
        if pixels is not None and cache is not None:
            cache[i] = pixels
            self._cached[i] = True
        return pixels

    def _cache_array(self) -> np.ndarray | None:
        if self._cached is None:
            with self._lock:
                if self._cached is None:
                    if self.nbytes <= CACHE_SHARE * available_memory():
                        self._cache = np.empty((len(self.paths), *self.shape), dtype=np.uint8)
                    self._cached = np.zeros(len(self.paths), dtype=bool)
        return self._cache


_warned: set[str] = set()
_warned_lock = threading.Lock()


def read_image(path: str, size: tuple[int, int], channels: int) -> np.ndarray | None:
    """One image file as uint8 (H, W, C) of ``size``; None (and a warning) if unreadable."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            im.seek(0)
            im = im.convert("L" if channels == 1 else "RGB")
            if (im.height, im.width) != tuple(size):
                im = im.resize((size[1], size[0]), Image.BILINEAR)
            pixels = np.asarray(im, dtype=np.uint8)
    except Exception as exc:  # noqa: BLE001 - PIL raises many kinds for a broken file
        _skip(path, exc)
        return None
    return pixels.reshape(size[0], size[1], channels)


def _skip(path: str, exc: BaseException) -> None:
    with _warned_lock:
        if path in _warned:
            return
        _warned.add(path)
        n = len(_warned)
    if n <= NAMED:
        log.warning("skipped image %r: it cannot be read (%s)", path, str(exc).strip() or type(exc).__name__)
    elif n == NAMED + 1:
        log.warning("skipping more images that cannot be read; they are counted, not named")


def skipped_images() -> list[str]:
    """Every image file skipped so far in this process because it could not be read."""
    with _warned_lock:
        return sorted(_warned)


def available_memory() -> int:
    """Bytes of memory available (Linux's MemAvailable; else a quarter of physical memory)."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 4
    except (ValueError, OSError, AttributeError):
        return 1 << 30


# ---------------------------------------------------------------------------------------------
# the folder


def load_image_folder(
    folder: Path, validation: Any, seed: int | None, split: float
) -> Dataset:
    files, class_names, stamp = list_folder(folder, "data")
    size, channels = choose_format(files.paths, folder)
    files.size, files.channels = size, channels
    source: dict[str, Any] = {
        "kind": "images", "path": str(folder.resolve()), "fingerprint": stamp,
        "seed": seed, "validation_split": split, "validation": None,
    }
    if validation is None:
        train, val = split_indices(len(files), files.codes, seed, split)
        x_train, x_val = files.subset(train), files.subset(val)
    else:
        if not isinstance(validation, (str, os.PathLike)):
            raise DataError(
                "validation must be an image folder with the same class sub-folders when data "
                f"is an image folder; got {kind_name(validation)}"
            )
        val_folder = existing_path(validation, "validation")
        if not val_folder.is_dir():
            raise DataError(
                f"validation {str(validation)!r} is a file; pass an image folder with the same "
                "class sub-folders as data"
            )
        x_val, _, val_stamp = list_folder(val_folder, "validation", classes=class_names)
        x_val.size, x_val.channels = size, channels
        x_train = files
        source["validation"] = str(val_folder.resolve())
        source["validation_fingerprint"] = val_stamp
    shape = [size[0], size[1], channels]
    spec = {
        "version": SPEC_VERSION, "inputs": "array", "shape": shape, "dtype": "uint8",
        "features_shape": shape, "scale": 1.0 / 255.0, "normalize": None, "target": None,
    }
    return Dataset(
        name=slug(folder.resolve().name or "images"), family="image", task="classification",
        x_train=x_train, y_train=x_train.codes, x_val=x_val, y_val=x_val.codes,
        class_names=class_names, feature_names=None, preprocessing=spec, label_dtype="str",
        source=source,
    )


def scan(folder: Path) -> list[tuple[str, list[tuple[str, os.stat_result]]]]:
    """Each class sub-folder's name and its image files with their stat, sorted (one stat a file)."""
    found = []
    for sub in sorted((p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")),
                      key=lambda p: p.name):
        images = []
        base = os.path.abspath(sub) + os.sep
        with os.scandir(sub) as entries:
            for entry in entries:
                name = entry.name
                if name.startswith(".") or not name.lower().endswith(IMAGE_EXTENSIONS):
                    continue
                try:
                    if not entry.is_file():
                        continue
                    images.append((base + name, entry.stat()))
                except OSError:  # gone while we looked
                    continue
        found.append((sub.name, sorted(images, key=lambda item: item[0])))
    return found


def list_folder(
    folder: Path, arg: str, classes: list[str] | None = None
) -> tuple[ImageFiles, list[str], dict[str, Any]]:
    """The image files of a folder's class sub-folders (sorted), the class names and the
    folder's :func:`fingerprint`."""
    shown = str(folder)
    scanned = scan(folder)
    if not scanned:
        raise DataError(
            f"{arg}: image folder {shown!r} has no class sub-folders; put each class's images "
            f"in its own sub-folder, e.g. {shown}/cat/1.png and {shown}/dog/1.png"
        )
    found = [(name, [path for path, st in images if st.st_size > 0]) for name, images in scanned]
    for _, images in scanned:
        for path, st in images:
            if st.st_size == 0:
                _skip(path, OSError("the file is empty"))
    extensions = ", ".join(IMAGE_EXTENSIONS)
    if not any(images for _, images in found):
        raise DataError(
            f"{arg}: image folder {shown!r} holds no images ({extensions}) in its class "
            "sub-folders; put each class's images in its own sub-folder"
        )
    if classes is None:
        empty = [name for name, images in found if not images]
        if empty:
            raise DataError(
                f"{arg}: class folder {shown}/{empty[0]} holds no images ({extensions}); add "
                "images to it or remove it"
            )
        class_names = [name for name, _ in found]
        if len(class_names) < 2:
            raise DataError(
                f"{arg}: image folder {shown!r} has a single class {class_names[0]!r}; "
                "classification needs at least two class sub-folders"
            )
    else:
        class_names = classes
        unknown = [name for name, images in found if images and name not in classes]
        if unknown:
            raise DataError(
                f"{arg}: class folder {shown}/{unknown[0]} is not a class of data; its class "
                f"sub-folders must be among: {short_list(classes)}"
            )
    index = {name: i for i, name in enumerate(class_names)}
    paths = [p for _, images in found for p in images]
    codes = np.array([index[name] for name, images in found for _ in images], dtype=np.int64)
    return ImageFiles(paths, codes, (0, 0), 0), class_names, _digest(folder, scanned)


def choose_format(paths: list[str], folder: Path) -> tuple[tuple[int, int], int]:
    """The (height, width) most sampled images have, and 1 or 3 channels, from their headers."""
    from PIL import Image

    step = max(1, len(paths) // SAMPLE)
    sample = sorted(set(range(0, len(paths), step)))
    sizes: Counter = Counter()
    gray = True
    broken: list[tuple[str, BaseException]] = []
    for i in sample:
        try:
            with Image.open(paths[i]) as im:
                sizes[(im.height, im.width)] += 1
                gray = gray and im.mode in GRAY_MODES
        except Exception as exc:  # noqa: BLE001 - a broken file: skipped (once others are good)
            broken.append((paths[i], exc))
    if not sizes:
        raise DataError(
            f"data: none of the images sampled in {str(folder)!r} can be read (for instance "
            f"{paths[0]!r}); check that they are PNG or JPEG files"
        )
    for path, exc in broken:
        _skip(path, exc)
    (size, _), *others = sizes.most_common()
    if others:
        other = others[0][0]
        log.warning(
            "the images in %r are not all one size (%dx%d and %dx%d among others); each is "
            "read at %dx%d, the most common, resized when it differs", str(folder), size[1],
            size[0], other[1], other[0], size[1], size[0],
        )
    return size, 1 if gray else 3


# ---------------------------------------------------------------------------------------------
# fingerprints: has the folder changed since the search started?


def fingerprint(folder: Path) -> dict[str, Any]:
    """How many image files a folder's class sub-folders hold, their bytes, and a digest of
    their paths, sizes and modification times (no file is read)."""
    return _digest(folder, scan(folder))


def _digest(folder: Path, scanned: list[tuple[str, list[tuple[str, os.stat_result]]]]) -> dict[str, Any]:
    digest = hashlib.sha1()
    files = total = 0
    start = len(os.path.abspath(folder)) + 1
    for _, images in scanned:
        for path, st in images:
            files += 1
            total += st.st_size
            digest.update(f"{path[start:]}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return {"files": files, "bytes": total, "digest": digest.hexdigest()}


def check_fingerprint(path: str, saved: dict[str, Any], what: str = "image folder") -> None:
    """Raise :class:`DataError` with a sentence when the folder is gone or has changed."""
    folder = Path(path)
    if not folder.is_dir():
        raise DataError(
            f"the {what} {path!r} this search trained on is gone; its trials are shown, but to "
            "train again put the folder back at that path"
        )
    now = fingerprint(folder)
    if now["digest"] != saved.get("digest"):
        raise DataError(
            f"the {what} {path!r} changed since the search started (it held {saved.get('files')} "
            f"images, {saved.get('bytes')} bytes; it holds {now['files']}, {now['bytes']} bytes, "
            "or files were modified); its trials are shown, but to train on the new images "
            "start a new search"
        )


# ---------------------------------------------------------------------------------------------
# the stream


def image_stream(files: ImageFiles, batch_size: int, *, shuffle: bool, seed: int | None,
                 workers: int | None = None) -> Any:
    """A ``keras.utils.PyDataset`` of (uint8 images, class codes) batches, decoded in threads."""
    return _stream_class()(files, batch_size, shuffle=shuffle, seed=seed,
                           workers=workers or max(1, min(4, os.cpu_count() or 1)))


_STREAM: list[type] = []


def _stream_class() -> type:
    if _STREAM:
        return _STREAM[0]
    import keras

    class ImageStream(keras.utils.PyDataset):
        """Batches of an :class:`ImageFiles`, in a seeded order reshuffled every epoch."""

        def __init__(self, files: ImageFiles, batch_size: int, *, shuffle: bool,
                     seed: int | None, workers: int):
            super().__init__(workers=workers, use_multiprocessing=False, max_queue_size=8)
            self.files, self.batch_size, self.shuffle = files, int(batch_size), shuffle
            self.rng = np.random.default_rng(seed)
            self.order = self.rng.permutation(len(files)) if shuffle else np.arange(len(files))

        def __len__(self) -> int:
            return math.ceil(len(self.files) / self.batch_size)

        def __getitem__(self, index: int):
            chosen = self.order[index * self.batch_size:(index + 1) * self.batch_size]
            images, labels = [], []
            for i in chosen:
                pixels = self.files.image(int(i))
                if pixels is not None:
                    images.append(pixels)
                    labels.append(self.files.codes[i])
            if not images:
                raise DataError(
                    "none of the images of a batch can be read (for instance "
                    f"{self.files.paths[int(chosen[0])]!r}); remove the broken files"
                )
            return np.stack(images), np.asarray(labels, dtype=np.int64)

        def on_epoch_end(self) -> None:
            if self.shuffle:
                self.order = self.rng.permutation(len(self.files))

    _STREAM.append(ImageStream)
    return ImageStream


def read_images(paths: list[str], size: tuple[int, int], channels: int) -> np.ndarray:
    """Image files as one uint8 (N, H, W, C) array (for predictions); a file that cannot be
    read is an error naming it."""
    out = np.empty((len(paths), size[0], size[1], channels), dtype=np.uint8)
    for i, path in enumerate(paths):
        pixels = read_image(path, size, channels)
        if pixels is None:
            raise DataError(f"image {path!r} cannot be read; pass PNG or JPEG files")
        out[i] = pixels
    return out


def image_paths(data: Any) -> list[str] | None:
    """The image files ``data`` names (a file, a folder, or a list of them), else None."""
    if isinstance(data, (str, os.PathLike)):
        items: list[Any] = [data]
    elif isinstance(data, (list, tuple)) and data and all(isinstance(d, (str, os.PathLike)) for d in data):
        items = list(data)
    else:
        return None
    paths: list[str] = []
    for item in items:
        path = Path(item)
        if path.is_dir():
            paths.extend(sorted(str(p) for p in path.rglob("*")
                                if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS))
        elif path.is_file():
            paths.append(str(path))
        else:
            raise DataError(f"{str(item)!r} is not an image file or a folder of images")
    return paths
