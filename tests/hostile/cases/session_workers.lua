-- attack: glean.session{workers = 1000} (an engine of its own), three times: 3000 threads
local glean = require "glean"
local H = require "hostile"
local keep = {}
return H.adapter(function(page)
  for i = 1, 3 do keep[i] = glean.session({workers = 1000}) end
  glean.fetch(H.base(page.url) .. "/slow/500")
end)
