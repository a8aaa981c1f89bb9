-- attack: 300 engines with default settings, kept: their threads and connections
local glean = require "glean"
local H = require "hostile"
local keep = {}
return H.adapter(function(page)
  for i = 1, 300 do keep[i] = glean.engine() end
  glean.fetch(H.base(page.url) .. "/slow/500")
end)
