"""What changed since the last policy version: a page, a PDF, and the version history."""

from __future__ import annotations

from .. import review
from ..compose import Composer, Page, PrintDoc, Section
from .policy import policy_composer


def compose(composer: Composer) -> Section:
    config = composer.config
    previous = review.previous_snapshot(composer.project_dir, config)
    current = review.policy_snapshot(composer, words=previous is not None)
    comparison = review.compare(previous, current) if previous else None
    history = [
        s for s in review.snapshots(composer.project_dir) if s["version"] != config.review.version
    ] + [current]
    context = {"comparison": comparison, "history": history, "current": current}
    policy_title = policy_composer(composer).title  # it sits with the policy's pages
    names = composer.names("changes", policy_title=policy_title)
    return Section(
        pages=[
            Page(
                "changes.md",
                names["page"],
                composer.page("pages/changes.md", **context),
                section=policy_title,
            )
        ],
        prints=[
            PrintDoc(
                filename="changes.pdf",
                title=names["pdf"],
                audience=names["pdf_for"],
                template="print/changes.html",
                context={"changes": composer.page("policy/changes-report.md", **context)},
            )
        ],
        home_links=[{"title": names["home"], "path": "changes.md", "about": names["about"]}],
    )
