"""The staff page "Review status": the compliance check's findings and the key dates.

It shows the same findings as ``esafety check``, as of the day of the build (or
ESAFETY_TODAY), so the page is only as current as the last build.
"""

from __future__ import annotations

from ..checks import findings, today
from ..compose import Composer, Page, Section


def compose(composer: Composer) -> Section:
    config = composer.config
    if not config.publish.staff_pages:
        return Section()
    day = today()
    found = findings(config, day, composer.data)
    names = composer.names("status")
    return Section(
        pages=[
            Page(
                "staff/review-status.md",
                names["page"],
                composer.page("pages/review-status.md", findings=found, checked_on=day),
                section=names["section"],
            )
        ],
        home_links=[
            {"title": names["home"], "path": "staff/review-status.md", "about": names["about"]}
        ],
    )
