// Reads every feed file named on the command line with two npm feed parsers, rss-parser and
// @rowanmanning/feed-parser, and prints one JSON object: path -> parser -> items (title,
// link, date as an ISO instant, categories, enclosures [url, type, length]).
// Used by tests/test_npm_parsers.py; NODE_PATH points at .cache/npm/node_modules.
"use strict";
const fs = require("fs");
const RssParser = require("rss-parser");
const { parseFeed } = require("@rowanmanning/feed-parser");

function iso(value) {
  return value ? new Date(value).toISOString() : null;
}

// rss-parser reads neither Atom categories nor Atom enclosure links on its own: its custom
// fields give their raw elements.
const ATOM_FIELDS = {
  item: [
    ["category", "atomCategories", { keepArray: true }],
    ["link", "atomLinks", { keepArray: true }],
  ],
};

function fromRssParser(feed) {
  return feed.items.map((item) => {
    const atomCategories = (item.atomCategories || []).filter((c) => c && c.$ && c.$.term);
    const categories = item.categories && item.categories.length
      ? item.categories.map((c) => (typeof c === "string" ? c : c._))
      : atomCategories.map((c) => c.$.term);
    const atomEnclosures = (item.atomLinks || [])
      .filter((l) => l && l.$ && l.$.rel === "enclosure")
      .map((l) => [l.$.href, l.$.type || null, String(l.$.length || "0")]);
    const enclosures = item.enclosure
      ? [[item.enclosure.url, item.enclosure.type || null, String(item.enclosure.length || "0")]]
      : atomEnclosures;
    return {
      title: item.title || null,
      link: item.link || null,
      date: iso(item.isoDate || item.pubDate),
      categories,
      enclosures,
    };
  });
}

function fromRowanmanning(feed) {
  return feed.items.map((item) => ({
    title: item.title || null,
    link: item.url || null,
    date: iso(item.published),
    categories: item.categories.map((c) => c.term || c.label),
    enclosures: item.media.map((m) => [m.url, m.mimeType || null, String(m.length || "0")]),
  }));
}

async function main() {
  const out = {};
  const rss = new RssParser({ customFields: ATOM_FIELDS });
  for (const path of process.argv.slice(2)) {
    const xml = fs.readFileSync(path, "utf8");
    out[path] = {
      "rss-parser": fromRssParser(await rss.parseString(xml)),
      "@rowanmanning/feed-parser": fromRowanmanning(parseFeed(xml)),
    };
  }
  process.stdout.write(JSON.stringify(out));
}

main().catch((error) => {
  process.stderr.write(String(error && error.stack ? error.stack : error) + "\n");
  process.exit(1);
});
