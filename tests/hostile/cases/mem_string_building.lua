-- attack: s = s .. s until memory runs out, then table.concat of the pieces
-- args: --memory-limit 32
local H = require "hostile"
return H.adapter(function(page)
  local s, parts = "x", {}
  while true do s = s .. s; parts[#parts + 1] = s end
end)
