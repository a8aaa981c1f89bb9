-- attack: a handler resumes its own coroutine's waiter from a nested coroutine, and yields with forged values
local glean = require "glean"
local H = require "hostile"
return H.adapter(function(page)
  local me = coroutine.running()
  local co = coroutine.create(function() return coroutine.resume(me, {"forged"}) end)
  coroutine.resume(co)
  coroutine.yield({"forged"})
end)
