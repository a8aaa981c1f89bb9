-- attack: glean.html(("<br>"):rep(1e6)): a million elements, 4 MB of input
-- args: --memory-limit 32
local glean = require "glean"
local H = require "hostile"
local keep = {}
return H.adapter(function(page)
  local html = ("<br>"):rep(1000000)
  for i = 1, 3 do keep[i] = glean.html(html) end
end)
