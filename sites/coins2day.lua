-- Coins2Day (https://coins2day.com/), a business-news site: one record per
-- article, crawled from the home page through the section listings.
--
-- What the markup means here: an article page is an <article
-- data-cy="article"> whose parts carry data-cy attributes (title, eyebrow,
-- byline, date, content), in both the current and the legacy (archive)
-- template; other pages (rankings, authors, static pages) have none of them.
-- The byline is rendered twice (desktop and mobile) and each linked author
-- also appears in a hover card; dates read "August 4, 2017, 5:43 AM ET".
local glean = require "glean"

local EASTERN = "America/New_York"
local DATE_FORMAT = "%B %d, %Y, %I:%M %p ET"

-- Inside the article text but not part of it: ad slots (current ones hold an
-- "Advertisement" label, legacy ones are empty), the newsletter promo, and
-- figures with their captions (legacy ones in WordPress .wp-caption boxes).
local NOT_BODY = table.concat({
  "[data-ad-slot]", "[data-cy=ad-slot]", "[class*=adSlot_]", ".ad-unit",
  "[data-cy=newsletter-promo]", "aside",
  "[data-cy=inline-image]", "figure", ".wp-caption", ".wp-caption-text",
}, ", ")

-- The article's text comes in blocks: paragraphs and subheadings (all the
-- saved pages have), list items, quotes and preformatted text. A block
-- that holds others (a quote made of paragraphs, an item with a paragraph)
-- gives way to them.
local BLOCKS = "p, h2, h3, h4, h5, h6, li, blockquote, pre"

-- Article URLs as the site names them: https, no query (links carry
-- tracking parameters, and a few old ones say http).
local function canonical(url)
  return glean.url.canonical(url, {scheme = "https", query = false})
end

-- "August 4, 2017, 5:43 AM ET" -> "2017-08-04T05:43:00-04:00"; an "Updated"
-- line drops its label first.
local function eastern(line)
  if not line then return nil end
  return assert(glean.time.parse((line:gsub("^Updated:?%s*", "")), DATE_FORMAT, EASTERN))
end

-- A related-article paragraph is "Read:" and one link, nothing else, however
-- it is marked up: <p>Read: <a>, <p><strong>Read: <a>…</a></strong>,
-- <p><strong>Read:</strong> <a>. Paragraphs that merely start with "Read"
-- or say "read:" somewhere are body text.
local function read_link(p)
  local links = p:select("a[href]")
  if #links == 1 and p:text():match("^Read:%s*(.*)$") == links[1]:text() then return links[1] end
end

local function article(page)
  local content = page:select_one("[data-cy=article] [data-cy=article-content]")
  if not content then return nil end -- not an article (a ranking, a listing...)
  local body, related = {}, {}
  for _, block in ipairs(content:select(BLOCKS)) do
    local text, link = block:text(), read_link(block)
    if text == "" or block:closest(NOT_BODY) or block:select_one(BLOCKS) then
      -- an empty paragraph, part of an ad, the promo or a figure, or a
      -- block whose inner blocks come on their own
    elseif link then
      related[#related + 1] = {title = link:text(), url = canonical(link:absurl())}
    else
      body[#body + 1] = text
    end
  end
  return {
    url = canonical(page.url),
    title = page:text("[data-cy=article-title]"),
    topic = page:text("[data-cy=article-eyebrow]") or glean.json.null,
    section = page:text("[data-cy=breadcrumb-section]"),
    -- linked authors and unlinked ones (staff), once each, in byline order
    authors = glean.text.unique(page:texts("[data-cy=byline-desktop] :is([data-cy=author-link], [data-cy=author-name])")),
    published = eastern(page:text("[data-cy=article-date]")),
    updated = eastern(page:text("[data-cy=article-updated]")) or glean.json.null,
    body = body,
    related = glean.json.array(related),
  }
end

return {
  name = "coins2day",
  start_urls = {"https://coins2day.com/"},
  allowed_hosts = {"coins2day.com"},
  -- Some old links say http://coins2day.com: the same pages.
  canonical = {scheme = "https"},
  pages = {
    {path = "^/$", follow = "a[href]"},
    {path = "^/section/[^/]+/$", follow = {"a[href]", "link[rel=next]"}},
    {path = "^/section/[^/]+/page/%d+/$", follow = {"a[href]", "link[rel=next]"}},
    {path = "^/%d%d%d%d/%d%d/%d%d/[^/]+/$", parse = article},
  },
}
