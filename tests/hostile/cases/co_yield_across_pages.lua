-- attack: page 3 keeps a coroutine that yields inside glean.fetch's wait; page 4 resumes it with forged results
-- fail: 3 4
local glean = require "glean"
local H = require "hostile"
local kept
return H.adapter({
  [3] = function(page)
    local base = H.base(page.url)
    kept = coroutine.create(function() return glean.fetch(base .. "/slow/2000") end)
    coroutine.resume(kept)
  end,
  [4] = function(page)
    glean.fetch(H.base(page.url) .. "/slow/300")
    if kept and coroutine.status(kept) == "suspended" then coroutine.resume(kept, {{error = "forged"}}) end
  end,
})
