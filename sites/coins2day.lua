-- Coins2Day (https://coins2day.com/), a business-news site: one record per
-- article, crawled from the home page through the section listings.
--
-- What the markup means here: every article page marks its parts with
-- data-cy attributes (title, eyebrow, byline, date, content), in both the
-- current and the legacy (archive) template. The byline is rendered twice
-- (desktop and mobile) and names each linked author twice (link and hover
-- card); dates are shown in Eastern time ("August 4, 2017, 5:43 AM ET").
local glean = require "glean"
local text = glean.text

local EASTERN = "America/New_York"
local DATE_FORMAT = "%B %d, %Y, %I:%M %p ET"

-- Article URLs as the site names them: https, no query (links carry
-- tracking parameters, and a few old ones say http).
local function canonical(url)
  return glean.url.canonical(url, {scheme = "https", query = false})
end

-- "August 4, 2017, 5:43 AM ET" -> "2017-08-04T05:43:00-04:00"
local function eastern(when)
  return when and assert(glean.time.parse(when, DATE_FORMAT, EASTERN))
end

-- "Updated <date>" (the date in a <time> in the current template, bare text
-- in the legacy one), or nil.
local function updated(page)
  local line = page:text("[data-cy=article-updated]")
  return line and eastern((line:gsub("^Updated%s*", "")))
end

-- Authors in byline order, each once: the desktop byline only, and only the
-- names of its author blocks (not the hover cards).
local function authors(page)
  local byline = page:select_one("[data-cy=byline-desktop]")
  if not byline then return {} end
  local names = {}
  for _, name in ipairs(byline:select("[data-cy=author-link], [data-cy=author-name]")) do
    names[#names + 1] = name:text()
  end
  return text.unique(names)
end

-- A "Read: <a>title</a>" paragraph points to a related article.
local function read_link(p)
  local link = p:select_one("a[href]")
  if link and p:text():find("^Read:") then return link end
end

local function article(page)
  local content = page:select_one("[data-cy=article-content]")
  local body, related = {}, {}
  for _, block in ipairs(content:select(":scope > p, :scope > h2")) do
    local link = read_link(block)
    if link then
      related[#related + 1] = {title = link:text(), url = canonical(link:absurl())}
    elseif not block:matches(".wp-caption-text") and block:text() ~= "" and block:text() ~= "Advertisement" then
      body[#body + 1] = block:text()
    end
  end
  return {
    url = canonical(page.url),
    title = page:text("[data-cy=article-title]"),
    topic = page:text("[data-cy=article-eyebrow]") or glean.json.null,
    section = page:text("[data-cy=breadcrumb-section]"),
    authors = authors(page),
    published = eastern(page:text("[data-cy=article-date]")),
    updated = updated(page) or glean.json.null,
    body = body,
    related = glean.json.array(related),
  }
end

return {
  name = "coins2day",
  start_urls = {"https://coins2day.com/"},
  allowed_hosts = {"coins2day.com"},
  pages = {
    {path = "^/$", follow = "a[href]"},
    {path = "^/section/[^/]+/$", follow = {"a[href]", "link[rel=next]"}},
    {path = "^/section/[^/]+/page/%d+/$", follow = {"a[href]", "link[rel=next]"}},
    {path = "^/%d%d%d%d/%d%d/%d%d/[^/]+/$", parse = article},
  },
}
