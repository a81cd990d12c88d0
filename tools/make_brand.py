"""Draw the integration's brand images (an original mark, not Sequence's logo).

The mark is three rounded "pods" stepping down and to the right, joined by a flow line: money
moving from pod to pod. Run with the project's venv: ``.venv/bin/python -m tools.make_brand``.
"""

import argparse
from pathlib import Path

from PIL import Image, ImageDraw

BRAND_DIR = Path(__file__).resolve().parent.parent / "custom_components" / "sequence" / "brand"
LIGHT = ((24, 119, 242), (66, 180, 151), (250, 176, 5))
DARK = ((110, 168, 255), (104, 211, 180), (255, 206, 84))


def draw_icon(size: int, colours: tuple[tuple[int, int, int], ...]) -> Image.Image:
    """Return a square, transparent icon of ``size`` pixels."""
    scale = 4  # draw large, then downsample for smooth edges
    canvas = size * scale
    image = Image.new("RGBA", (canvas, canvas), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    pod_w, pod_h = canvas * 0.46, canvas * 0.22
    radius = pod_h / 2
    line = max(2, int(canvas * 0.035))
    for index, colour in enumerate(colours):
        left = canvas * (0.08 + 0.23 * index)
        top = canvas * (0.1 + 0.29 * index)
        box = (left, top, left + pod_w, top + pod_h)
        draw.rounded_rectangle(box, radius=radius, fill=(*colour, 255))
        if index:
            previous_left = canvas * (0.08 + 0.23 * (index - 1))
            x = previous_left + pod_w * 0.75
            draw.line(
                [(x, top - canvas * 0.07), (x, top)],
                fill=(*colour, 255),
                width=line,
            )
    return image.resize((size, size), Image.Resampling.LANCZOS)


def draw_logo(height: int, colours: tuple[tuple[int, int, int], ...]) -> Image.Image:
    """Return a landscape logo: the icon beside three bars of decreasing length."""
    icon = draw_icon(height, colours)
    image = Image.new("RGBA", (height * 3, height), (0, 0, 0, 0))
    image.paste(icon, (0, 0), icon)
    draw = ImageDraw.Draw(image)
    for index, colour in enumerate(colours):
        top = height * (0.2 + 0.22 * index)
        right = height * (2.9 - 0.4 * index)
        draw.rounded_rectangle(
            (height * 1.1, top, right, top + height * 0.14),
            radius=height * 0.07,
            fill=(*colour, 200),
        )
    return image


def main() -> None:
    """Write every brand image into ``custom_components/sequence/brand``."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=BRAND_DIR, help="output directory")
    args = parser.parse_args()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    for suffix, factor in (("", 1), ("@2x", 2)):
        draw_icon(256 * factor, LIGHT).save(out / f"icon{suffix}.png", optimize=True)
        draw_icon(256 * factor, DARK).save(out / f"dark_icon{suffix}.png", optimize=True)
        draw_logo(128 * factor, LIGHT).save(out / f"logo{suffix}.png", optimize=True)
        draw_logo(128 * factor, DARK).save(out / f"dark_logo{suffix}.png", optimize=True)


if __name__ == "__main__":
    main()
