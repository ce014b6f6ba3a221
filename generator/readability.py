"""Reading level of child-facing text: Flesch-Kincaid grade, counted offline.

Syllables come from pyphen's bundled hyphenation dictionary (no download), with a
vowel-group count as a floor because hyphenation dictionaries do not split every
syllable (pyphen leaves short words such as "table" whole).
"""

from __future__ import annotations

import re
from functools import cache

import pyphen

_WORD = re.compile(r"[A-Za-zÀ-ÿ]+(?:['’][A-Za-z]+)?")
_SENTENCE_END = re.compile(r"[.!?]+(?=\s|$)")
_VOWEL_GROUPS = re.compile(r"[aeiouy]+")
_SILENT_E = re.compile(r"(?:[^aeiouy]e|[^aeiouytd]ed|[^aeiouyszxcg](?<![sc]h)es)$")
_SYLLABIC_LE = re.compile(r"[^aeiouy]le$")

# The formula's target per rule set (US grade; UK year = grade + 1).
GRADE_LIMITS = {"ks1": 2.0, "ks2": 4.0, "ks3": 7.0}


@cache
def _dictionary() -> pyphen.Pyphen:
    return pyphen.Pyphen(lang="en_GB")


def _vowel_estimate(word: str) -> int:
    """Vowel groups, less a silent e (phone, games, scared; not table, boxes, wanted)."""
    count = len(_VOWEL_GROUPS.findall(word))
    if count > 1 and _SILENT_E.search(word) and not _SYLLABIC_LE.search(word):
        count -= 1
    return max(1, count)


@cache
def syllables(word: str) -> int:
    """Syllables in one word: pyphen's hyphenation points, with a vowel count as a floor."""
    word = word.lower().replace("’", "'")
    if word.endswith("'s"):
        word = word[:-2]
    by_dictionary = len(_dictionary().positions(word)) + 1
    return max(by_dictionary, _vowel_estimate(word))


def sentences(text: str) -> list[str]:
    parts = [p.strip() for p in _SENTENCE_END.split(text)]
    return [p for p in parts if _WORD.search(p)]


def flesch_kincaid_grade(texts: list[str]) -> float:
    """Grade level of a body of text (e.g. all the rules of one set)."""
    all_sentences = [s for t in texts for s in sentences(t)]
    words = [w for s in all_sentences for w in _WORD.findall(s)]
    if not words:
        return 0.0
    total_syllables = sum(syllables(w) for w in words)
    return 0.39 * len(words) / len(all_sentences) + 11.8 * total_syllables / len(words) - 15.59
