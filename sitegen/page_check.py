"""What `sitegen check` adds about the pages themselves, beyond the content files.

Every template mistake is an error (see template_check). A theme file copied from an earlier
sitegen and never edited, a missing translation (pages fall back to English), a page over
the 14,000-byte brotli budget, a feed that left out alerts in force (sitegen.feed_check) and
a body link to a page the site does not have are not errors: the site still builds, but a
citizen gets a worse page.
"""

from __future__ import annotations

import dataclasses

from sitegen.build import page_budget_warnings
from sitegen.config import SiteConfig
from sitegen.content import Loaded
from sitegen.errors import TemplateError
from sitegen.feed_check import feed_warnings
from sitegen.i18n_check import translation_problems
from sitegen.link_check import broken_link_warnings
from sitegen.render import SiteView, render_site
from sitegen.template_check import site_template_problems, stale_theme_warnings
from sitegen.urls import base_path


def with_page_problems(config: SiteConfig, loaded: Loaded) -> Loaded:
    """`loaded` plus translation warnings, every template mistake (those rendering meets
    only when the content is valid) and, when the site renders, page-size, feed and
    broken-link warnings."""
    extra = translation_problems(config) + stale_theme_warnings(config)
    if loaded.site is None:
        extra += site_template_problems(config, {})
    else:
        try:
            bundle, _updated = render_site(loaded.site, config)
        except TemplateError as exc:
            extra += exc.problems
        else:
            extra += page_budget_warnings(bundle, loaded.site)
            extra += feed_warnings(SiteView(loaded.site, config), lambda path: bundle[path].data)
            extra += broken_link_warnings(loaded.site, bundle.keys(), base_path(config))
    return dataclasses.replace(loaded, problems=loaded.problems + tuple(extra))
