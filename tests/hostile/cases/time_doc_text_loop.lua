-- attack: doc:text() of a 1 MB document in a loop
local glean = require "glean"
local H = require "hostile"
return H.adapter(function(page)
  local doc = glean.html("<p>" .. ("word "):rep(200000) .. "</p>")
  for _ = 1, math.maxinteger do local _ = doc:text() end
end)
