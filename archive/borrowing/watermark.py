"""Watermarks burnt into borrowed page images: a visible one that names the borrower, an invisible one
that carries the grant id, and the PDF a download is made of.

The visible mark is the borrower's lines of text, semi-transparent, tiled diagonally over the whole
page, so a crop keeps it (rendered once per text and page size, then cached).

The invisible mark is a spread-spectrum pattern in the luminance: a tile of TILE x TILE pixels (at
300 dpi) of CHIP x CHIP blocks, each raised or lowered by AMPLITUDE grey levels, repeated over the
page. 30 % of a tile's blocks are a fixed synchronisation pattern; the rest carry the 32-bit payload
and a CRC-32 of it, convolutionally encoded (constraint length 7, rate 1/2), each coded bit spread
over about 5 blocks of every tile with pseudo-random signs. All of it is keyed: the
layout, the signs and the CRC follow from a key (DEFAULT_KEY unless the caller passes the archive's
own secret), so that without it the mark can be neither read nor forged. (It is no secret that the
mark repeats: the tiling that lets a crop be read would also let a determined forger average the tile
out and weaken it; the visible mark is the first line of defence.)

Reading folds the page's fine detail modulo the tile (every tile adds up coherently), finds where the
tile starts from the sync pattern (so any crop works), sums each coded bit's blocks into a soft value,
decodes them with a soft Viterbi decoder and accepts the payload only when its CRC-32 matches: a bad
read gives None, not a wrong id. The page is tried as it is, downscaled by half, and then at the
scales and turns its own tiling shows (peaks of the autocorrelation of its fine detail), region by
region, which reads photographs of a page.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import zlib
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont, PdfParser

from archive.fonts import find_cjk_font

TILE = 256  # pixels of the invisible tile at the reference scale (300 dpi)
CHIP = 8  # pixels of one block of the pattern
AMPLITUDE = 3  # grey levels each block is raised or lowered by
PAYLOAD_BITS = 32
MESSAGE_BITS = 64  # the payload and a CRC-32 of it
_MEMORY = 6  # the convolutional code: constraint length 7, rate 1/2 (the classic 171, 133 octal)
_POLYNOMIALS = (0o171, 0o133)
CODED_BITS = (MESSAGE_BITS + _MEMORY) * len(_POLYNOMIALS)
MAX_PAYLOAD = (1 << PAYLOAD_BITS) - 1
SYNC_SHARE = 0.3  # of a tile's blocks
SYNC_THRESHOLD = 5.5  # the sync peak, in standard deviations of the correlation surface
CLIP = AMPLITUDE / 2  # of the residual: text edges then weigh no more than paper (measured best)
VISIBLE_STRENGTH = 0.28  # how much the visible text darkens what is under it (0 none, 1 black)
VISIBLE_ANGLE = 30  # degrees, counter-clockwise
RESCALED_MAX = 2560  # pixels a side of a page brought back to the reference scale
REGION = 2 * TILE  # pixels a side of the regions a warped page is read by
REGION_THRESHOLD = 4.0  # a region's sync peak (its bits are only summed; the CRC decides)
LATTICE_MAX = 2048  # pixels a side at which the page's tiling is looked for
LATTICE_CANDIDATES = 3
LATTICE_MIN_SCORE = 5.0  # a marked photo's tiling scores 10 and more, an unmarked page's 2 to 9
LATTICE_MIN_SCALE = 0.3  # smaller, a block of the mark is under 2.4 pixels: not worth trying
REGION_MIN_SCORE = 6.0  # a tiling this clear is worth reading region by region (cost: 0.1-0.2 s)
LATTICE_POWER = 1.0  # of the spectrum: below 2 it weighs strong periodic print (halftone) down
TURN_SLOPE = 0.07  # how far the tiling is looked for off the axes (about 4 degrees)
DEFAULT_KEY = b"customer-file-archive/borrowing/watermark/v1"  # public: pass a secret one in production
_CHIPS = TILE // CHIP


@lru_cache(maxsize=2)
def _layout(key: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The keyed tile layout: sync block signs, message block signs, each message block's bit, and
    which blocks are sync blocks (all _CHIPS x _CHIPS)."""
    rng = np.random.default_rng(int.from_bytes(hashlib.sha256(key).digest()[:8], "big"))
    count = _CHIPS * _CHIPS
    order = rng.permutation(count)
    is_sync = np.zeros(count, dtype=bool)
    sync_count = round(count * SYNC_SHARE)
    is_sync[order[:sync_count]] = True
    signs = rng.choice(np.array([-1, 1], dtype=np.int8), size=count)
    bit_of = np.full(count, -1, dtype=np.int64)
    bit_of[order[sync_count:]] = np.arange(count - sync_count) % CODED_BITS
    shape = (_CHIPS, _CHIPS)
    sync = np.where(is_sync, signs, 0).reshape(shape)
    message = np.where(is_sync, 0, signs).reshape(shape)
    return sync, message, bit_of.reshape(shape), is_sync.reshape(shape)


def _message(payload: int, key: bytes) -> np.ndarray:
    """The 64 message bits of a payload (0/1): the payload, then its keyed CRC-32."""
    data = payload.to_bytes(4, "big")
    check = zlib.crc32(key + data).to_bytes(4, "big")
    return np.unpackbits(np.frombuffer(data + check, dtype=np.uint8))


def _payload(message: np.ndarray, key: bytes) -> int | None:
    """The payload of 64 message bits, or None when their CRC does not match."""
    raw = np.packbits(message.astype(np.uint8)).tobytes()
    if zlib.crc32(key + raw[:4]).to_bytes(4, "big") != raw[4:]:
        return None
    return int.from_bytes(raw[:4], "big")


@lru_cache(maxsize=1)
def _trellis() -> tuple[np.ndarray, np.ndarray]:
    """For each state (the last _MEMORY input bits) and input bit, the next state and the output
    bits as ±1."""
    states = 1 << _MEMORY
    following = np.zeros((states, 2), dtype=np.int64)
    output = np.zeros((states, 2, len(_POLYNOMIALS)), dtype=np.float64)
    for state in range(states):
        for bit in (0, 1):
            register = (state << 1) | bit
            following[state, bit] = register & (states - 1)
            for index, polynomial in enumerate(_POLYNOMIALS):
                output[state, bit, index] = 1.0 if (register & polynomial).bit_count() % 2 else -1.0
    return following, output


def _code(payload: int, key: bytes) -> np.ndarray:
    """The coded bits (0/1) of a payload: its message, convolutionally encoded and terminated."""
    following, output = _trellis()
    state, coded = 0, []
    for bit in [*_message(payload, key).tolist(), *[0] * _MEMORY]:
        coded.extend(output[state, bit] > 0)
        state = int(following[state, bit])
    return np.array(coded, dtype=np.uint8)


def _viterbi(soft: np.ndarray) -> np.ndarray:
    """The most likely message bits given the coded bits' soft values (positive means 1)."""
    following, output = _trellis()
    states = 1 << _MEMORY
    pairs = soft.reshape(-1, len(_POLYNOMIALS))
    metric = np.full(states, -np.inf)
    metric[0] = 0.0
    # the predecessors of state n are n >> 1 and (n >> 1) | 2**(_MEMORY-1), both with input bit n & 1
    targets = np.arange(states)
    first, second, bits = targets >> 1, (targets >> 1) | (states >> 1), targets & 1
    choices = []
    for pair in pairs:
        gains = output @ pair  # (states, 2)
        from_first = metric[first] + gains[first, bits]
        from_second = metric[second] + gains[second, bits]
        took_second = from_second > from_first
        metric = np.where(took_second, from_second, from_first)
        choices.append(took_second)
    state, decoded = 0, []  # terminated: the path ends in state 0
    for took_second in reversed(choices):
        decoded.append(state & 1)
        state = (state >> 1) | (states >> 1) if took_second[state] else state >> 1
    return np.array(decoded[::-1][:MESSAGE_BITS], dtype=np.uint8)


@lru_cache(maxsize=16)
def _tile(payload: int, key: bytes) -> np.ndarray:
    """The invisible tile of a payload: TILE x TILE signed grey-level offsets (int16)."""
    sync, message, bit_of, _ = _layout(key)
    bits = _code(payload, key).astype(np.int16) * 2 - 1
    chips = sync + message * np.where(bit_of >= 0, bits[np.maximum(bit_of, 0)], 0)
    return np.kron(chips.astype(np.int16), np.ones((CHIP, CHIP), dtype=np.int16)) * AMPLITUDE


@lru_cache(maxsize=8)
def _invisible_layer(payload: int, size: tuple[int, int], key: bytes) -> Image.Image:
    """The invisible mark over a page of size, as an L image of AMPLITUDE + offset (0..2*AMPLITUDE)."""
    width, height = size
    tile = _tile(payload, key) + AMPLITUDE
    reps = (-(-height // TILE), -(-width // TILE))
    return Image.fromarray(np.tile(tile.astype(np.uint8), reps)[:height, :width], mode="L")


@lru_cache(maxsize=4)
def _visible_layer(lines: tuple[str, ...], size: tuple[int, int]) -> Image.Image:
    """The visible mark over a page of size: an L image to multiply the page by (255 leaves it)."""
    width, height = size
    font_px = max(10, round(width / 60))
    font = ImageFont.truetype(str(find_cjk_font()), font_px)
    spacing = round(font_px * 0.4)
    probe = ImageDraw.Draw(Image.new("L", (1, 1)))
    left, top, right, bottom = probe.multiline_textbbox((0, 0), "\n".join(lines), font=font, spacing=spacing)
    block = Image.new("L", (right - left + 2 * font_px, bottom - top + 2 * font_px), 0)
    ImageDraw.Draw(block).multiline_text((font_px - left, font_px - top), "\n".join(lines), fill=255, font=font,
                                         spacing=spacing)
    text = block.rotate(VISIBLE_ANGLE, resample=Image.Resampling.BICUBIC, expand=True)
    step_x, step_y = text.width, max(1, round(text.height * 0.75))
    mask = Image.new("L", size, 0)
    for row, y in enumerate(range(-step_y, height + step_y, step_y)):
        shift = (row % 2) * step_x // 2
        for x in range(-step_x + shift, width + step_x, step_x):
            mask.paste(255, (x, y), text)
    # never above 255 - AMPLITUDE: white paper comes down that little, so the invisible mark can go up
    return mask.point(lambda value: min(255 - AMPLITUDE, 255 - round(value * VISIBLE_STRENGTH)))


def burn(image: Image.Image, lines: Sequence[str], payload: int, *, key: bytes = DEFAULT_KEY) -> Image.Image:
    """Return a copy of image (L or RGB; others become RGB) with the visible lines and the invisible
    payload (0 ≤ payload < 2**32) burnt in, under key; raise ValueError for a payload out of range."""
    if not 0 <= payload <= MAX_PAYLOAD:
        raise ValueError(f"a watermark payload is 0 … {MAX_PAYLOAD}, not {payload}")
    page = image if image.mode in ("L", "RGB") else image.convert("RGB")
    bands = len(page.getbands())
    visible = _visible_layer(tuple(lines), page.size)
    invisible = _invisible_layer(payload, page.size, key)
    if bands > 1:
        visible = Image.merge("RGB", (visible,) * bands)
        invisible = Image.merge("RGB", (invisible,) * bands)
    marked = ImageChops.add(ImageChops.multiply(page, visible), invisible, scale=1.0, offset=-AMPLITUDE)
    if "dpi" in image.info:
        marked.info["dpi"] = image.info["dpi"]
    return marked


def _residual(gray: Image.Image) -> np.ndarray:
    """The page's fine detail, where the mark lives: the page less its local mean, clipped so that the
    edges of text weigh no more than the mark, less its own mean."""
    smooth = gray.filter(ImageFilter.BoxBlur(CHIP * 2))
    residual = np.asarray(gray, dtype=np.float32) - np.asarray(smooth, dtype=np.float32)
    residual = np.clip(residual, -CLIP, CLIP)
    return residual - residual.mean()  # clipped text leaves a bias that would sway every bit alike


def _fold(residual: np.ndarray) -> np.ndarray:
    """Sum the residual modulo the tile: TILE x TILE."""
    height, width = residual.shape
    padded = np.zeros((-(-height // TILE) * TILE, -(-width // TILE) * TILE), dtype=np.float32)
    padded[:height, :width] = residual
    return padded.reshape(padded.shape[0] // TILE, TILE, padded.shape[1] // TILE, TILE).sum(axis=(0, 2))


@lru_cache(maxsize=2)
def _sync_spectra(key: bytes) -> tuple[np.ndarray, ...]:
    """The conjugate spectra of the sync pattern in its four quarter turns."""
    sync, _, _, _ = _layout(key)
    pattern = np.kron(sync.astype(np.float32), np.ones((CHIP, CHIP), dtype=np.float32))
    return tuple(np.conj(np.fft.rfft2(np.rot90(pattern, -turns))) for turns in range(4))


def _soft_bits(folded: np.ndarray, key: bytes,
               threshold: float = SYNC_THRESHOLD) -> tuple[np.ndarray, float] | None:
    """The soft values of the coded bits in a folded tile and the sync peak's strength, or None without
    a sync peak. The tile is tried in its four quarter turns: a page photographed sideways or scanned
    upside down folds into the tile turned likewise."""
    spectrum = np.fft.rfft2(folded)
    best: tuple[float, int, int, int] | None = None
    for turns, sync in enumerate(_sync_spectra(key)):
        surface = np.fft.irfft2(spectrum * sync, s=folded.shape)
        dy, dx = np.unravel_index(int(np.argmax(surface)), surface.shape)
        strength = float((surface[dy, dx] - surface.mean()) / (surface.std() + 1e-9))
        if best is None or strength > best[0]:
            best = (strength, turns, int(dy), int(dx))
    strength, turns, dy, dx = best
    if strength < threshold:
        return None
    # the sync pattern turned back by `turns` matched at (dy, dx): turn the tile, and the offset, alike
    turned = np.rot90(np.roll(folded, (-dy, -dx), axis=(0, 1)), turns)
    chips = turned.reshape(_CHIPS, CHIP, _CHIPS, CHIP).sum(axis=(1, 3))
    _, message, bit_of, is_sync = _layout(key)
    spread = (chips * message)[~is_sync]
    soft = np.bincount(bit_of[~is_sync], weights=spread, minlength=CODED_BITS)
    return soft, strength


def _read_soft(soft: np.ndarray, key: bytes) -> int | None:
    """The payload of the coded bits' soft values, or None when the decoded message fails its CRC."""
    return _payload(_viterbi(soft), key)


def _read_at(gray: Image.Image, key: bytes, *, by_region: bool) -> int | None:
    """Read the payload of a luminance page at the reference scale and orientation: the whole page
    folded at once, else (by_region) region by region, each finding its own offset, so that a page a
    little warped, as in a photograph, still adds up."""
    residual = _residual(gray)
    found = _soft_bits(_fold(residual), key)
    payload = None if found is None else _read_soft(found[0], key)
    if payload is not None or not by_region or min(residual.shape) < 2 * REGION:
        return payload
    total = np.zeros(CODED_BITS)
    for top in range(0, residual.shape[0] - REGION // 2, REGION):
        for left in range(0, residual.shape[1] - REGION // 2, REGION):
            region = _soft_bits(_fold(residual[top:top + REGION, left:left + REGION]), key,
                                 REGION_THRESHOLD)
            if region is not None:
                total += region[0]
    return _read_soft(total, key) if total.any() else None


def _lattice(gray: Image.Image) -> list[tuple[float, float, float]]:
    """Where the page's fine detail repeats like the tile, best first, as (scale, degrees, score): the
    page is the marked page scaled by `scale`, and turning it by `degrees` (as Image.rotate does) sets
    it upright. From the peaks of the autocorrelation of its residual near both axes at lags of
    TILE x LATTICE_MIN_SCALE … 1.5, that score at least LATTICE_MIN_SCORE."""
    factor = min(1.0, LATTICE_MAX / max(gray.size))  # the lattice is the same at a smaller size
    work = gray if factor == 1.0 else gray.resize(
        (max(1, round(gray.width * factor)), max(1, round(gray.height * factor))), Image.Resampling.BILINEAR)
    residual = _residual(work)
    correlation = np.fft.irfft2(np.abs(np.fft.rfft2(residual)) ** LATTICE_POWER, s=residual.shape)
    correlation = np.fft.fftshift(correlation)  # lag (0, 0) at the centre
    cy, cx = correlation.shape[0] // 2, correlation.shape[1] // 2
    low, high = max(4, int(LATTICE_MIN_SCALE * TILE * factor)), min(cy, cx, int(1.5 * TILE * factor)) - 2
    band = max(2, int(high * TURN_SLOPE) + 1)
    if high <= low + 10:
        return []
    along_x = correlation[cy - band:cy + band + 1, cx + low:cx + high].max(axis=0)
    along_y = correlation[cy + low:cy + high, cx - band:cx + band + 1].max(axis=1)
    # the tile repeats alike along both axes, lines of text along one: score a lag by the weaker axis
    score = np.minimum(_excess(along_x), _excess(along_y))
    lags: list[int] = []
    for index in np.argsort(score)[::-1]:
        if len(lags) == LATTICE_CANDIDATES:
            break
        if score[index] < LATTICE_MIN_SCORE:
            break
        if 3 <= index < len(score) - 3 and all(abs(index + low - lag) > 4 for lag in lags):
            lags.append(int(index) + low)
    found: list[tuple[float, float, float]] = []
    for lag in lags:
        reach = int(lag * TURN_SLOPE) + 2
        # the exact peaks near (lag, 0) and (0, lag), to a fraction of a pixel
        dy1, dx1 = _peak(correlation, cy, cx + lag, reach, 3)
        dy2, dx2 = _peak(correlation, cy + lag, cx, 3, reach)
        length = (np.hypot(dy1, dx1 + lag) + np.hypot(dy2 + lag, dx2)) / 2
        turn = (np.degrees(np.arctan2(dy1, dx1 + lag)) + np.degrees(np.arctan2(-dx2, dy2 + lag))) / 2
        found.append((float(length / factor / TILE), float(turn), float(score[lag - low])))
    return found


def _excess(profile: np.ndarray) -> np.ndarray:
    """How far each value stands above its neighbourhood, in units of the profile's spread."""
    excess = profile - np.convolve(profile, np.ones(15) / 15, mode="same")
    return excess / (np.median(np.abs(excess)) + 1e-9)


def _peak(surface: np.ndarray, y: int, x: int, reach_y: int, reach_x: int) -> tuple[float, float]:
    """The offset from (y, x) of the highest point of surface within reach, refined by parabolas."""
    window = surface[y - reach_y:y + reach_y + 1, x - reach_x:x + reach_x + 1]
    py, px = np.unravel_index(int(np.argmax(window)), window.shape)

    def refine(values: np.ndarray, at: int) -> float:
        if at == 0 or at == len(values) - 1:
            return float(at)
        left, centre, right = values[at - 1], values[at], values[at + 1]
        curve = left - 2 * centre + right
        return at + (0.5 * (left - right) / curve if curve < 0 else 0.0)

    return refine(window[:, px], int(py)) - reach_y, refine(window[py, :], int(px)) - reach_x


def _normalised(gray: Image.Image, scale: float, degrees: float) -> Image.Image:
    """The page turned by degrees and resized by 1/scale, cut first to its middle so that the
    result is at most RESCALED_MAX pixels a side (enough tiles to read, whatever a wrong guess costs)."""
    if scale == 1.0 and degrees == 0.0:
        return gray
    keep = round(RESCALED_MAX * scale)
    left, top = max(0, (gray.width - keep) // 2), max(0, (gray.height - keep) // 2)
    page = gray.crop((left, top, min(gray.width, left + keep), min(gray.height, top + keep)))
    if degrees:
        page = page.rotate(degrees, resample=Image.Resampling.BILINEAR)
    size = (max(1, round(page.width / scale)), max(1, round(page.height / scale)))
    return page.resize(size, Image.Resampling.BICUBIC)


def identify(image: Image.Image, *, key: bytes = DEFAULT_KEY) -> int | None:
    """Return the payload of the invisible mark of a page image (saved, recompressed, scaled, cropped or
    photographed), or None when no mark made with key can be read."""
    gray = image.convert("L") if image.mode != "L" else image
    tried: list[tuple[float, float]] = []
    guesses = [(1.0, 0.0, False), (0.5, 0.0, False)]  # as served, and downscaled by half: cheap first
    measured = ((scale, degrees, score >= REGION_MIN_SCORE) for scale, degrees, score in _lattice(gray))
    quarters = ((scale, degrees, True) for scale, degrees in _agreeing_quarters(gray))
    for scale, degrees, by_region in itertools.chain(guesses, measured, quarters):
        if any(abs(scale - s) < 0.003 and abs(degrees - d) < 0.1 for s, d in tried):
            continue
        tried.append((scale, degrees))
        payload = _read_at(_normalised(gray, scale, degrees), key, by_region=by_region)
        if payload is not None:
            return payload
    return None


def _agreeing_quarters(gray: Image.Image) -> Iterator[tuple[float, float]]:
    """Tilings that at least two quarters of the page show alike (scale within 3 %), as (scale,
    degrees) averaged over them: a page in perspective repeats at a different rate in each part,
    which blurs the whole page's autocorrelation, and an unmarked page's chance peaks do not agree."""
    width, height = gray.size
    if min(width, height) < 8 * LATTICE_MIN_SCALE * TILE:  # a few tiles in each quarter
        return
    seen: list[list[tuple[float, float, int]]] = []
    for number, (left, top) in enumerate(((0, 0), (width // 2, 0), (0, height // 2), (width // 2, height // 2))):
        quarter = gray.crop((left, top, left + width // 2, top + height // 2))
        for scale, degrees, score in _lattice(quarter):
            if score < REGION_MIN_SCORE:
                continue
            group = next((g for g in seen if abs(g[0][0] - scale) < 0.03 * scale), None)
            if group is None:
                seen.append([(scale, degrees, number)])
            elif all(n != number for _, _, n in group):
                group.append((scale, degrees, number))
    for group in sorted(seen, key=len, reverse=True):
        if len(group) >= 2:
            yield (sum(s for s, _, _ in group) / len(group), sum(d for _, d, _ in group) / len(group))


def marked_pdf(pages: Iterable[Image.Image], out: BinaryIO, *, dpi: int = 300, quality: int = 85) -> int:
    """Write the (already marked) page images to out as a PDF, one JPEG-encoded page at a time, holding
    only the page being written; return the number of pages. out must support tell() (a file, BytesIO)."""
    pdf = PdfParser.PdfParser(f=out, mode="wb")
    pdf.start_writing()
    pdf.write_header()
    pdf.root_ref, pdf.pages_ref = pdf.next_object_id(0), pdf.next_object_id(0)  # written last, known now
    name = PdfParser.PdfName
    for page in _rgb_or_gray(pages):
        encoded = _jpeg(page, quality)
        image_ref, contents_ref, page_ref = (pdf.next_object_id(0) for _ in range(3))
        pdf.write_obj(image_ref, stream=encoded, Type=name("XObject"), Subtype=name("Image"), Width=page.width,
                      Height=page.height, BitsPerComponent=8, Filter=name("DCTDecode"),
                      ColorSpace=name("DeviceGray" if page.mode == "L" else "DeviceRGB"))
        width_pt, height_pt = page.width * 72.0 / dpi, page.height * 72.0 / dpi
        pdf.write_obj(contents_ref, stream=b"q %f 0 0 %f 0 0 cm /image Do Q\n" % (width_pt, height_pt))
        pdf.write_page(page_ref, Resources=PdfParser.PdfDict(XObject=PdfParser.PdfDict(image=image_ref)),
                       MediaBox=[0, 0, width_pt, height_pt], Contents=contents_ref)
        pdf.pages.append(page_ref)
    pdf.write_obj(pdf.root_ref, Type=name("Catalog"), Pages=pdf.pages_ref)
    pdf.write_obj(pdf.pages_ref, Type=name("Pages"), Count=len(pdf.pages), Kids=pdf.pages)
    pdf.write_xref_and_trailer()
    count = len(pdf.pages)
    out.flush()
    return count


def _rgb_or_gray(pages: Iterable[Image.Image]) -> Iterator[Image.Image]:
    for page in pages:
        yield page if page.mode in ("L", "RGB") else page.convert("RGB")


def _jpeg(page: Image.Image, quality: int) -> bytes:
    buffer = io.BytesIO()
    page.save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()
