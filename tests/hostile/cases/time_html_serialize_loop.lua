-- attack: doc:html() / select("*") of a large document in a loop
local glean = require "glean"
local H = require "hostile"
return H.adapter(function(page)
  local doc = glean.html(("<div><i>x</i></div>"):rep(20000))
  for _ = 1, math.maxinteger do local _ = doc:html(), #doc:select("*") end
end)
