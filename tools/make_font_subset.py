"""Regenerate the CJK font shipped with convsim: a Simplified Chinese subset of Noto Sans CJK.

Figures and the report page need a font with Chinese glyphs that works on a
computer with none installed. The full Noto Sans CJK collection is ≈ 19 MB; the
package ships a subset of its Simplified Chinese face (SC) holding

- every character of the project's own texts (``sim/`` source and templates,
  ``scenarios/*.toml``, ``calibration/*.toml``): labels, measure names, units;
- the 3,755 common hanzi of GB 2312 level 1 and GB 2312's symbols and
  full-width forms, so names a user types into a scenario file render too;
- printable ASCII and Latin-1, and a few typographic signs.

Hanzi outside that set fall back to the next font of the figure or the page
(DejaVu Sans on figures, the system's fonts on the page).

The source is the SIL Open Font License 1.1 font of Debian's
``fonts-noto-cjk`` package (``apt-get install fonts-noto-cjk``); the subset is a
Modified Version under the same licence, so the licence text is written beside
it. Run from the repository root::

    python tools/make_font_subset.py [--source /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc]

and commit ``sim/fonts/``. The family is renamed so that the subset is never
mistaken for the full font installed on a system.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection, TTFont

ROOT = Path(__file__).resolve().parents[1]
SOURCE = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
LICENCE_SOURCE = Path("/usr/share/doc/fonts-noto-cjk/copyright")
OUT = ROOT / "sim" / "fonts"
FONT_FILE = "NotoSansSC-convsim-subset.otf"
FAMILY = "convsim Noto Sans SC"
FACE = "Noto Sans CJK SC"  # the face of the collection to cut from
PROJECT_TEXTS = ("sim/**/*.py", "sim/**/*.j2", "scenarios/*.toml", "calibration/*.toml")
#: Typographic signs the texts may use beyond Latin-1 and GB 2312's symbols.
EXTRA = "–—‘’“”•…‰′″€™−≈≠≤≥±×÷→←↑↓⇒∞√∑∆Δσμ·％"


def gb2312(levels: tuple[int, ...]) -> set[str]:
    """Characters of GB 2312: row 1–9 symbols (level 0), level-1 hanzi (rows 16–55), level-2 (56–87)."""
    rows = {0: range(1, 10), 1: range(16, 56), 2: range(56, 88)}
    chars = set()
    for level in levels:
        for row in rows[level]:
            for cell in range(1, 95):
                try:
                    chars.add(bytes([0xA0 + row, 0xA0 + cell]).decode("gb2312"))
                except UnicodeDecodeError:
                    continue  # an unassigned cell
    return chars


def project_characters() -> set[str]:
    """Every non-ASCII character of the project's own texts."""
    chars: set[str] = set()
    for pattern in PROJECT_TEXTS:
        for p in ROOT.glob(pattern):
            chars.update(c for c in p.read_text(encoding="utf-8") if ord(c) > 0x7E and c.isprintable())
    return chars


def characters(levels: tuple[int, ...]) -> str:
    """The characters the subset keeps."""
    keep = project_characters() | gb2312(levels) | set(EXTRA)
    keep |= {chr(c) for c in range(0x20, 0x7F)} | {chr(c) for c in range(0xA0, 0x100)}
    return "".join(sorted(keep))


def load_face(source: Path) -> TTFont:
    """The Simplified Chinese face of the collection (or the font file itself)."""
    if source.suffix.lower() == ".ttc":
        for font in TTCollection(str(source)).fonts:
            if font["name"].getDebugName(4) == FACE:
                return font
        sys.exit(f"{source}: no face named {FACE!r}")
    return TTFont(str(source))


def rename(font: TTFont) -> None:
    """Give the subset its own family name (the OFL asks a Modified Version not to pass for the original)."""
    name = font["name"]
    for rec in list(name.names):
        if rec.nameID in (1, 16):
            name.setName(FAMILY, rec.nameID, rec.platformID, rec.platEncID, rec.langID)
        elif rec.nameID in (3, 4):
            name.setName(f"{FAMILY} Regular", rec.nameID, rec.platformID, rec.platEncID, rec.langID)
        elif rec.nameID == 6:
            name.setName("convsimNotoSansSC-Regular", rec.nameID, rec.platformID, rec.platEncID, rec.langID)
    # the CFF table carries its own names, which Matplotlib does not read but PostScript consumers do
    if "CFF " in font:
        cff = font["CFF "].cff
        cff.fontNames = ["convsimNotoSansSC-Regular"]
        top = cff.topDictIndex[0]
        top.FamilyName = FAMILY
        top.FullName = f"{FAMILY} Regular"


def licence_text(font: TTFont) -> str:
    """The font's copyright notice and the full OFL 1.1 text (from the Debian package's copyright file)."""
    text = LICENCE_SOURCE.read_text(encoding="utf-8")
    m = re.search(r"^License: SIL-1\.1\n((?: .*\n)+)", text, flags=re.M)  # the stanza with the text
    if m is None:
        sys.exit(f"{LICENCE_SOURCE}: no SIL-1.1 licence text")
    body = "\n".join("" if ln.strip() == "." else ln[1:] for ln in m.group(1).rstrip().splitlines())
    # the upstream notice (noto-cjk's LICENSE); the font's own copyright record omits the reserved name
    notice = ("Copyright 2014-2021 Adobe (http://www.adobe.com/), with Reserved Font Name 'Source'.\n"
              f"(The font's copyright record: {font['name'].getDebugName(0)})")
    return (f"{FONT_FILE}: a subset of Noto Sans CJK SC (Regular), renamed \"{FAMILY}\",\n"
            f"made by tools/make_font_subset.py from Debian's fonts-noto-cjk package.\n\n"
            f"{notice}\n\nThis Font Software is licensed under the SIL Open Font License, Version 1.1.\n\n{body}\n")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--source", type=Path, default=SOURCE,
                    help=f"Noto Sans CJK collection or SC font (default {SOURCE})")
    ap.add_argument("--level2", action="store_true", help="also keep GB 2312's 3,008 level-2 hanzi (≈ 2.1 MB)")
    a = ap.parse_args(argv)
    font = load_face(a.source)
    keep = characters((0, 1, 2) if a.level2 else (0, 1))
    opts = subset.Options()
    opts.name_IDs = ["*"]  # keep the copyright and licence records
    opts.name_languages = ["*"]
    # horizontal text only: no vertical forms, no Japanese/Korean/Traditional variants (locl), no fractions
    opts.layout_features = ["ccmp", "kern", "liga", "palt"]
    opts.hinting = False  # the CFF hints are ≈ 10 % of the file; FreeType's auto-hinter serves figures as well
    sub = subset.Subsetter(opts)
    sub.populate(text=keep)
    sub.subset(font)
    rename(font)
    font.recalcTimestamp = False  # the same characters give the same bytes: a rerun changes nothing in git
    OUT.mkdir(parents=True, exist_ok=True)
    font.save(OUT / FONT_FILE)
    (OUT / "OFL.txt").write_text(licence_text(font), encoding="utf-8")
    size = (OUT / FONT_FILE).stat().st_size
    print(f"{OUT / FONT_FILE}: {len(keep):,} characters, {len(font.getGlyphOrder()):,} glyphs, {size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
