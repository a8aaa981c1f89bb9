-- hostile — the baseline adapter every hostile case shares (tests/hostile/run
-- copies this file next to the case, in the adapter's own folder): a crawl
-- of the suite's site, the index then /p/1.html ... /p/8.html, each page
-- giving the record {url = URL, n = N}, but for the pages whose handler a
-- case replaces with its attack. An attacked page fails even when its
-- attack returns (the error below): a neutered attack is contained, and the
-- runner checks that the page failed, was named, and hurt nothing else.
--
-- Everything here is captured at load, so that an attack on the shared
-- string or table functions changes what the runtime does, not what this
-- file does: a record that comes out wrong is the runtime's doing.
local match, format, tonumber, tostring, type, pairs, error = string.match, string.format, tonumber, tostring,
  type, pairs, error
local getenv = os.getenv
local fetch = require("glean").fetch

local H = {}

H.canary = getenv("CANARY")       -- a file no case may create (the runner checks nothing at all is written)
H.secret = getenv("SECRET")       -- a file outside the adapter's folder whose token must never come out
H.run_dir = getenv("HOSTILE_RUN") -- the run's folder: outside the adapter's, holds the secret
H.dir = getenv("HOSTILE_ADAPTER_DIR") -- the adapter's own folder

-- The page's number, from its URL.
function H.n(url) return tonumber(match(url, "/p/(%d+)%.html$")) end

-- "http://127.0.0.1:PORT", from a URL of the site.
function H.base(url) return match(url, "^%a+://[^/]+") end

-- Raises an error carrying what an attack got hold of: the runner looks for
-- the secrets' tokens in glean's output.
function H.leak(what, data) error(format("hostile: LEAK %s: %s", what, tostring(data)), 0) end

-- A page's own record, once its page API says what the page says (a page
-- API that another page's attack changed fails the page).
local function record(page, n)
  local h1 = page:text("h1")
  if h1 ~= "Page " .. n then error(format("hostile: page %d reads h1 %q", n, tostring(h1)), 0) end
  if H.victims_fetch then
    local resp, err = fetch(H.base(page.url) .. "/robots.txt")
    if not resp or resp.status ~= 200 then error("hostile: page " .. n .. " cannot fetch: " .. tostring(err), 0) end
  end
  return {url = page.url, n = n}
end

-- Returned by an attack that is a control: the page gives its record.
H.PASS = setmetatable({}, {__name = "hostile.PASS"})

-- Raises an error saying the attack got past the sandbox in a way only the
-- adapter can see (a function it must not reach, a setting it must not
-- change): the runner reads "hostile: ESCAPED" as an escape.
function H.escaped(what) error(format("hostile: ESCAPED: %s", tostring(what)), 0) end

-- The baseline adapter. attacks: page 3's attack (a function), or
-- {[N] = function(page) ... end} for several; an attack's result other than
-- nil is the page's result (a hostile record), H.PASS its own record.
-- extra: fields added to the adapter table (settings, ...); and
-- extra.victims_fetch: every other page calls glean.fetch too.
function H.adapter(attacks, extra)
  if type(attacks) == "function" then attacks = {[3] = attacks} end
  attacks = attacks or {}
  extra = extra or {}
  H.victims_fetch = extra.victims_fetch
  local adapter = {
    name = "hostile",
    pages = {
      {path = "^/$", follow = "a[href]"},
      {path = "^/p/%d+%.html$", parse = function(page)
        local n = H.n(page.url)
        local attack = attacks[n]
        if attack then
          local result = attack(page)
          if result == H.PASS then return record(page, n) end
          if result ~= nil then return result end
          error("hostile: the attack on this page returned", 0)
        end
        return record(page, n)
      end},
    },
  }
  for k, v in pairs(extra) do
    if k ~= "victims_fetch" then adapter[k] = v end
  end
  return adapter
end

return H
