-- Lists the headlines of saved pages: one record per headline link.
--   glean examples/headlines.lua PAGE.html [BASE_URL]
local glean = require "glean"

local path, base = arg[1], arg[2] or "https://coins2day.com/"
if not path then
  io.stderr:write("usage: glean examples/headlines.lua PAGE.html [BASE_URL]\n")
  os.exit(2)
end

local f = assert(io.open(path, "rb"))
local doc <close> = glean.html(f:read("a"), {url = base})
f:close()

for _, link in ipairs(doc:select(":is(h1, h2, h3) a[href]")) do
  glean.emit({title = link:text(), url = link:absurl()})
end
