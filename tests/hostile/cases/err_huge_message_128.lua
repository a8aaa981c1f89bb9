-- attack: error(("x"):rep(1e8)) under --memory-limit 128: the message fits, its copies (traceback, log) must count
-- args: --memory-limit 128
local H = require "hostile"
return H.adapter(function(page)
  error(("x"):rep(1e8))
end)
