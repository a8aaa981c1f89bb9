-- attack: coroutine.yield outside glean.fetch, from the handler and through pcall
local H = require "hostile"
return H.adapter(function(page)
  pcall(coroutine.yield, "x")
  coroutine.yield("y")
end)
