"""Pupils' rules for each key stage the school has: a web page and a classroom poster.

What the pages and posters are called is in ``content/site.yaml`` (``rules``).
"""

from __future__ import annotations

from ..compose import Composer, Page, PrintDoc, Section


def compose(composer: Composer) -> Section:
    section = Section()
    for key in composer.config.rule_sets:
        rs = composer.rule_set(key)
        names = composer.names("rules", rule_set=rs)
        section.pages.append(
            Page(
                f"rules/{rs.key}.md",
                names["page"],
                composer.page("pages/rules.md", ruleset=rs),
                section=names["section"],
            )
        )
        section.prints.append(
            PrintDoc(
                filename=f"poster-{rs.key}.pdf",
                title=names["pdf"],
                audience=names["pdf_for"],
                template="print/poster.html",
                context={"ruleset": rs},
                one_page=True,
            )
        )
        section.home_links.append(
            {"title": names["home"], "path": f"rules/{rs.key}.md", "about": names["about"]}
        )
    return section
