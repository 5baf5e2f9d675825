"""Saving generated images the way A1111 does (see the compatibility reference, sections 3.1 and 6.2).

Images: <folder>/<NNNNN>-<decoration><suffix>.<ext> (the decoration is the seed unless the caller names
it from the file name pattern; without the number, a name already taken gets '-1', '-2', ... so nothing
is overwritten); grids: <folder>/grid-<NNNN>.<ext>. NNNNN is the highest number already in the folder
+ 1. The infotext goes into the PNG text chunk 'parameters', or for JPEG and WebP into EXIF UserComment
as A1111 writes it ('UNICODE\0' then UTF-16-BE); read_png_infotext reads all three back. Which
format, quality, folder and pattern a run uses is modules/generation/save_options.py's business.

Writing is atomic (the image is written to '<name>.tmp' and renamed) and safe with concurrent
callers, in one process or several: a number is reserved by creating '<prefix><NNNNN>.lock' with
O_EXCL, so two callers never get the same number, and a half-written file never appears under its
final name. No module-level state.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from PIL import Image
from PIL.PngImagePlugin import PngInfo

from modules.messages import msg

log = logging.getLogger(__name__)

INFOTEXT_KEY = "parameters"
IMAGE_DIGITS = 5
GRID_DIGITS = 4
GRID_PREFIX = "grid-"
LOCK_EXT = ".lock"
TMP_EXT = ".tmp"
MAX_ATTEMPTS = 1000
EXIF_IFD = 0x8769
EXIF_USER_COMMENT = 0x9286
UNICODE_PREFIX = b"UNICODE\0"  # EXIF character code of a UTF-16 UserComment (big-endian, as piexif writes it)
MAX_EXIF_BYTES = 65_000  # a JPEG APP1 segment holds 65,533 bytes


@dataclass(frozen=True)
class FileFormat:
    """How to write an image: extension ('png', 'jpg', 'webp'), JPEG/WebP quality, lossless WebP, and
    whether the infotext goes into the file (A1111's enable_pnginfo)."""

    extension: str = "png"
    quality: int = 80
    lossless: bool = False
    infotext: bool = True

    @property
    def pillow(self) -> str:
        return {"jpg": "JPEG", "jpeg": "JPEG", "webp": "WEBP"}.get(self.extension, "PNG")


PNG = FileFormat()
MAX_SIDE = {"JPEG": 65_535, "WEBP": 16_383}  # larger images are written as PNG instead


def dated_folder(root: Path, kind: str, when: datetime.date | None = None) -> Path:
    """root/kind/YYYY-MM-DD, e.g. outputs/txt2img-images/2024-07-27 (not created here)."""
    day = when or datetime.date.today()
    return Path(root) / kind / day.strftime("%Y-%m-%d")


def next_number(folder: Path, prefix: str = "") -> int:
    """Highest number N among files named '<prefix>N', '<prefix>N-...' or '<prefix>N.ext', plus 1.

    Like A1111's get_next_sequence_number: unrelated files are ignored; 0 for an empty folder.
    Reservation locks and leftover temp files count, so their numbers are never reused; so do folders
    (as in A1111: a dated sub-folder 2024-07-27 beside the images counts as 2024).
    """
    pattern = re.compile(re.escape(prefix) + r"(\d+)(?=[-.]|$)")
    highest = -1
    try:
        names = os.listdir(folder)
    except FileNotFoundError:
        return 0
    for name in names:
        match = pattern.match(name)
        if match:
            highest = max(highest, int(match.group(1)))
    return highest + 1


def _number_used_elsewhere(folder: Path, prefix: str, number: int, own_lock: str) -> bool:
    pattern = re.compile(re.escape(prefix) + r"(\d+)(?=[-.]|$)")
    for name in os.listdir(folder):
        match = pattern.match(name)
        if match and int(match.group(1)) == number and name != own_lock:
            return True
    return False


@contextlib.contextmanager
def _reserved_number(folder: Path, prefix: str, digits: int) -> Iterator[str]:
    """Yield a free number (formatted) that no other caller holds until the block ends."""
    for _ in range(MAX_ATTEMPTS):
        number = next_number(folder, prefix)
        text = f"{number:0{digits}d}"
        lock = folder / f"{prefix}{text}{LOCK_EXT}"
        try:
            os.close(os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
        except FileExistsError:
            continue
        try:
            # someone may have finished this number between our scan and our lock
            if _number_used_elsewhere(folder, prefix, number, lock.name):
                continue
            yield text
            return
        finally:
            lock.unlink(missing_ok=True)
    raise RuntimeError(f"could not reserve a file number in {folder}")


STALE_AFTER_S = 600.0  # a temp/lock file this old belongs to no write still going on
_LEFTOVER = re.compile(r"^(?:.+\.(?:png|jpg|jpeg|webp)\.(?:tmp|lock)|(?:grid-)?\d+\.lock)$")


def remove_leftovers(root: Path, older_than_s: float = STALE_AFTER_S) -> list[Path]:
    """Delete the temp and lock files a killed process left under root (outputs/): only names this
    module writes ('<image>.png.tmp', 'NNNNN.lock', 'grid-NNNN.lock'), only older than older_than_s,
    so a write going on in another process sharing the folder is left alone. Returns what was removed.
    Finished images are never touched: they only ever appear under their final name, complete."""
    import time

    removed: list[Path] = []
    limit = time.time() - older_than_s
    for folder, _dirs, files in os.walk(root):
        for name in files:
            if not _LEFTOVER.match(name):
                continue
            path = Path(folder) / name
            try:
                if path.is_file() and not path.is_symlink() and path.stat().st_mtime < limit:
                    path.unlink()
                    removed.append(path)
            except OSError:
                continue
    return removed


def _pnginfo(image: Image.Image, infotext: str | None) -> PngInfo:
    """Existing text chunks of the image, with 'parameters' set to infotext (tEXt or iTXt)."""
    info = PngInfo()
    for key, value in image.info.items():
        if isinstance(key, str) and isinstance(value, str) and key != INFOTEXT_KEY:
            info.add_text(key, value)
    if infotext is not None:
        info.add_text(INFOTEXT_KEY, infotext)  # iTXt automatically when not latin-1
    return info


def exif_with_infotext(infotext: str) -> bytes:
    """EXIF bytes holding infotext as UserComment, encoded as A1111 (piexif's "unicode") does."""
    exif = Image.Exif()
    exif.get_ifd(EXIF_IFD)[EXIF_USER_COMMENT] = UNICODE_PREFIX + infotext.encode("utf-16-be")
    return exif.tobytes()


def fitting_format(image: Image.Image, fmt: FileFormat) -> FileFormat:
    """fmt, or PNG when the image is larger than fmt can hold (said in the log)."""
    limit = MAX_SIDE.get(fmt.pillow)
    if limit is not None and max(image.size) > limit:
        log.warning("%s", msg("image_format_too_large", width=image.width, height=image.height, format=fmt.pillow))
        return FileFormat("png", infotext=fmt.infotext)
    return fmt


def write_image(image: Image.Image, handle: object, infotext: str | None, fmt: FileFormat = PNG) -> None:
    """Encode image into an open binary file in fmt, with infotext where A1111 puts it."""
    text = infotext if fmt.infotext else None
    if fmt.pillow == "PNG":
        image.save(handle, format="PNG", pnginfo=_pnginfo(image, text))
        return
    extra: dict[str, object] = {"quality": fmt.quality}
    if text:
        exif = exif_with_infotext(text)
        if fmt.pillow == "JPEG" and len(exif) > MAX_EXIF_BYTES:
            log.warning("%s", msg("image_infotext_too_long", format=fmt.pillow))
        else:
            extra["exif"] = exif
    if fmt.pillow == "JPEG":
        if image.mode != "RGB":
            image = image.convert("RGB")
    else:
        extra["lossless"] = fmt.lossless
        if image.mode not in ("RGB", "RGBA"):
            image = image.convert("RGBA" if "A" in image.mode else "RGB")
    image.save(handle, format=fmt.pillow, **extra)


def _write_file(image: Image.Image, path: Path, infotext: str | None, fmt: FileFormat = PNG) -> None:
    """Write to '<path>.tmp', then rename over path; the temp file is removed on failure."""
    tmp = path.with_name(path.name + TMP_EXT)
    try:
        with open(tmp, "wb") as handle:
            write_image(image, handle, infotext, fmt)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _save_numbered(image: Image.Image, folder: Path, prefix: str, digits: int, tail: str, infotext: str,
                   fmt: FileFormat) -> Path:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    fmt = fitting_format(image, fmt)
    with _reserved_number(folder, prefix, digits) as number:
        path = folder / f"{prefix}{number}{tail}.{fmt.extension}"
        _write_file(image, path, infotext, fmt)
    return path


def _save_named(image: Image.Image, folder: Path, name: str, infotext: str, fmt: FileFormat) -> Path:
    """<folder>/<name>.<ext>, or <name>-1.<ext>, <name>-2.<ext>, ... when taken (never overwritten)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    fmt = fitting_format(image, fmt)
    for attempt in range(MAX_ATTEMPTS):
        path = folder / f"{name}{'-' + str(attempt) if attempt else ''}.{fmt.extension}"
        lock = path.with_name(path.name + LOCK_EXT)
        try:
            os.close(os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
        except FileExistsError:
            continue
        try:
            if path.exists():
                continue
            _write_file(image, path, infotext, fmt)
            return path
        finally:
            lock.unlink(missing_ok=True)
    raise RuntimeError(f"could not find a free file name for {name} in {folder}")


def save_image(image: Image.Image, folder: Path, seed: int, infotext: str, *, suffix: str = "",
               stem: str | None = None, fmt: FileFormat = PNG, add_number: bool = True) -> Path:
    """Save as <folder>/<NNNNN>-<stem><suffix>.<ext> (folder created if missing); returns the path.

    stem: the decoration (default: the seed; '' for none). suffix is appended verbatim, e.g.
    '-before-highres-fix'. add_number False: <stem><suffix>.<ext>, never overwriting a file.
    """
    stem = str(seed) if stem is None else stem
    if not add_number:
        return _save_named(image, folder, f"{stem or seed}{suffix}", infotext, fmt)
    return _save_numbered(image, folder, "", IMAGE_DIGITS, f"{'-' + stem if stem else ''}{suffix}", infotext, fmt)


def save_grid(image: Image.Image, folder: Path, infotext: str, fmt: FileFormat = PNG) -> Path:
    """Save as <folder>/grid-<NNNN>.<ext> (folder created if missing); returns the path."""
    return _save_numbered(image, folder, GRID_PREFIX, GRID_DIGITS, "", infotext, fmt)


def _exif_user_comment(image: Image.Image) -> str | None:
    """EXIF UserComment (how A1111 stores infotext in JPEG/WebP/AVIF), decoded."""
    try:
        raw = image.getexif().get_ifd(EXIF_IFD).get(EXIF_USER_COMMENT)
    except Exception:  # malformed EXIF must not break reading
        return None
    if isinstance(raw, str):
        return raw or None
    if not isinstance(raw, bytes) or len(raw) < 8:
        return None
    code, body = raw[:8], raw[8:]
    if code == b"UNICODE\0":
        # piexif writes UTF-16-BE; tolerate a byte-order mark
        if body[:2] == b"\xff\xfe":
            return body[2:].decode("utf-16-le", errors="replace")
        return body.decode("utf-16-be", errors="replace").lstrip("\ufeff")
    if code in (b"ASCII\0\0\0", b"\0" * 8):
        return body.decode("latin-1").rstrip("\0") or None
    return None


def read_png_infotext(path_or_image: str | os.PathLike[str] | Image.Image) -> str | None:
    """The 'parameters' text of an image (PNG text chunk; EXIF UserComment for JPEG/WebP), or None."""
    if isinstance(path_or_image, Image.Image):
        return _infotext_of(path_or_image)
    with Image.open(path_or_image) as image:
        return _infotext_of(image)


def _infotext_of(image: Image.Image) -> str | None:
    value = image.info.get(INFOTEXT_KEY)
    if value is None and image.format == "PNG":
        value = getattr(image, "text", {}).get(INFOTEXT_KEY)  # chunks after IDAT
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    if isinstance(value, str):
        return str(value)
    if image.format in ("JPEG", "WEBP", "AVIF", "MPO"):
        return _exif_user_comment(image)
    return None
