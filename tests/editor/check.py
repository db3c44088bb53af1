#!/usr/bin/env python3
"""Checks an editor screenshot against the layout the editor reported (REDANCE_EDITOR_LAYOUT).

usage: check.py SHOT.ppm LAYOUT.json [REF_DIR]

- every reported region lies inside the window, in the expected order (title, buttons, progress,
  source lane, take lane, A/B row, parameters, status line) and the lanes span the window;
- the source lane shows the source colour (waveform) and the strength curve, the take lane the take
  colour; the progress bar is filled to the demo's 56 %;
- text is drawn as glyphs: the title and the status line hold many light, anti-aliased pixels, and
  the title crop matches the reference crop REF_DIR/title.ppm (written when missing or with
  REDANCE_EDITOR_UPDATE_REF=1 — look at it before committing).
Plain Python (no PIL/numpy): PPM (P6) in, numbers out. Colours mirror src/editor/style.rs.
"""
import json
import math
import os
import sys

SOURCE = (60, 190, 200)
TAKE = (240, 160, 60)
STRENGTH = (255, 90, 200)
ACCENT = (90, 140, 240)
LANE_BG = (16, 18, 22)


class Image:
    def __init__(self, path):
        with open(path, "rb") as f:
            data = f.read()
        parts, pos = [], 0
        while len(parts) < 4:  # magic, width, height, maxval (no comments from ImageMagick)
            while data[pos:pos + 1].isspace():
                pos += 1
            start = pos
            while not data[pos:pos + 1].isspace():
                pos += 1
            parts.append(data[start:pos])
        assert parts[0] == b"P6", "not a binary PPM"
        self.w, self.h = int(parts[1]), int(parts[2])
        self.px = data[pos + 1:]

    def at(self, x, y):
        i = (y * self.w + x) * 3
        return self.px[i], self.px[i + 1], self.px[i + 2]

    def region(self, rect, step=1):
        x0, y0, x1, y1 = (int(round(v)) for v in rect)
        for y in range(max(y0, 0), min(y1, self.h), step):
            for x in range(max(x0, 0), min(x1, self.w), step):
                yield x, y, self.at(x, y)

    def crop(self, rect):
        x0, y0, x1, y1 = (int(round(v)) for v in rect)
        return [[self.at(x, y) for x in range(x0, x1)] for y in range(y0, y1)]


def near(c, ref, tol=40):
    return sum(abs(a - b) for a, b in zip(c, ref)) <= tol


def fraction(img, rect, colour, tol=40):
    pixels = [c for _, _, c in img.region(rect, 2)]
    return sum(near(c, colour, tol) for c in pixels) / max(len(pixels), 1)


def light(c):
    return sum(c) / 3 > 150


def write_ppm(path, rows):
    h, w = len(rows), len(rows[0])
    with open(path, "wb") as f:
        f.write(b"P6\n%d %d\n255\n" % (w, h))
        f.write(bytes(v for row in rows for c in row for v in c))


def rmse(a, b):
    if len(a) != len(b) or len(a[0]) != len(b[0]):
        return math.inf
    total = n = 0
    for ra, rb in zip(a, b):
        for ca, cb in zip(ra, rb):
            for x, y in zip(ca, cb):
                total += (x - y) ** 2
                n += 1
    return math.sqrt(total / n) / 255


def main():
    img = Image(sys.argv[1])
    layout = json.load(open(sys.argv[2]))
    ref_dir = sys.argv[3] if len(sys.argv) > 3 else ""
    r = layout["regions"]
    win_w, win_h = layout["window"]
    failures = []

    def check(ok, what):
        print(("  ok   " if ok else "  FAIL ") + what)
        if not ok:
            failures.append(what)

    check(img.w >= win_w - 1 and img.h >= win_h - 1, f"window {win_w:.0f}x{win_h:.0f} fits the screen {img.w}x{img.h}")
    names = ["title", "buttons", "progress", "source_lane", "take_lane", "ab", "params", "history_models", "status"]
    for n in names:
        check(n in r, f"region {n} reported")
    if failures:
        return failures
    for n in names:
        x0, y0, x1, y1 = r[n]
        check(0 <= x0 < x1 <= win_w + 1 and 0 <= y0 < y1 <= win_h + 1, f"{n} inside the window")
    order = ["title", "buttons", "progress", "source_lane", "take_lane", "ab", "params", "status"]
    for a, b in zip(order, order[1:]):
        check(r[a][3] <= r[b][1] + 1, f"{a} above {b}")
    check(r["params"][2] <= r["history_models"][0] + 1, "parameters left of history/models")
    for lane in ("source_lane", "take_lane"):
        check(r[lane][2] - r[lane][0] > 0.9 * win_w, f"{lane} spans the window")

    bg = fraction(img, (0, 0, win_w, win_h), (24, 26, 31), 20)
    check(bg > 0.3, f"editor background colour covers the window ({bg:.0%})")
    src, strength = fraction(img, r["source_lane"], SOURCE), fraction(img, r["source_lane"], STRENGTH)
    check(src > 0.05, f"source waveform drawn in the source lane ({src:.1%} source colour)")
    check(strength > 0.002, f"strength curve drawn over the source ({strength:.2%})")
    tk = fraction(img, r["take_lane"], TAKE)
    check(tk > 0.05, f"take waveform drawn in the take lane ({tk:.1%} take colour)")
    check(fraction(img, r["take_lane"], SOURCE) < 0.01, "no source colour in the take lane")
    px0, py0, px1, py1 = r["progress"]
    y = int((py0 + py1) / 2)
    cols = [near(img.at(x, y), ACCENT, 60) for x in range(int(px0), int(px1))]
    filled = sum(cols) / max(len(cols), 1)
    check(0.4 < filled < 0.7, f"progress bar filled to the demo's 56 % ({filled:.0%} of its width)")

    for n in ("title", "buttons", "status"):
        pixels = [c for _, _, c in img.region(r[n])]
        lit = sum(light(c) for c in pixels)
        grey_levels = len({sum(c) // 3 for c in pixels})
        check(lit > 40 and grey_levels > 30, f"text in {n} ({lit} light pixels, {grey_levels} grey levels)")

    if ref_dir:
        title = img.crop(r["title"])
        ref = os.path.join(ref_dir, "title.ppm")
        if os.environ.get("REDANCE_EDITOR_UPDATE_REF") or not os.path.exists(ref):
            os.makedirs(ref_dir, exist_ok=True)
            write_ppm(ref, title)
            print(f"  note wrote the reference crop {ref}: look at it")
        else:
            e = rmse(title, Image(ref).crop((0, 0, len(title[0]), len(title))))
            check(e < 0.08, f"title matches the reference glyphs (RMSE {e:.3f})")
    return failures


if __name__ == "__main__":
    failed = main()
    print("editor check: " + ("PASS" if not failed else f"FAIL ({len(failed)})"))
    sys.exit(1 if failed else 0)
