-- glean.page — what a crawl handler gets: the fetched page with its parsed
-- document, shortcuts for the common extractions, and follow() to queue
-- links. Shortcuts that take a selector return nil (or an empty list) when
-- nothing matches, so a handler reads like a description of the page:
--   title = page:text("h1"), authors = page:texts(".byline a"),
local page = {}
page.__index = page

-- What page.close frees, where the handler cannot reach it: a handler may
-- set any field of its page, and close runs after it, outside the limits
-- the handler runs under (glean.sandbox).
local owned = setmetatable({}, {__mode = "k"}) -- page -> {response = ..., doc = ...}

-- follow_fn(url) is the crawl's: it queues an absolute URL if a rule wants it.
function page.new(response, url, depth, follow_fn)
  local p = setmetatable({response = response, url = url, depth = depth, status = response.status, _follow = follow_fn}, page)
  owned[p] = {response = response}
  return p
end

-- A page for a document the host already has (the embedding API's
-- glean_extract): doc, parsed, stands in for the fetched response; links
-- followed go nowhere.
function page.of_document(doc, url, content_type)
  local response = {url = url, status = 200, content_type = content_type}
  function response.html() return doc end
  function response.close() doc:close() end
  return page.new(response, url, 0, function() end)
end

-- The parsed document (parsed on a worker thread when the crawl fetched it).
function page:doc()
  local own = assert(owned[self], "not a page")
  if not own.doc then own.doc = own.response:html() end
  return own.doc
end

-- Frees the page's memory now rather than at garbage collection: a crawl
-- calls it when the handler is done.
function page:close()
  local own = assert(owned[self], "not a page")
  if own.doc then own.doc:close() end
  own.response:close()
end

function page:select(css) return self:doc():select(css) end
function page:select_one(css) return self:doc():select_one(css) end

-- Text of the first match, or nil.
function page:text(css)
  local node = self:doc():select_one(css)
  return node and node:text()
end

-- Texts of all matches, empty ones left out.
function page:texts(css)
  local out = {}
  for _, node in ipairs(self:doc():select(css)) do
    local t = node:text()
    if t ~= "" then out[#out + 1] = t end
  end
  return out
end

-- Attribute of the first match, or nil.
function page:attr(css, name)
  local node = self:doc():select_one(css)
  return node and node:attr(name)
end

-- Absolute URL of a link (string, relative or absolute) against the page.
function page:absurl(link)
  local glean = require "glean"
  return glean.url.resolve(self.response.url, link)
end

-- Queues a link (relative to the page) if a page rule wants it.
function page:follow(link)
  local url = type(link) == "string" and self:absurl(link) or nil
  if url then self._follow(url) end
end

-- Queues the href (or src) of every element matching the selector(s).
function page:follow_links(selectors)
  if type(selectors) == "string" then selectors = {selectors} end
  for _, css in ipairs(selectors) do
    for _, node in ipairs(self:doc():select(css)) do
      local url = node:absurl()
      if url then self._follow(url) end
    end
  end
end

return page
