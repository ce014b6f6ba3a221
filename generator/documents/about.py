"""About this site: the accessibility statement and the privacy note, as web pages.

The words are in ``content/pages/accessibility.md`` and ``content/pages/privacy.md``; this
module only says where the pages go. Both pages name the school's own contact details
(school.email, school.phone, school.address) where the config gives them.
"""

from __future__ import annotations

from ..compose import Composer, Page, Section

SECTION = "About this site"


def compose(composer: Composer) -> Section:
    return Section(
        pages=[
            Page(
                "accessibility.md",
                "Accessibility statement",
                composer.page("pages/accessibility.md"),
                section=SECTION,
            ),
            Page("privacy.md", "Privacy", composer.page("pages/privacy.md"), section=SECTION),
        ],
        home_links=[
            {
                "title": "Accessibility statement",
                "path": "accessibility.md",
                "about": "how we make this site usable for everyone, what we know still falls "
                "short, and how to tell us about a problem",
            },
            {
                "title": "Privacy",
                "path": "privacy.md",
                "about": "this site sets no cookies and collects nothing about you",
            },
        ],
    )
