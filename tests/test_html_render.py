"""Issue 5: the `s2s-grad --html` review page, rendered by a real browser (headless Chromium).

The page for `examples/mlp.py:loss` is written by the console script, then Debian's `chromium`
renders it twice: `--dump-dom` (the DOM as the browser parsed it: every primal line sits in a
primal cell, every line of the generated function in an adjoint cell) and `--screenshot` (the
pixels: the primal pane and the adjoint pane are found by their CSS background colours, each must
be wide and hold enough dark "ink" pixels, i.e. code drawn on it). Skipped when chromium is not
installed (`.ci/run` installs it: `apt-get install chromium`).
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import sys
import zlib
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
WIDTH, HEIGHT = 1400, 900
CHROMIUM = next(
    (p for p in (shutil.which("chromium"), "/usr/bin/chromium") if p and Path(p).exists()), None
)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)"
)


def _chromium(tmp_path: Path, page: Path, *mode: str) -> subprocess.CompletedProcess:
    """Run headless Chromium on `page` with the flags this closed network needs."""
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    return subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            f"--window-size={WIDTH},{HEIGHT}",
            *mode,
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )


def _s2s_grad(*args: str) -> subprocess.CompletedProcess:
    script = Path(sys.executable).parent / "s2s-grad"
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "s2s.cli"]
    return subprocess.run([*cmd, *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def review(tmp_path_factory):
    """(page, module text, DOM, screenshot pixels, PNG bytes) for examples/mlp.py:loss."""
    tmp = tmp_path_factory.mktemp("html")
    page, module = tmp / "review.html", tmp / "grad_mlp.py"
    proc = _s2s_grad(
        "examples/mlp.py:loss", "--wrt", "params", "--html", str(page), "-o", str(module)
    )
    assert proc.returncode == 0, proc.stderr
    dom = _chromium(tmp, page, "--dump-dom")
    assert dom.returncode == 0 and "</html>" in dom.stdout, dom.stderr[-2000:]
    png = tmp / "shot.png"
    shot = _chromium(tmp, page, f"--screenshot={png}")
    assert shot.returncode == 0 and png.exists(), shot.stderr[-2000:]
    data = png.read_bytes()
    return page.read_text(), module.read_text(), dom.stdout, _decode_png(data), data


# -- PNG decoding: PIL when importable, else a small zlib-based decoder ---------------------------


def _decode_png(data: bytes) -> np.ndarray:
    """An (height, width, 3) uint8 array of the PNG's RGB pixels."""
    try:
        from PIL import Image
    except ImportError:
        return _decode_png_zlib(data)
    import io

    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGB"))


def _decode_png_zlib(data: bytes) -> np.ndarray:
    """8-bit RGB/RGBA, non-interlaced PNG (what Chromium writes), decoded with zlib alone."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, color, _, _, interlace = header
    assert depth == 8 and color in (2, 6) and interlace == 0, header
    bpp = 3 if color == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows: list[bytearray] = []
    prev = bytearray(stride)
    for y in range(height):
        ftype = raw[y * (stride + 1)]
        cur = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        if ftype == 2:  # Up
            cur = bytearray((a + b) & 255 for a, b in zip(cur, prev, strict=True))
        elif ftype in (1, 3, 4):  # Sub, Average, Paeth: they read the reconstructed left byte
            for i in range(stride):
                left = cur[i - bpp] if i >= bpp else 0
                up = prev[i]
                if ftype == 1:
                    pred = left
                elif ftype == 3:
                    pred = (left + up) // 2
                else:
                    upleft = prev[i - bpp] if i >= bpp else 0
                    q = left + up - upleft
                    pa, pb, pc = abs(q - left), abs(q - up), abs(q - upleft)
                    pred = left if pa <= pb and pa <= pc else (up if pb <= pc else upleft)
                cur[i] = (cur[i] + pred) & 255
        rows.append(cur)
        prev = cur
    pixels = np.frombuffer(b"".join(rows), dtype=np.uint8).reshape(height, width, bpp)
    return pixels[:, :, :3].copy()


def test_zlib_decoder_agrees_with_pil(review):
    """The fallback decoder reads Chromium's PNG exactly as PIL does (when PIL is here)."""
    pytest.importorskip("PIL")
    np.testing.assert_array_equal(_decode_png_zlib(review[4]), review[3])


# -- the DOM: primal lines in the primal pane, the generated code in the adjoint pane --------------


class _Cells(HTMLParser):
    """The text of every `<td class="primal">` and `<td class="adjoint">`, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: dict[str, list[str]] = {"primal": [], "adjoint": []}
        self._open: str | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "td":
            cls = dict(attrs).get("class")
            self._open = cls if cls in self.cells else None
            if self._open:
                self.cells[self._open].append("")

    def handle_endtag(self, tag):
        if tag == "td":
            self._open = None

    def handle_data(self, data):
        if self._open:
            self.cells[self._open][-1] += data


def _squash(code: str) -> str:
    return re.sub(r"\s+", "", code).replace('"', "'").replace(",)", ")")


def test_dom_holds_primal_and_adjoint_code_in_their_panes(review):
    _, module, dom, _, _ = review
    parser = _Cells()
    parser.feed(dom)
    primal = [c.strip() for c in parser.cells["primal"]]
    adjoint = "\n".join(parser.cells["adjoint"])
    source = (ROOT / "examples" / "mlp.py").read_text().splitlines()
    body = source[source.index("def loss(params, x, y):") :][:4]
    assert [line.strip() for line in body] == [c for c in primal if c and "forward" not in c]
    # the page shows the code before `ruff format` (quotes, spaces, line breaks): compare without
    generated = module[module.index("def grad_loss(") :].splitlines()
    assert len(generated) > 20
    shown = _squash(adjoint)
    for line in generated:
        if line.strip() and '"""' not in line:
            assert _squash(line) in shown, f"{line.strip()!r} is not in an adjoint cell"
    # each adjoint block sits beside the primal line it reverses
    rows = re.findall(r'<tr class="matched">(.*?)</tr>', dom, flags=re.S)
    assert len(rows) == 3
    for row in rows:
        cells = _Cells()
        cells.feed(row)
        line = cells.cells["primal"][0].strip()
        assert cells.cells["adjoint"][0].lstrip().startswith("# " + line)


# -- the pixels: both panes drawn, wide, with code on them -----------------------------------------


def _css_colour(page: str, selector: str) -> tuple[int, int, int]:
    m = re.search(re.escape(selector) + r"\s*\{[^}]*background:\s*#([0-9a-fA-F]{6})", page)
    assert m, f"no background colour for {selector} in the page's CSS"
    return tuple(int(m.group(1)[i : i + 2], 16) for i in (0, 2, 4))


def _pane(pixels: np.ndarray, colours: list[tuple[int, int, int]]) -> tuple[slice, slice]:
    """The bounding box of the columns and rows mostly painted in `colours`."""
    mask = np.zeros(pixels.shape[:2], dtype=bool)
    for c in colours:
        mask |= np.all(pixels == np.array(c, dtype=np.uint8), axis=2)
    cols = np.flatnonzero(mask.sum(axis=0) > 100)
    rows = np.flatnonzero(mask[:, cols].sum(axis=1) > 0.5 * len(cols)) if len(cols) else cols
    assert len(cols) and len(rows), f"no pane painted in {colours}"
    return slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)


def _ink(region: np.ndarray) -> int:
    """Pixels dark enough to be glyphs (the panes' backgrounds are all near white)."""
    return int(np.count_nonzero(region.astype(np.int32).sum(axis=2) < 3 * 150))


def test_screenshot_is_not_blank(review):
    pixels = review[3]
    assert pixels.shape == (HEIGHT, WIDTH, 3)
    packed = pixels.astype(np.uint32) @ np.array([1 << 16, 1 << 8, 1], dtype=np.uint32)
    assert len(np.unique(packed)) > 50
    assert _ink(pixels) > 5000


def test_screenshot_shows_code_in_both_panes(review):
    page, _, _, pixels, _ = review
    primal_colours = [_css_colour(page, "td.primal"), _css_colour(page, "tr.matched td.primal")]
    adjoint_colours = [_css_colour(page, "td.adjoint")]
    prow, pcol = _pane(pixels, primal_colours)
    arow, acol = _pane(pixels, adjoint_colours)
    # side by side: primal on the left, the generated code on the right, each a wide pane
    assert pcol.stop <= acol.start
    assert pcol.stop - pcol.start > 0.35 * WIDTH and acol.stop - acol.start > 0.35 * WIDTH
    assert prow.stop - prow.start > 200 and arow.stop - arow.start > 200
    # 4 primal lines and ~30 generated lines of 13px monospace: each pane holds real glyphs
    primal_ink, adjoint_ink = _ink(pixels[prow, pcol]), _ink(pixels[arow, acol])
    assert primal_ink > 1500, primal_ink
    assert adjoint_ink > 8000, adjoint_ink
    assert adjoint_ink > 3 * primal_ink
