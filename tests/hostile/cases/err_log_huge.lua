-- attack: glean.log.error of a 30 MB message, 10 times
-- args: --memory-limit 256
local glean = require "glean"
local H = require "hostile"
return H.adapter(function(page)
  local s = ("x"):rep(30e6)
  for _ = 1, 10 do glean.log.error(s) end
end)
