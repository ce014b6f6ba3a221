"""About this site: the accessibility statement and the privacy note, as web pages.

The words are in ``content/pages/accessibility.md`` and ``content/pages/privacy.md``, their
names in ``content/site.yaml``; this module only says where the pages go. Both pages name
the school's own contact details (school.email, school.phone, school.address) where the
config gives them.
"""

from __future__ import annotations

from ..compose import Composer, Page, Section

PAGES = {"accessibility": "accessibility.md", "privacy": "privacy.md"}


def compose(composer: Composer) -> Section:
    section = Section()
    site_name = composer.names("site")["name"]
    for part, path in PAGES.items():
        names = composer.names(part)
        words = composer.page(f"pages/{path}", site_name=site_name)
        section.pages.append(Page(path, names["page"], words, section=names["section"]))
        section.home_links.append({"title": names["home"], "path": path, "about": names["about"]})
    return section
