-- attack: string.format("%99999d") and other huge formats
local H = require "hostile"
return H.adapter(function(page)
  for _, f in ipairs({"%99999d", "%.99999f", "%099999.99999f", "%-99999s"}) do pcall(string.format, f, 1) end
  local s = string.format("%.99f", 1e308)
end)
