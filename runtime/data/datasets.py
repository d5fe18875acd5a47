"""Paired deblurring datasets in their published layouts, and `open_dataset`, which detects them.

Layouts (facts/datasets.md):
- `gopro`: `<root>/<split>/<SEQ>/blur|sharp/<N>.png`, paired by identical file name (or the
  `blur_gamma` folder instead of `blur`). Names are `<SEQ>-<N>` (MPRNet's flattened names).
- `realblur-j`, `realblur-r`: the official pair lists `RealBlur_{J,R}_{train,test}_list.txt` at
  the root, GT path first then blurred path, paths relative to the root. Names `<scene>_blur_<k>`.
- `hide`: blurred `test/test-close-ups/*.png`, `test/test-long-shot/*.png` or `train/*.png`; the
  sharp twin is `GT/<same name>`. `GT/` holds train and test, so a GT image without a blurred
  twin is expected and is not an error.
- `dpdd`: `<split>_c/source` (input) and `<split>_c/target`, paired by sorted order because the
  stems differ (each file is named by its own capture number). 16-bit PNGs; the bit protocol
  defaults to "8bit", the one behind the published single-image numbers.
- `folder`: `input/` + `target/` or `blur/` + `sharp/` (at the root or in `<root>/<split>/`),
  paired by identical file name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from attrs import frozen

from archc.diagnostics import unknown_name_help
from archc.errors import DataError

from .crops import TrainCrops, ValCrops, infinite_batches
from .images import BIT_PROTOCOLS, BitProtocol
from .pairs import Pair, PairedImages, Sample

__all__ = [
    "KINDS",
    "LayoutOptions",
    "PairedImages",
    "Pair",
    "Sample",
    "TrainCrops",
    "ValCrops",
    "detect_kind",
    "infinite_batches",
    "open_dataset",
    "read_pair_list",
]

PNG = (".png",)
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")
REALBLUR_FOLDERS = {
    "J": "RealBlur-J_ECC_IMCORR_centroid_itensity_ref",
    "R": "RealBlur-R_BM3D_ECC_IMCORR_centroid_itensity_ref",
}
HIDE_SUBSETS = {"close-ups": "test/test-close-ups", "long-shot": "test/test-long-shot"}
FOLDER_PAIRS = (("input", "target"), ("blur", "sharp"))


@frozen
class LayoutOptions:
    """Per-layout choices. `protocol` None means the layout's default ("8bit" for DPDD, where
    it matters, "16bit" elsewhere, where files are 8-bit and it changes nothing)."""

    gopro_blur: str = "blur"
    protocol: BitProtocol | None = None
    hide_subset: str = "all"


Loader = Callable[[Path, str, LayoutOptions], PairedImages]


def open_dataset(
    path: str | Path,
    kind: str = "auto",
    split: str = "test",
    *,
    gopro_blur: str = "blur",
    protocol: BitProtocol | None = None,
    hide_subset: str = "all",
    check_sizes: bool = True,
) -> PairedImages:
    """Open a paired dataset. `kind` is "auto" (detect) or one of `KINDS`.

    Every pair is checked now: both files exist, and (with `check_sizes`, from the PNG headers)
    have the same size. Pixels are decoded on first access and then cached.

    Raises DataError naming the folder or file for a missing folder, a blurred image without
    its sharp twin (or the reverse), different sizes, an unreadable list or header.
    """
    root = _require_dir(Path(path), "dataset folder")
    if kind == "auto":
        kind = detect_kind(root, split)
    _check_choice("dataset kind", kind, KINDS, root)
    if protocol is not None:
        _check_choice("bit protocol", protocol, BIT_PROTOCOLS, root)
    options = LayoutOptions(gopro_blur=gopro_blur, protocol=protocol, hide_subset=hide_subset)
    dataset = _LOADERS[kind](root, split, options)
    if check_sizes:
        dataset.check_sizes()
    return dataset


def detect_kind(root: Path, split: str = "test") -> str:
    """The layout of the dataset at `root` (one of `KINDS`), or DataError if none matches."""
    for kind, looks_like in _DETECTORS:
        if looks_like(root, split):
            if kind == "realblur":
                return _realblur_variant(root)
            return kind
    raise DataError(
        f"cannot tell the dataset layout of {root}",
        code="E0505",
        help="expected GoPro (<split>/<SEQ>/blur|sharp), RealBlur (RealBlur_J_test_list.txt), "
        "HIDE (GT/ + test/test-*), DPDD (<split>_c/source|target) or a folder pair "
        "(input/ + target/, blur/ + sharp/); or pass the kind explicitly",
    )


def read_pair_list(list_file: Path) -> list[tuple[str, str]]:
    """(gt, blur) relative paths from a RealBlur/SRN list file: GT first, blurred second, one
    pair per line, split on whitespace (lines end with a trailing space except the last)."""
    try:
        text = list_file.read_text()
    except OSError as exc:
        raise DataError(
            f"cannot read pair list {list_file}: {exc}",
            code="E0501",
            help="the RealBlur list files sit at the dataset root",
        ) from exc
    pairs = []
    for number, line in enumerate(text.splitlines(), start=1):
        tokens = line.split()
        if not tokens:
            continue
        if len(tokens) != 2:
            raise DataError(
                f"{list_file}:{number}: expected 'GT_PATH BLUR_PATH', got {line!r}",
                code="E0506",
                help="each line holds two paths separated by a space",
            )
        pairs.append((tokens[0], tokens[1]))
    return pairs


# --- layouts --------------------------------------------------------------------------------


def _load_gopro(root: Path, split: str, options: LayoutOptions) -> PairedImages:
    split_dir = _require_dir(root / split, f"GoPro `{split}` folder")
    sequences = [d for d in _visible(split_dir.iterdir()) if d.is_dir()]
    pairs = []
    for seq in sorted(sequences):
        blur_dir = _require_dir(seq / options.gopro_blur, "GoPro blurred folder")
        sharp_dir = _require_dir(seq / "sharp", "GoPro sharp folder")
        pairs += [Pair(f"{seq.name}-{b.stem}", b, s) for b, s in _match_names(blur_dir, sharp_dir, PNG)]
    return _dataset(pairs, "gopro", root, split, options)


def _load_realblur(variant: str) -> Loader:
    def load(root: Path, split: str, options: LayoutOptions) -> PairedImages:
        list_file = root / f"RealBlur_{variant}_{split}_list.txt"
        if not list_file.is_file():
            raise DataError(
                f"RealBlur-{variant} pair list {list_file} does not exist",
                code="E0501",
                help="the official list files sit at the dataset root",
            )
        pairs = [_realblur_pair(root, list_file, gt, blur) for gt, blur in read_pair_list(list_file)]
        return _dataset(pairs, f"realblur-{variant.lower()}", root, split, options)

    return load


def _realblur_pair(root: Path, list_file: Path, gt: str, blur: str) -> Pair:
    for rel in (gt, blur):
        if not (root / rel).is_file():
            raise DataError(
                f"{root / rel} listed in {list_file} does not exist",
                code="E0503",
                help="the dataset is incomplete or the list belongs to another copy",
            )
    scene = Path(blur).parent.parent.name
    return Pair(f"{scene}_{Path(blur).stem}", root / blur, root / gt)


def _load_hide(root: Path, split: str, options: LayoutOptions) -> PairedImages:
    gt_dir = _require_dir(root / "GT", "HIDE sharp (GT) folder")
    pairs = []
    for blur_dir in _hide_blur_dirs(root, split, options.hide_subset):
        for blur in sorted(_images(_require_dir(blur_dir, "HIDE blurred folder"), PNG)):
            sharp = gt_dir / blur.name
            if not sharp.is_file():
                raise DataError(
                    f"blurred image {blur} has no sharp twin {sharp}",
                    code="E0503",
                    help="HIDE keeps every sharp image in GT/ under the same name",
                )
            pairs.append(Pair(blur.stem, blur, sharp))
    return _dataset(pairs, "hide", root, split, options)


def _hide_blur_dirs(root: Path, split: str, subset: str) -> list[Path]:
    if split != "test":
        return [root / split]
    if subset == "all":
        return [root / rel for rel in HIDE_SUBSETS.values()]
    if subset not in HIDE_SUBSETS:
        raise DataError(
            f"unknown HIDE subset `{subset}` for {root}", code="E0507", help="use 'all', 'close-ups' or 'long-shot'"
        )
    return [root / HIDE_SUBSETS[subset]]


def _load_dpdd(root: Path, split: str, options: LayoutOptions) -> PairedImages:
    folder = root / f"{split}_c"
    sources = sorted(_images(_require_dir(folder / "source", "DPDD input folder"), PNG))
    targets = sorted(_images(_require_dir(folder / "target", "DPDD target folder"), PNG))
    if len(sources) != len(targets):
        longer = sources if len(sources) > len(targets) else targets
        extra = ", ".join(str(p) for p in longer[min(len(sources), len(targets)) :][:5])
        raise DataError(
            f"{folder / 'source'} holds {len(sources)} images but {folder / 'target'} holds "
            f"{len(targets)}; unpaired (by sorted order): {extra}",
            code="E0503",
            help="DPDD pairs source and target by sorted order; both folders need the same count",
        )
    pairs = [Pair(s.stem, s, t) for s, t in zip(sources, targets, strict=True)]
    protocol = options.protocol or "8bit"
    return PairedImages(pairs, kind="dpdd", root=root, split=split, protocol=protocol)


def _load_folder(root: Path, split: str, options: LayoutOptions) -> PairedImages:
    base = root / split if _folder_pair(root / split) else root
    found = _folder_pair(base)
    if found is None:
        raise DataError(
            f"{base} has neither input/ + target/ nor blur/ + sharp/ folders",
            code="E0501",
            help="put blurred images in input/ and sharp ones in target/",
        )
    blur_name, sharp_name = found
    blur_dir = _require_dir(base / blur_name, "blurred folder")
    sharp_dir = _require_dir(base / sharp_name, "sharp folder")
    pairs = [Pair(b.stem, b, s) for b, s in _match_names(blur_dir, sharp_dir, IMAGE_SUFFIXES)]
    return _dataset(pairs, "folder", root, split, options)


def _folder_pair(base: Path) -> tuple[str, str] | None:
    """The (blurred, sharp) folder names present in `base`; one of the two is enough to pick."""
    for blur_name, sharp_name in FOLDER_PAIRS:
        if (base / blur_name).is_dir() or (base / sharp_name).is_dir():
            return blur_name, sharp_name
    return None


_LOADERS: dict[str, Loader] = {
    "gopro": _load_gopro,
    "realblur-j": _load_realblur("J"),
    "realblur-r": _load_realblur("R"),
    "hide": _load_hide,
    "dpdd": _load_dpdd,
    "folder": _load_folder,
}
KINDS: tuple[str, ...] = tuple(_LOADERS)


# --- detection ------------------------------------------------------------------------------


def _realblur_variants(root: Path) -> list[str]:
    return [
        v
        for v, folder in REALBLUR_FOLDERS.items()
        if (root / folder).is_dir() or any(root.glob(f"RealBlur_{v}_*_list.txt"))
    ]


def _realblur_variant(root: Path) -> str:
    variants = _realblur_variants(root)
    if len(variants) > 1:
        raise DataError(
            f"{root} holds both RealBlur-J and RealBlur-R",
            code="E0505",
            help="pass kind='realblur-j' or kind='realblur-r'",
        )
    return f"realblur-{variants[0].lower()}"


def _looks_gopro(root: Path, split: str) -> bool:
    return any(
        d.is_dir() and (d / "sharp").is_dir()
        for s in ("train", "test", split)
        if (root / s).is_dir()
        for d in (root / s).iterdir()
    )


_DETECTORS: tuple[tuple[str, Callable[[Path, str], bool]], ...] = (
    ("realblur", lambda root, split: bool(_realblur_variants(root))),
    ("dpdd", lambda root, split: any((root / f"{s}_c").is_dir() for s in ("train", "val", "test"))),
    ("hide", lambda root, split: (root / "GT").is_dir()),
    ("gopro", _looks_gopro),
    ("folder", lambda root, split: bool(_folder_pair(root / split) or _folder_pair(root))),
)


# --- helpers --------------------------------------------------------------------------------


def _dataset(pairs: list[Pair], kind: str, root: Path, split: str, options: LayoutOptions) -> PairedImages:
    return PairedImages(pairs, kind=kind, root=root, split=split, protocol=options.protocol or "16bit")


def _check_choice(what: str, value: str, choices: tuple[str, ...], root: Path) -> None:
    if value in choices:
        return
    raise DataError(
        f"unknown {what} `{value}` for {root}",
        code="E0507",
        help=unknown_name_help(value, choices, f"choose one of: {', '.join(choices)}", always=True),
    )


def _require_dir(path: Path, what: str) -> Path:
    if not path.is_dir():
        state = "is a file, not a folder" if path.exists() else "does not exist"
        raise DataError(
            f"{what} {path} {state}", code="E0501", help="check the dataset path, the split name and the layout"
        )
    return path


def _visible(paths: Iterable[Path]) -> list[Path]:
    """Entries not starting with '.' (hidden files, and `.NAME.tmp` files of atomic writes)."""
    return [p for p in paths if not p.name.startswith(".")]


def _images(folder: Path, suffixes: tuple[str, ...]) -> list[Path]:
    return [p for p in _visible(folder.iterdir()) if p.is_file() and p.suffix.lower() in suffixes]


def _match_names(blur_dir: Path, sharp_dir: Path, suffixes: tuple[str, ...]) -> list[tuple[Path, Path]]:
    """(blur, sharp) files with identical names in the two folders, sorted by name; a file
    without its twin raises DataError naming it and the folder where the twin should be."""
    blurs = {p.name: p for p in _images(blur_dir, suffixes)}
    sharps = {p.name: p for p in _images(sharp_dir, suffixes)}
    _report_orphans(sorted(blurs.keys() - sharps.keys()), blur_dir, sharp_dir, "blurred", "sharp")
    _report_orphans(sorted(sharps.keys() - blurs.keys()), sharp_dir, blur_dir, "sharp", "blurred")
    return [(blurs[name], sharps[name]) for name in sorted(blurs)]


def _report_orphans(names: list[str], have: Path, lack: Path, what: str, twin: str) -> None:
    if not names:
        return
    more = f" (and {len(names) - 1} more)" if len(names) > 1 else ""
    raise DataError(
        f"{what} image {have / names[0]} has no {twin} twin {lack / names[0]}{more}",
        code="E0503",
        help=f"every {what} image needs a {twin} image of the same name",
    )
