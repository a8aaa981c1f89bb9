-- attack: glean.html(("<div>"):rep(1e5), {max_depth = 1 << 30}) in a loop: Gumbo is quadratic in depth
local glean = require "glean"
local H = require "hostile"
return H.adapter(function(page)
  local html = ("<div>"):rep(100000)
  for _ = 1, 100 do glean.html(html, {max_depth = 1 << 30}):close() end
end)
