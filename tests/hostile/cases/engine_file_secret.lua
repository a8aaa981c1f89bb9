-- attack: glean.engine{allow_file = true} then fetch file://SECRET by running the engine by hand
local glean = require "glean"
local H = require "hostile"
return H.adapter(function(page)
  local engine = glean.engine({allow_file = true})
  local id = engine:submit({url = "file://" .. H.secret})
  for _ = 1, 100 do
    local _, done = engine:run(50)
    if done and done[id] then H.leak("secret", done[id].body or done[id].error) end
  end
end)
