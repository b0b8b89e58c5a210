"""Profile rules: a short bio, spoken languages as ISO 639-1 codes, an avatar media id."""

from __future__ import annotations

from domain.errors import RuleViolation

MAX_BIO_LENGTH = 2000
MAX_LANGUAGES = 20

_CODES = """
    aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu
    cv cy da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi
    ho hr ht hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks
    ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl
    nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl
    sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve
    vi vo wa wo xh yi yo za zh zu
"""
ISO_639_1 = frozenset(_CODES.split())


def clean_bio(bio: str) -> str:
    bio = bio.strip()
    if len(bio) > MAX_BIO_LENGTH:
        raise RuleViolation("invalid_bio", f"a bio has at most {MAX_BIO_LENGTH} characters")
    return bio


def clean_languages(languages: list[str]) -> list[str]:
    """Lower-cased ISO 639-1 codes, duplicates dropped, in the order given."""
    cleaned: list[str] = []
    for code in languages:
        code = code.strip().lower()
        if code not in ISO_639_1:
            raise RuleViolation("invalid_language", f"{code!r} is not an ISO 639-1 code")
        if code not in cleaned:
            cleaned.append(code)
    if len(cleaned) > MAX_LANGUAGES:
        raise RuleViolation("invalid_language", f"at most {MAX_LANGUAGES} languages")
    return cleaned
