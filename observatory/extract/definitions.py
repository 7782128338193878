"""Screen-kind definitions, declared as data (format: KINDS.md).

Coordinates are fractions of the image width; vertical distances are in
multiples of the row anchor's text height, so definitions do not depend on
the screenshot resolution.
"""
from __future__ import annotations

from .models import KindDefinition

NUM = r"(\d{1,3}(?:[,.]\s?\d{3})+|\d{3,})"          # 6,442,016,308 / 83760
NUM_ONLY = r"^[\W_]{0,3}" + NUM + r"[\W_]{0,2}$"          # a segment that is just a number
DATETIME = r"(\d{4}-\d{2}-\d{2}\s+\d{2}:\d{2}:\d{2})"
DATE_LOOSE = r"20\d\d\S{3,8}\s*\d\d:\d\d"
TAGGED = r"\[[\w!|]{2,4}[\]|)]\S+"                    # [HEI]HellImperium, also as [HE!]Hellmperium
RANK_REGION = {"name": "rank", "type": "int", "source": "region", "x_range": (0.03, 0.185),
               "whitelist": "0123456789", "modes": ["auto", "white"]}

DEFINITIONS_DATA: list[dict] = [
    {
        "name": "bear_damage",
        "description": "Trap N Damage Rewards popup, Damage Ranking tab",
        "phrases": [{"text": "Damage Rewards", "weight": 2}, {"text": "Damage Ranking", "weight": 1},
                    {"text": "Personal Damage Rewards", "weight": 2}, {"text": "Damage Points", "weight": 1},
                    {"text": "the more rewards you get", "weight": 1}],
        "meta": [{"name": "trap_id", "pattern": r"Trap\s*(\d+)\s*Damage\s*Rew"}],
        "rows": {"anchor": r"(?:Damage|Points)\W*" + NUM + r"|Points\W*(\d+)$", "anchor_x": (0.3, 0.5),
                 "band_up": 2.6, "band_down": 1.0, "sequence_field": "rank", "pinned_last": True,
                 "unranked": r"Unran|nranked"},
        "checks": [{"type": "non_increasing", "field": "damage"}],
        "fields": [
            RANK_REGION,
            {"name": "name", "type": "name", "modes": ["auto", "gray"], "source": "above", "x_range": (-0.03, 0.6), "required": True},
            {"name": "damage", "type": "int", "source": "anchor"},
        ],
    },
    {
        "name": "bear_overview",
        "description": "Mail: Hunt successful!, Battle Overview, [Hunting Trap N] Damage Ranking",
        "phrases": [{"text": "Hunt successful", "weight": 2}, {"text": "Battle Overview", "weight": 2},
                    {"text": "Total Alliance Damage", "weight": 2}, {"text": "Hunting Trap", "weight": 2},
                    {"text": "Rallies", "weight": 1}, {"text": "Bear Hunt", "weight": 1}],
        "meta": [
            {"name": "trap_id", "pattern": r"Hunting\s*Trap\s*(\d+)"},
            {"name": "rallies", "pattern": r"Rallies\W*(\d+)"},
            {"name": "total_damage", "pattern": r"Total\s*Alliance\s*Damage\W*" + NUM},
            {"name": "mail_time", "type": "reocr_text", "pattern": DATETIME, "locate": DATE_LOOSE,
             "digits_format": "####-##-## ##:##:##"},
        ],
        "rows": {"anchor": r"(?:Poin\w*|ints)\W*" + NUM, "anchor_x": (0.3, 0.5),
                 "start_after": r"Damage\s*Ranking", "band_up": 2.6, "band_down": 1.0,
                 "sequence_field": "rank"},
        "checks": [{"type": "non_increasing", "field": "damage"},
                   {"type": "at_most_meta", "field": "damage", "meta": "total_damage"}],
        "fields": [
            RANK_REGION,
            {"name": "name", "type": "name", "modes": ["auto", "gray"], "source": "above", "x_range": (-0.03, 0.6), "required": True},
            {"name": "damage", "type": "int", "source": "anchor"},
        ],
    },
    {
        "name": "contribution",
        "description": "Alliance Ranking > Contribution Rankings, Daily or Weekly tab",
        "phrases": [{"text": "Contribution Rankings", "weight": 2}, {"text": "Daily Contribution", "weight": 2},
                    {"text": "Weekly Contribution", "weight": 2}, {"text": "Contribute", "weight": 1},
                    {"text": "Alliance Ranking", "weight": 1}, {"text": "KO Rankings", "weight": 1}],
        "meta": [{"name": "period", "type": "choice_tab",
                  "options": {"daily": r"Daily", "weekly": r"Week"}}],
        "rows": {"anchor": NUM_ONLY, "anchor_x": (0.68, 0.9), "start_after": r"Contribute$|Chief",
                 "band_up": 1.6, "band_down": 1.6, "sequence_field": "rank", "pinned_last": True,
                 "pinned_policy": "keep"},
        "checks": [{"type": "non_increasing", "field": "contribution"}],
        "fields": [
            RANK_REGION,
            {"name": "name", "type": "name", "modes": ["auto", "gray"], "source": "same_line", "x_range": (0.342, 0.7), "required": True},
            {"name": "contribution", "type": "int", "source": "anchor"},
        ],
    },
    {
        "name": "alliance_power",
        "description": "Alliance Power ranking of alliances",
        "phrases": [{"text": "Alliance Power", "weight": 3}, {"text": "Ranking", "weight": 0.5},
                    {"text": "Alliance", "weight": 0.5}],
        "min_score": 3.0,
        "rows": {"anchor": NUM_ONLY, "anchor_x": (0.62, 0.85), "band_up": 1.6, "band_down": 1.6,
                 "sequence_field": "rank", "pinned_last": True},
        "checks": [{"type": "non_increasing", "field": "power"}],
        "fields": [
            RANK_REGION,
            {"name": "alliance", "type": "name", "modes": ["auto", "gray"], "source": "same_line", "x_range": (0.33, 0.69),
             "required": True, "text_of": "tag"},
            {"name": "power", "type": "int", "source": "anchor"},
        ],
    },
    {
        "name": "ac_signup",
        "description": "Alliance Championship Info: lane tabs, Registered x/y, Order of Battle",
        "phrases": [{"text": "Order of Battle", "weight": 2}, {"text": "Registered", "weight": 2},
                    {"text": "Left Lane", "weight": 1}, {"text": "Middle Lane", "weight": 1},
                    {"text": "Right Lane", "weight": 1}, {"text": "Info", "weight": 0.5},
                    {"text": "Preparation Phase", "weight": 1.5}, {"text": "lane assignments", "weight": 1.5}],
        "meta": [
            {"name": "lane", "type": "choice_tab", "region_above": r"Order\s*of", "region_h": 9.0,
             "options": {"left": r"(?-i:Left\s*Lan)", "middle": r"(?-i:Middle\s*Lan)",
                         "right": r"(?-i:Right\s*Lan)"}},
            # the header bar just above "Order of Battle": "Registered: 20/20   Power: 70,037"
            {"name": "registered", "pattern": r"(\d+)\s*/\s*\d+", "region_above": r"Order\s*of",
             "region_h": 3.5},
            {"name": "capacity", "pattern": r"\d+\s*/\s*(\d+)", "region_above": r"Order\s*of", "region_h": 3.5},
            {"name": "total_power", "pattern": r"Pow\w*\W*(\d[\d,.]*)", "region_above": r"Order\s*of",
             "region_h": 3.5},
        ],
        "rows": {"anchor": r"Pow\w*\W*" + r"(\d[\d,.]*)", "anchor_x": (0.32, 0.45),
                 "start_after": r"Order\s*of\s*Battle", "band_up": 2.2, "band_down": 1.0,
                 "sequence_field": "order", "sequence": "descending", "pinned_last": True,
                 "overlay": r"troops\s*are\s*fighting|fighting\s*in\s*the"},
        "checks": [{"type": "at_most_meta", "field": "power", "meta": "total_power"}, {"type": "positive", "field": "power"}],
        "fields": [
            {"name": "order", "type": "int", "source": "region", "x_range": (0.04, 0.185),
             "whitelist": "0123456789", "modes": ["auto", "white"]},
            {"name": "name", "type": "name", "modes": ["auto", "gray"], "source": "above", "x_range": (-0.03, 0.42), "required": True},
            {"name": "power", "type": "int", "source": "anchor"},
        ],
    },
    {
        "name": "foundry_signup",
        "description": "Legion N Combatants: Join x/y, Substitute, Troop Power",
        "phrases": [{"text": "Combatants", "weight": 2}, {"text": "Substitute", "weight": 2},
                    {"text": "Troop Power", "weight": 2}, {"text": "engagements", "weight": 1},
                    {"text": "Voted", "weight": 0.5}],
        "meta": [
            {"name": "legion", "pattern": r"Legion\s*(\d+)\s*Comb"},
            {"name": "joined", "pattern": r"(\d+)\s*/\s*(\d+)\s+\d+\s*/\s*\d+"},
            {"name": "capacity", "pattern": r"(\d+)\s*/\s*(\d+)\s+\d+\s*/\s*\d+", "group": 2},
            {"name": "substitutes", "type": "text", "pattern": r"\d+\s*/\s*\d+\s+(\d+\s*/\s*\d+)"},
            {"name": "troop_power", "pattern": r"Troop\s*Power\D{0,8}(\d[\d,.]*)"},
        ],
        "rows": {"anchor": NUM_ONLY, "anchor_x": (0.19, 0.34), "start_after": r"Troop\s*Power",
                 "band_up": 3.5, "band_down": 2.0},
        "checks": [{"type": "at_most_meta", "field": "power", "meta": "troop_power"}, {"type": "positive", "field": "power"}],
        "fields": [
            {"name": "name", "type": "name", "modes": ["auto", "gray"], "source": "above", "x_range": (-0.065, 0.45), "required": True,
             "max_dy": 3.0},
            {"name": "power", "type": "int", "source": "anchor"},
            {"name": "status", "type": "choice", "source": "band",
             "options": [("legion_{1}_dispatched", r"Legion\s*(\d)\s*dispat"), ("join", r"\bJoin\b"),
                         ("no_engagements", r"engage")]},
            {"name": "voted", "type": "flag", "source": "band", "pattern": r"Vote", "default": False},
            {"name": "tier", "type": "text", "source": "section", "pattern": r"^(R[1-5])\b",
             "x_range": (0.0, 0.2)},
        ],
    },
    {
        "name": "foundry_result",
        "description": "Mail: Foundry Battle victory/defeat, Personal Arsenal Points ranking",
        "layout_weight": 3.0,
        "phrases": [{"text": "Personal Arsenal Points", "weight": 3}, {"text": "Foundry Battle", "weight": 2},
                    {"text": "Arsenal Points", "weight": 1}, {"text": "Battle Stats", "weight": 1},
                    {"text": "Sieged by Mercenaries", "weight": 1}],
        "meta": [
            {"name": "mail_time", "type": "reocr_text", "pattern": DATETIME, "locate": DATE_LOOSE,
             "digits_format": "####-##-## ##:##:##"},
            {"name": "result", "type": "const", "pattern": r"(?-i:DEFEAT)", "value": "defeat"},
            {"name": "result", "type": "const", "pattern": r"(?-i:VICTORY)", "value": "victory"},
            {"name": "legion", "pattern": r"\[Legion\s*(\d+)\]"},
            {"name": "our_alliance", "type": "name", "pattern": "(" + TAGGED + r")\s+" + TAGGED},
            {"name": "opponent", "type": "name", "pattern": TAGGED + r"\s+(" + TAGGED + ")"},
            {"name": "our_score", "pattern": TAGGED + r"\s+" + TAGGED + r"\s*\n\D*?(\d{1,3}(?:[,.']\d{3})+)"},
            {"name": "opponent_score",
             "pattern": TAGGED + r"\s+" + TAGGED + r"\s*\n\D*?\d{1,3}(?:[,.']\d{3})+\D+?(\d{1,3}(?:[,.']\d{3})+)"},
        ],
        "rows": {"anchor": NUM_ONLY, "anchor_x": (0.33, 0.5), "start_after": r"Personal\s*Arsenal",
                 "band_up": 2.6, "band_down": 1.2, "sequence_field": "rank"},
        "checks": [{"type": "non_increasing", "field": "points"}],
        "fields": [
            RANK_REGION,
            {"name": "name", "type": "name", "modes": ["auto", "gray"], "source": "above", "x_range": (-0.03, 0.55), "required": True},
            {"name": "points", "type": "int", "source": "anchor"},
        ],
    },
    {
        "name": "alliance_members",
        "description": "Alliance Members roster cards (two columns, grouped by rank tier)",
        "phrases": [{"text": "Alliance Members", "weight": 3}, {"text": "Online", "weight": 1},
                    {"text": "search by Chief ID", "weight": 2}, {"text": "minute(s) ago", "weight": 1},
                    {"text": "hour(s) ago", "weight": 1}],
        "meta": [
            {"name": "online", "type": "text", "pattern": r"Online\W*(\d+\s*/\s*\d+)"},
            {"name": "sections", "type": "sections", "pattern": r"^R[1-5S]\b(?:\s+[A-Za-z][\w ]*)?"},
        ],
        "rows": {"anchor": r"(\d{1,4}(?:[.,]\d)?\s*[MKBmkb])(?![a-z(])|(\d{2,4}[.,]\d)",
                 "anchor_x": (0.15, 0.8), "columns": [(0.0, 0.5), (0.5, 1.0)],
                 "band_up": 2.2, "band_down": 2.0},
        "checks": [{"type": "positive", "field": "power"}],
        "fields": [
            {"name": "name", "type": "name", "modes": ["auto", "gray"], "source": "above", "x_range": (-0.08, 0.3), "required": True,
             "max_dy": 2.2},
            {"name": "power", "type": "abbrev", "source": "anchor", "text_of": "power_text",
             "whitelist": "0123456789.MKB"},
            {"name": "furnace_text", "type": "text", "source": "below", "x_range": (-0.005, 0.055),
             "max_dy": 1.9, "whitelist": "0123456789", "modes": ["auto", "white"]},
            {"name": "tier", "type": "text", "source": "section", "pattern": r"^(R[1-5S])\b",
             "x_range": (0.0, 0.2)},
        ],
    },
]

DEFINITIONS: dict[str, KindDefinition] = {
    d["name"]: KindDefinition.model_validate(d) for d in DEFINITIONS_DATA
}
