"""Recorded readings for the stages after reading: a reader that answers from given words, and a
bear-damage ranking as the page pass reads it. A change to locate, resolve or validate is tested
with these in milliseconds, with no OCR model run."""
from __future__ import annotations

from dataclasses import dataclass, field

from observatory.extract.ocr import Word
from observatory.extract.readers import RapidReader

W, H = 1080, 2340
NAMES = ["Valorin", "Stevie", "Xoxo", "Bourne", "Hingyyy"]  # distinct: a last row like one above is a pinned repeat


@dataclass
class RecordedReader(RapidReader):
    """The first reader, answering from recorded page words; a region read afresh says what `crops` records at a
    point inside it, else nothing."""

    words: list[Word] = field(default_factory=list)
    crops: dict[tuple[int, int], str] = field(default_factory=dict)

    def page(self, im):
        return list(self.words)

    def recognise(self, im, boxes):
        out = []
        for l, t, r, b in boxes:
            hit = next((txt for (x, y), txt in self.crops.items() if l <= x <= r and t <= y <= b), "")
            out.append((hit, 99.0 if hit else 0.0))
        return out


def bear_ranking(values: list[int], ranks_shown: list[int | None]) -> list[Word]:
    """A Trap 1 damage ranking as the page pass reads it: name above each 'Damage Points' line, and the
    rank digit at the left (None: a medal, no digit)."""
    words = [Word("Trap 1 Damage Rewards", 300, 300, 480, 40, 99), Word("Damage Ranking", 100, 420, 300, 35, 99)]
    for i, (value, rank) in enumerate(zip(values, ranks_shown)):
        y = 700 + 210 * i
        words.append(Word(f"[HEI]{NAMES[i]}", 400, y, 220, 30, 99))
        words.append(Word(f"Damage Points: {value:,}", 400, y + 55, 460, 28, 99))
        if rank is not None:
            words.append(Word(str(rank), 100, y + 20, 30, 35, 99))
    return words
