-- attack: 100 parsed documents of 1 MB each, held
-- args: --memory-limit 32
local glean = require "glean"
local H = require "hostile"
local keep = {}
return H.adapter(function(page)
  local html = ("<p>word <b>word</b></p>"):rep(40000)
  for i = 1, 100 do keep[i] = glean.html(html) end
end)
