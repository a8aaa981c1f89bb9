-- attack: glean.use_engine(another): the other pages' glean.fetch goes to an engine nobody runs
local glean = require "glean"
local H = require "hostile"
return H.adapter(function(page)
  glean.use_engine(glean.engine())
end, {victims_fetch = true})
