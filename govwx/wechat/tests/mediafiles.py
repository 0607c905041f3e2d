"""Real media files for tests: pictures made by Pillow, AMR-NB voice of a given length,
an MP4 header; and files one byte over WeChat's limits."""

from __future__ import annotations

import io

from PIL import Image


def picture(fmt: str = "JPEG", size: tuple[int, int] = (640, 480), color: str = "#3a7") -> bytes:
    img = Image.new("RGB", size, color)
    # a stripe, so that a thumbnail is more than one colour
    for x in range(size[0]):
        for y in range(size[1] // 3, size[1] // 3 + 20):
            img.putpixel((x, y), (200, 30, 30))
    out = io.BytesIO()
    img.save(out, fmt)
    return out.getvalue()


def padded(data: bytes, total: int) -> bytes:
    """The file with zero bytes after it, to `total` bytes (its format unchanged)."""
    return data + b"\0" * (total - len(data))


def amr(seconds: float) -> bytes:
    """AMR-NB at 12.2 kbit/s: a header, then a 32-byte frame every 20 ms."""
    frames = round(seconds / 0.02)
    return b"#!AMR\n" + (b"\x3c" + b"\x55" * 31) * frames


def mp4(extra: int = 0) -> bytes:
    return (
        b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"
        + b"\x00\x00\x00\x08mdat"
        + b"\0" * extra
    )


MB = 1024 * 1024
