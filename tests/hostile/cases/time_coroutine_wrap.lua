-- attack: loops inside coroutine.wrap, nested coroutines, each resumed in turn
local H = require "hostile"
return H.adapter(function(page)
  local inner = coroutine.wrap(function() while true do coroutine.yield() end end)
  local outer = coroutine.wrap(function() while true do inner(); coroutine.yield() end end)
  while true do outer() end
end)
