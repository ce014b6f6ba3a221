"""One module per kind of document. Each has ``compose(composer) -> Section``.

The order here is the order of the site's navigation and of the downloads list.
"""

from . import rules, smart

DOCUMENT_MODULES = [rules, smart]
