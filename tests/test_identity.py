"""Player names: normalization properties and conservative fuzzy matching."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from observatory.identity import match_name, normalize, parse_name

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "samples"
names = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=20)


def test_tag_is_split_and_kept_for_display():
    p = parse_name("[HEI]Valorin")
    assert (p.tag, p.name, p.key, p.display) == ("HEI", "Valorin", "valorin", "[HEI]Valorin")
    assert parse_name("Stevieツ").key == "stevie" and parse_name("Stevieツ").tag is None  # ツ decorates
    assert parse_name("Stevieツ").display == "Stevieツ"  # the reading is kept and shown
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


plain_names = st.text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1, max_size=12)
real_script = st.sampled_from([
    "\u4e00-\u9fff",  # CJK
    "\u3041-\u3096",  # hiragana
    "\u30a1-\u30fa",  # katakana
    "\uac00-\ud7a3",  # Hangul
    "\u0621-\u064a",  # Arabic
    "\u05d0-\u05ea",  # Hebrew
    "\u0430-\u044f",  # Cyrillic
    "\u03b1-\u03c9",  # Greek
])


@st.composite
def real_script_names(draw) -> str:
    lo, hi = (ord(c) for c in draw(real_script).split("-"))
    return "".join(chr(draw(st.integers(lo, hi))) for _ in range(draw(st.integers(1, 8))))


@given(plain_names, plain_names)
def test_plain_names_that_differ_never_share_a_key(a, b):
    assert (normalize(a) == normalize(b)) == (a.casefold() == b.casefold())


@given(real_script_names())
def test_real_scripts_are_never_folded(name):
    """CJK, kana, Hangul, Arabic, Hebrew, and Cyrillic or Greek names that are really so, keep every letter."""
    assert normalize(name) == unicodedata.normalize("NFKC", name).casefold()


@given(real_script_names(), real_script_names())
def test_two_real_script_names_share_a_key_only_when_equal(a, b):
    if normalize(a) == normalize(b):
        assert unicodedata.normalize("NFKC", a).casefold() == unicodedata.normalize("NFKC", b).casefold()


def _sample_decorated_names() -> list[tuple[str, str]]:
    pairs = set()
    for path in SAMPLES.glob("*/*.json"):
        label = json.loads(path.read_text(encoding="utf-8"))
        for key in ("rows", "partial_rows", "excluded_rows"):
            for row in label.get(key) or []:
                if "name_plain" in row:
                    pairs.add((parse_name(row["name"]).name, parse_name(row["name_plain"]).name))
    return sorted(pairs)


# The decorated names of the samples (ʙᴜʙʙʟᴇs, xƁes, ᗰIGᑌEᒪ, ΛLЦKΛЯD, ...) and the plain
# letters a reader sees. Three stay short of their name_plain (a glyph decancer has no
# letter for, e.g. ʔ, or a label that reads `Ƨ` as S): they are still close enough for
# a fuzzy match.
DECORATED = [
    ("ʙᴜʙʙʟᴇs", "BUBBLES"), ("ʙᴜᴛᴛᴇʀᴄᴜᴘ", "BUTTERCUP"), ("xƁes", "xBes"), ("Đⱥɨnŧɏ Mⱥǥɨȼɨⱥn", "Dainty Magician"),
    ("ᗰIGᑌEᒪ࿐", "MIGUEL"), ("ᗰIGᑌEᒪᯓ", "MIGUEL"), ("ᗰIGᑌEᒪ༄", "MIGUEL"), ("ΛLЦKΛЯD ◢◤", "ALUKARD"),
    ("༒WRATH༒", "WRATH"), ("D A D D Y࿐", "D A D D Y"), ("୨∘°BAZOOKA°∘୧", "BAZOOKA"),
    ("๛∘ঃBAZOOKAঃ∘๛", "BAZOOKA"), ("Ɠɨᴙʅ༄ɨɴᴛᴇᴙᴙᴜpᴛᴇḋ", "Girl Interrupted"), ("Ꮆɨᴙʅᯓɨɴᴛᴇᴙᴙᴜpᴛᴇᑰ", "Girl Interrupted"),
    ("xOsaツKṢ̌Ą", "xOsaKSA"), ("xOsaツKŞĄ", "xOsaKSA"), ("SßABER", "SBABER"), ("BrįåńThëbårbãrø", "BrianThebarbaro"),
    ("Ｗｒａｔｈ", "Wrath"), ("ⓌⓇⒶⓉⒽ", "WRATH"),  # fullwidth and circled letters
]


@pytest.mark.parametrize("decorated,plain", DECORATED)
def test_decorative_lookalikes_fold_to_the_plain_letters(decorated, plain):
    assert normalize(decorated) == normalize(plain)
    shown = unicodedata.normalize("NFKC", decorated)
    assert parse_name(f"[HEI]{decorated}").display == f"[HEI]{shown}"  # shown as read


@pytest.mark.skipif(not SAMPLES.is_dir(), reason="needs ../shared/samples")
def test_every_decorated_sample_name_matches_its_plain_letters():
    pairs = _sample_decorated_names()
    assert len(pairs) >= 20
    missed = {decorated for decorated, plain in pairs
              if match_name(normalize(decorated), {normalize(plain): "p1"}).player_id != "p1"}
    # its label reads Ն as "IL", Ƨ as "S" and λ as "A"; the key has "l", "2" and "a" (80, below the threshold)
    assert missed <= {"°SmiՆɛČ̣Ƨλɓ°1"}


@pytest.mark.parametrize("decorated,plain", [
    ("Bunyip點", "Bunyip"), ("-WRATH-", "WRATH"), ("D A D D Y@", "D A D D Y"), ("★Valorin★", "Valorin"),
    ("~~Floki~~", "Floki"), ("Stevieツ", "Stevie"),
])
def test_decoration_is_not_part_of_a_name(decorated, plain):
    assert normalize(decorated) == normalize(plain)


@pytest.mark.parametrize("name,key", [
    ("必須認真", "必須認真"), ("★★★", "★★★"), ("---", "---"), ("さくら★", "さくら"), ("Иван", "иван"),
    ("مرحبا", "مرحبا"), ("한국", "한국"), ("ΛΛΛ", "λλλ"),
])
def test_names_only_of_symbols_and_real_scripts_stay_intact(name, key):
    assert normalize(name) == key


def test_mar_and_marra_stay_two_players():
    assert normalize("Mar") != normalize("Marra")
    assert match_name(normalize("Marra"), {normalize("Mar"): "p1"}).player_id is None
    assert match_name(parse_name("[HEI]Mar★").key, {normalize("Marra"): "p1"}).player_id is None


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
