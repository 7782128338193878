"""A dark-ink field is read cut to its own glyphs: a light badge after a name (a crown showing a level) is not part of it."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from PIL import Image, ImageDraw

from observatory.extract.ink import dark_box, dark_span, ink_columns

H = 14  # text height in pixels


def strip(words: list[int], badge_at: int | None = None, width: int = 300) -> Image.Image:
    """Dark 'words' of the given widths (gaps of 5 px), then a gold badge with a dark outline and light digits."""
    im = Image.new("RGB", (width, 24), (235, 220, 190))
    d = ImageDraw.Draw(im)
    x = 4
    for w in words:
        d.rectangle((x, 5, x + w - 1, 5 + H), fill=(60, 40, 40))
        x += w + 5
    if badge_at is not None:
        d.rectangle((badge_at, 2, badge_at + 30, 22), fill=(210, 160, 40))
        d.line((badge_at, 2, badge_at, 22), fill=(70, 50, 20))          # the crown's outline: one thin stroke
        d.line((badge_at + 30, 2, badge_at + 30, 22), fill=(70, 50, 20))
        d.rectangle((badge_at + 9, 7, badge_at + 21, 17), fill=(250, 250, 250))  # light level digits
    return im


def test_a_name_followed_by_a_badge_ends_at_its_last_dark_word():
    im = strip([40, 30], badge_at=110)
    l, t, r, b = dark_box(im, (0, 0, im.width, im.height), H)
    assert 4 + 40 + 5 + 30 - 1 <= r < 110  # the second word is kept, the badge is not


def test_a_trailing_digit_word_in_dark_ink_is_part_of_the_name():
    # "Karodor 2": a real name ending in a dark digit keeps it
    im = strip([50, 8])
    span = dark_span(ink_columns(im, (0, 0, im.width, im.height)), H)
    assert span == (4, 4 + 50 + 5 + 8 - 1)


def test_no_dark_ink_leaves_the_box_as_it_was():
    im = Image.new("RGB", (100, 20), (235, 220, 190))
    assert dark_box(im, (0, 0, 100, 20), H) == (0, 0, 100, 20)


@given(words=st.lists(st.integers(5, 60), min_size=1, max_size=5), badge_gap=st.integers(8, 40))
def test_whatever_the_words_the_cut_keeps_every_word_and_drops_the_badge(words, badge_gap):
    end = 4 + sum(words) + 5 * (len(words) - 1)
    im = strip(words, badge_at=end + badge_gap, width=end + badge_gap + 40)
    span = dark_span(ink_columns(im, (0, 0, im.width, im.height)), H)
    assert span is not None and span[1] == end - 1


def test_the_text_height_is_the_inks_own_whatever_the_box_around_it():
    """Detector boxes vary by a sixth with the digits inside; the ink a number leaves does not."""
    im = Image.new("RGB", (120, 60), (20, 30, 60))
    d = ImageDraw.Draw(im)
    d.rectangle((10, 20, 100, 20 + H - 1), fill=(250, 250, 250))  # light digits on a dark card
    from observatory.extract.ink import text_height

    assert text_height(im, (0, 5, 120, 50)) == H
    assert text_height(im, (0, 12, 120, 40)) == H
    assert text_height(im, (0, 27, 120, 60)) == 20 + H - 27  # the list's edge cuts the glyphs: shorter ink


def test_readings_that_differ_only_between_capital_i_and_small_l():
    from observatory.extract.readers import _only_i_and_l

    assert _only_i_and_l("ljebu Man", "Ijebu Man’")
    assert not _only_i_and_l("Ijebu Man", "Ijebu Man")  # no difference: nothing to decide
    assert not _only_i_and_l("ljebu Man", "Ijebu Mon")  # another letter differs too: no swap
    assert not _only_i_and_l("Bill", "Bil")
