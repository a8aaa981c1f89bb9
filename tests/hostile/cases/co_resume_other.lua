-- attack: page 4 resumes page 3's handler coroutine while it waits in glean.fetch
-- fail: 3 4
local glean = require "glean"
local H = require "hostile"
local waiting
return H.adapter({
  [3] = function(page)
    waiting = coroutine.running()
    glean.fetch(H.base(page.url) .. "/slow/1500")
  end,
  [4] = function(page)
    glean.fetch(H.base(page.url) .. "/slow/300")
    if waiting then coroutine.resume(waiting, {setmetatable({}, {__index = function() while true do end end})}) end
  end,
})
