"""Unit tests for the pure number / name helpers of the extraction engine."""
from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from observatory.extract.names import (clean_name, common_tag, fix_tag, name_key, repair_known_tag,
                                       split_tag, vote_name)
from observatory.extract.numbers import (grouping_ok, parse_abbrev, parse_int, parse_labeled,
                                         parse_ratio)
from observatory.extract.scoring import name_similarity, row_matches, score_image


def test_parse_int_examples():
    assert parse_int("6,442,016,308") == 6442016308
    assert parse_int("Damage Points:3,720,524,673") == 3720524673
    assert parse_int("69,120") == 69120
    assert parse_int("6.442.016.308") == 6442016308  # OCR read commas as dots
    assert parse_int("no digits") is None
    assert parse_int(None) is None


def test_parse_abbrev_examples():
    assert parse_abbrev("211.5M") == 211_500_000
    assert parse_abbrev("1.2B") == 1_200_000_000
    assert parse_abbrev("45K") == 45_000
    assert parse_abbrev("210M") == 210_000_000
    assert parse_abbrev("211,5M") == 211_500_000
    assert parse_abbrev("1,234") == 1234
    assert parse_abbrev("") is None


def test_parse_labeled_and_ratio():
    assert parse_labeled("Power: 5,034", "Power") == 5034
    assert parse_labeled("Power:70,037", "power") == 70037
    assert parse_labeled("Rallies 50", "Power") is None
    assert parse_ratio("Registered: 20/20") == (20, 20)
    assert parse_ratio("Online: 6 / 100") == (6, 100)
    assert parse_ratio("none") is None


@given(st.integers(min_value=0, max_value=10**13))
def test_parse_int_roundtrip_grouped(n):
    text = f"{n:,}"
    assert parse_int(text) == n
    assert grouping_ok(text)
    assert parse_int(f"Power: {text}") == n


@given(st.integers(min_value=1, max_value=9999), st.integers(min_value=0, max_value=9),
       st.sampled_from([("K", 10**3), ("M", 10**6), ("B", 10**9)]))
def test_parse_abbrev_decimal_exact(whole, tenth, suffix):
    s, mult = suffix
    assert parse_abbrev(f"{whole}.{tenth}{s}") == (whole * 10 + tenth) * mult // 10


def test_fix_tag_repairs_ocr_bracket_slips():
    assert fix_tag("[HEI|Stevie") == "[HEI]Stevie"
    assert fix_tag("[HEIJD A D D Y") == "[HEI]D A D D Y"
    assert fix_tag("[HE!]Valorin") == "[HEI]Valorin"
    assert fix_tag("[HEl]Jayy") == "[HEI]Jayy"
    assert fix_tag("[VaL]Valor") == "[VaL]Valor"
    assert fix_tag("Bourne") == "Bourne"


def test_clean_name_keeps_unicode():
    assert clean_name("  Stevieツ ") == "Stevieツ"
    assert clean_name("必須認真") == "必須認真"
    assert clean_name("D A D D Y") == "D A D D Y"
    assert split_tag("[KIL]ShadowWarriors") == ("KIL", "ShadowWarriors")
    assert split_tag("Bourne") == (None, "Bourne")


@given(st.text(min_size=1, max_size=20))
def test_name_key_is_idempotent_and_alnum(s):
    k = name_key(s)
    assert name_key(k) == k
    assert all(ch.isalnum() for ch in k)


def test_scoring_rules():
    label = {"rank": 1, "name": "[HEI]Valorin", "damage": 6442016308}
    assert row_matches({"rank": 1, "name": "[HEI]valorin", "damage": 6442016308}, label)
    assert not row_matches({"rank": 1, "name": "[HEI]Valorin", "damage": 6442016309}, label)
    assert not row_matches({"rank": 2, "name": "[HEI]Valorin", "damage": 6442016308}, label)
    assert row_matches({"rank": 1, "name": "garbage", "damage": 6442016308}, {**label, "uncertain": True})
    assert name_similarity("Stevieツ", "stevieツ") == 1.0
    lab = {"kind": "bear_damage", "meta": {"trap_id": 1}, "rows": [label],
           "partial_rows": [{"rank": 2, "name": "x", "damage": 5}],
           "excluded_rows": [{"rank": "Unranked", "name": "[HEI]Bourne", "damage": 0}]}
    s = score_image("bear_damage", {"trap_id": 1},
                    [label, {"rank": 2, "name": "x", "damage": 5, "partial": True},
                     {"rank": None, "name": "[HEI]Bourne", "damage": 0}],
                    lab)
    assert (s.tp, s.fn, s.fp, s.neutral, s.meta_ok, s.kind_ok) == (1, 0, 1, 1, 1, True)


def test_page_tag_is_restored_only_where_the_prefix_spells_it():
    assert repair_known_tag("IH El|StarDaddy", "HEI") == "[HEI]StarDaddy"
    assert repair_known_tag("HEIISHARKCAN", "HEI") == "[HEI]SHARKCAN"
    assert repair_known_tag("i [HEI] ©SBAZOOKA", "HEI") == "[HEI] ©SBAZOOKA"
    # plain names that merely start like the tag keep their letters
    for name in ("Hellboy", "Helen", "HEIDI", "[BTS]BurnTheStage"):
        assert repair_known_tag(name, "HEI") == name
    assert common_tag(["[HEI]a", "[HEI]b", "c", None, "[BTS]x"]) == "HEI"
    assert common_tag(["[HEI]a", "[BTS]b"]) is None  # no majority: nothing is restored


def test_vote_prefers_agreement_and_longer_reads():
    name, _, votes = vote_name([("Atropes", 45.0), ("aiid", 25.0), ("Atropos", 59.0), ("Atropos", 52.0)])
    assert (name, votes) == ("Atropos", 2)
    # a confidently truncated read yields to the pass that kept the last word
    assert vote_name([("Stratégie", 91.0), ("Stratégie et Def", 64.0)])[0] == "Stratégie et Def"
    assert vote_name([("", 0.0)]) is None


@given(st.lists(st.tuples(st.text(alphabet="abcXYZ 01", min_size=1, max_size=8),
                          st.floats(min_value=0, max_value=100)), min_size=1, max_size=5))
def test_vote_returns_one_of_the_reads(reads):
    res = vote_name(reads)
    texts = [t for t, _ in reads if t.strip()]  # blank reads are no name
    if res is None:
        assert not texts
    else:
        assert res[0] in texts and 1 <= res[2] <= len(texts)


def test_scoring_counts_a_decorated_name_read_as_its_plain_letters():
    """README rule: a reading also counts when it matches `name_plain` (accents stripped, ASCII letters and digits)."""
    label = {"order": 10, "name": "[HEI]ΛLЦKΛЯD ◢◤", "power": 2747, "name_plain": "[HEI]ALUKARD"}
    assert row_matches({"order": 10, "name": "[HEI]ALUKARD", "power": 2747}, label)
    assert row_matches({"order": 10, "name": "[HEI]Alukárd", "power": 2747}, label)
    assert not row_matches({"order": 10, "name": "[HEI]ALUKARD", "power": 2746}, label)
    # without name_plain the decorated glyphs must be read as written
    plain_less = {k: v for k, v in label.items() if k != "name_plain"}
    assert not row_matches({"order": 10, "name": "[HEI]ALUKARD", "power": 2747}, plain_less)


def test_the_name_threshold_is_0_9_exactly():
    """A reading at 0.9 similarity counts, one just below does not (boundary of the README's rule)."""
    label = {"rank": 1, "name": "abcdefghij", "damage": 1}
    assert name_similarity("abcdefghiX", "abcdefghij") == 0.9
    assert row_matches({"rank": 1, "name": "abcdefghiX", "damage": 1}, label)
    assert name_similarity("abcdefghXY", "abcdefghij") < 0.9
    assert not row_matches({"rank": 1, "name": "abcdefghXY", "damage": 1}, label)
    plain = {"rank": 1, "name": "ᗰIGᑌEᒪ", "name_plain": "abcdefghij", "damage": 1}
    assert row_matches({"rank": 1, "name": "abcdefghiX", "damage": 1}, plain)
    assert not row_matches({"rank": 1, "name": "abcdefghXY", "damage": 1}, plain)


def test_doubtful_rows_are_not_stored_and_partial_rows_must_say_so():
    lab = {"kind": "bear_damage", "meta": {}, "rows": [{"rank": 1, "name": "a", "damage": 10}],
           "partial_rows": [{"rank": 2, "name": "b", "damage": 5}]}
    wrong_but_doubtful = {"rank": 1, "name": "a", "damage": 99, "doubtful": ["damage"]}
    s = score_image("bear_damage", {}, [wrong_but_doubtful], lab)
    assert (s.tp, s.fn, s.fp, s.doubtful) == (0, 1, 0, 1)
    unflagged = score_image("bear_damage", {}, [{"rank": 2, "name": "b", "damage": 5}], lab)
    flagged = score_image("bear_damage", {}, [{"rank": 2, "name": "b", "damage": 5, "partial": True}], lab)
    assert (unflagged.fp, flagged.fp, flagged.neutral) == (1, 0, 1)


def test_categorical_fields_are_compared_nulls_included():
    label = {"name": "a", "power": 5, "status": "join", "voted": True, "tier": None}
    lab = {"kind": "foundry_signup", "meta": {}, "rows": [label]}
    s = score_image("foundry_signup", {}, [{"name": "a", "power": 5, "status": "join", "voted": False, "tier": "R4"}], lab)
    assert (s.tp, s.cat_ok, s.cat_total) == (1, 1, 3)


def test_a_header_above_the_first_card_is_not_a_name():
    """`Online: 7/100` sits where the first roster card's hidden name would: it is the screen's text, no player."""
    from observatory.extract import DEFINITIONS
    from observatory.extract.ocr import Segment, Word
    from observatory.extract.locate import RowCtx
    from observatory.extract.validate import _screen_text

    def row(name):
        r = RowCtx(Segment([Word("142.6M", 280, 1900, 118, 26, 99.0)]), 0)
        r.values["name"] = name
        return r

    members = DEFINITIONS["alliance_members"]
    assert _screen_text(members, row("Online: 7/100")) == "Online: 7/100"
    assert _screen_text(members, row("Alliance Members")) == "Alliance Members"
    for name in ("Onlinegamer", "Mar", "必須認真", None):
        assert _screen_text(members, row(name)) is None
