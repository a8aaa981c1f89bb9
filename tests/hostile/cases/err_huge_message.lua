-- attack: error(("x"):rep(1e8)): a 100 MB message (the default memory limit allows it)
-- args: --memory-limit 1024
local H = require "hostile"
return H.adapter(function(page)
  error(("x"):rep(1e8))
end)
