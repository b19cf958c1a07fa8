"""Near-duplicate decisions on built cases (tests/support/stories.py): every edit syndication makes is
recognised, no two different stories are, however much wording or template they share."""
from __future__ import annotations

import itertools

import pytest

from crawler.config import DedupSettings
from crawler.fingerprint import fingerprint
from tests.support.stories import company_story, flash_item, market_wrap, syndicated_variants

THRESHOLD = DedupSettings().near_threshold


def same_story(a: str, b: str) -> bool:
    """What the index decides for two bodies: they share a band and reach the threshold."""
    fa, fb = fingerprint(a), fingerprint(b)
    return (fa is not None and fb is not None and bool(set(fa.bands()) & set(fb.bands()))
            and fa.similarity(fb) >= THRESHOLD)


@pytest.mark.parametrize("edit", ["exact", "markup", "source line", "editor line", "last paragraph cut",
                                  "source line and last paragraph cut", "three typos"])
def test_every_syndication_edit_is_the_same_story(edit):
    for seed in range(40):
        story = company_story(seed)
        assert same_story(story, syndicated_variants(story, seed)[edit]), (edit, seed)


def test_different_company_stories_sharing_most_sentences_are_never_merged():
    stories = [company_story(seed) for seed in range(60)]
    merged = [(i, j) for (i, a), (j, b) in itertools.combinations(enumerate(stories), 2) if same_story(a, b)]
    assert merged == []


def test_market_wraps_from_one_template_are_never_merged():
    wraps = [market_wrap(seed) for seed in range(60)]
    assert not any(same_story(a, b) for a, b in itertools.combinations(wraps, 2))


def test_the_figures_check_is_what_keeps_template_reports_apart():
    # Text alone: another day's wrap shares most of its 4-character shingles with this one.
    a, b = fingerprint(market_wrap(1)), fingerprint(market_wrap(2))
    assert a.containment(b) > 0.5
    assert a.number_containment(b) < 0.5 and a.similarity(b) < THRESHOLD


def test_flash_items_have_no_fingerprint_and_match_only_exactly():
    items = [flash_item(seed) for seed in range(100)]
    assert all(fingerprint(item) is None for item in items)


def test_a_corrected_figure_still_matches_but_a_rewritten_story_does_not():
    story = company_story(7)
    first_figure = next(part for part in story.split("，") if any(ch.isdigit() for ch in part))
    corrected = story.replace(first_figure, first_figure.replace("0", "9").replace("1", "8"), 1)
    assert same_story(story, corrected)
    assert not same_story(story, company_story(8))
