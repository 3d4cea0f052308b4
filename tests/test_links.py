"""Links: URLs from abstracts cleaned of their artifacts, look-up links, the user's link first."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from reader.digest import load_library
from reader.links import abstract_links, clean_urls_in_text, find_urls, has_code, lookup_links, paper_links

# Every URL in the real digest's abstracts, as a user should get it.
REAL_URLS = {
    "https://github.com/RaghavSinghal10/lora-sb",
    "https://github.com/radarFudan/Curse-of-memory",
    "https://github.com/mathllm/MathCoder",
    "https://github.com/pnnl/projection_ntk",
    "https://github.com/brandinho/Poker-Probability-Approximation",
    "https://github.com/RUCAIBox/JiuZhang3.0",
    "https://github.com/ruc-ai4math/Premise-Retrieval",
    "https://namgyukang.github.io/Physics-Informed-Gaussians/",
    "https://github.com/open-compass/MathBench",
    "https://github.com/Debrup-61/MathSensei",
    "https://math-qa.github.io/math-QA/",
    "https://github.com/mathllm/MathCoder2",
    "https://github.com/alaamaalouf/AutoCoreset",
    "https://github.com/dshieble/Categorical_Stochastic_Processes_and_Likelihood",
    "https://huggingface.co/datasets/flagopen/InfinityMATH",
    "https://github.com/InternLM/InternLM-Math",
    "https://huggingface.co/datasets/InternLM/Lean-Workbook",
    "https://github.com/wenhuchen/TheoremQA",
    "https://github.com/cyzhh/Brain",
    "https://github.com/qtli/GSM-Plus",
}


def test_every_url_in_the_real_digest_is_clean(sample_path):
    papers = load_library([sample_path]).papers
    found = [link.url for p in papers for link in abstract_links(p.abstract)]
    raw_count = sum(len(re.findall(r"https?://", p.abstract)) for p in papers)
    assert raw_count == 22  # 21 links, one of them twice (a {...} wrapper)
    assert set(found) == REAL_URLS
    for url in found:
        assert not url.endswith((".", ")", ",", "}")), url
        assert "\\" not in url and "{" not in url


@pytest.mark.parametrize(
    "text, url",
    [
        ("(code: https://github.com/pnnl/projection\\_ntk).", "https://github.com/pnnl/projection_ntk"),
        ("at https://github.com/mathllm/MathCoder.", "https://github.com/mathllm/MathCoder"),
        ("see https://x.org/a, and more", "https://x.org/a"),
        ("(https://en.wikipedia.org/wiki/Foo_(bar))", "https://en.wikipedia.org/wiki/Foo_(bar)"),
        ("at https://github.com/RUCAIBox/JiuZhang3.0.", "https://github.com/RUCAIBox/JiuZhang3.0"),
        ('"https://example.com/q?a=1&b=2";', "https://example.com/q?a=1&b=2"),
    ],
)
def test_url_artifacts_are_cleaned(text, url):
    assert [u for _, _, u in find_urls(text)] == [url]


def test_href_wrapper_gives_one_link_and_one_copy_in_the_text():
    text = "Code: https://github.com/alaamaalouf/AutoCoreset{https://github.com/alaamaalouf/AutoCoreset}. Done."
    assert [link.url for link in abstract_links(text)] == ["https://github.com/alaamaalouf/AutoCoreset"]
    assert clean_urls_in_text(text) == "Code: https://github.com/alaamaalouf/AutoCoreset. Done."


def test_find_urls_spans_cover_the_raw_url():
    text = "x (https://github.com/pnnl/projection\\_ntk). y"
    start, end, _ = find_urls(text)[0]
    assert text[start:end] == "https://github.com/pnnl/projection\\_ntk"


def test_lookup_links_search_for_the_title():
    title = "Padé Approximants & [27] Neurons"
    links = lookup_links(title)
    hosts = [urlsplit(link.url).hostname for link in links]
    assert hosts == ["arxiv.org", "huggingface.co", "scholar.google.com"]
    for link in links:
        query = parse_qs(urlsplit(link.url).query)
        assert title in [v[0] for v in query.values()]
        assert " " not in link.url


def test_user_link_comes_first_and_is_not_repeated():
    abstract = "Code at https://github.com/a/b. More text."
    links = paper_links("T", abstract, "https://github.com/a/b")
    assert links[0].url == "https://github.com/a/b" and links[0].kind == "user"
    assert [link.url for link in links].count("https://github.com/a/b") == 1
    other = paper_links("T", abstract, "https://my.site/notes")
    assert [link.kind for link in other] == ["user", "code", "lookup", "lookup", "lookup"]


def test_no_user_link_means_abstract_links_then_lookups():
    links = paper_links("T", "see https://x.org/a and https://github.com/a/b")
    assert [link.kind for link in links] == ["web", "code", "lookup", "lookup", "lookup"]


def test_has_code(sample_path):
    assert has_code("code: https://github.com/a/b.")
    assert has_code("data: https://huggingface.co/datasets/x/y")
    assert not has_code("project page https://math-qa.github.io/math-QA/")
    assert not has_code("no links here")
    papers = load_library([sample_path]).papers
    assert sum(has_code(p.abstract) for p in papers) == 18
