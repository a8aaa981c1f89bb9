-- attack: a coroutine.wrap made by page 3 that loops, resumed by page 4 (whose budget pays?)
-- fail: 3 4
local glean = require "glean"
local H = require "hostile"
local gen
return H.adapter({
  [3] = function(page)
    gen = coroutine.wrap(function() coroutine.yield() while true do end end)
    gen()
  end,
  [4] = function(page)
    glean.fetch(H.base(page.url) .. "/slow/300")
    if gen then gen() end
  end,
})
