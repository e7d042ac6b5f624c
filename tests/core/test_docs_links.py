"""README.md is the front door and docs/ the manual: every relative link and image in them
resolves to a file of the repository, every #anchor to a heading (GitHub's slugs), README
stays short, every page of docs/ is reachable from it, and docs/configuration.md names every
variable the settings read. External links are not fetched (no network in tests)."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README_MAX_LINES = 200

FENCE = re.compile(r"^\s*(```|~~~)")
INLINE_CODE = re.compile(r"(`+).+?\1")
HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
# [text](target) and ![alt](target), target without spaces, optionally followed by a title.
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
AUTOLINK = re.compile(r"<(https?://[^>\s]+)>")
HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
EXTERNAL = ("http://", "https://", "mailto:")


def documents() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _prose_lines(text: str) -> list[str]:
    """The lines outside fenced code blocks, with HTML comments removed."""
    lines, fenced = [], False
    for line in HTML_COMMENT.sub("", text).splitlines():
        if FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            lines.append(line)
    return lines


def github_slug(heading: str) -> str:
    """The anchor GitHub gives a heading: its rendered text in lower case, everything but
    letters, digits, spaces, hyphens and underscores dropped, spaces made hyphens."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link's text only
    text = text.strip().lower()
    text = "".join(ch for ch in text if ch.isalnum() or ch in " -_")
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    result = set()
    for line in _prose_lines(path.read_text()):
        match = HEADING.match(line)
        if not match:
            continue
        slug = github_slug(match.group(2))
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        result.add(slug if count == 0 else f"{slug}-{count}")
    return result


def links(path: Path) -> list[str]:
    found = []
    for line in _prose_lines(path.read_text()):
        prose = INLINE_CODE.sub("", line)
        found += LINK.findall(prose)
        found += AUTOLINK.findall(prose)
    return found


def broken_links(path: Path, root: Path = ROOT) -> list[str]:
    """What in `path` points at no file (inside `root`) or no heading: 'target (reason)'."""
    broken = []
    for target in links(path):
        if target.startswith(EXTERNAL):
            continue
        file_part, _, anchor = target.partition("#")
        destination = (path.parent / file_part).resolve() if file_part else path
        if not destination.exists():
            broken.append(f"{target} (no such file)")
        elif root not in (destination, *destination.parents):
            broken.append(f"{target} (outside the repository)")
        elif anchor and destination.suffix == ".md" and anchor not in anchors(destination):
            broken.append(f"{target} (no heading #{anchor} in {destination.name})")
        elif anchor and destination.suffix != ".md":
            broken.append(f"{target} (an anchor into a file that is not Markdown)")
    return broken


@pytest.mark.parametrize("path", documents(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_and_image_resolves(path):
    assert broken_links(path) == []


def test_the_documents_have_links_to_check():
    # The checker is not vacuous: README links into docs/, with anchors and images in docs/.
    readme = links(ROOT / "README.md")
    assert any(t.startswith("docs/") and "#" in t for t in readme)
    assert any(t.startswith("screenshots/") for t in links(ROOT / "docs" / "portal-guide.md"))


def test_external_links_are_only_listed(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("[Django](https://www.djangoproject.com/) <http://127.0.0.1:8000/>\n")
    assert links(page) == ["https://www.djangoproject.com/", "http://127.0.0.1:8000/"]
    assert broken_links(page, root=tmp_path) == []


def test_a_broken_link_anchor_or_image_is_reported(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    (tmp_path / "outside.md").write_text("# Outside\n")
    (repo / "other.md").write_text("# Other page\n\n## Its `part` (two)\n")
    page = repo / "page.md"
    page.write_text(
        "# Title\n\n"
        "[fine](other.md#its-part-two) [self](#title) [gone](missing.md)\n"
        "[no heading](other.md#nothing) ![no image](pic.png) [bad self](#nope)\n"
        "[up](../outside.md) `[in code](ignored.md)`\n\n"
        "```sh\n# not a heading\n[in a fence](ignored.md)\n```\n"
    )
    assert broken_links(page, root=repo) == [
        "missing.md (no such file)",
        "other.md#nothing (no heading #nothing in other.md)",
        "pic.png (no such file)",
        "#nope (no heading #nope in page.md)",
        "../outside.md (outside the repository)",
    ]


@pytest.mark.parametrize(
    ("heading", "slug"),
    [
        ("gunicorn (`gunicorn.conf.py`)", "gunicorn-gunicornconfpy"),
        ("Try it against `make run`", "try-it-against-make-run"),
        ("Outbox: the work, and Celery", "outbox-the-work-and-celery"),
        ("Integrations (API keys)", "integrations-api-keys"),
        ("**Team** and [roles](team.md)", "team-and-roles"),
        ("snake_case stays", "snake_case-stays"),
    ],
)
def test_anchors_are_githubs_slugs(heading, slug):
    assert github_slug(heading) == slug


def test_repeated_headings_get_numbered_anchors(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# Figures\n\n## Figures\n\n## Figures\n")
    assert anchors(page) == {"figures", "figures-1", "figures-2"}


def test_readme_is_a_front_door():
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) <= README_MAX_LINES


def test_every_page_of_the_manual_is_linked_from_readme():
    linked = {
        (ROOT / target.partition("#")[0]).resolve()
        for target in links(ROOT / "README.md")
        if not target.startswith(EXTERNAL)
    }
    unlinked = [p.name for p in sorted((ROOT / "docs").glob("*.md")) if p.resolve() not in linked]
    assert unlinked == []


def test_the_configuration_page_names_every_variable_the_settings_read():
    read = {"SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "API_KEY_DIGEST_SECRET"}
    for source in ("davinci/settings.py", "gunicorn.conf.py"):
        text = (ROOT / source).read_text()
        read |= set(re.findall(r"""env(?:\.\w+)?\(\s*["']([A-Z_][A-Z0-9_]*)["']""", text))
    assert {"DATABASE_URL", "CELERY_BROKER_URL", "GUNICORN_THREADS"} <= read
    page = (ROOT / "docs" / "configuration.md").read_text()
    assert read - set(re.findall(r"`([A-Z_][A-Z0-9_]*)`", page)) == set()
