"""Stage 3, resolve: a field's value from its readings (votes on names, digits passes on numbers,
CJK retries, the page's alliance tag restored)."""
from __future__ import annotations

import re
import unicodedata
from collections import Counter
from typing import Any

from . import numbers as num
from .locate import RowCtx
from .models import KindDefinition, RowField
from .names import (clean_name, common_tag, lookalike_guess, name_hole, name_key, repair_known_tag, split_tag,
                    vote_name)
from .ocr import CropResult
from .page import CropReq, Cropper, Page, trim_noise


def _ocr_int(results: list[CropResult], pattern: str | None) -> tuple[int | None, float]:
    """Combine the full-text pass and the digits-only pass of a number.

    The digits pass wins when it yields a well-grouped number; otherwise the
    number following the label in the full pass is used.
    """
    cands: list[tuple[int, float, bool]] = []
    for i, cr in enumerate(results):
        if cr is None or not cr.text:
            continue
        t = cr.text.replace(" ", "")
        toks = re.findall(r"\d[\d,.]*\d|\d", t)
        if not toks:
            continue
        tok = max(toks, key=len).strip(",.")
        val = num.parse_int(tok)
        if val is None:
            continue
        cands.append((val, cr.conf, num.grouping_ok(tok)))
    if not cands:
        return None, 0.0
    vals = [c[0] for c in cands]
    if len(set(vals)) == 1:
        return vals[0], min(100.0, max(c[1] for c in cands) + 5)
    # majority vote over the passes; ties go to well-grouped, then confident reads
    counts = Counter(vals)
    top = max(counts.values())
    pool = [c for c in cands if counts[c[0]] == top]
    pick = max(pool, key=lambda c: (c[2], c[1]))
    return pick[0], pick[1] * (0.85 if top > 1 else 0.6)


def _abbrev_text(results: list[CropResult]) -> tuple[str | None, int | None, float]:
    cands = []
    for cr in results:
        if cr is None:
            continue
        t = cr.text.replace(" ", "").replace(",", ".")
        m = re.search(r"(\d{1,3}(?:\.\d)?)([MKB])", t, re.I)
        if m:
            txt = m.group(1) + m.group(2).upper()
            cands.append((txt, cr.conf))
    if cands:
        if len({c[0] for c in cands}) == 1:
            txt, conf = cands[0][0], max(c[1] for c in cands) + 5
        else:
            txt, conf = max(cands, key=lambda c: c[1])
            conf *= 0.7
        return txt, num.parse_abbrev(txt), min(conf, 100.0)
    for cr in results:  # suffix lost: 505.91 -> 505.9M is the common misread
        if cr is None:
            continue
        m = re.search(r"(\d{1,4})[.,](\d)", cr.text.replace(" ", ""))
        if m:
            txt = f"{m.group(1)}.{m.group(2)}M"
            return txt, num.parse_abbrev(txt), cr.conf * 0.6
    return None, None, 0.0


def resolve_fields(defn: KindDefinition, page: Page, rows: list[RowCtx]) -> None:
    for r in rows:
        for f in defn.fields:
            val: Any = None
            conf = None
            reqs = r.reqs.get(f.name)
            results = [q.result for q in reqs] if reqs else []
            if f.source == "block":
                val = r.block
            elif f.source == "anchor" and f.type == "int":
                val, conf = _ocr_int(results, defn.rows.anchor)
                if val is None:  # fall back to the page pass
                    m = re.search(defn.rows.anchor, r.anchor.text, re.I)
                    g = next((x for x in (m.groups() if m else ()) if x), None)
                    val = num.parse_int(g) if g else None
                    conf = r.anchor.conf * 0.5
            elif f.type == "abbrev":
                txt, val, conf = _abbrev_text(results)
                if f.text_of:
                    r.values[f.text_of] = txt
            elif f.type == "int":
                best = None
                for cr in results:
                    got = _small_or_grouped_int(cr.text) if cr else None
                    if got is not None and (best is None or cr.conf > best[1]):
                        best = (got, cr.conf)
                val, conf = best if best else (None, None)
            elif f.type == "name":
                best_name = _name_reads(reqs)
                if best_name:
                    val, conf, r.name_votes = best_name
                    r.name_conf = conf
                    r.name_suspect = _suspect(reqs, val)
                    sfx = reqs[0].suffix if reqs else ""
                    if sfx and not _CJK.search(val):
                        val += sfx
                    if not val:
                        val = None
                if f.suffix:
                    val = _split_suffix(f, r, val)
                if f.text_of and val:
                    tag, rest = split_tag(val)
                    r.values[f.text_of] = tag
                    val = rest
            elif f.type == "text" and f.source in ("below", "region"):
                best = None
                for cr in results:
                    m = re.search(r"\d+", cr.text) if cr else None
                    if m and (best is None or cr.conf > best[1]):
                        best = (m.group(0), cr.conf)
                val = best[0] if best else None
            elif f.source == "band":
                if f.type == "flag":
                    val = bool(re.search(f.pattern or "", r.band_text, re.I))
                elif f.type == "choice":
                    val = f.default
                    for value, rx in f.options:
                        m = re.search(rx, r.band_text, re.I)
                        if m:
                            val = value.format(*([None] + list(m.groups())))
                            break
            elif f.source == "section":
                val = _section(page, r, f)
            if val is None and f.default is not None:
                val = f.default
            r.values[f.name] = val
            if conf is not None:
                r.confs.append(max(0.0, min(100.0, conf)) / 100.0)


def _split_suffix(f: RowField, r: RowCtx, name: str | None) -> str | None:
    """Split a name's trailing mark (``Stickman (7)``) into its own field: from the voted name, or
    else from the fresh read of the name's pixels when it is the same name plus the mark (the page
    pass can miss a detached ``(7)``)."""
    sx = f.suffix
    rx = re.compile(sx.pattern + r"\s*$")
    r.values.setdefault(sx.field, None)
    if sx.text:
        r.values.setdefault(sx.text, None)
    m = rx.search(name or "")
    text = name
    if not m:
        fresh = [q.result.text for q in r.reqs.get(f.name + ":suffix") or [] if q.result and q.result.text]
        for t in fresh:
            mm = rx.search(t)
            if mm and name and name_key(t[:mm.start()]) == name_key(name):
                m, text = mm, t
                break
    if not m:
        return name
    base = text[:m.start()].strip()
    if not base:
        return name
    r.values[sx.field] = int(m.group(1))
    if sx.text:
        r.values[sx.text] = f"{base} ({m.group(1)})"
    return base


def _name_reads(reqs: list[CropReq] | None) -> tuple[str, float, int] | None:
    """Voted name from the Latin passes; a plausible CJK read (only added by
    ``cjk_retry`` when the Latin passes were unsure) wins when surer."""
    latin, cjk = [], []
    for q in reqs or []:
        cr = q.result
        if cr is None or not cr.text:
            continue
        words = trim_noise(cr.words)
        cand = clean_name(" ".join(w.text for w in words))
        c = sum(w.conf for w in words) / len(words) if words else 0.0
        if cand:
            (latin if q.key[1] == "eng" else cjk).append((cand, c))
    best = vote_name(latin)
    for cand, c in cjk:
        if best is None or c > best[1]:
            best = (cand, c, 1)
    return best


def _suspect(reqs: list[CropReq] | None, name: str) -> str | None:
    """Why the voted name may lack or misguess letters (names.py: a hole in the reading, look-alike letters),
    for the second reader to confirm or the row to be doubtful; None when the reading looks whole."""
    for q in reqs or []:
        cr = q.result
        if cr is not None and cr.text and clean_name(" ".join(w.text for w in trim_noise(cr.words))) == name:
            hole = name_hole(trim_noise(cr.words))
            if hole:
                return hole
            break
    return lookalike_guess(name)


TIEBREAK_MODE = "white"
# a name no two passes agree on is dropped below this confidence (0..100):
# such reads are mostly garbage from decorative glyphs or foreign scripts
# (unless it starts with the page's alliance tag: then the read is anchored
# on a real name line and only its decorations are unreadable)
UNSURE_NAME_CONF = 35.0


def tiebreak_names(defn: KindDefinition, rows: list[RowCtx], cropper: Cropper) -> None:
    """Queue a third read for names whose two passes disagree (see ``vote_name``).

    Only disagreeing names pay for it; the white-glyph mode suits the outlined
    white names on blue cards, where the two Otsu passes disagree most."""
    for r in rows:
        for f in defn.fields:
            reqs = r.reqs.get(f.name)
            if f.type != "name" or not reqs or "dark" in f.modes:
                continue  # a dark-ink name is read cut to its own glyphs: a white pass would read its badge back in
            best = _name_reads(reqs)
            if best is None or best[2] < 2:
                q0 = reqs[0]
                reqs.append(cropper.add(q0.box, text_h=q0.text_h, mode=TIEBREAK_MODE, letters=True))


CJK_LANG = "eng+chi_tra+jpn"
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\uac00-\ud7af]")
CJK_RETRY_BELOW = 70.0
CJK_SCALES = (1.0, 0.83)  # text height factors: glyphs at ~40 px and ~48 px


def cjk_retry(defn: KindDefinition, rows: list[RowCtx], cropper: Cropper) -> list:
    """Re-read unsure names with the CJK models (``必須認真``, ``Stevieツ``).

    Loading chi_tra+jpn costs ~0.3 s per batch, so only names the Latin pass
    read with low confidence are retried.  The CJK models are sensitive to
    the glyph scale, so each name is read at two scales in the same batch.
    """
    name_fields = [f for f in defn.fields if f.type == "name"]
    retry = []
    for r in rows:
        for f in name_fields:
            reqs = r.reqs.get(f.name)
            if not reqs:
                continue
            best = max((q.result.conf for q in reqs if q.result and q.result.text), default=0.0)
            if best < CJK_RETRY_BELOW:
                q0 = reqs[0]
                box = q0.cjk_box or q0.box
                th = q0.text_h * (box[3] - box[1]) / (q0.box[3] - q0.box[1]) if q0.text_h else None
                qs = [cropper.add(box, lang=CJK_LANG, text_h=th * k if th else None) for k in CJK_SCALES]
                retry.append((reqs, qs))
    return retry


def cjk_accept(retry: list) -> None:
    """After ``cropper.run()``: keep the plausible CJK reads of ``cjk_retry``."""
    for reqs, qs in retry:
        reads = [q for q in qs if q.result and q.result.text]
        plausible = [q for q in reads if _cjk_plausible(q.result.text, reqs)]
        if plausible:
            reqs.append(max(plausible, key=lambda q: q.result.conf))
            continue
        suffix = next((sx for q in reads if (sx := _kana_suffix(q.result.text, reqs))), None)
        if suffix:
            for other in reqs:
                other.suffix = suffix


def _cjk_plausible(text: str, reqs: list[CropReq]) -> bool:
    """Accept a CJK read only when it is mostly CJK (``必須認真``) or is the
    Latin read plus a CJK/kana suffix (``Stevie`` -> ``Stevieツ``)."""
    letters = [ch for ch in text if ch.isalnum()]
    cjk = [ch for ch in letters if _CJK.match(ch)]
    if not cjk:
        return False
    if len(cjk) >= 0.6 * len(letters):
        return True
    return False


# A kana after a Latin name is nearly always the "smiley" ツ; the jpn model
# often reads it as its mirror image ソ.
_KANA_LOOKALIKE = {"ソ": "ツ"}


def _kana_suffix(text: str, reqs: list[CropReq]) -> str | None:
    """``Stevie ツ`` after a Latin read ``Stevie``: the single CJK/kana glyph the
    Latin model cannot see, to append to the Latin read."""
    m = re.search(r"([A-Za-z0-9])\s*(" + _CJK.pattern + r")\W*$", text)
    if not m or len(_CJK.findall(text)) != 1 or unicodedata.category(m.group(2)) != "Lo":
        return None  # "ー" and other marks are not letters of a name
    latin = "".join(ch for ch in text[: m.end(1)] if ch.isalnum()).casefold()
    for q in reqs:
        if q.result and q.result.text and not _CJK.search(q.result.text):
            other = "".join(ch for ch in q.result.text if ch.isalnum()).casefold()
            if latin and (latin == other or other.endswith(latin) or latin.endswith(other)):
                return _KANA_LOOKALIKE.get(m.group(2), m.group(2))
    return None


def repair_tags(defn: KindDefinition, rows: list[RowCtx]) -> None:
    """Members of one alliance share a tag: restore it where OCR garbled the
    brackets of one row (see ``repair_known_tag``)."""
    for f in defn.fields:
        if f.type != "name" or f.text_of:
            continue
        tag = common_tag([r.values.get(f.name) for r in rows])
        if tag:
            for r in rows:
                if r.values.get(f.name):
                    r.values[f.name] = repair_known_tag(r.values[f.name], tag)
                    r.tag_confirmed = r.values[f.name].startswith(f"[{tag}]")


def _section(page: Page, r: RowCtx, f: RowField) -> str | None:
    rx = re.compile(f.pattern or "")
    xr = f.x_range or (0.0, 1.0)
    best = None
    for s in page.segs:
        if s.bottom <= r.anchor.top and xr[0] * page.W <= s.left <= xr[1] * page.W:
            m = rx.match(s.text.strip())
            if m and (best is None or s.bottom > best[0]):
                best = (s.bottom, m.group(1))
    if best is None:
        return None
    return re.sub(r"^RS$", "R5", best[1])


_GROUPED = re.compile(r"\D{0,2}(\d{1,3}(?:[,.]\d{3})+)\D{0,2}")


def _small_or_grouped_int(text: str) -> int | None:
    """A rank-sized number (`12`), or a big one written with thousands separators (`1,204,794,856`): a field
    beside the anchor such as a power. Ungrouped long digit runs stay unread: they are glued glyphs."""
    t = text.strip()
    m = re.fullmatch(r"\D{0,2}(\d{1,4})\D{0,2}", t)
    if m:
        return int(m.group(1))
    m = _GROUPED.fullmatch(t)
    return int(re.sub(r"\D", "", m.group(1))) if m else None
