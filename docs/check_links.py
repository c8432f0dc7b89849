"""Check every internal link of the built HTML site: the file exists, and so does the anchor.

    python docs/check_links.py docs/_build/html

Looks at ``href`` and ``src`` of every tag in every page; external links (http, https,
mailto, data, ...) are left alone.  Exits with 1 and lists the broken links, if any.
Sphinx itself fails the build (-W) on a cross-reference it cannot resolve; this checks
what it writes: the pages, images, downloads, stylesheets and scripts, and the anchors.
"""

import os
import sys
from html.parser import HTMLParser
from urllib.parse import unquote, urlsplit


class _Page(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links = []
        self.ids = set()

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if value is None:
                continue
            if name in ("id", "name") and (name == "id" or tag == "a"):
                self.ids.add(value)
            elif name in ("href", "src"):
                self.links.append((tag, value, self.getpos()[0]))


def _parse(path, cache):
    if path not in cache:
        page = _Page()
        with open(path, encoding="utf-8") as f:
            page.feed(f.read())
        cache[path] = page
    return cache[path]


def broken_links(root):
    """(page, line, link, why) for every internal link of the site under `root` that fails."""
    pages, broken = {}, []
    for folder, _, files in os.walk(root):
        for name in sorted(files):
            if not name.endswith(".html"):
                continue
            page_path = os.path.join(folder, name)
            for tag, link, line in _parse(page_path, pages).links:
                parts = urlsplit(link)
                if parts.scheme or link.startswith("//"):
                    continue  # external (http, https, mailto, data, javascript, ...)
                target = page_path
                if parts.path:
                    target = os.path.normpath(os.path.join(folder, unquote(parts.path)))
                if os.path.isdir(target):
                    target = os.path.join(target, "index.html")
                where = os.path.relpath(page_path, root)
                if not os.path.isfile(target):
                    broken.append((where, line, link, "no such file"))
                elif parts.fragment and target.endswith(".html"):
                    if unquote(parts.fragment) not in _parse(target, pages).ids:
                        broken.append((where, line, link, "no such anchor"))
    return broken, len(pages)


def main(argv):
    root = argv[1] if len(argv) > 1 else os.path.join(os.path.dirname(__file__), "_build", "html")
    if not os.path.isfile(os.path.join(root, "index.html")):
        print(f"check_links: no site at {root} (build it first)", file=sys.stderr)
        return 1
    broken, count = broken_links(root)
    for where, line, link, why in broken:
        print(f"{where}:{line}: {link}: {why}", file=sys.stderr)
    print(f"check_links: {count} pages, {len(broken)} broken internal links")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
