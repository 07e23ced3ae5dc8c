<?xml version="1.0" encoding="UTF-8"?>
<!-- What a browser shows of an RSS or Atom feed of syndicate: what the page is, how to
     subscribe in a feed reader, and the latest items. No script. -->
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
  xmlns:atom="http://www.w3.org/2005/Atom" exclude-result-prefixes="atom">
  <xsl:output method="html" encoding="UTF-8" doctype-system="about:legacy-compat"/>

  <xsl:template match="/">
    <xsl:variable name="title" select="rss/channel/title | atom:feed/atom:title"/>
    <xsl:variable name="home" select="rss/channel/link | atom:feed/atom:link[@rel='alternate']/@href"/>
    <xsl:variable name="self" select="rss/channel/atom:link[@rel='self']/@href | atom:feed/atom:link[@rel='self']/@href"/>
    <html lang="{rss/channel/language | atom:feed/@xml:lang}">
      <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title><xsl:value-of select="$title"/> (feed)</title>
        <style>
          body { font: 100%/1.55 system-ui, sans-serif; margin: 0; color: #1f2328; background: #f6f7f9; }
          .wrap { max-width: 46rem; margin: 0 auto; padding: 1.5rem 1.25rem; }
          .card { background: #fff; border: 1px solid #d8dee4; border-radius: 12px; padding: 1.25rem 1.5rem; margin: .8rem 0; }
          .notice { background: #e8f1ff; border-radius: 8px; padding: .8rem 1rem; }
          code { background: #fff; border: 1px solid #d8dee4; border-radius: 6px; padding: .1rem .4rem; word-break: break-all; }
          .meta { color: #59636e; font-size: .9rem; margin: 0; }
          h2 { font-size: 1.15rem; margin: .2rem 0 .3rem; }
          h2 a { color: #1f2328; text-decoration: none; }
          a { color: #1d4ed8; }
        </style>
      </head>
      <body>
        <main class="wrap">
          <p class="notice"><strong>This is a feed.</strong> Copy its address into your
            feed reader (NetNewsWire, Feedly, Thunderbird, …) to get every new article as it
            is published: <code><xsl:value-of select="$self"/></code></p>
          <h1><xsl:value-of select="$title"/></h1>
          <p><xsl:value-of select="rss/channel/description | atom:feed/atom:subtitle"/></p>
          <p><a href="{$home}">Visit the site</a></p>
          <h2>Latest</h2>
          <xsl:apply-templates select="rss/channel/item | atom:feed/atom:entry"/>
        </main>
      </body>
    </html>
  </xsl:template>

  <xsl:template match="item">
    <article class="card">
      <p class="meta"><xsl:value-of select="category[1]"/> · <xsl:value-of select="pubDate"/></p>
      <h2><a href="{link}"><xsl:value-of select="title"/></a></h2>
      <p><xsl:value-of select="description"/></p>
    </article>
  </xsl:template>

  <xsl:template match="atom:entry">
    <article class="card">
      <p class="meta"><xsl:value-of select="atom:category[1]/@term"/> · <xsl:value-of select="substring(atom:published, 1, 10)"/></p>
      <h2><a href="{atom:link[not(@rel) or @rel='alternate']/@href}"><xsl:value-of select="atom:title"/></a></h2>
      <p><xsl:value-of select="atom:summary"/></p>
    </article>
  </xsl:template>
</xsl:stylesheet>
