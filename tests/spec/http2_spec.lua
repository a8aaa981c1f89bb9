-- HTTP/2 over TLS against Debian's nginx on 127.0.0.1, with a certificate
-- authority made for the run by openssl: requests to one host multiplexed
-- over one connection (nginx's access log names the connection of each
-- request), resp.http_version, --warc-out of HTTP/2 responses, trusting a
-- CA file (engine, request and `glean run --cacert` / the cacert setting),
-- and the TLS errors without it.
-- nginx runs from a configuration of its own in a temporary directory, as
-- bench/crawl/nginx.py's does, and stops with this process if the teardown
-- never comes.
local glean = require "glean"
local support = require "support"

local NGINX = "/usr/sbin/nginx"
local PAGES = 20

local CONFIG = [[
worker_processes 1;
pid %s/nginx.pid;
error_log %s/error.log warn;
events { worker_connections 256; }
http {
  types { text/html html; }
  log_format conn '$connection $server_protocol $status $request_uri';
  access_log %s/access.log conn;
  client_body_temp_path %s/body;
  proxy_temp_path %s/proxy;
  fastcgi_temp_path %s/fastcgi;
  uwsgi_temp_path %s/uwsgi;
  scgi_temp_path %s/scgi;
  server {
    listen 127.0.0.1:%d ssl http2;
    ssl_certificate %s/server.pem;
    ssl_certificate_key %s/server.key;
    root %s/site;
  }
}
]]

local ADAPTER = [[
return {
  name = "h2",
  start_urls = {%q},
  settings = %s,
  pages = {
    {path = "^/$", follow = "a[href]"},
    {path = "^/p%%d+%%.html$", parse = function(page) return {url = page.url, text = page:text("p")} end},
  },
}
]]

-- Runs a shell command; fails with its output unless it succeeds.
local function sh(cmd)
  local p = assert(io.popen(cmd .. " 2>&1"))
  local out = p:read("a")
  local ok = p:close()
  assert(ok, cmd .. "\n" .. out)
  return out
end

local function write(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

-- A CA, and a certificate it signs for 127.0.0.1, in dir.
local function make_certificates(dir)
  local q = support.quote
  local key = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
  sh(("openssl req -x509 %s -keyout %s -out %s -subj /CN=glean-test-ca -days 2 %s"):format(
    key, q(dir .. "/ca.key"), q(dir .. "/ca.pem"), "-addext basicConstraints=critical,CA:TRUE"))
  sh(("openssl req %s -keyout %s -out %s -subj /CN=127.0.0.1"):format(
    key, q(dir .. "/server.key"), q(dir .. "/server.csr")))
  write(dir .. "/ext.cnf", "subjectAltName = IP:127.0.0.1\n")
  sh(("openssl x509 -req -in %s -CA %s -CAkey %s -CAcreateserial -days 2 -extfile %s -out %s"):format(
    q(dir .. "/server.csr"), q(dir .. "/ca.pem"), q(dir .. "/ca.key"), q(dir .. "/ext.cnf"), q(dir .. "/server.pem")))
end

local function free_port()
  local py = [[import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])]]
  return assert(tonumber(sh("python3 -c " .. support.quote(py))))
end

local function listening(port)
  return os.execute(("bash -c 'exec 3<>/dev/tcp/127.0.0.1/%d' 2>/dev/null"):format(port)) == true
end

local function alive(pid)
  return os.execute(("kill -0 %d 2>/dev/null"):format(pid)) == true
end

-- Starts nginx over dir/site on a free port; returns {pid, port, pipe}.
-- setpriv's parent-death signal stops it if this process dies first.
local function start_nginx(dir)
  local q = support.quote
  for _ = 1, 5 do
    local port = free_port()
    write(dir .. "/nginx.conf", CONFIG:format(dir, dir, dir, dir, dir, dir, dir, dir, port, dir, dir, dir))
    -- exec: the shell becomes nginx, so $$ is its master's pid.
    local pipe = assert(io.popen(("echo $$; exec setpriv --pdeathsig TERM %s -e %s -p %s -c %s -g 'daemon off;' 2>>%s")
      :format(NGINX, q(dir .. "/error.log"), q(dir), q(dir .. "/nginx.conf"), q(dir .. "/error.log"))))
    local pid = assert(tonumber(pipe:read("l")), "no pid from nginx's shell")
    if support.wait_for(function() return listening(port) or not alive(pid) end, 10) and alive(pid) then
      return {pid = pid, port = port, pipe = pipe}
    end
    os.execute("kill -KILL " .. pid .. " 2>/dev/null")
    pipe:close()
    local log = support.slurp(dir .. "/error.log")
    assert(log:find("Address already in use", 1, true), "nginx did not start:\n" .. log)
  end
  error("nginx did not start: no free port")
end

describe("HTTP/2", function()
  local dir, nginx, base, ca

  setup(function()
    assert(io.open(NGINX, "r"), NGINX .. " is missing: scripts/bootstrap installs Debian's nginx"):close()
    dir = sh("mktemp -d /tmp/glean-h2-XXXXXX"):match("[^\n]+")
    -- nginx's workers run as nobody when the tests run as root.
    sh("chmod 755 " .. support.quote(dir))
    make_certificates(dir)
    ca = dir .. "/ca.pem"
    sh("mkdir " .. support.quote(dir .. "/site"))
    nginx = start_nginx(dir)
    base = "https://127.0.0.1:" .. nginx.port
    local links = {}
    for i = 1, PAGES do
      write(("%s/site/p%d.html"):format(dir, i), ("<title>p%d</title><p>page %d</p>\n"):format(i, i))
      links[i] = ('<a href="/p%d.html">%d</a>'):format(i, i)
    end
    write(dir .. "/site/index.html", "<title>pages</title>" .. table.concat(links, "\n") .. "\n")
    sh("chmod -R a+rX " .. support.quote(dir .. "/site"))
  end)

  teardown(function()
    if nginx then
      -- TERM, not QUIT: a graceful stop would wait for the connection
      -- glean.fetch's default engine still keeps open.
      os.execute("kill -TERM " .. nginx.pid)
      nginx.pipe:close()
    end
    if dir then os.execute("rm -rf " .. support.quote(dir)) end
  end)

  -- The access log's lines from byte `from` on, once there are n of them
  -- (nginx writes a line as it finishes a request, maybe just after the
  -- client has the response): {connection, protocol, status, uri} each.
  local function log_lines(from, n)
    local lines
    support.wait_for(function()
      lines = {}
      local text = support.slurp(dir .. "/access.log"):sub(from + 1)
      for conn, proto, status, uri in text:gmatch("(%d+) (%S+) (%d+) (%S+)\n") do
        lines[#lines + 1] = {conn = conn, proto = proto, status = tonumber(status), uri = uri}
      end
      return #lines >= n
    end, 10)
    return lines
  end

  local function log_size()
    return #support.slurp(dir .. "/access.log")
  end

  local function connections(lines)
    local seen, n = {}, 0
    for _, l in ipairs(lines) do
      if not seen[l.conn] then seen[l.conn], n = true, n + 1 end
    end
    return n
  end

  local function page_urls()
    local urls = {}
    for i = 1, PAGES do urls[i] = ("%s/p%d.html"):format(base, i) end
    return urls
  end

  -- Every page through glean.fetch_all on an engine of these options.
  local function fetch_pages(opts)
    local engine = glean.engine(opts)
    local previous = glean.use_engine(engine)
    local ok, resps = pcall(glean.fetch_all, page_urls())
    glean.use_engine(previous)
    engine:close()
    assert(ok, resps)
    assert.equal(PAGES, #resps)
    return resps
  end

  it("--warc-out records HTTP/2 responses with an HTTP/1.1 status line, headers and body as received", function()
    fetch_pages({cacert = ca, warc_out = dir .. "/h2.warc.gz"})
    local doc = glean.json.decode(support.capture("python3 tests/tools/warc_check.py " ..
      support.quote(dir .. "/h2-00000.warc.gz")))
    assert.same({}, doc.errors)
    local n = 0
    for _, r in ipairs(doc.records) do
      if r.type == "response" then
        n = n + 1
        local i = tonumber(r.uri:match("/p(%d+)%.html$"))
        assert.equal("HTTP/1.1 200 OK", r.start)
        assert.equal("text/html", r.headers["content-type"])
        assert.equal(("<title>p%d</title><p>page %d</p>\n"):format(i, i), r.body)
        assert.equal("127.0.0.1", r.ip)
      end
    end
    assert.equal(PAGES, n)
  end)

  it("multiplexes concurrent requests to one host over one connection", function()
    local from = log_size()
    local resps = fetch_pages({cacert = ca})
    for i, resp in ipairs(resps) do
      assert.is_nil(resp.error)
      assert.equal(200, resp.status)
      assert.equal("2", resp.http_version)
      assert.equal(("<title>p%d</title><p>page %d</p>\n"):format(i, i), resp.body)
    end
    local lines = log_lines(from, PAGES)
    assert.equal(PAGES, #lines)
    for _, l in ipairs(lines) do
      assert.equal("HTTP/2.0", l.proto)
      assert.equal(200, l.status)
    end
    -- Without PIPEWAIT, each request started before the first handshake
    -- ended opens a connection of its own: per_host (8) of them.
    local n = connections(lines)
    assert.is_true(n <= 2, ("%d requests came over %d connections"):format(PAGES, n))
  end)

  it("trusts a CA file given with one request", function()
    local resp = assert(glean.fetch(base .. "/p1.html", {cacert = ca}))
    assert.equal(200, resp.status)
    assert.equal("2", resp.http_version)
  end)

  it("fails with kind 'tls' without the CA, or with a CA file that cannot be read", function()
    local resp, err, kind = glean.fetch(base .. "/p1.html")
    assert.is_nil(resp)
    assert.equal("tls", kind)
    assert.truthy(err:find(base .. "/p1.html", 1, true), err)
    local missing = dir .. "/no-such-ca.pem"
    resp, err, kind = glean.fetch(base .. "/p1.html", {cacert = missing})
    assert.is_nil(resp)
    assert.equal("tls", kind)
    assert.truthy(err:find(missing, 1, true), err)
  end)

  describe("glean run", function()
    local adapters = 0
    local function adapter(settings)
      adapters = adapters + 1
      local path = ("%s/adapter%d.lua"):format(dir, adapters)
      write(path, ADAPTER:format(base .. "/", settings))
      return path
    end

    -- Runs glean run with args; checks that it emitted a record per page
    -- and that robots.txt (a 404), the start page and the pages all came
    -- over HTTP/2.
    local function crawls(args)
      local from = log_size()
      local code, out, err = support.run({"run", table.unpack(args)})
      assert.equal(0, code, err)
      local records = support.records(out)
      assert.equal(PAGES, #records, err)
      for _, r in ipairs(records) do assert.matches("^page %d+$", r.text) end
      local lines = log_lines(from, PAGES + 2)
      assert.equal(PAGES + 2, #lines)
      for _, l in ipairs(lines) do assert.equal("HTTP/2.0", l.proto) end
    end

    it("crawls the site with --cacert; without it, says why it cannot", function()
      local path = adapter("{}")
      crawls({path, "--cacert", ca})
      -- robots.txt fails first, which keeps the pages from being fetched.
      local code, out, err = support.run({"run", path})
      assert.equal(0, code, err)
      assert.equal("", out)
      assert.matches("warn: " .. base:gsub("%p", "%%%0") .. "/robots%.txt: SSL certificate problem", err)
      -- Ignoring robots.txt, the start page fails.
      code, out, err = support.run({"run", path, "--ignore-robots"})
      assert.equal(1, code, err)
      assert.equal("", out)
      assert.matches("fetch failed %(tls%): " .. base:gsub("%p", "%%%0") .. "/", err)
    end)

    it("takes cacert from the adapter's settings, relative to the adapter's folder", function()
      crawls({adapter(("{cacert = %q}"):format(ca))})
      crawls({adapter('{cacert = "ca.pem"}')})
    end)
  end)
end)
