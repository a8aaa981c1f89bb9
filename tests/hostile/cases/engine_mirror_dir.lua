-- attack: glean.engine{mirrors = {"http://leak.test=RUN_DIR"}}: a directory outside the folder served as a site
local glean = require "glean"
local H = require "hostile"
return H.adapter(function(page)
  local engine = glean.engine({mirrors = {"http://leak.test=" .. H.run_dir}})
  local id = engine:submit({url = "http://leak.test/secret.txt"})
  for _ = 1, 100 do
    local _, done = engine:run(50)
    if done and done[id] then H.leak("secret", done[id].body or done[id].error) end
  end
end)
