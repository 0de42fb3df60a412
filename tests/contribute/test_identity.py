"""The id convention, surnames, venue guesses and title similarity."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from site_builder.contribute.identity import (
    ascii_fold,
    family_name,
    first_significant_word,
    make_paper_id,
    same_surname,
    title_similarity,
)
from site_builder.contribute.repository import load_taxonomy
from site_builder.contribute.venues import guess_venue, year_in
from site_builder.models import ID_PATTERN

from .conftest import REPO

VENUES = load_taxonomy(REPO).venues


@pytest.mark.parametrize(("family", "year", "title", "expected"), [
    ("Jia", 2022, "Visual Prompt Tuning", "jia2022visual"),
    ("Han", 2023, "E^2VPT: An Effective and Efficient Approach for Visual Prompt Tuning", "han2023e2vpt"),
    ("Shu", 2022, "Test-Time Prompt Tuning for Zero-Shot Generalization", "shu2022test"),
    ("Wang", 2022, "S-Prompts Learning with Pre-trained Transformers", "wang2022sprompts"),
    ("Zhai", 2019, "A Large-scale Study of Representation Learning", "zhai2019large"),
    ("Wang", 2023, "In-Context Learning Unlocked for Diffusion Models", "wang2023context"),
    ("Müller", 2024, "Über Prompts", "muller2024uber"),
    ("Łukasz", 2021, "The Ørsted Effect", "lukasz2021orsted"),
])
def test_paper_id_convention(family: str, year: int, title: str, expected: str) -> None:
    assert make_paper_id(family, year, title) == expected


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=30), st.integers(1950, 2099), st.text(max_size=80))
def test_paper_id_always_matches_the_schema(family: str, year: int, title: str) -> None:
    assert re.match(ID_PATTERN, make_paper_id(family, year, title))


def test_folding_and_surnames() -> None:
    assert ascii_fold("Bor-Chun Chen, Şükrü Łaś") == "Bor-Chun Chen, Sukru Las"
    assert family_name("Ser-Nam Lim") == "Lim"
    assert same_surname("Müller", "Muller") and same_surname("Cheng Han", "Han")
    assert not same_surname("Jia", "Bahng")
    assert first_significant_word("The  ") == ""


@pytest.mark.parametrize(("text", "expected"), [
    ("2023 IEEE/CVF International Conference on Computer Vision (ICCV)", "ICCV"),
    ("2023 IEEE/CVF International Conference on Computer Vision Workshops (ICCVW)", "ICCVW"),
    ("Proceedings of the IEEE/CVF Conference on Computer Vision and Pattern Recognition", "CVPR"),
    ("Computer Vision – ECCV 2022", "ECCV"),
    ("Lecture Notes in Computer Science / Computer Vision – ECCV 2022 Workshops", "ECCVW"),
    ("ECCV 2022", "ECCV"),
    ("Advances in Neural Information Processing Systems", "NeurIPS"),
    ("IEEE Transactions on Image Processing", "TIP"),
    ("Pattern Recognition", "PR"),
    ("JETP Lett.86:559-561,2008", None),
    ("CVPR 2023 and ICCV 2023", None),  # two venues: no guess
    ("", None),
])
def test_venue_guess(text: str, expected: str | None) -> None:
    assert guess_venue(text, VENUES) == expected


def test_year_in_text() -> None:
    assert year_in("JETP Lett.86:559-561,2008") == 2008
    assert year_in("ECCV 2022, 25 pages") == 2022
    assert year_in("pages 17491-17502") is None


def test_title_similarity() -> None:
    assert title_similarity("E$^2$VPT: An Effective Approach", "E^2VPT: An effective approach") == 1.0
    assert title_similarity("Visual Prompt {T}uning", "Visual prompt tuning.") == 1.0
    assert title_similarity("Visual Prompt Tuning", "Exploring Visual Prompts for Adapting Large-Scale Models") < 0.9
    assert title_similarity("", "x") == 0.0
