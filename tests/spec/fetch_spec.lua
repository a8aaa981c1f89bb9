-- glean.fetch and glean.fetch_all against tests/server/testserver.py on
-- 127.0.0.1: responses, headers, timings, resp:html() and charsets, every
-- request option, transport errors and their kinds, retries, decoding and
-- size limits, cookies, concurrency (counted by the server), and who drives
-- the event loop. Time is only ever bounded from below.
local glean = require "glean"
local support = require "support"

local TEXT = ("The quick brown fox jumps over the lazy dog. "):rep(20)

describe("glean.fetch", function()
  local server, B

  setup(function()
    server = support.server()
    B = server.base
  end)

  teardown(function()
    server:stop()
  end)

  -- Runs fn with engine as the one glean.fetch uses, then puts back the default.
  local function with_engine(opts, fn)
    local engine = glean.engine(opts)
    local previous = glean.use_engine(engine)
    local ok, err = pcall(fn)
    glean.use_engine(previous)
    engine:close()
    assert(ok, err)
  end

  local function echo(opts)
    local resp = assert(glean.fetch(B .. "/echo", opts))
    return glean.json.decode(resp.body)
  end

  -- Asserts that fn raises an error whose message contains text.
  local function fails(fn, text)
    local ok, err = pcall(fn)
    assert.is_false(ok)
    assert.truthy(tostring(err):find(text, 1, true), tostring(err))
  end

  -- The cookies a request sent, sorted ("a=1", ...).
  local function cookies()
    local list = {}
    for c in assert(glean.fetch(B .. "/cookie/echo")).body:gmatch("[^; ]+") do list[#list + 1] = c end
    table.sort(list)
    return list
  end

  -- The values a request header was sent with, in order (any name case).
  local function sent(doc, name)
    local values = {}
    for _, pair in ipairs(doc.header_list) do
      if pair[1]:lower() == name:lower() then values[#values + 1] = pair[2] end
    end
    return values
  end

  describe("responses", function()
    it("give status, body, the final URL and the redirects followed", function()
      local resp = assert(glean.fetch(B .. "/redirect/3"))
      assert.equal(200, resp.status)
      assert.is_true(resp.ok)
      assert.equal("final", resp.body)
      assert.equal(B .. "/final", resp.url)
      assert.equal(3, resp.redirects)
      assert.equal(1, resp.tries)
      assert.equal("text/plain", resp.content_type)
      assert.is_nil(resp.error)
      assert.is_nil(resp.error_kind)
      assert.matches("^glean%.Response 200 http://127%.0%.0%.1:%d+/final$", tostring(resp))
    end)

    it("give the last response's headers, names lower-cased, repeats kept", function()
      local resp = assert(glean.fetch(B .. "/headers"))
      local h = resp.headers
      for name in pairs(h) do assert.equal(name:lower(), name) end
      assert.equal("one, two", h["x-multi"])
      assert.equal("x", h["x-other"])
      assert.equal("Text/Plain; Charset=UTF-8", h["content-type"])
      assert.equal("5", h["content-length"])
      assert.is_nil(h["X-Multi"])
      assert.equal("one", resp:header("X-MULTI"))
      assert.equal("text/plain", resp.content_type)
      assert.equal("UTF-8", resp.charset)
      -- After redirects, only the final response's headers.
      local final = assert(glean.fetch(B .. "/redirect/2"))
      assert.equal("yes", final.headers["x-final"])
      assert.is_nil(final.headers["x-hop"])
      assert.is_nil(final.headers.location)
    end)

    it("keep each Set-Cookie value whole, as a list", function()
      local resp = assert(glean.fetch(B .. "/cookie/set?a=1&b=2"))
      assert.same({"a=1; Path=/", "b=2; Path=/"}, resp.headers["set-cookie"])
    end)

    it("give timings that add up, in seconds", function()
      local resp = assert(glean.fetch(B .. "/slow?bytes=4&ms=100"))
      assert.equal("xxxx", resp.body)
      assert.equal(4, resp.size)
      local t = resp.timings
      for _, k in ipairs({"dns", "connect", "tls", "first_byte", "total"}) do
        assert.equal("number", type(t[k]), k)
        assert.is_true(t[k] >= 0, k)
      end
      assert.is_true(t.total >= t.first_byte and t.first_byte >= t.connect)
      assert.is_true(t.total >= 0.3, "four bytes 100 ms apart took " .. t.total)
    end)

    it("say which HTTP version they came over (none for a local file)", function()
      -- The test server speaks HTTP/1.1 only, in clear (http2_spec has h2).
      assert.equal("1.1", assert(glean.fetch(B .. "/hello")).http_version)
      with_engine({mirrors = {["http://disk.test"] = "examples/catalog/site"}}, function()
        local resp = assert(glean.fetch("http://disk.test/products/"))
        assert.equal(200, resp.status)
        assert.is_nil(resp.http_version)
      end)
    end)

    it("are HTTP error statuses too, not errors", function()
      local resp, err = glean.fetch(B .. "/status/404")
      assert.is_nil(err)
      assert.equal(404, resp.status)
      assert.is_false(resp.ok)
      assert.equal("status 404", resp.body)
      resp = assert(glean.fetch(B .. "/status/503", {retries = 0}))
      assert.equal(503, resp.status)
      assert.equal(1, resp.tries)
    end)

    it("can be closed, after which they refuse to be read", function()
      local resp = assert(glean.fetch(B .. "/hello"))
      resp:close()
      assert.equal("glean.Response (closed)", tostring(resp))
      fails(function() return resp.status end, "response is closed")
      resp:close()
    end)
  end)

  describe("resp:html()", function()
    it("parses once, with the final response URL as base", function()
      local resp = assert(glean.fetch(B .. "/redirect-to?url=/chain/0/"))
      assert.equal(B .. "/chain/0/", resp.url)
      local doc = resp:html()
      assert.equal(doc, resp:html())
      assert.equal(B .. "/chain/0/", doc.url)
      assert.equal("chain 0", doc:select_one("h1"):text())
      assert.equal(B .. "/chain/1/", doc:select_one("a"):absurl())
    end)

    it("uses a parse made on a worker thread when the request asked for one", function()
      local resp = assert(glean.fetch(B .. "/hello", {html = true}))
      assert.equal("hello, glean", resp:html():select_one("p"):text())
    end)

    it("decodes with the charset HTTP declares", function()
      local cases = {
        {"/charset/latin1", "café", "windows-1252"},
        {"/charset/cp1252", "€ “quoted”", "windows-1252"},
        {"/charset/sjis", "日本語", "Shift_JIS"},
        -- Valid UTF-8, but declared Latin-1: the declaration wins.
        {"/charset/mislabeled", "cafÃ©", "windows-1252"},
      }
      for _, c in ipairs(cases) do
        for _, html in ipairs({false, true}) do
          local doc = assert(glean.fetch(B .. c[1], {html = html})):html()
          assert.equal(c[2], doc:select_one("p"):text(), c[1])
          assert.equal(c[3], doc.charset, c[1])
        end
      end
      local resp = assert(glean.fetch(B .. "/charset/sjis"))
      assert.equal("Shift_JIS", resp.charset)
      assert.equal("text/html", resp.content_type)
    end)
  end)

  describe("options", function()
    it("method, headers (both forms), user_agent and body", function()
      local doc = echo({method = "put", headers = {["X-A"] = "1", "X-B: 2"}, body = "raw", user_agent = "probe/1"})
      assert.equal("PUT", doc.method)
      assert.equal("raw", doc.body)
      assert.same({"1"}, sent(doc, "X-A"))
      assert.same({"2"}, sent(doc, "X-B"))
      assert.same({"probe/1"}, sent(doc, "User-Agent"))
      for _, m in ipairs({"DELETE", "PATCH", "OPTIONS"}) do
        assert.equal(m, echo({method = m}).method)
      end
      local head = assert(glean.fetch(B .. "/echo", {method = "HEAD"}))
      assert.equal(200, head.status)
      assert.equal("", head.body)
      -- The default user agent names glean.
      assert.same({"glean/" .. glean.version}, sent(echo(), "User-Agent"))
    end)

    it("a body without a method is POSTed; POST without one sends nothing", function()
      local doc = echo({body = "x=1"})
      assert.equal("POST", doc.method)
      assert.equal("x=1", doc.body)
      doc = echo({method = "POST"})
      assert.equal("POST", doc.method)
      assert.equal("", doc.body)
      assert.same({"0"}, sent(doc, "Content-Length"))
    end)

    it("form: url-encoded, keys sorted, lists repeated", function()
      local doc = echo({form = {b = "x&y é", a = {1, 2}}})
      assert.equal("POST", doc.method)
      assert.equal("a=1&a=2&b=x%26y+%C3%A9", doc.body)
      assert.same({"application/x-www-form-urlencoded"}, sent(doc, "Content-Type"))
    end)

    it("json: encoded, with one Content-Type, the caller's if given", function()
      local doc = echo({json = {b = {1, 2}, a = "x"}})
      assert.equal("POST", doc.method)
      assert.same({b = {1, 2}, a = "x"}, glean.json.decode(doc.body))
      assert.same({"application/json"}, sent(doc, "Content-Type"))
      doc = echo({method = "PUT", json = {}, headers = {["content-type"] = "application/vnd.x+json"}})
      assert.equal("PUT", doc.method)
      assert.same({"application/vnd.x+json"}, sent(doc, "Content-Type"))
    end)

    it("query: appended after any query, before the fragment", function()
      assert.equal("/echo?q=a+b&z=1&z=2", echo({query = {z = {1, 2}, q = "a b"}}).path)
      local resp = assert(glean.fetch(B .. "/echo?x=1", {query = {y = 2}}))
      assert.equal("/echo?x=1&y=2", glean.json.decode(resp.body).path)
      resp = assert(glean.fetch(B .. "/echo#part", {query = {y = 2}}))
      assert.equal("/echo?y=2", glean.json.decode(resp.body).path)
      resp = assert(glean.fetch(B .. "/echo?x=1#frag?z", {query = {y = 2}}))
      assert.equal("/echo?x=1&y=2", glean.json.decode(resp.body).path)
      resp = assert(glean.fetch(B .. "/echo?x=1", {query = {}}))
      assert.equal("/echo?x=1", glean.json.decode(resp.body).path)
    end)

    it("redirects = false gives the redirect itself", function()
      local resp = assert(glean.fetch(B .. "/redirect/3", {redirects = false}))
      assert.equal(302, resp.status)
      assert.equal(B .. "/redirect/3", resp.url)
      assert.equal("/redirect/2", resp.headers.location)
      assert.equal(0, resp.redirects)
    end)

    it("max_redirects caps the chain", function()
      local resp = assert(glean.fetch(B .. "/redirect/2", {max_redirects = 2}))
      assert.equal(200, resp.status)
      local none, err, kind = glean.fetch(B .. "/redirect/3", {max_redirects = 2})
      assert.is_nil(none)
      assert.equal("redirects", kind)
      assert.truthy(err:find(B .. "/redirect/3", 1, true), err)
    end)

    it("proxy: the request goes through it", function()
      -- The test server answers absolute-form requests as a proxy would, so
      -- the made-up host is never resolved.
      local resp = assert(glean.fetch("http://proxied.test/a?b=1", {proxy = B}))
      assert.equal("yes", resp.headers["x-proxied"])
      assert.equal("proxied http://proxied.test/a?b=1", resp.body)
      resp = assert(glean.fetch(B .. "/hello", {proxy = ""}))
      assert.is_nil(resp.headers["x-proxied"])
    end)

    it("refuses bad arguments with a clear error", function()
      fails(function() glean.fetch(42) end, "bad argument #1 to 'fetch' (string or table expected, got number)")
      fails(function() glean.fetch(B, "x") end, "bad argument #2 to 'fetch' (table expected, got string)")
      fails(function() glean.fetch(B, {timeout = "1"}) end, "bad option 'timeout' (number expected, got string)")
      fails(function() glean.fetch(B, {headers = {X = {}}}) end, "bad request (header values must be strings)")
      fails(function() glean.fetch_all("x") end, "bad argument #1 to 'fetch_all' (table expected, got string)")
      fails(function() glean.fetch({}) end, "bad request (url expected)")
      for _, name in ipairs({"timeout", "max_redirects", "retries", "max_body"}) do
        fails(function() glean.fetch(B, {[name] = -1}) end, ("bad option '%s' (must not be negative)"):format(name))
      end
    end)
  end)

  describe("transport errors", function()
    it("return nil, a message naming the URL, and a kind", function()
      -- Nothing listens on 127.0.0.2 (the server binds 127.0.0.1 only).
      local cases = {
        {"http://127.0.0.2:" .. server.port .. "/x", {retries = 0}, "connect"},
        {B .. "/stall", {timeout = 0.3, retries = 0}, "timeout"},
        {B .. "/big?n=5000", {max_body = 1000}, "too_large"},
        {B .. "/big-chunked?n=200000", {max_body = 1000}, "too_large"},
        {B .. "/loop", nil, "redirects"},
        {"ftp://127.0.0.1/x", nil, "scheme"},
        {B .. "/redirect-to?url=ftp://127.0.0.1/x", nil, "scheme"},
        {B .. "/redirect-to?url=file:///etc/passwd", nil, "scheme"},
      }
      for _, c in ipairs(cases) do
        local resp, err, kind = glean.fetch(c[1], c[2])
        assert.is_nil(resp, c[1])
        assert.equal(c[3], kind, c[1] .. ": " .. tostring(err))
        assert.truthy(err:find(c[1], 1, true), err)
      end
    end)

    it("says so when the process is out of file descriptors, not that the server is down", function()
      local script = support.tempfile(([[
        local glean = require "glean"
        glean.fetch(%q, {retries = 0})  -- the engine's own descriptors first, and no connection kept
        local held, f = {}, nil
        repeat f = io.open("/dev/null"); held[#held + 1] = f until not f
        print(select(2, glean.fetch(%q, {retries = 0})))
      ]]):format("http://127.0.0.2:" .. server.port .. "/x", B .. "/hello"), ".lua")
      local code, out, err = support.run({script}, nil, "ulimit -n 64")
      os.remove(script)
      assert.equal(0, code, err)
      assert.truthy(out:find(B .. "/hello: cannot open a socket: Too many open files", 1, true), out .. err)
    end)

    it("a timeout takes at least the time allowed", function()
      local t0 = glean.clock()
      local _, _, kind = glean.fetch(B .. "/stall", {timeout = 0.5, retries = 0})
      assert.equal("timeout", kind)
      assert.is_true(glean.clock() - t0 >= 0.49)
    end)

    it("a body that trickles in past the timeout is a timeout, else whole", function()
      local t0 = glean.clock()
      local _, err, kind = glean.fetch(B .. "/slow?bytes=20&ms=100", {timeout = 0.5, retries = 0})
      assert.equal("timeout", kind, err)
      assert.is_true(glean.clock() - t0 >= 0.49)
      local resp = assert(glean.fetch(B .. "/slow?bytes=5&ms=20", {timeout = 30}))
      assert.equal("xxxxx", resp.body)
    end)

    it("bodies under max_body are whole", function()
      local resp = assert(glean.fetch(B .. "/big-chunked?n=1000", {max_body = 1000}))
      assert.equal(("c"):rep(1000), resp.body)
    end)
  end)

  describe("the engine underneath", function()
    it("retries a 500 and returns the 200, counting tries", function()
      local resp = assert(glean.fetch(B .. "/flaky/spec-a"))
      assert.equal(200, resp.status)
      assert.equal("ok spec-a", resp.body)
      assert.equal(2, resp.tries)
      resp = assert(glean.fetch(B .. "/status/500", {retries = 1}))
      assert.equal(500, resp.status)
      assert.equal(2, resp.tries)
    end)

    it("waits as long as Retry-After asks (seconds or a date)", function()
      local t0 = glean.clock()
      local resp = assert(glean.fetch(B .. "/limited/spec-a"))
      assert.equal(200, resp.status)
      assert.equal(2, resp.tries)
      assert.is_true(glean.clock() - t0 >= 0.95)
      resp = assert(glean.fetch(B .. "/limited-date/spec-a"))
      assert.equal(200, resp.status)
      assert.equal(2, resp.tries)
    end)

    it("decodes gzip, brotli and zstd bodies", function()
      for _, enc in ipairs({"gzip", "br", "zstd"}) do
        local resp = assert(glean.fetch(B .. "/" .. enc))
        assert.equal(enc, resp.headers["content-encoding"])
        assert.equal(TEXT, resp.body, enc)
      end
    end)

    it("stops a gzip bomb at the limit on decoded bytes", function()
      local _, err, kind = glean.fetch(B .. "/bomb")
      assert.equal("too_large", kind)
      assert.truthy(err:find("33554432", 1, true), err)
      -- The compressed body (100 KB) is under the limit; what it decodes to is not.
      local resp = glean.fetch_all({{url = B .. "/bomb", max_body = 1000000}})[1]
      assert.equal("too_large", resp.error_kind)
      assert.equal(("\0"):rep(1000000), resp.body)
    end)

    it("keeps at most 50 cookies per domain, the newest (RFC 6265 6.1), however many a server sets", function()
      with_engine({}, function()
        -- 400 cookies named in order, 40 a response (libcurl takes 50 of one).
        for batch = 0, 9 do
          local q = {}
          for i = batch * 40 + 1, batch * 40 + 40 do q[#q + 1] = ("c%03d=%d"):format(i, i) end
          assert(glean.fetch(B .. "/cookie/set?" .. table.concat(q, "&")))
        end
        local got = cookies()
        -- Checked every 50 new cookies: the jar may pass 50 by one check's worth.
        assert.truthy(#got >= 50 and #got <= 100, #got .. " cookies sent")
        for _, c in ipairs(got) do
          assert.truthy(tonumber(c:match("^c(%d+)=")) > 400 - #got, "an old cookie kept: " .. c)
        end
        -- A cookie set again keeps its value fresh and its place.
        assert(glean.fetch(B .. "/cookie/set?c400=new"))
        local sent = table.concat(cookies(), " ")
        assert.truthy(sent:find("c400=new", 1, true), sent)
      end)
    end)

    it("keeps cookies by default, and not when told not to", function()
      with_engine({}, function()
        assert(glean.fetch(B .. "/cookie/set?flavour=oat&n=1"))
        assert.same({"flavour=oat", "n=1"}, cookies())
        assert(glean.fetch(B .. "/cookie/set?n=2"))
        assert.same({"flavour=oat", "n=2"}, cookies())
      end)
      with_engine({cookies = false}, function()
        assert(glean.fetch(B .. "/cookie/set?flavour=rye"))
        assert.same({}, cookies())
      end)
    end)

    it("never runs more requests to a host at once than per_host", function()
      with_engine({per_host = 2}, function()
        local reqs = {}
        for i = 1, 8 do reqs[i] = B .. "/count/spec-host/" .. i end
        for _, resp in ipairs(glean.fetch_all(reqs)) do assert.equal(200, resp.status) end
      end)
      local peak = tonumber(server:get("/peak/spec-host"))
      assert.is_true(peak >= 1 and peak <= 2, "peak " .. peak)
    end)

    it("serves a mirrored origin from a base URL, with the site's URLs", function()
      with_engine({mirrors = {["http://example.test"] = B .. "/m/"}}, function()
        local resp = assert(glean.fetch("http://Example.test/a/b?q=1"))
        assert.equal("/m/a/b?q=1", resp.body)
        assert.equal("http://example.test/a/b?q=1", resp.url)
        resp = assert(glean.fetch("http://example.test/go"))
        assert.equal("/m/landed?x=1", resp.body)
        assert.equal("http://example.test/landed?x=1", resp.url)
      end)
    end)
  end)

  describe("glean.fetch_all", function()
    it("returns responses in input order, errors in place", function()
      local resps = glean.fetch_all({
        B .. "/slow?bytes=3&ms=100",
        {url = B .. "/echo", method = "POST", body = "b"},
        "ftp://127.0.0.1/x",
        B .. "/status/404",
        B .. "/hello",
      })
      assert.equal(5, #resps)
      assert.equal("xxx", resps[1].body)
      assert.equal("b", glean.json.decode(resps[2].body).body)
      assert.equal("scheme", resps[3].error_kind)
      assert.equal(0, resps[3].status)
      assert.truthy(resps[3].error:find("ftp://127.0.0.1/x", 1, true))
      assert.equal(404, resps[4].status)
      assert.is_nil(resps[4].error)
      assert.equal(B .. "/hello", resps[5].url)
      assert.same({}, glean.fetch_all({}))
    end)

    it("runs its requests concurrently", function()
      local reqs = {}
      for i = 1, 6 do reqs[i] = B .. "/count/spec-all/" .. i end
      for _, resp in ipairs(glean.fetch_all(reqs)) do assert.equal("counted", resp.body) end
      local peak = tonumber(server:get("/peak/spec-all"))
      assert.is_true(peak > 1, "peak " .. peak)
    end)
  end)

  describe("the event loop", function()
    it("is driven by glean.fetch itself in a plain script", function()
      local code, out, err = support.run({"-e", ([[
        assert(coroutine.isyieldable() == false)
        local r = assert(glean.fetch("%s/hello"))
        local all = glean.fetch_all({"%s/final", "%s/status/404"})
        print(r.status, all[1].body, all[2].status)
      ]]):format(B, B, B)})
      assert.equal(0, code, err)
      assert.equal("200\tfinal\t404\n", out)
    end)

    it("is driven by glean.fetch in a coroutine the scheduler does not own", function()
      local co = coroutine.wrap(function()
        local r = assert(glean.fetch(B .. "/final"))
        coroutine.yield(r.body)
        return glean.fetch_all({B .. "/hello"})[1].status
      end)
      assert.equal("final", co())
      assert.equal(200, co())
    end)

    it("is yielded to by glean.fetch in a coroutine the scheduler owns", function()
      local sched = require "glean.sched"
      local got = {}
      for i = 1, 4 do
        sched.spawn(function()
          got[i] = assert(glean.fetch(B .. "/count/spec-owned/" .. i)).body
        end, function(ok, err) assert(ok, err) end)
      end
      -- Each spawned fetch yielded at once: nothing has arrived yet.
      assert.same({}, got)
      local engine = glean.current_engine()
      while sched.step(engine, 100) > 0 do end
      assert.same({"counted", "counted", "counted", "counted"}, got)
      local peak = tonumber(server:get("/peak/spec-owned"))
      assert.is_true(peak > 1, "peak " .. peak)
    end)
  end)

  describe("the fetch engine against a hostile server", function()
    it("names each failure's own kind, and retries none of them", function()
      local kinds = {["/h/cut/gzip"] = "decode", ["/h/cut/br"] = "decode", ["/h/short"] = "truncated",
                     ["/h/huge-header"] = "headers", ["/h/headers?n=9000"] = "headers"}
      for path, kind in pairs(kinds) do
        local resp, err, got = glean.fetch(B .. path, {retries = 2})
        assert.is_nil(resp)
        assert.equals(kind, got)
        assert.truthy(err:find(B .. path, 1, true))
      end
    end)

    it("retries POST only when the request says it may, and the statuses asked for", function()
      local resp = assert(glean.fetch(B .. "/h/busy/spec-post", {method = "POST", body = "x"}))
      assert.equals(503, resp.status)
      assert.equals(1, resp.tries)
      resp = assert(glean.fetch(B .. "/h/busy/spec-post2", {method = "POST", body = "x", idempotent = true, retries = 1}))
      assert.equals(2, resp.tries)
      local engine = glean.engine({retry_statuses = {429}, retry_errors = {"truncated"}, backoff = 0.01, backoff_max = 0.02})
      local previous = glean.use_engine(engine)
      resp = assert(glean.fetch(B .. "/h/busy/spec-get"))
      assert.equals(1, resp.tries)
      local list = glean.fetch_all({B .. "/h/short"})
      assert.equals("truncated", list[1].error_kind)
      assert.equals(3, list[1].tries)
      glean.use_engine(previous)
      engine:close()
      local ok, err = pcall(glean.engine, {retry_errors = {"nope"}})
      assert.is_false(ok)
      assert.truthy(err:find("retry_errors", 1, true))
      ok, err = pcall(glean.engine, {retry_statuses = {42}})
      assert.is_false(ok)
      assert.truthy(err:find("retry_statuses", 1, true))
    end)

    it("ends a request at its deadline, whatever its retries", function()
      local r = glean.fetch_all({{url = B .. "/stall", timeout = 0.3, retries = 10, deadline = 0.8}})[1]
      assert.equals("timeout", r.error_kind)
      assert.is_true(r.tries >= 1 and r.tries <= 3, "tries " .. r.tries)
    end)

    it("changes a redirected method as RFC 9110 says, and keeps the body otherwise", function()
      local function sent(code, method)
        local resp = assert(glean.fetch(B .. "/h/redirect/" .. code, {method = method, body = "payload"}))
        local doc = glean.json.decode(resp.body)
        return doc.method .. " " .. doc.body
      end
      assert.equals("PUT payload", sent(301, "PUT"))
      assert.equals("DELETE payload", sent(302, "DELETE"))
      assert.equals("PATCH payload", sent(308, "PATCH"))
      assert.equals("GET ", sent(303, "PUT"))
      assert.equals("GET ", sent(301, "POST"))
      assert.equals("POST payload", sent(307, "POST"))
    end)
  end)

  describe("glean.session", function()
    it("obeys robots.txt and its Crawl-delay", function()
      local s <close> = glean.session{}
      local resp, err, kind = s:fetch(B .. "/private/x")
      assert.is_nil(resp)
      assert.equals("robots", kind)
      assert.truthy(err:find("/private/x", 1, true))
      local t0 = glean.clock()
      local list = s:fetch_all{B .. "/hello", B .. "/final", {url = B .. "/private/y"}, B .. "/status/404"}
      assert.equals(200, list[1].status)
      assert.equals("final", list[2].body)
      assert.equals("robots", list[3].error_kind)
      assert.is_false(list[3].ok)
      assert.equals(404, list[4].status)
      -- robots.txt once; Crawl-delay 0.25 s between the three pages.
      assert.equals(4, s:stats().requests)
      assert.is_true(glean.clock() - t0 >= 0.49)
    end)

    it("fetches nothing from an origin whose robots.txt is unreachable, and says so", function()
      local s <close> = glean.session{backoff = 0.01}
      local resp, err, kind = s:fetch("http://127.0.0.1:1/page", {query = {a = 1}})
      assert.is_nil(resp)
      assert.equals("robots", kind)
      assert.truthy(err:find("unreachable", 1, true))
    end)

    it("holds a script to per_host", function()
      local s <close> = glean.session{per_host = 2, robots = false}
      local urls = {}
      for i = 1, 8 do urls[i] = B .. "/count/sess/" .. i end
      for _, resp in ipairs(s:fetch_all(urls)) do assert.equals(200, resp.status) end
      assert.is_true(tonumber(server:get("/peak/sess")) <= 2)
      -- glean.fetch_all, on the engine's defaults, goes wider.
      urls = {}
      for i = 1, 8 do urls[i] = B .. "/count/free/" .. i end
      glean.fetch_all(urls)
      assert.is_true(tonumber(server:get("/peak/free")) > 2)
    end)

    it("keeps a delay between requests to one host", function()
      local s <close> = glean.session{delay = 0.2, robots = false}
      local t0 = glean.clock()
      s:fetch_all{B .. "/hello", B .. "/hello", B .. "/hello", B .. "/hello"}
      -- Three gaps of 0.2 s.
      assert.is_true(glean.clock() - t0 >= 0.59)
    end)
  end)
end)
