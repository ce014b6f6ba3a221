"""What changed since the last policy version: a page, a PDF, and the version history."""

from __future__ import annotations

from .. import review
from ..compose import Composer, Page, PrintDoc, Section


def compose(composer: Composer) -> Section:
    config = composer.config
    current = review.policy_snapshot(composer)
    previous = review.previous_snapshot(composer.project_dir, config)
    comparison = review.compare(previous, current) if previous else None
    history = [
        s for s in review.snapshots(composer.project_dir) if s["version"] != config.review.version
    ] + [current]
    context = {"comparison": comparison, "history": history, "current": current}
    return Section(
        pages=[
            Page(
                "changes.md",
                "What changed",
                composer.page("pages/changes.md", **context),
                section="Online Safety Policy",
            )
        ],
        prints=[
            PrintDoc(
                filename="changes.pdf",
                title="What changed in the Online Safety Policy",
                audience="Governors",
                template="print/changes.html",
                context={"changes": composer.page("pages/changes.md", for_print=True, **context)},
            )
        ],
        home_links=[
            {
                "title": "What changed",
                "path": "changes.md",
                "about": "this version of the policy compared with the last, for governors",
            }
        ],
    )
