// Reads every feed file named on the command line with two npm feed parsers and prints one
// JSON object: path -> parser -> items (title, link, date as an ISO instant, categories,
// enclosures [url, type, length]). RSS and Atom (.xml): rss-parser and
// @rowanmanning/feed-parser; JSON Feed (.json): feedsmith and @extractus/feed-extractor.
// Used by tests/test_npm_parsers.py; NODE_PATH points at .cache/npm/node_modules.
"use strict";
const fs = require("fs");
const RssParser = require("rss-parser");
const { parseFeed } = require("@rowanmanning/feed-parser");
const feedsmith = require("feedsmith");
const { extractFromJson } = require("@extractus/feed-extractor");

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

function attachments(list) {
  return (list || []).map((a) => [a.url, a.mime_type || null, String(a.size_in_bytes || "0")]);
}

function fromFeedsmith(text) {
  return feedsmith.parseJsonFeed(text).items.map((item) => ({
    title: item.title || null,
    link: item.url || null,
    date: iso(item.date_published),
    categories: item.tags || [],
    enclosures: attachments(item.attachments),
  }));
}

// feed-extractor normalizes the title, link and date itself; it has no field for tags or
// attachments, which its getExtraEntryFields hook takes from the item as read.
function fromFeedExtractor(text) {
  const extra = (item) => ({ tags: item.tags || [], attachments: item.attachments });
  return extractFromJson(JSON.parse(text), { getExtraEntryFields: extra }).entries.map(
    (entry) => ({
      title: entry.title || null,
      link: entry.link || null,
      date: iso(entry.published),
      categories: entry.tags,
      enclosures: attachments(entry.attachments),
    }),
  );
}

async function main() {
  const out = {};
  const rss = new RssParser({ customFields: ATOM_FIELDS });
  for (const path of process.argv.slice(2)) {
    const text = fs.readFileSync(path, "utf8");
    out[path] = path.endsWith(".json")
      ? {
          feedsmith: fromFeedsmith(text),
          "@extractus/feed-extractor": fromFeedExtractor(text),
        }
      : {
          "rss-parser": fromRssParser(await rss.parseString(text)),
          "@rowanmanning/feed-parser": fromRowanmanning(parseFeed(text)),
        };
  }
  process.stdout.write(JSON.stringify(out));
}

main().catch((error) => {
  process.stderr.write(String(error && error.stack ? error.stack : error) + "\n");
  process.exit(1);
});
