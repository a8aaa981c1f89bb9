-- attack: a :has(~ i ~ b) selector, quadratic in the page, on a 4000-element document, in a loop
local glean = require "glean"
local H = require "hostile"
return H.adapter(function(page)
  local doc = glean.html(("<i></i>"):rep(4000))
  while true do doc:select("i:has(~ i ~ i ~ b)") end
end)
