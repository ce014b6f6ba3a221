"""Childnet's five SMART tips in our own words: a web page and a poster."""

from __future__ import annotations

from ..compose import Composer, Page, PrintDoc, Section


def compose(composer: Composer) -> Section:
    smart = composer.smart_tips()
    names = composer.names("smart")
    return Section(
        pages=[Page("smart.md", names["page"], composer.page("pages/smart.md", smart=smart))],
        prints=[
            PrintDoc(
                filename="poster-smart.pdf",
                title=names["pdf"],
                audience=names["pdf_for"],
                template="print/smart-poster.html",
                context={"smart": smart},
                one_page=True,
            )
        ],
        home_links=[{"title": names["home"], "path": "smart.md", "about": names["about"]}],
    )
