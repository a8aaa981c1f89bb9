-- Articles from many publishers (saved under https://articles.example/, one
-- folder each): one record per article with its title, authors, date,
-- description, image, tags and language, whichever way the page says them.
--
-- Where each field comes from, best first: the page's schema.org JSON-LD
-- (an Article or one of its subtypes), then Open Graph and other <meta>
-- tags, then the visible byline and <time>. Meta contents are often escaped
-- twice ("&amp;amp;"), so text from them is unescaped once more.
local glean = require "glean"

local ARTICLE = {"Article", "NewsArticle", "BlogPosting", "ReportageNewsArticle", "Report"}
-- Bylines as publishers mark them up: rel=author links, microdata, hCard,
-- a "Posted by" line, a writer span.
local BYLINE = "a[rel~=author], [itemprop=author] [itemprop=name], .author .fn, .author a, .post-meta .author, .writer"

-- The first of the values that says something (not nil, "" or {}).
local function first(...)
  for i = 1, select("#", ...) do
    local v = select(i, ...)
    if v ~= nil and v ~= "" and not (type(v) == "table" and next(v) == nil) then return v end
  end
end

local function clean(s)
  return s and glean.text.squash(glean.text.unescape(s))
end

-- JSON-LD's author, image and keywords each come in several shapes.
local function names(author)
  if type(author) == "string" then return {author} end
  if type(author) ~= "table" then return {} end
  if author.name then return {author.name} end
  local out = {}
  for _, a in ipairs(author) do
    for _, name in ipairs(names(a)) do out[#out + 1] = name end
  end
  return out
end

local function url_of(image)
  if type(image) == "table" then return url_of(image.url or image[1]) end
  return image
end

local function words(list) -- "a, b" or {"a", "b"}
  if type(list) ~= "string" then return list end
  local out = {}
  for word in list:gmatch("[^,]+") do out[#out + 1] = glean.text.squash(word) end
  return out
end

local function article(page)
  local ld = page:json_ld{type = ARTICLE}[1] or {}
  local meta = page:meta()
  local og, name = meta.property, meta.name
  return {
    url = page.url,
    title = clean(first(ld.headline, og["og:title"], page:text("h1"))),
    authors = glean.text.unique(first(names(ld.author), page:texts(BYLINE), {name.author}) or {}),
    published = first(ld.datePublished, og["article:published_time"], meta.itemprop.datePublished,
                      page:attr("time[datetime]", "datetime")),
    description = clean(first(ld.description, og["og:description"], name.description)),
    image = first(url_of(ld.image), og["og:image"], page:attr("link[itemprop=image]", "href")),
    tags = first(meta.all.property["article:tag"], words(ld.keywords), words(name.keywords), page:texts("a[rel~=tag]")),
    lang = page:attr("html", "lang"),
    dir = page:attr("html", "dir") or "ltr",
  }
end

return {
  name = "articles",
  start_urls = {"https://articles.example/"},
  allowed_hosts = {"articles.example"},
  pages = {
    {path = "^/$", follow = "li a[href]"},
    -- Dragon Daily's pages say gb2312 and are UTF-8 (a template kept from
    -- its old site): decoded as what they are.
    {path = "^/dragon%-daily/.+%.html$", charset = "utf-8", parse = article},
    {path = "%.html$", parse = article},
  },
}
