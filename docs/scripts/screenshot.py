"""Screenshots of the built site in headless Chromium: the gallery and one demonstration page.

Renders ``demos/index.html`` (the gallery) and ``demos/rbm_violation.html`` of a built site
(``python -m sphinx -W -b html docs docs/_build/html``) at 1400 x 1000 pixels, from the local
files (``file://``, nothing fetched), with a fresh Chromium profile each time, and checks what a
reader would see:

- each screenshot has the window's size and is not blank (its pixels are not one colour);
- the gallery's cards point at thumbnail images that the build copied and that are real PNGs,
  and the gallery screenshot is coloured where the thumbnails are (a page of text and links is
  almost grey: at least ``MIN_COLOURED`` of its pixels must be saturated colour, which only the
  thumbnails provide: measured, 4% on the gallery, under 1% on pages of text);
- the demonstration page offers its notebook and its script for download, and both files are
  in the build.

Writes ``gallery.png`` and ``demo.png`` into ``--out`` (default ``docs/_build/screenshots``) and
prints one line per check; exits 1 naming the failed check, 2 when no Chromium is installed
(Debian: ``apt-get install chromium``; ``--chromium PATH`` to use another).

Run: ``python docs/scripts/screenshot.py [--html docs/_build/html] [--out DIR]``.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

DOCS = Path(__file__).resolve().parent.parent
WINDOW = (1400, 1000)
PAGES = {"gallery": "demos/index.html", "demo": "demos/rbm_violation.html"}
MIN_COLOURED = 0.02  # fraction of the gallery's pixels that must be saturated colour
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
)


class CheckFailed(RuntimeError):
    """A screenshot or the page behind it is not what a reader should see."""


def find_chromium(explicit: str | None = None) -> str | None:
    """The Chromium executable: ``explicit``, else ``chromium`` or ``chromium-browser`` on PATH."""
    if explicit:
        return explicit if Path(explicit).is_file() else None
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def screenshot(chromium: str, page: Path, target: Path, timeout: float = 180) -> Path:
    """Render the local ``page`` into the PNG ``target`` (written by Chromium, then renamed)."""
    if not page.is_file():
        raise CheckFailed(f"{page}: no such page in the built site")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.stem}.partial.png")
    with tempfile.TemporaryDirectory(prefix="bm-chromium-") as profile:
        cmd = [
            chromium,
            *FLAGS,
            f"--user-data-dir={profile}",
            f"--screenshot={partial}",
            f"--window-size={WINDOW[0]},{WINDOW[1]}",
            page.resolve().as_uri(),
        ]
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    if res.returncode != 0 or not partial.is_file():
        raise CheckFailed(f"{page}: chromium failed ({res.returncode}): {res.stderr[-1500:]}")
    partial.replace(target)
    return target


def pixels(png: Path) -> np.ndarray:
    """The screenshot as an (height, width, 3) float array in [0, 1]."""
    import matplotlib.image as mpimg

    return np.asarray(mpimg.imread(png))[..., :3].astype(float)


def coloured_fraction(rgb: np.ndarray, saturation: float = 0.25) -> float:
    """Fraction of pixels whose channels differ by more than ``saturation`` (not grey)."""
    return float(np.mean(rgb.max(axis=-1) - rgb.min(axis=-1) > saturation))


def check_shot(png: Path) -> np.ndarray:
    """The window's size and not one colour; returns the pixels."""
    rgb = pixels(png)
    if rgb.shape[:2] != (WINDOW[1], WINDOW[0]):
        raise CheckFailed(f"{png}: {rgb.shape[1]} x {rgb.shape[0]} pixels, not {WINDOW}")
    if float(rgb.std()) < 0.02:
        raise CheckFailed(f"{png}: blank (pixel standard deviation {rgb.std():.4f})")
    return rgb


def gallery_thumbnails(html: Path) -> list[Path]:
    """The thumbnail files the gallery's cards show; each must exist and be a PNG image."""
    page = html / PAGES["gallery"]
    sources = re.findall(r'<img[^>]+class="[^"]*sd-card-img-top[^"]*"[^>]*>', page.read_text())
    files = []
    for tag in sources:
        src = re.search(r'src="([^"]+)"', tag)
        if src is None:
            raise CheckFailed(f"{page}: a card image without src: {tag}")
        path = (page.parent / src.group(1)).resolve()
        if not path.is_file() or path.read_bytes()[:8] != b"\x89PNG\r\n\x1a\n":
            raise CheckFailed(f"{page}: thumbnail {src.group(1)} is missing or not a PNG")
        files.append(path)
    if not files:
        raise CheckFailed(f"{page}: no thumbnail cards")
    return files


def demo_downloads(html: Path) -> list[Path]:
    """The demo page's download links (notebook and script); each file must be in the build."""
    page = html / PAGES["demo"]
    links = re.findall(r'<a class="nav-link" href="([^"]+)" download>', page.read_text())
    files = [(page.parent / link).resolve() for link in links]
    suffixes = sorted(f.suffix for f in files)
    if suffixes != [".ipynb", ".py"] or not all(f.is_file() for f in files):
        raise CheckFailed(
            f"{page}: download links {links}, expected an .ipynb and a .py that exist"
        )
    return files


def run(html: Path, out: Path, chromium: str) -> dict[str, Path]:
    """Take and check both screenshots; returns ``{name: png}``."""
    thumbs = gallery_thumbnails(html)
    print(f"ok  gallery: {len(thumbs)} thumbnail cards, every image a PNG in the build")
    downloads = demo_downloads(html)
    print(f"ok  demo: downloads {', '.join(f.name for f in downloads)} in the build")
    shots = {}
    for name, page in PAGES.items():
        shots[name] = screenshot(chromium, html / page, out / f"{name}.png")
        rgb = check_shot(shots[name])
        print(f"ok  {name}: {shots[name]} ({WINDOW[0]} x {WINDOW[1]}, not blank)")
        if name == "gallery":
            frac = coloured_fraction(rgb)
            if frac < MIN_COLOURED:
                raise CheckFailed(
                    f"{shots[name]}: {frac:.1%} coloured pixels (< {MIN_COLOURED:.0%}): "
                    "the thumbnails do not show"
                )
            print(f"ok  gallery: {frac:.1%} of the pixels are the thumbnails' colours")
    return shots


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--html", type=Path, default=DOCS / "_build" / "html", help="built site")
    p.add_argument("--out", type=Path, default=DOCS / "_build" / "screenshots")
    p.add_argument("--chromium", default=None, help="Chromium executable (default: on PATH)")
    args = p.parse_args(argv)
    chromium = find_chromium(args.chromium)
    if chromium is None:
        print("no Chromium found (Debian: apt-get install chromium)", file=sys.stderr)
        return 2
    try:
        run(args.html, args.out, chromium)
    except CheckFailed as exc:
        print(f"FAIL {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
