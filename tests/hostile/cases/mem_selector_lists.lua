-- attack: 25 different selector lists of 64 KB each, compiled and cached
-- args: --memory-limit 32
local glean = require "glean"
local H = require "hostile"
return H.adapter(function(page)
  local doc = glean.html("<p>x</p>")
  for i = 1, 25 do
    local parts = {}
    for j = 1, 6000 do parts[j] = "p" .. i .. "x" .. j end
    local css = table.concat(parts, ","):sub(1, 65000):gsub(",[^,]*$", "")
    doc:select(css)
  end
end)
