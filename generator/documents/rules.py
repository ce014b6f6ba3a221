"""Pupils' rules for each key stage the school has: a web page and a classroom poster."""

from __future__ import annotations

from ..compose import Composer, Page, PrintDoc, RuleSet, Section


def compose(composer: Composer) -> Section:
    rule_sets = [composer.rule_set(key) for key in composer.config.rule_sets]
    pupils, capital_pupils = composer.terms["pupils"], composer.terms["Pupils"]
    section = Section()
    for rs in rule_sets:
        section.pages.append(
            Page(
                f"rules/{rs.key}.md",
                rs.audience,
                composer.page("pages/rules.md", ruleset=rs),
                section=f"{capital_pupils}' rules",
            )
        )
        section.prints.append(poster(rs, capital_pupils))
        section.home_links.append(
            {
                "title": f"Rules for {rs.audience}",
                "path": f"rules/{rs.key}.md",
                "about": f"{len(rs.rules)} rules for {pupils}, with a poster to print",
            }
        )
    return section


def poster(rule_set: RuleSet, pupils_word: str) -> PrintDoc:
    return PrintDoc(
        filename=f"poster-{rule_set.key}.pdf",
        title=f"Online safety rules poster: {rule_set.audience}",
        audience=f"{pupils_word}: {rule_set.audience}",
        template="print/poster.html",
        context={"ruleset": rule_set},
        one_page=True,
    )
