-- attack: run the crawl's engine from a handler and swallow the responses meant for other pages
-- args: --per-host 1
local glean = require "glean"
local H = require "hostile"
return H.adapter(function(page)
  local engine = glean.current_engine()
  for _ = 1, 200 do
    local _, done = engine:run(10)
    for _, resp in pairs(done or {}) do resp:close() end
    if engine:pending() == 0 then break end
  end
end)
