-- attack: a fresh coroutine for every few instructions, each with its own loop
local H = require "hostile"
return H.adapter(function(page)
  while true do
    coroutine.wrap(function() for _ = 1, 1000 do end end)()
  end
end)
