"""Player names: normalization properties and conservative fuzzy matching."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from observatory.identity import match_name, normalize, parse_name

names = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=20)


def test_tag_is_split_and_kept_for_display():
    p = parse_name("[HEI]Valorin")
    assert (p.tag, p.name, p.key, p.display) == ("HEI", "Valorin", "valorin", "[HEI]Valorin")
    assert parse_name("Stevieツ").key == "stevieツ" and parse_name("Stevieツ").tag is None
    assert parse_name("必須認真").key == "必須認真"


def test_invisible_characters_odd_spaces_and_width_forms_do_not_matter():
    assert normalize("Val\u200borin") == normalize("Valorin")
    assert normalize("Ｖａｌｏｒｉｎ") == normalize("valorin")  # full-width forms (NFKC)
    assert normalize("Big\u00a0Bear") == normalize("big bear") == normalize("BIG\u3000BEAR")
    assert parse_name("[HEI]\u200bValorin").key == "valorin"


@given(names)
def test_normalize_is_idempotent(s):
    assert normalize(normalize(s)) == normalize(s)


@given(names)
def test_case_and_zero_width_insertions_never_change_the_key(s):
    noisy = "\u200b".join(s.upper())
    assert normalize(noisy) == normalize(s.upper())


@given(names, names)
def test_different_letters_give_different_keys(a, b):
    if normalize(a) == normalize(b):
        # only case, width, spacing or invisibles may differ
        strip = lambda x: "".join(ch for ch in x if ch.isalnum()).casefold()  # noqa: E731
        import unicodedata

        assert strip(unicodedata.normalize("NFKC", a)).casefold() == strip(unicodedata.normalize("NFKC", b)).casefold()


def test_exact_then_fuzzy_and_never_short_names():
    known = {"valorin": "p1", "marra": "p2", "mar": "p3", "stevieツ": "p4"}
    assert match_name("valorin", known).method == "exact"
    fuzzy = match_name("valorln", known)
    assert (fuzzy.player_id, fuzzy.method) == ("p1", "fuzzy")
    assert match_name("marr", known).player_id is None  # too short for fuzzy
    assert match_name("mar", known).player_id == "p3"
    assert match_name("marra", known).player_id == "p2"
    assert match_name("completelynew", known).method == "none"


def test_ambiguous_names_are_not_merged():
    known = {"dragonfly1": "a", "dragonfly2": "b"}
    m = match_name("dragonfly3", known)
    assert m.player_id is None and m.method == "ambiguous" and set(m.candidates) == {"a", "b"}


@given(st.dictionaries(st.text("abcdefgh", min_size=5, max_size=9), st.sampled_from(["p1", "p2", "p3"]), max_size=8),
       st.text("abcdefgh", min_size=1, max_size=9))
def test_matching_does_not_depend_on_insertion_order(known, key):
    reversed_known = dict(reversed(list(known.items())))
    assert match_name(key, known) == match_name(key, reversed_known)


@given(st.dictionaries(st.text("abcdefgh", min_size=1, max_size=12), st.sampled_from(["p1", "p2", "p3"]), max_size=12),
       st.text("abcdefgh", min_size=1, max_size=12))
def test_matching_through_the_length_index_equals_scanning_every_key(known, key):
    by_length: dict[int, list[str]] = {}
    for k in known:
        by_length.setdefault(len(k), []).append(k)
    assert match_name(key, known, by_length=by_length) == match_name(key, known)
