"""Childnet's five SMART tips in our own words: a web page and a poster."""

from __future__ import annotations

from ..compose import Composer, Page, PrintDoc, Section


def compose(composer: Composer) -> Section:
    smart = composer.smart_tips()
    return Section(
        pages=[Page("smart.md", "SMART tips", composer.page("pages/smart.md", smart=smart))],
        prints=[
            PrintDoc(
                filename="poster-smart.pdf",
                title="SMART tips poster",
                audience=f"{composer.terms['Pupils']}: all ages",
                template="print/smart-poster.html",
                context={"smart": smart},
                one_page=True,
            )
        ],
        home_links=[
            {
                "title": "The SMART tips",
                "path": "smart.md",
                "about": "five tips for staying safe online, for every age",
            }
        ],
    )
