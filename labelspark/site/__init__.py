"""The label portal: a self-contained static site of the label system, built from the Delta tables."""
from labelspark.site.build import BuiltSite, SiteError, build_site, refresh_after_run, refresh_site

__all__ = ["BuiltSite", "SiteError", "build_site", "refresh_after_run", "refresh_site"]
