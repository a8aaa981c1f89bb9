-- attack: glean.engine{proxy = ..., allow_file = true} then fetch file:///etc/passwd
local glean = require "glean"
local H = require "hostile"
return H.adapter(function(page)
  local engine = glean.engine({proxy = "http://127.0.0.1:9", allow_file = true})
  local previous = glean.use_engine(engine)
  local id = engine:submit({url = "file:///etc/passwd"})
  glean.use_engine(previous)
  for _ = 1, 100 do
    local _, done = engine:run(50)
    if done and done[id] then H.leak("passwd", done[id].body or done[id].error) end
  end
end)
