"""`{{ moment|when }}` and `{{ moment|day }}`: the one date-time format (davinci/when.py), in
the active time zone (the account's)."""

from django import template

from davinci import when as formats

register = template.Library()
register.filter("when", formats.when, expects_localtime=False)
register.filter("day", formats.day, expects_localtime=False)
