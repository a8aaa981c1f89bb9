-- glean.embed — the Lua half of the embedding API (runtime/api/glean_api.c):
-- a runtime's adapter and crawl options, documents the host already has
-- run through the adapter's page rules, and crawls. Each glean_runtime has
-- its own Lua state, so what this module keeps is that runtime's.
local glean = require "glean"
local cli = require "glean.cli"
local crawl = require "glean.crawl"
local page_mt = require "glean.page"
local sandbox = require "glean.sandbox"

local embed = {}

local adapter      -- the loaded adapter
local options = {} -- crawl options, set by the command line's names

-- The host owns stdout: an adapter's print goes to the log.
print = function(...) glean.log.info(...) end

-- The "out" files of extractions (glean_extract): opened by the first
-- extraction after the options or the adapter changed (stale), and kept
-- open across extractions, flushed at most a second apart (as a crawl's
-- are) and when closed: at the next change, or with the runtime.
local extracting = {sinks = {}, flushed = 0, stale = true}

-- Returns true, or nil and a message.
function embed.set_option(name, value)
  extracting.stale = true
  return cli.set_option(options, name, value)
end

local function use(loaded, err)
  if not loaded then return nil, err end
  local ok, bad = pcall(crawl.check_adapter, loaded, loaded._source)
  if not ok then return nil, bad end
  adapter = loaded
  extracting.stale = true
  return true
end

function embed.load_file(path)
  return use(cli.load_adapter(path))
end

function embed.load_source(source, name)
  return use(cli.load_adapter_source(source, name))
end

local function extract_outputs()
  if not extracting.stale then return extracting.sinks end
  for _, s in ipairs(extracting.sinks) do pcall(s.close, s) end
  -- Stale until the files open: a file that cannot is an error each time.
  extracting = {sinks = {}, flushed = glean.clock(), stale = true}
  if options.out then
    local sinks, stdout = crawl.open_outputs(adapter, options)
    if stdout then
      for _, s in ipairs(sinks) do s:close() end
      error("out '-': standard output is the host's here (records go to the record callback)", 0)
    end
    extracting.sinks = sinks
  end
  extracting.stale = false
  return extracting.sinks
end

-- Runs the adapter's rule for url on the document; its records go to
-- glean.emit (the record callback) and to the "out" files. Returns false
-- when no rule takes the URL, else true; a document that does not parse or
-- a handler error raises (the latter with a traceback). The adapter's code
-- runs under the runtime's limits, as in a crawl: a limit it hits is named
-- in the error.
function embed.extract(url, body, content_type, charset)
  local rule = sandbox.call(crawl.rule_for, adapter, url)
  if not rule then return false end
  if not rule.parse then return true end
  local sinks = extract_outputs()
  -- A rule's charset stands in for the one the host was told.
  local page = page_mt.of_document(glean.html(body, {url = url, charset = rule.charset or charset}), url, content_type, body)
  if #sinks > 0 then glean.set_outputs(sinks, false) end
  local ok, err = sandbox.xpcall(function() crawl.emit_result(rule.parse(page), glean.emit) end, sandbox.traceback)
  if #sinks > 0 then glean.set_outputs() end
  -- Not page:close(): the handler may have replaced that.
  page_mt.close(page)
  if #sinks > 0 and glean.clock() - extracting.flushed >= 1 then
    for _, s in ipairs(sinks) do s:flush() end
    extracting.flushed = glean.clock()
  end
  if not ok then error(err, 0) end
  return true
end

-- Crawls from urls (empty: the adapter's start_urls) with the options set;
-- on_error(url, message) hears of each page that failed. With warc (a
-- file's path, or WARC records themselves if is_data), over that input
-- instead. Returns the stats as JSON, whether the crawl was stopped, and
-- whether some page failed.
function embed.crawl(urls, on_error, warc, is_data)
  local run = {urls = urls, on_error = on_error}
  for k, v in pairs(options) do run[k] = v end
  if warc then
    run.warc_in, run.warc_data = not is_data and {warc} or nil, is_data and warc or nil
  end
  local stats = glean.crawl(adapter, run)
  return glean.json.encode(stats), stats.interrupted, stats.failed > 0
end

return embed
