"""The Django admin's AppConfig, its default site the one behind two-factor
(davinci/admin_site.py). Apart from it: an AppConfig module is imported before the apps are
ready, the site's module needs them."""

from django.contrib.admin.apps import AdminConfig


class PortalAdminConfig(AdminConfig):
    default_site = "davinci.admin_site.TwoFactorAdminSite"
