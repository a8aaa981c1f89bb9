-- attack: glean.fetch("file:///etc/passwd") and file://SECRET with the crawl's engine
local glean = require "glean"
local H = require "hostile"
return H.adapter(function(page)
  for _, url in ipairs({"file:///etc/passwd", "file://" .. H.secret, "FILE://" .. H.secret, "file://localhost" .. H.secret}) do
    local resp = glean.fetch(url)
    if resp then H.leak(url, resp.body) end
  end
end)
