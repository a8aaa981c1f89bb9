-- attack: glean.engine{workers = 1000}, three times: 3000 threads
local glean = require "glean"
local H = require "hostile"
local keep = {}
return H.adapter(function(page)
  for i = 1, 3 do keep[i] = glean.engine({workers = 1000}) end
  glean.fetch(H.base(page.url) .. "/slow/500")
end)
