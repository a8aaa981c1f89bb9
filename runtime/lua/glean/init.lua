-- glean.init — the parts of the glean library written in Lua, added to the
-- C library table it receives: fetch and fetch_all on the scheduler, URL
-- encoding, and the crawl.
local glean = ...
local sched = require "glean.sched"
local response = require "glean.response"

-- doc:meta() and doc:json_ld(), written in Lua, join the Document methods
-- ldom.c made (kept in its metatable, which adapters cannot reach).
require("glean.metadata").install(glean, debug.getregistry()["glean.Document"].methods)

-- Percent-encodes a table as application/x-www-form-urlencoded, keys sorted
-- so requests are reproducible; a list value repeats its key.
function glean.urlencode(t)
  local function enc(s)
    return (tostring(s):gsub("[^%w%-%._~]", function(c)
      return c == " " and "+" or ("%%%02X"):format(c:byte())
    end))
  end
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = tostring(k) end
  table.sort(keys)
  local parts = {}
  for _, k in ipairs(keys) do
    local v = t[k]
    if v == nil then v = t[tonumber(k)] end
    if type(v) == "table" then
      for _, item in ipairs(v) do parts[#parts + 1] = enc(k) .. "=" .. enc(item) end
    else
      parts[#parts + 1] = enc(k) .. "=" .. enc(v)
    end
  end
  return table.concat(parts, "&")
end

-- glean.url.canonical(url [, opts]) -> the URL's canonical form (what the
-- crawl deduplicates on: scheme and host lower-cased, default port and
-- fragment dropped, escapes normalized, tracking parameters removed), or
-- nil, reason. opts.query = false drops the whole query; opts.scheme sets
-- the scheme (for sites that link their own pages over http and https).
local c_canonical = glean.url.canonical
function glean.url.canonical(url, opts)
  local u, err = c_canonical(url)
  if not u or not opts then return u, err end
  if opts.query == false then u = u:gsub("%?.*$", "") end
  if opts.scheme then u = opts.scheme .. u:match("^%a[%w+.-]*(:.*)$") end
  return u
end

-- glean.text.unique(list) -> the list without repeats, first occurrences
-- kept in order (bylines that name an author twice, links listed twice).
function glean.text.unique(list)
  local seen, out = {}, {}
  for _, v in ipairs(list) do
    if not seen[v] then
      seen[v] = true
      out[#out + 1] = v
    end
  end
  return out
end

-- The engine glean.fetch uses: made on first use with default settings; a
-- crawl swaps in its own for its duration.
local current_engine
function glean.current_engine()
  if not current_engine then current_engine = glean.engine() end
  return current_engine
end

function glean.use_engine(engine)
  local previous = current_engine
  current_engine = engine
  return previous
end

local function request(url, opts)
  if type(url) == "table" then return url end
  if type(url) ~= "string" then
    error(("bad argument #1 to 'fetch' (string or table expected, got %s)"):format(type(url)), 3)
  end
  local req = {}
  if opts ~= nil then
    if type(opts) ~= "table" then
      error(("bad argument #2 to 'fetch' (table expected, got %s)"):format(type(opts)), 3)
    end
    for k, v in pairs(opts) do req[k] = v end
  end
  req.url = url
  return req
end

-- glean.fetch(url [, opts]) -> response, or nil, message, kind on a
-- transport error (HTTP error statuses are responses). Yields when called
-- from a coroutine the scheduler runs (crawl handlers, fetch_all).
function glean.fetch(url, opts)
  return response.results(sched.await(glean.current_engine(), {request(url, opts)})[1])
end

-- glean.fetch_all(requests) -> responses in input order. Requests are URLs
-- or tables {url = ..., <fetch options>}; all run concurrently. A transport
-- error leaves a response whose .error and .error_kind say what happened.
function glean.fetch_all(requests)
  if type(requests) ~= "table" then
    error(("bad argument #1 to 'fetch_all' (table expected, got %s)"):format(type(requests)), 2)
  end
  local list = {}
  for i, r in ipairs(requests) do list[i] = request(r) end
  return sched.await(glean.current_engine(), list)
end

-- glean.session(options) -> a Session: fetch and fetch_all with a crawl's
-- politeness (per_host, delay, robots.txt) for scripts (glean/session.lua).
function glean.session(options)
  return require("glean.session").new(options)
end

-- glean.crawl(adapter, options) runs a crawl (see glean/crawl.lua).
function glean.crawl(adapter, options)
  return require("glean.crawl").run(adapter, options)
end

return glean
