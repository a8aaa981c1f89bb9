-- attack: glean.html of a tag with 40000 attributes, max_attributes raised, in a loop: Gumbo is quadratic in them
local glean = require "glean"
local H = require "hostile"
return H.adapter(function(page)
  local parts = {}
  for i = 1, 40000 do parts[i] = "a" .. i .. "=1" end
  local html = "<p " .. table.concat(parts, " ") .. ">x</p>"
  for _ = 1, 100 do glean.html(html, {max_attributes = 1 << 30}):close() end
end)
