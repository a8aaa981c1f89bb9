-- attack: glean.html of a 1 MB page in a loop (parsing is not counted)
local glean = require "glean"
local H = require "hostile"
return H.adapter(function(page)
  local html = ("<p>word <b>word</b></p>"):rep(40000)
  for _ = 1, math.maxinteger do glean.html(html):close() end
end)
