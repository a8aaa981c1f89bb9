-- glean.page — what a crawl handler gets: the fetched page with its parsed
-- document, shortcuts for the common extractions, and follow() to queue
-- links. Shortcuts that take a selector return nil (or an empty list) when
-- nothing matches, so a handler reads like a description of the page:
--   title = page:text("h1"), authors = page:texts(".byline a"),
local page = {}

-- What pages inherit: the methods below, in a table no page leads to (its
-- metatable is out of an adapter's reach, and nothing in it points back),
-- so that the runtime's code stays the runtime's.
local methods = {}
local meta = {__index = methods}

-- What page.close frees, where the handler cannot reach it: a handler may
-- set any field of its page, and close runs after it, outside the limits
-- the handler runs under (glean.sandbox).
local owned = setmetatable({}, {__mode = "k"}) -- page -> {response = ..., doc = ...}

-- follow_fn(url) is the crawl's: it queues an absolute URL if a rule wants it.
-- source (the response, unless given) is what page:doc() parses and
-- page.close frees: the handler sees the response, and must not be able
-- to change what close runs.
-- charset (a rule's option, or nil): the charset page:doc() decodes in.
function page.new(response, url, depth, follow_fn, source, charset)
  local p = setmetatable({response = response, url = url, depth = depth, status = response.status, _follow = follow_fn}, meta)
  owned[p] = {response = source or response, charset = charset}
  return p
end

-- A page for a document the host already has (the embedding API's
-- glean_extract): doc, parsed, stands in for the fetched response; links
-- followed go nowhere.
-- body (the bytes doc was parsed from, if the host gave them) is what
-- page:doc{charset=} decodes again.
function page.of_document(doc, url, content_type, body)
  local function html() return doc end
  local function close() doc:close() end
  local response = {url = url, status = 200, content_type = content_type, body = body, html = html, close = close}
  return page.new(response, url, 0, function() end, {url = url, body = body, html = html, close = close})
end

-- The parsed document (parsed on a worker thread when the crawl fetched
-- it), or with opts.charset the body decoded in that charset instead of
-- the one the page announced (a page that says gb2312 and is UTF-8): each
-- charset's document is made once and freed with the page. A rule's
-- charset option makes its pages' document the one of that charset.
function methods:doc(opts)
  local own = assert(owned[self], "not a page")
  if opts ~= nil and type(opts) ~= "table" then
    error(("bad argument #1 to 'doc' (table expected, got %s)"):format(type(opts)), 2)
  end
  local charset = opts and opts.charset or own.charset
  if charset == nil then
    if not own.doc then own.doc = own.response:html() end
    return own.doc
  end
  if type(charset) ~= "string" then
    error(("bad option 'charset' to 'doc' (string expected, got %s)"):format(type(charset)), 2)
  end
  local glean = require "glean"
  local name = glean.charset(charset)
  if not name then error(("page:doc: unknown charset '%s' (not a label of the WHATWG Encoding Standard)"):format(charset), 2) end
  own.decoded = own.decoded or {}
  local doc = own.decoded[name]
  if not doc then
    local body = own.response.body
    if type(body) ~= "string" then error("page:doc: this page has no raw body to decode again", 2) end
    doc = glean.html(body, {url = own.response.url, charset = name})
    own.decoded[name] = doc
  end
  return doc
end

-- doc:meta() and doc:json_ld() of the page's document (glean.metadata).
function methods:meta() return self:doc():meta() end
function methods:json_ld(opts) return self:doc():json_ld(opts) end

-- Frees the page's memory now rather than at garbage collection: a crawl
-- calls it when the handler is done.
function methods:close()
  local own = assert(owned[self], "not a page")
  if own.doc then own.doc:close() end
  for _, doc in pairs(own.decoded or {}) do doc:close() end
  own.response:close()
end

function methods:select(css) return self:doc():select(css) end
function methods:select_one(css) return self:doc():select_one(css) end

-- Text of the first match, or nil.
function methods:text(css)
  local node = self:doc():select_one(css)
  return node and node:text()
end

-- Texts of all matches, empty ones left out.
function methods:texts(css)
  local out = {}
  for _, node in ipairs(self:doc():select(css)) do
    local t = node:text()
    if t ~= "" then out[#out + 1] = t end
  end
  return out
end

-- Attribute of the first match, or nil.
function methods:attr(css, name)
  local node = self:doc():select_one(css)
  return node and node:attr(name)
end

-- Absolute URL of a link (string, relative or absolute) against the page.
function methods:absurl(link)
  local glean = require "glean"
  return glean.url.resolve(self.response.url, link)
end

-- Queues a link (relative to the page) if a page rule wants it.
function methods:follow(link)
  local url = type(link) == "string" and self:absurl(link) or nil
  if url then self._follow(url) end
end

-- Queues the href (or src) of every element matching the selector(s).
function methods:follow_links(selectors)
  if type(selectors) == "string" then selectors = {selectors} end
  for _, css in ipairs(selectors) do
    for _, node in ipairs(self:doc():select(css)) do
      local url = node:absurl()
      if url then self._follow(url) end
    end
  end
end

-- The crawl frees a page with this, not with page:close(), which the
-- handler may have replaced on its page.
page.close = methods.close

return page
