"""One module per kind of document. Each has ``compose(composer) -> Section``.

The order here is the order of the site's navigation and of the downloads list.
"""

from . import about, calendar, changes, forms, parents, policy, rules, smart, status

DOCUMENT_MODULES = [rules, smart, policy, changes, parents, forms, calendar, status, about]
# The policy is composed first: its PDF takes longest, so it starts rendering first.
COMPOSE_ORDER = [policy, *(module for module in DOCUMENT_MODULES if module is not policy)]
